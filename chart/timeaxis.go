package chart

import (
	"time"

	"gonum.org/v1/plot"
)

// timeTicks marks a time axis whose values are Unix seconds: hours and
// minutes (UTC) for a range of up to a day, weekday and day of the month
// beyond, with at most maxLabels labelled ticks.
type timeTicks struct{}

// maxLabels is the most labelled ticks the time axis carries: "Mon 2" and
// "15:04" stay apart at this density on a 720-pixel chart.
const maxLabels = 8

// tickStep is one candidate spacing of the time axis.
type tickStep struct {
	major, minor time.Duration
	layout       string
}

const day = 24 * time.Hour

var (
	hourSteps = []tickStep{
		{5 * time.Minute, time.Minute, "15:04"},
		{15 * time.Minute, 5 * time.Minute, "15:04"},
		{30 * time.Minute, 10 * time.Minute, "15:04"},
		{time.Hour, 15 * time.Minute, "15:04"},
		{2 * time.Hour, 30 * time.Minute, "15:04"},
		{3 * time.Hour, time.Hour, "15:04"},
		{6 * time.Hour, time.Hour, "15:04"},
	}
	daySteps = []tickStep{
		{day, 6 * time.Hour, "Mon 2"},
		{2 * day, day, "Mon 2"},
		// Go's zero time is a Monday, so a week's ticks fall on Mondays.
		{7 * day, day, "Mon 2"},
		{14 * day, 7 * day, "Mon 2"},
		{28 * day, 7 * day, "Jan 2"},
	}
)

// stepFor returns the finest step that labels span with at most maxLabels
// ticks. Hours are labelled only within a day, where a label needs no date.
func stepFor(span time.Duration) tickStep {
	steps := daySteps
	if span <= day {
		steps = hourSteps
	}
	for _, s := range steps {
		if int(span/s.major)+1 <= maxLabels {
			return s
		}
	}
	return steps[len(steps)-1]
}

// Ticks implements plot.Ticker.
func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	from, to := unixTime(lo), unixTime(hi)
	if !to.After(from) {
		return []plot.Tick{{Value: lo, Label: from.Format("15:04")}}
	}
	s := stepFor(to.Sub(from))
	var ticks []plot.Tick
	for t := from.Truncate(s.minor); !t.After(to); t = t.Add(s.minor) {
		if t.Before(from) {
			continue
		}
		tick := plot.Tick{Value: float64(t.Unix())}
		if t.Equal(t.Truncate(s.major)) {
			tick.Label = t.Format(s.layout)
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// unixTime is the UTC time of Unix seconds x.
func unixTime(x float64) time.Time {
	return time.Unix(int64(x), 0).UTC()
}
