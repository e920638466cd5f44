package insights_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// history is a set of incident logs written by hand, event by event, as
// the store would hold them.
type history struct {
	logs []*incidentLog
}

// incidentLog is one incident's events; at is the clock of the next one.
type incidentLog struct {
	n      uint64
	events []timeline.Event
}

// declare starts incident n, declared at at by by.
func (h *history) declare(n uint64, at time.Time, sev int, service, by string, private bool) *incidentLog {
	l := &incidentLog{n: n}
	l.add(timeline.Event{At: at, Kind: timeline.KindDeclared, Actor: by, Source: timeline.SourceCommand, Attrs: map[string]string{
		"number": strconv.FormatUint(n, 10), timeline.AttrTitle: "incident " + strconv.FormatUint(n, 10),
		timeline.AttrSeverity: strconv.Itoa(sev), timeline.AttrService: service,
		timeline.AttrPrivate: strconv.FormatBool(private), timeline.AttrStatus: string(incident.StatusInvestigating),
	}})
	h.logs = append(h.logs, l)
	return l
}

// add appends e with the next sequence number.
func (l *incidentLog) add(e timeline.Event) *incidentLog {
	e.Seq = uint64(len(l.events) + 1)
	if e.Actor == "" {
		e.Actor = "U0ALICE0001"
	}
	if e.Source == "" {
		e.Source = timeline.SourceCommand
	}
	l.events = append(l.events, e)
	return l
}

// kind appends an event of kind with attrs given as key, value pairs.
func (l *incidentLog) kind(at time.Time, k timeline.Kind, attrs ...string) *incidentLog {
	m := map[string]string{}
	for i := 0; i+1 < len(attrs); i += 2 {
		m[attrs[i]] = attrs[i+1]
	}
	return l.add(timeline.Event{At: at, Kind: k, Attrs: m})
}

func (l *incidentLog) role(at time.Time, role, user string) *incidentLog {
	return l.kind(at, timeline.KindRoleAssigned, timeline.AttrRole, role, timeline.AttrUser, user)
}

func (l *incidentLog) status(at time.Time, s incident.Status) *incidentLog {
	return l.kind(at, timeline.KindStatusChanged, timeline.AttrStatus, string(s))
}

func (l *incidentLog) resolve(at time.Time) *incidentLog { return l.kind(at, timeline.KindResolved) }

// observe appends an observation typed at at; seen, when not zero,
// backdates it to when it was seen.
func (l *incidentLog) observe(at, seen time.Time) *incidentLog {
	e := timeline.Event{At: at, Kind: timeline.KindLoopEntry, Phase: timeline.PhaseObserve, Text: "errors up"}
	if !seen.IsZero() {
		e.At = seen
		e.Attrs = map[string]string{timeline.AttrWrittenAt: at.Format(time.RFC3339Nano)}
	}
	return l.add(e)
}

// alert appends an alert that reached the incident at at.
func (l *incidentLog) alert(at time.Time) *incidentLog {
	return l.add(timeline.Event{At: at, Kind: timeline.KindLoopEntry, Phase: timeline.PhaseObserve, Source: timeline.SourceAlert, Actor: incident.Bot, Text: "HighErrorRate"})
}

func (l *incidentLog) action(at time.Time, id int, owner, due string) *incidentLog {
	return l.kind(at, timeline.KindActionAdded, timeline.AttrActionID, strconv.Itoa(id), timeline.AttrOwner, owner, timeline.AttrDue, due)
}

func (l *incidentLog) actionChange(at time.Time, id int, change string) *incidentLog {
	return l.kind(at, timeline.KindActionUpdated, timeline.AttrActionID, strconv.Itoa(id), timeline.AttrChange, change)
}

// input is the history as Compute reads it.
func (h *history) input() ([]incident.Incident, map[uint64][]timeline.Event) {
	var incs []incident.Incident
	events := map[uint64][]timeline.Event{}
	for _, l := range h.logs {
		incs = append(incs, incident.Replay(l.events))
		events[l.n] = l.events
	}
	return incs, events
}

// utc is a UTC instant written as 2026-09-01T10:00.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02T15:04", s)
	require.NoError(t, err)
	return at
}

// zone loads an IANA zone; the tests need the system's zone database.
func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err, "load zone %s", name)
	return loc
}
