package chart

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The colours are Okabe and Ito's palette, which people with any common
// form of colour blindness can tell apart. Colour is never the only cue:
// each series has its own dash pattern and point shape, thresholds are
// thinner and dashed, and the legend names every line.
var (
	okabeBlue      = color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xff}
	okabeVermilion = color.RGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0xff}
	okabeGreen     = color.RGBA{R: 0x00, G: 0x9E, B: 0x73, A: 0xff}
	okabePurple    = color.RGBA{R: 0xCC, G: 0x79, B: 0xA7, A: 0xff}
	okabeOrange    = color.RGBA{R: 0xE6, G: 0x9F, B: 0x00, A: 0xff}
	okabeSky       = color.RGBA{R: 0x56, G: 0xB4, B: 0xE9, A: 0xff}
	okabeBlack     = color.RGBA{R: 0x00, G: 0x00, B: 0x00, A: 0xff}
	okabeWhite     = color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)

// seriesLook is how the i-th series is drawn.
func seriesLook(i int) (draw.LineStyle, draw.GlyphStyle) {
	colors := []color.Color{okabeBlue, okabeGreen, okabePurple, okabeBlack, okabeSky}
	dashes := [][]vg.Length{nil, {7, 3}, {1.5, 2.5}, {8, 3, 1.5, 3}, {3, 3}}
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}}
	c := colors[i%len(colors)]
	return draw.LineStyle{Color: c, Width: 2, Dashes: dashes[i%len(dashes)]},
		draw.GlyphStyle{Color: c, Radius: 3, Shape: glyphs[i%len(glyphs)]}
}

// thresholdLook is how the i-th threshold is drawn: the first (the page
// threshold, by convention) in the warmest colour.
func thresholdLook(i int) draw.LineStyle {
	colors := []color.Color{okabeVermilion, okabeOrange, okabeBlack}
	dashes := [][]vg.Length{{6, 4}, {2, 3}, {10, 3, 2, 3}}
	return draw.LineStyle{Color: colors[i%len(colors)], Width: 1.25, Dashes: dashes[i%len(dashes)]}
}

// stackColor is the fill of the i-th layer of a Bars chart. Adjacent
// layers differ in lightness as well as hue, and a white edge separates
// them.
func stackColor(i int) color.Color {
	colors := []color.Color{okabeVermilion, okabeSky, okabeOrange, okabeBlue, okabeGreen, okabePurple}
	return colors[i%len(colors)]
}
