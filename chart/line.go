package chart

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// SVG renders the chart as an SVG document to inline into a web page.
func (c Line) SVG() ([]byte, error) {
	f, err := c.figure()
	if err != nil {
		return nil, err
	}
	return f.svg()
}

// PNG renders the chart as a PNG image at twice its size, for Slack.
func (c Line) PNG() ([]byte, error) {
	f, err := c.figure()
	if err != nil {
		return nil, err
	}
	return f.png()
}

// figure builds the one plot both formats draw.
func (c Line) figure() (figure, error) {
	w, h, err := size(c.Width, c.Height)
	if err != nil {
		return figure{}, err
	}
	scale := 1.0
	if c.Percent {
		scale = 100
	}
	from, to := c.span()

	p := newPlot(c.Title, "UTC", c.YLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridLine
	p.Add(grid)

	f := figure{plot: p, title: c.Title, w: w, h: h}
	ys := yRange{}
	drawn := 0
	for i, s := range c.Series {
		ls, gs := seriesLook(i)
		for _, seg := range segments(s.Points, from, to, scale) {
			drawn += len(seg)
			ys.add(seg...)
			if len(seg) == 1 {
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					return figure{}, fmt.Errorf("chart: series %q: %w", s.Name, err)
				}
				sc.GlyphStyle = gs
				p.Add(sc)
				continue
			}
			l, err := plotter.NewLine(seg)
			if err != nil {
				return figure{}, fmt.Errorf("chart: series %q: %w", s.Name, err)
			}
			l.LineStyle = ls
			p.Add(l)
		}
		f.legend = append(f.legend, legendEntry{name: s.Name, thumb: thumbs{
			&plotter.Line{LineStyle: ls},
			&plotter.Scatter{GlyphStyle: gs},
		}})
	}

	var xLo, xHi float64
	if from.IsZero() {
		// No data and no range: an axis of one hour ending at the zero
		// time would be a lie, so draw none.
		xLo, xHi = 0, 1
		p.X.Tick.Marker = plot.ConstantTicks{}
	} else {
		xLo, xHi = float64(from.Unix()), float64(to.Unix())
		p.X.Tick.Marker = timeTicks{}
	}
	for i, th := range c.Thresholds {
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) {
			continue
		}
		v := th.Value * scale
		ys.add(plotter.XY{Y: v})
		l, err := plotter.NewLine(plotter.XYs{{X: xLo, Y: v}, {X: xHi, Y: v}})
		if err != nil {
			return figure{}, fmt.Errorf("chart: threshold %q: %w", th.Name, err)
		}
		l.LineStyle = thresholdLook(i)
		p.Add(l)
		f.legend = append(f.legend, legendEntry{name: th.Name, thumb: &plotter.Line{LineStyle: l.LineStyle}})
	}
	if drawn == 0 {
		p.Add(message(noData))
	}

	p.X.Min, p.X.Max = xLo, xHi
	p.Y.Min, p.Y.Max = ys.limits(c.YMin, c.YMax, scale)
	p.Y.Tick.Marker = valueTicks{percent: c.Percent}

	f.desc = c.Desc
	if f.desc == "" {
		f.desc = c.describe(from, to, drawn)
	}
	return f, nil
}

// thumbs is a legend sample drawn from several: a series' line with its
// point shape on it, so a series drawn as lone points is recognised too.
type thumbs []plot.Thumbnailer

// Thumbnail implements plot.Thumbnailer.
func (ts thumbs) Thumbnail(c *draw.Canvas) {
	for _, t := range ts {
		t.Thumbnail(c)
	}
}

// span returns the range of the time axis: From and To, or else the data's
// first and last finite points. It is zero when neither exists.
func (c Line) span() (time.Time, time.Time) {
	from, to := c.From.UTC(), c.To.UTC()
	if !c.From.IsZero() && !c.To.IsZero() {
		return from, to
	}
	var lo, hi time.Time
	for _, s := range c.Series {
		for _, pt := range s.Points {
			if !finite(pt.V) {
				continue
			}
			if lo.IsZero() || pt.T.Before(lo) {
				lo = pt.T
			}
			if hi.IsZero() || pt.T.After(hi) {
				hi = pt.T
			}
		}
	}
	if c.From.IsZero() {
		from = lo.UTC()
	}
	if c.To.IsZero() {
		to = hi.UTC()
	}
	if !from.IsZero() && !to.After(from) {
		// One instant: widen to a minute each side so the point shows.
		from, to = from.Add(-time.Minute), from.Add(time.Minute)
	}
	return from, to
}

// segments returns the runs of finite points of pts within [from, to], in
// time order and scaled: a NaN or infinite value ends a run, so the line
// breaks there instead of bridging the gap.
func segments(pts []Point, from, to time.Time, scale float64) []plotter.XYs {
	if !slices.IsSortedFunc(pts, byTime) {
		pts = slices.SortedStableFunc(slices.Values(pts), byTime)
	}
	var segs []plotter.XYs
	var cur plotter.XYs
	for _, pt := range pts {
		if pt.T.Before(from) || pt.T.After(to) {
			continue
		}
		if !finite(pt.V) {
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			continue
		}
		if cur == nil {
			cur = make(plotter.XYs, 0, len(pts))
		}
		cur = append(cur, plotter.XY{X: float64(pt.T.Unix()) + float64(pt.T.Nanosecond())/1e9, Y: pt.V * scale})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

func byTime(a, b Point) int { return a.T.Compare(b.T) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// yRange collects the values the value axis must show.
type yRange struct {
	lo, hi float64
	any    bool
}

func (r *yRange) add(xys ...plotter.XY) {
	for _, xy := range xys {
		if !r.any {
			r.lo, r.hi, r.any = xy.Y, xy.Y, true
			continue
		}
		r.lo = min(r.lo, xy.Y)
		r.hi = max(r.hi, xy.Y)
	}
}

// limits returns the value axis' bounds: fixed ones where given (in the
// caller's units, scaled here), else the data's with 5% headroom, starting
// at zero when nothing is negative.
func (r yRange) limits(fixedLo, fixedHi *float64, scale float64) (float64, float64) {
	lo, hi := r.lo, r.hi
	if !r.any {
		lo, hi = 0, 1
	}
	if lo > 0 {
		lo = 0
	}
	hi += (hi - lo) * 0.05
	if fixedLo != nil {
		lo = *fixedLo * scale
	}
	if fixedHi != nil {
		hi = *fixedHi * scale
	}
	if hi <= lo {
		hi = lo + max(math.Abs(lo)*0.1, 1)
	}
	return lo, hi
}

// valueTicks labels the value axis with gonum's default ticks, in percent
// when asked (the values are already scaled by 100).
type valueTicks struct{ percent bool }

// Ticks implements plot.Ticker.
func (v valueTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	if v.percent {
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label += "%"
			}
		}
	}
	return ticks
}

// describe writes what a screen reader says of the chart.
func (c Line) describe(from, to time.Time, drawn int) string {
	var b strings.Builder
	b.WriteString("Line chart")
	if !from.IsZero() {
		fmt.Fprintf(&b, " from %s to %s UTC", from.Format("Mon 2 Jan 15:04"), to.Format("Mon 2 Jan 15:04"))
	}
	b.WriteString(".")
	if drawn == 0 {
		b.WriteString(" " + noData + ".")
	}
	for _, s := range c.Series {
		n, last, high := 0, math.NaN(), math.Inf(-1)
		for _, seg := range segments(s.Points, from, to, 1) {
			n += len(seg)
			last = seg[len(seg)-1].Y
			for _, xy := range seg {
				high = max(high, xy.Y)
			}
		}
		if n == 0 {
			fmt.Fprintf(&b, " %s: no data.", s.Name)
			continue
		}
		fmt.Fprintf(&b, " %s: %d points, last %s, highest %s.", s.Name, n, c.format(last), c.format(high))
	}
	for _, th := range c.Thresholds {
		fmt.Fprintf(&b, " %s: %s.", th.Name, c.format(th.Value))
	}
	return b.String()
}

// format writes a value in the chart's units, to four significant digits.
func (c Line) format(v float64) string {
	if c.Percent {
		return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
