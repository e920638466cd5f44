package incident

import (
	"fmt"
	"strings"
)

// Status is where an incident stands, in the Statuspage vocabulary.
type Status string

// The statuses, in the order an incident moves through them.
const (
	StatusTriage        Status = "triage"
	StatusInvestigating Status = "investigating"
	StatusIdentified    Status = "identified"
	StatusMonitoring    Status = "monitoring"
	StatusResolved      Status = "resolved"
	StatusClosed        Status = "closed"
)

var statusOrder = map[Status]int{
	StatusTriage:        0,
	StatusInvestigating: 1,
	StatusIdentified:    2,
	StatusMonitoring:    3,
	StatusResolved:      4,
	StatusClosed:        5,
}

// ParseStatus reads a status a user may set with `/incident status`.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	switch st {
	case StatusInvestigating, StatusIdentified, StatusMonitoring, StatusResolved:
		return st, nil
	case StatusTriage, StatusClosed:
		return "", invalid("status %s is set by Ooda, not by hand; use investigating, identified, monitoring or resolved", st)
	}
	return "", invalid("%q is not a status; use investigating, identified, monitoring or resolved", s)
}

// Active reports whether people are still working the incident.
func (s Status) Active() bool { return s != StatusResolved && s != StatusClosed }

// checkTransition enforces the status machine: forward moves only, closed is
// final, and a resolved incident goes back only through reopen.
func checkTransition(id string, from, to Status) error {
	// An unknown status would otherwise rank as triage and be recorded.
	if _, ok := statusOrder[to]; !ok {
		return invalid("%q is not a status; use investigating, identified, monitoring or resolved", string(to))
	}
	// Before the "already" case: resolving a resolved incident again gets
	// the same way out as any other move from resolved.
	if err := inactive(id, from); err != nil {
		return err
	}
	switch {
	case from == to:
		return refused("%s is already %s", id, to)
	case statusOrder[to] < statusOrder[from]:
		return refused("%s is %s and status only moves forward (%s); record what changed with `/incident observe <text>`", id, from, forwardFrom(from))
	}
	return nil
}

// inactive refuses work on an incident that is over, saying the way out.
func inactive(id string, s Status) error {
	switch s {
	case StatusClosed:
		return refused("%s is closed: its post-mortem is published. Declare a new incident with `/incident declare <title>`", id)
	case StatusResolved:
		return refused("%s is resolved; use `/incident reopen` to work on it again", id)
	}
	return nil
}

func forwardFrom(from Status) string {
	var next []string
	for _, s := range []Status{StatusInvestigating, StatusIdentified, StatusMonitoring, StatusResolved} {
		if statusOrder[s] > statusOrder[from] {
			next = append(next, string(s))
		}
	}
	return fmt.Sprintf("next: %s", strings.Join(next, ", "))
}
