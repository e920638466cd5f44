package insights

import (
	"fmt"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// The range a reader asks for: DefaultDays days ending today when none is
// given, at most MaxDays (three years) at a time.
const (
	DefaultDays = 90
	MaxDays     = 3*365 + 1
)

// ParseRange reads from and to, UTC days as YYYY-MM-DD with to included,
// into the range [from, to+1 day) that Input takes; empty ones default to
// DefaultDays days ending on now's day. Its errors are sentences that say
// what to write instead, the same for the API and the web page.
func ParseRange(fromS, toS string, now time.Time) (time.Time, time.Time, error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	last := today
	if toS != "" {
		d, err := time.Parse(time.DateOnly, toS)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("to %q is not a day; write it as %s (the last day counted, in UTC)", toS, today.Format(time.DateOnly))
		}
		last = d
	}
	first := last.AddDate(0, 0, 1-DefaultDays)
	if fromS != "" {
		d, err := time.Parse(time.DateOnly, fromS)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("from %q is not a day; write it as %s (the first day counted, in UTC)", fromS, first.Format(time.DateOnly))
		}
		first = d
	}
	if first.After(last) {
		return time.Time{}, time.Time{}, fmt.Errorf("from %s is after to %s; give the earlier day as from", first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	end := last.AddDate(0, 0, 1)
	if days := int(end.Sub(first).Hours() / 24); days > MaxDays {
		return time.Time{}, time.Time{}, fmt.Errorf("%s to %s is %d days; ask for at most three years (%d days) at a time", first.Format(time.DateOnly), last.Format(time.DateOnly), days, MaxDays)
	}
	return first, end, nil
}

// NeedsEvents reports whether inc's events count in the range [from, to):
// it was declared in it, or declared before it and still open, or
// resolved, within it (its roles were held in the range). Callers read
// the events of these incidents only; Compute needs no others.
func NeedsEvents(inc incident.Incident, from, to time.Time) bool {
	if !inc.DeclaredAt.Before(to) {
		return false
	}
	return !inc.DeclaredAt.Before(from) || inc.ResolvedAt.IsZero() || !inc.ResolvedAt.Before(from)
}
