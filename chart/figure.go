package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrSize is returned for a chart whose Width or Height is negative.
var ErrSize = errors.New("chart: width and height must not be negative")

// figure is one chart ready to draw: the plot, the legend drawn beneath it
// and what a screen reader hears. SVG and PNG draw the same figure, so the
// two formats cannot drift apart.
type figure struct {
	plot        *plot.Plot
	legend      []legendEntry
	title, desc string
	w, h        int // CSS pixels, drawn as points: 1 px = 1 pt at 72 dpi
}

// legendEntry is one item of the legend row: a sample of the line or bar
// and its name.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// size returns the chart's size in CSS pixels, with the defaults applied.
func size(w, h int) (int, int, error) {
	if w < 0 || h < 0 {
		return 0, 0, ErrSize
	}
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	return w, h, nil
}

// Text styles. Liberation Sans is metric-compatible with Arial and
// Helvetica, so the SVG's text measures the same when a browser falls back
// to them.
var (
	ink      = color.RGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xff}
	faint    = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	gridLine = color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff}
)

func textStyle(size vg.Length, weight xfont.Weight, c color.Color) text.Style {
	return text.Style{Color: c, Font: sans(size, weight), Handler: plot.DefaultTextHandler}
}

// sans is Liberation Sans, which gonum embeds.
func sans(size vg.Length, weight xfont.Weight) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Weight: weight, Size: size}
}

// newPlot returns a plot with Ooda's typography: sans-serif throughout,
// a bold title, quiet axes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(14, xfont.WeightBold, ink)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = 8
	// Only the font and colour change: gonum's alignments and rotations of
	// axis text stay.
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11, xfont.WeightNormal)
		a.Label.TextStyle.Color = faint
		a.Tick.Label.Font = sans(11, xfont.WeightNormal)
		a.Tick.Label.Color = ink
		a.LineStyle.Color = faint
		a.Tick.LineStyle.Color = faint
		a.Padding = 0
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	// figure.draw paints the background and draws the legend in a row
	// beneath the plot, where it hides no data.
	p.BackgroundColor = nil
	return p
}

// message is a plotter that writes a sentence in the middle of the data
// area: what an empty chart says.
type message string

// Plot implements plot.Plotter.
func (m message) Plot(c draw.Canvas, _ *plot.Plot) {
	sty := textStyle(13, xfont.WeightNormal, faint)
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YCenter
	c.FillText(sty, c.Center(), string(m))
}

// Legend row geometry, in points.
const (
	thumbWidth  vg.Length = 28
	thumbGap    vg.Length = 5
	entryGap    vg.Length = 16
	legendPad   vg.Length = 6
	canvasInset vg.Length = 6
)

// legendRows lays the entries out in rows that fit width and returns, for
// each row, the entries it holds.
func (f figure) legendRows(width vg.Length) [][]legendEntry {
	sty := textStyle(11, xfont.WeightNormal, ink)
	var rows [][]legendEntry
	var x vg.Length
	for _, e := range f.legend {
		w := thumbWidth + thumbGap + sty.Width(e.name)
		if len(rows) == 0 || (x > 0 && x+w > width) {
			rows = append(rows, nil)
			x = 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		x += w + entryGap
	}
	return rows
}

// draw draws the figure onto c: the plot above, the legend in centred rows
// beneath it.
func (f figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, canvasInset, -canvasInset, canvasInset, -canvasInset)

	sty := textStyle(11, xfont.WeightNormal, ink)
	sty.YAlign = draw.YCenter
	rowH := sty.FontExtents().Height + 4
	rows := f.legendRows(c.Max.X - c.Min.X)
	legendH := vg.Length(len(rows)) * rowH
	if len(rows) > 0 {
		legendH += legendPad
	}

	f.plot.Draw(draw.Crop(c, 0, 0, legendH, 0))

	for i, row := range rows {
		var total vg.Length
		for j, e := range row {
			total += thumbWidth + thumbGap + sty.Width(e.name)
			if j > 0 {
				total += entryGap
			}
		}
		x := c.Center().X - total/2
		y := c.Min.Y + legendH - legendPad - vg.Length(i)*rowH - rowH/2
		for _, e := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - rowH/2 + 3},
				Max: vg.Point{X: x + thumbWidth, Y: y + rowH/2 - 3},
			}}
			e.thumb.Thumbnail(&tc)
			x += thumbWidth + thumbGap
			c.FillText(sty, vg.Point{X: x, Y: y}, e.name)
			x += sty.Width(e.name) + entryGap
		}
	}
}

// render draws the figure onto canvas, turning a panic of the plotting
// library (its way of reporting a drawing it cannot make) into an error:
// a chart must not take down the page or the notice it illustrates.
func (f figure) render(canvas vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chart: draw %q: %v", f.title, r)
		}
	}()
	f.draw(draw.New(canvas))
	return nil
}

// svg renders the figure as an SVG document fit to inline into a page
// under a strict Content-Security-Policy (see accessibleSVG).
func (f figure) svg() ([]byte, error) {
	canvas := vgsvg.New(vg.Length(f.w), vg.Length(f.h))
	if err := f.render(canvas); err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	if _, err := canvas.WriteTo(&raw); err != nil {
		return nil, fmt.Errorf("chart: write svg: %w", err)
	}
	return accessibleSVG(raw.Bytes(), f.title, f.desc)
}

// png renders the figure as a PNG image of pngScale device pixels per CSS
// pixel.
func (f figure) png() ([]byte, error) {
	canvas := vgimg.NewWith(
		vgimg.UseWH(vg.Length(f.w), vg.Length(f.h)),
		vgimg.UseDPI(72*pngScale),
		vgimg.UseBackgroundColor(color.White),
	)
	if err := f.render(canvas); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&out); err != nil {
		return nil, fmt.Errorf("chart: write png: %w", err)
	}
	return out.Bytes(), nil
}
