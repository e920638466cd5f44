package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// SVG renders the chart as an SVG document to inline into a web page.
func (c Bars) SVG() ([]byte, error) {
	f, err := c.figure()
	if err != nil {
		return nil, err
	}
	return f.svg()
}

// PNG renders the chart as a PNG image at twice its size, for Slack.
func (c Bars) PNG() ([]byte, error) {
	f, err := c.figure()
	if err != nil {
		return nil, err
	}
	return f.png()
}

// Totals returns the height of each bar: the sum over the stacks of the
// values counted (NaN, infinite and negative values count as zero).
func (c Bars) Totals() []float64 {
	totals := make([]float64, len(c.Labels))
	for _, s := range c.Stacks {
		for i := range min(len(s.Values), len(totals)) {
			totals[i] += count(s.Values[i])
		}
	}
	return totals
}

// count is v as a bar's height: what cannot be a count is zero.
func count(v float64) float64 {
	if !finite(v) || v < 0 {
		return 0
	}
	return v
}

// figure builds the one plot both formats draw.
func (c Bars) figure() (figure, error) {
	w, h, err := size(c.Width, c.Height)
	if err != nil {
		return figure{}, err
	}
	for _, s := range c.Stacks {
		if len(s.Values) > len(c.Labels) {
			return figure{}, fmt.Errorf("chart: stack %q has %d values for %d labels", s.Name, len(s.Values), len(c.Labels))
		}
	}

	p := newPlot(c.Title, "", c.YLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridLine
	p.Add(grid)
	f := figure{plot: p, title: c.Title, w: w, h: h}

	totals := c.Totals()
	high := 0.0
	for _, t := range totals {
		high = max(high, t)
	}
	if len(c.Labels) == 0 || high == 0 {
		p.Add(message(noData))
	}

	// A bar takes 70% of its slot; the plot's width less the axis and
	// insets is a close enough estimate of the data area.
	barWidth := vg.Length(1)
	if n := len(c.Labels); n > 0 {
		barWidth = vg.Length(float64(w-80) / float64(n) * 0.7)
	}
	var below *plotter.BarChart
	for i, s := range c.Stacks {
		vs := make(plotter.Values, len(c.Labels))
		for j, v := range s.Values {
			vs[j] = count(v)
		}
		if len(vs) == 0 {
			continue
		}
		b, err := plotter.NewBarChart(vs, barWidth)
		if err != nil {
			return figure{}, fmt.Errorf("chart: stack %q: %w", s.Name, err)
		}
		b.Color = stackColor(i)
		b.LineStyle.Color = okabeWhite
		b.LineStyle.Width = 0.75
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		f.legend = append(f.legend, legendEntry{name: s.Name, thumb: b})
	}

	if len(c.Labels) > 0 {
		xys := make(plotter.XYs, len(totals))
		labels := make([]string, len(totals))
		for i, t := range totals {
			xys[i] = plotter.XY{X: float64(i), Y: t}
			if t > 0 {
				labels[i] = strconv.FormatFloat(t, 'g', 6, 64)
			}
		}
		tl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return figure{}, fmt.Errorf("chart: totals: %w", err)
		}
		for i := range tl.TextStyle {
			tl.TextStyle[i] = textStyle(10, xfont.WeightNormal, ink)
			tl.TextStyle[i].XAlign = -0.5 // centred over the bar
		}
		tl.Offset = vg.Point{Y: 3}
		p.Add(tl)
		p.NominalX(c.Labels...)
		p.X.Tick.Label.Font = sans(10, xfont.WeightNormal)
	} else {
		p.X.Min, p.X.Max = 0, 1
		p.X.Tick.Marker = plot.ConstantTicks{}
	}

	p.Y.Min = 0
	// Headroom for the totals written above the bars.
	p.Y.Max = max(high*1.12, 1)
	p.Y.Tick.Marker = countTicks{}

	f.desc = c.Desc
	if f.desc == "" {
		f.desc = c.describe(totals)
	}
	return f, nil
}

// countTicks labels a value axis of counts: whole numbers only, so a week
// never shows half an incident.
type countTicks struct{}

// Ticks implements plot.Ticker.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value != math.Trunc(t.Value) {
			t.Label = ""
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// describe writes what a screen reader says of the chart: each bar's total
// and its parts.
func (c Bars) describe(totals []float64) string {
	var b strings.Builder
	b.WriteString("Stacked bar chart")
	if len(c.Stacks) > 0 {
		names := make([]string, len(c.Stacks))
		for i, s := range c.Stacks {
			names[i] = s.Name
		}
		fmt.Fprintf(&b, " by %s", strings.Join(names, ", "))
	}
	b.WriteString(".")
	if len(c.Labels) == 0 || allZero(totals) {
		b.WriteString(" " + noData + ".")
		return b.String()
	}
	for i, label := range c.Labels {
		fmt.Fprintf(&b, " %s: %s", label, strconv.FormatFloat(totals[i], 'g', 6, 64))
		var parts []string
		for _, s := range c.Stacks {
			if i < len(s.Values) && count(s.Values[i]) > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", s.Name, strconv.FormatFloat(count(s.Values[i]), 'g', 6, 64)))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		b.WriteString(".")
	}
	return b.String()
}

func allZero(vs []float64) bool {
	for _, v := range vs {
		if v != 0 {
			return false
		}
	}
	return true
}
