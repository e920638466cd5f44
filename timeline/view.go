package timeline

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// DefaultGap is the silence the view marks when Options.Gap is not set:
// a quarter of an hour without entries in an active incident is worth
// noticing, while shorter pauses are just people working.
const DefaultGap = 15 * time.Minute

// Options says what a View shows.
type Options struct {
	// Gap is the longest stretch without entries that is not marked; a
	// strictly longer one is. Zero or negative means DefaultGap.
	Gap time.Duration
	// IncludeBookkeeping shows the events Ooda records about its own work
	// (channel created, participant joined, nudges, failed effects), which
	// are hidden by default.
	IncludeBookkeeping bool
	// IncludeStruck keeps struck entries, marked (Event.Struck), where
	// they were; by default they are left out, as the post-mortem wants.
	IncludeStruck bool
}

// View is an incident's timeline grouped by minute, as people read it
// during and after the incident.
type View struct {
	// Start is the declaration time, in UTC; offsets count from its minute.
	Start time.Time
	// SpansDays is true when the minutes shown, or Start, fall on more than
	// one UTC date, so clocks need their date to be read unambiguously.
	SpansDays bool
	Minutes   []Minute
	// Corrections is the audit trail of the entries (Correct): what was
	// amended, struck or backdated, by whom and when.
	Corrections []Correction
}

// Minute is one minute of the timeline that has entries.
type Minute struct {
	// At is the minute, in UTC, truncated to the minute.
	At time.Time
	// Offset is At minus the minute of View.Start. It is negative for
	// entries recorded before the declaration, such as the first signal.
	Offset time.Duration
	// Silence is the time since the previous minute shown when it is longer
	// than Options.Gap, and zero otherwise.
	Silence time.Duration
	// Events are the minute's entries in sequence order.
	Events []Event
}

// Build groups events by UTC minute, in time order. Events come in
// sequence order, which is time order except for entries recorded with the
// time something was seen rather than the time it was typed (the SLO
// warning an incident was declared from, a message pinned later): those
// are put where they happened, ties keeping sequence order. start is the
// declaration time; when it is zero, offsets count from the first minute
// shown.
//
// Entries show as corrected (Correct): amended text and time, struck
// entries left out unless Options.IncludeStruck.
//
// The Minutes share one backing array of events, copied from events, so
// Build allocates twice however long the incident is (three times when it
// must reorder, more when entries were corrected).
func Build(events []Event, start time.Time, opts Options) View {
	events, audit := Correct(events, opts.IncludeStruck)
	if !slices.IsSortedFunc(events, byTime) {
		events = slices.Clone(events)
		slices.SortStableFunc(events, byTime)
	}
	gap := opts.Gap
	if gap <= 0 {
		gap = DefaultGap
	}
	v := View{Start: start.UTC(), Corrections: audit}

	// Size both slices exactly first: a long incident would otherwise grow
	// them a dozen times over.
	kept, runs := 0, 0
	var last int64
	for i := range events {
		e := &events[i]
		if e.Bookkeeping() && !opts.IncludeBookkeeping {
			continue
		}
		if k := unixMinute(e.At); kept == 0 || k != last {
			runs++
			last = k
		}
		kept++
	}
	if kept == 0 {
		return v
	}

	all := make([]Event, 0, kept)
	v.Minutes = make([]Minute, 0, runs)
	var origin, day int64
	haveOrigin := !start.IsZero()
	if haveOrigin {
		origin = unixMinute(start)
		day = floorDiv(origin, minutesPerDay)
	}
	from := 0
	for i := range events {
		e := &events[i]
		if e.Bookkeeping() && !opts.IncludeBookkeeping {
			continue
		}
		k := unixMinute(e.At)
		if n := len(v.Minutes); n == 0 || k != last {
			if n > 0 {
				// The full slice expression keeps a caller's append to one
				// minute from overwriting the next.
				v.Minutes[n-1].Events = all[from:len(all):len(all)]
				from = len(all)
			}
			if !haveOrigin {
				origin, haveOrigin = k, true
				day = floorDiv(k, minutesPerDay)
			}
			m := Minute{At: time.Unix(k*60, 0).UTC(), Offset: minutes(k - origin)}
			if n > 0 {
				if d := minutes(k - last); d > gap {
					m.Silence = d
				}
			}
			if floorDiv(k, minutesPerDay) != day {
				v.SpansDays = true
			}
			v.Minutes = append(v.Minutes, m)
			last = k
		}
		all = append(all, *e)
	}
	v.Minutes[len(v.Minutes)-1].Events = all[from:len(all):len(all)]
	return v
}

const minutesPerDay = 24 * 60

// unixMinute numbers t's UTC minute from the Unix epoch. Unix time has no
// leap seconds, so minute and day boundaries are plain divisions.
func unixMinute(t time.Time) int64 { return floorDiv(t.Unix(), 60) }

// floorDiv rounds toward negative infinity, so times before 1970 fall in
// the right minute and day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// minutes converts a count of minutes to a Duration, saturating instead of
// wrapping for events centuries apart (a zero time in corrupt data).
func minutes(n int64) time.Duration {
	const limit = math.MaxInt64 / int64(time.Minute)
	switch {
	case n > limit:
		return math.MaxInt64
	case n < -limit:
		return math.MinInt64
	}
	return time.Duration(n) * time.Minute
}

// OffsetLabel renders the minute's offset from the declaration as
// responders say it: "T+00:05", "T+26:10", "T-00:03".
func (m Minute) OffsetLabel() string {
	var b [24]byte
	return string(appendOffset(b[:0], m.Offset))
}

// Clock renders the minute's UTC time: "14:05", or "2026-11-26 14:05" when
// the view spans more than one day.
func (v View) Clock(m Minute) string {
	var b [24]byte
	return string(v.appendClock(b[:0], m))
}

func (v View) appendClock(b []byte, m Minute) []byte {
	if v.SpansDays {
		return m.At.UTC().AppendFormat(b, "2006-01-02 15:04")
	}
	return m.At.UTC().AppendFormat(b, "15:04")
}

func appendOffset(b []byte, d time.Duration) []byte {
	// Counting whole minutes before taking the sign avoids "T-00:00" for a
	// sub-minute negative offset and overflow on math.MinInt64.
	n := int64(d / time.Minute)
	sign := byte('+')
	if n < 0 {
		sign, n = '-', -n
	}
	b = append(b, 'T', sign)
	b = appendTwoDigits(b, n/60)
	b = append(b, ':')
	return appendTwoDigits(b, n%60)
}

// appendTwoDigits appends n zero-padded to at least two digits.
func appendTwoDigits(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

func byTime(a, b Event) int { return a.At.Compare(b.At) }
