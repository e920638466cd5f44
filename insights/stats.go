package insights

import (
	"slices"
	"strconv"
	"time"
)

// Percentile is the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the value at rank ⌈p/100 × n⌉ (DefinePercentile).
// It reports false for an empty slice.
func Percentile(sorted []time.Duration, p int) (time.Duration, bool) {
	n := len(sorted)
	if n == 0 || p <= 0 || p > 100 {
		return 0, false
	}
	rank := (p*n + 99) / 100 // ⌈p·n/100⌉ in integers
	return sorted[max(rank, 1)-1], true
}

func summarize(name, title, definition string, ds []time.Duration) Duration {
	out := Duration{Name: name, Title: title, Definition: definition + " " + DefinePercentile, Count: len(ds)}
	slices.Sort(ds)
	if m, ok := Percentile(ds, 50); ok {
		s := int64(m / time.Second)
		out.MedianSeconds, out.Median = &s, Human(m)
	}
	if p, ok := Percentile(ds, 90); ok {
		s := int64(p / time.Second)
		out.P90Seconds, out.P90 = &s, Human(p)
	}
	return out
}

// Human says d as people do: "45 s", "9 min", "2 h 05 min", and from two
// days on "3 d 04 h". It truncates to its last unit.
func Human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	var b []byte
	switch {
	case d < time.Minute:
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
		b = append(b, " s"...)
	case d < time.Hour:
		b = strconv.AppendInt(b, int64(d/time.Minute), 10)
		b = append(b, " min"...)
	case d < 48*time.Hour:
		b = strconv.AppendInt(b, int64(d/time.Hour), 10)
		b = append(b, " h "...)
		b = twoDigits(b, int64(d%time.Hour/time.Minute))
		b = append(b, " min"...)
	default:
		b = strconv.AppendInt(b, int64(d/(24*time.Hour)), 10)
		b = append(b, " d "...)
		b = twoDigits(b, int64(d%(24*time.Hour)/time.Hour))
		b = append(b, " h"...)
	}
	return string(b)
}

func twoDigits(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}
