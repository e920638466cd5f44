package incident

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ooda-sre/ooda/timeline"
)

// CommandEnd is the sequence of the last event appended by the command
// that recorded event seq. A command appends its events together, one
// after the other, the first under the command's key and the others under
// that key followed by "#1", "#2"…; a message about one of them is about
// the state the whole command left. events holds seq and what follows it,
// in order. It returns seq when seq is not among events.
func CommandEnd(events []timeline.Event, seq uint64) uint64 {
	i := slices.IndexFunc(events, func(e timeline.Event) bool { return e.Seq == seq })
	if i < 0 || events[i].Key == "" {
		return seq
	}
	first := events[i]
	// The event may be the command's first (its key is the command's) or
	// its n-th (the command's key and "#n"). A key may hold a '#' of its
	// own, so both readings are tried, and the longer run wins.
	type reading struct {
		base string
		n    int // the event's place in the command: 0 for its first
	}
	readings := []reading{{first.Key, 0}}
	if j := strings.LastIndexByte(first.Key, '#'); j > 0 {
		if n, err := strconv.Atoi(first.Key[j+1:]); err == nil && n > 0 {
			readings = append(readings, reading{first.Key[:j], n})
		}
	}
	end := seq
	for _, r := range readings {
		last := seq
		for k, e := range events[i+1:] {
			if e.Seq != last+1 || !e.At.Equal(first.At) || e.Key != r.base+"#"+strconv.Itoa(r.n+k+1) {
				break
			}
			last = e.Seq
		}
		end = max(end, last)
	}
	return end
}

// AsOf is the state the incident had when the command that recorded
// event seq committed: the fold of its log up to that command's last
// event. A message written then and delivered later (after a Slack
// outage) is rendered from it, so it says what was true when it was
// written. events is the log from its first event on, in order.
func AsOf(events []timeline.Event, seq uint64) Incident {
	end := CommandEnd(events, seq)
	var inc Incident
	for _, e := range events {
		if e.Seq > end {
			break
		}
		inc.Apply(e)
	}
	return inc
}
