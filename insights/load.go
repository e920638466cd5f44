package insights

import (
	"cmp"
	"slices"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// The working day, in each person's own time zone: Monday to Friday,
// WorkStart to WorkEnd (hours).
const (
	WorkStart = 9
	WorkEnd   = 18
)

// holding is what one person held within the range.
type holding struct {
	role    [3]time.Duration // by roleIndex
	outside time.Duration
}

func roleIndex(r roles.Role) int {
	switch r {
	case roles.Commander:
		return 0
	case roles.Comms:
		return 1
	case roles.Ops:
		return 2
	}
	return -1
}

// load folds each incident's role assignments into the time each person
// held each role within [from, to) (DefineLoad).
func load(incs []*incident.Incident, events map[uint64][]timeline.Event, from, to, now time.Time, zones incident.Zones) Load {
	end := to
	if now.Before(end) {
		end = now
	}
	people := map[string]*holding{}
	hold := func(user string, r int, s, e time.Time) {
		s, e = later(s, from), earlier(e, end)
		if !s.Before(e) {
			return
		}
		h := people[user]
		if h == nil {
			h = &holding{}
			people[user] = h
		}
		h.role[r] += e.Sub(s)
		h.outside += outsideWork(s, e, zones.Of(user))
	}
	for _, inc := range incs {
		if !inc.DeclaredAt.Before(to) || (!inc.ResolvedAt.IsZero() && inc.ResolvedAt.Before(from)) {
			continue
		}
		evs, ok := events[inc.Number]
		if !ok {
			continue
		}
		var held [3]string
		var since [3]time.Time
		active := false
		release := func(at time.Time) {
			for r, u := range held {
				if u != "" {
					hold(u, r, since[r], at)
				}
			}
		}
		for i := range evs {
			e := &evs[i]
			switch e.Kind {
			case timeline.KindDeclared:
				active = true
			case timeline.KindRoleAssigned:
				r := roleIndex(roles.Role(e.Attr(timeline.AttrRole)))
				if r < 0 {
					continue
				}
				if active && held[r] != "" {
					hold(held[r], r, since[r], e.At)
				}
				held[r], since[r] = e.Attr(timeline.AttrUser), e.At
			case timeline.KindResolved, timeline.KindClosed:
				if active {
					release(e.At)
				}
				active = false
			case timeline.KindReopened:
				if !active {
					for r := range since {
						since[r] = e.At
					}
				}
				active = true
			}
		}
		if active {
			release(now)
		}
	}
	out := Load{Definition: DefineLoad, People: make([]PersonLoad, 0, len(people))}
	for user, h := range people {
		total := h.role[0] + h.role[1] + h.role[2]
		pl := PersonLoad{
			User: user, Zone: zones.Of(user).String(),
			CommanderHours: hours(h.role[0]), CommsHours: hours(h.role[1]), OpsHours: hours(h.role[2]),
			Hours: hours(total), OutsideHours: hours(h.outside),
		}
		if total > 0 {
			pl.OutsideShare = float64(h.outside) / float64(total)
		}
		out.People = append(out.People, pl)
	}
	slices.SortFunc(out.People, func(a, b PersonLoad) int {
		if c := cmp.Compare(b.Hours, a.Hours); c != 0 {
			return c
		}
		return cmp.Compare(a.User, b.User)
	})
	return out
}

func hours(d time.Duration) float64 { return d.Hours() }

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

// OutsideWork is how much of [s, e) falls outside working hours in loc:
// not between WorkStart and WorkEnd on a Monday to Friday. It walks the
// local days, so a day of 23 or 25 hours (daylight saving) is split where
// its clock says.
func OutsideWork(s, e time.Time, loc *time.Location) time.Duration {
	if loc == nil {
		loc = time.UTC
	}
	return outsideWork(s, e, loc)
}

func outsideWork(s, e time.Time, loc *time.Location) time.Duration {
	if !s.Before(e) {
		return 0
	}
	var inside time.Duration
	l := s.In(loc)
	for y, m, d := l.Date(); ; d++ {
		day := time.Date(y, m, d, 0, 0, 0, 0, loc)
		if !day.Before(e) {
			break
		}
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			ws := later(time.Date(y, m, d, WorkStart, 0, 0, 0, loc), s)
			we := earlier(time.Date(y, m, d, WorkEnd, 0, 0, 0, loc), e)
			if ws.Before(we) {
				inside += we.Sub(ws)
			}
		}
	}
	return e.Sub(s) - inside
}
