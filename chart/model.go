package chart

import "time"

// Point is one sample of a Series.
type Point struct {
	T time.Time
	V float64
}

// Series is a named line over time. Points need not be sorted; NaN and
// infinite values are skipped and break the line, so a gap in the data
// reads as a gap.
type Series struct {
	Name   string
	Points []Point
}

// Threshold is a named horizontal level, drawn as a dashed line (a page
// threshold, a ticket threshold).
type Threshold struct {
	Name  string
	Value float64
}

// Line is a chart of series over time against thresholds.
type Line struct {
	// Title names the chart; it is drawn and read out by screen readers.
	Title string
	// Desc describes the chart for screen readers; when empty, one is
	// written from the data (range, each series' last and highest value,
	// each threshold).
	Desc   string
	YLabel string

	Series     []Series
	Thresholds []Threshold

	// From and To bound the time axis; when zero, the data's first and last
	// points do. Points outside them are left out.
	From, To time.Time

	// YMin and YMax fix the value axis; when nil it fits the data and the
	// thresholds, and starts at zero when no value is negative.
	YMin, YMax *float64

	// Percent reads values as fractions (0.02) and labels the axis in
	// percent (2%).
	Percent bool

	// Width and Height are the size in CSS pixels (default 720×300). The
	// SVG scales to its container; the PNG is drawn at twice this size for
	// high-density screens.
	Width, Height int
}

// Stack is one named layer of a Bars chart: one value per label.
type Stack struct {
	Name   string
	Values []float64
}

// Bars is a chart of stacked bars: one bar per label (a week), one layer
// per stack (a severity), the first stack at the bottom. The total is
// written above each bar. A stack shorter than Labels counts zero for the
// labels it lacks; a longer one is an error.
type Bars struct {
	Title  string
	Desc   string // as in Line
	YLabel string
	Labels []string
	Stacks []Stack

	Width, Height int // as in Line
}

// DefaultWidth and DefaultHeight are the size, in CSS pixels, of a chart
// that gives none.
const (
	DefaultWidth  = 720
	DefaultHeight = 300
)

// pngScale is how many device pixels a PNG has per CSS pixel: Slack shows
// images on high-density (2×) screens.
const pngScale = 2

// noData is what an empty chart says instead of failing.
const noData = "No data for this period"
