package app

import (
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
)

// personZones reads each person's time zone from the people directory
// (their Slack profile's, as last seen), for what is due on their day:
// when an action item is overdue, when their working day starts. Zone
// names are loaded once each. A person the directory does not know, or a
// zone this system's tz database lacks, is UTC.
type personZones struct {
	current func() *people.Directory

	mu   sync.Mutex
	locs map[string]*time.Location // by IANA name; nil: not loadable
}

func newPersonZones(current func() *people.Directory) incident.Zones {
	z := &personZones{current: current, locs: map[string]*time.Location{}}
	return z.of
}

func (z *personZones) of(user string) *time.Location {
	p, ok := z.current().Person(user)
	if !ok || p.TZ == "" {
		return nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	loc, seen := z.locs[p.TZ]
	if !seen {
		if l, err := time.LoadLocation(p.TZ); err == nil {
			loc = l
		}
		z.locs[p.TZ] = loc
	}
	return loc
}
