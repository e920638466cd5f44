package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// t0 is a fixed start: Wednesday 2 December 2026, 13:00 UTC.
var t0 = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)

// ramp returns n points every step from start, rising from 0 to top.
func ramp(start time.Time, n int, step time.Duration, top float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{T: start.Add(time.Duration(i) * step), V: top * float64(i) / float64(max(n-1, 1))}
	}
	return pts
}

// sixHours is the SLO page's 6-hour chart: one minute resolution against
// a page and a ticket threshold.
func sixHours() Line {
	return Line{
		Title:   "checkout: error ratio, last 6 hours",
		YLabel:  "error ratio",
		Percent: true,
		Series:  []Series{{Name: "error ratio", Points: ramp(t0, 360, time.Minute, 0.012)}},
		Thresholds: []Threshold{
			{Name: "page (14.4×)", Value: 0.0144},
			{Name: "ticket (6×)", Value: 0.006},
		},
		From: t0,
		To:   t0.Add(6 * time.Hour),
	}
}

// threeDays is the 3-day chart at five-minute resolution.
func threeDays() Line {
	c := sixHours()
	c.Title = "checkout: error ratio, last 3 days"
	c.Series = []Series{{Name: "error ratio", Points: ramp(t0, 3*24*12, 5*time.Minute, 0.01)}}
	c.To = t0.Add(72 * time.Hour)
	return c
}

// weeks is an insights chart: incidents per week by severity.
func weeks(n int) Bars {
	c := Bars{Title: "Incidents per week by severity", YLabel: "incidents"}
	sevs := []string{"SEV1", "SEV2", "SEV3", "SEV4"}
	for i := range n {
		c.Labels = append(c.Labels, t0.AddDate(0, 0, 7*i).Format("Jan 2"))
	}
	for s, name := range sevs {
		st := Stack{Name: name}
		for i := range n {
			st.Values = append(st.Values, float64((i*7+s*3)%5))
		}
		c.Stacks = append(c.Stacks, st)
	}
	return c
}

// element is one element of an SVG document, with the text directly
// inside it.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG parses doc as XML, failing the test if it is not well formed,
// and returns its elements in document order.
func parseSVG(t *testing.T, doc []byte) []*element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var all, open []*element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is not well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" && a.Name.Space != "http://www.w3.org/2000/svg" {
					name = a.Name.Space + ":" + name
				}
				e.attrs[name] = a.Value
			}
			all = append(all, e)
			open = append(open, e)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				open[len(open)-1].text += string(tok)
			}
		}
	}
	require.NotEmpty(t, all, "the SVG has no elements")
	return all
}

// texts returns the text of every <text> element.
func texts(els []*element) []string {
	var out []string
	for _, e := range els {
		if e.name == "text" {
			out = append(out, e.text)
		}
	}
	return out
}

// strokes returns the <path> elements stroked in color.
func strokes(els []*element, color string) []*element {
	var out []*element
	for _, e := range els {
		if e.name == "path" && e.attrs["stroke"] == color {
			out = append(out, e)
		}
	}
	return out
}

func TestSVGIsSafeToInline(t *testing.T) {
	hostile := sixHours()
	hostile.Title = `<script>alert("x")</script> & 'more'`
	hostile.Series[0].Name = `</text><script>`
	tests := []struct {
		name  string
		chart interface{ SVG() ([]byte, error) }
		label string
	}{
		{"six hours", sixHours(), sixHours().Title},
		{"three days", threeDays(), threeDays().Title},
		{"empty line", Line{}, "Chart"},
		{"bars", weeks(13), weeks(13).Title},
		{"empty bars", Bars{Title: "none"}, "none"},
		{"hostile text", hostile, hostile.Title},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.chart.SVG()
			require.NoError(t, err)
			els := parseSVG(t, doc)

			root := els[0]
			require.Equal(t, "svg", root.name, "the document starts with its root: no prolog, no comment")
			require.True(t, bytes.HasPrefix(doc, []byte("<svg ")), "nothing may precede <svg>")
			require.Equal(t, "img", root.attrs["role"])
			require.Equal(t, tt.label, root.attrs["aria-label"])
			require.Equal(t, "0 0 720 300", root.attrs["viewBox"])
			require.Equal(t, "100%", root.attrs["width"], "the chart scales to its container")
			require.NotContains(t, root.attrs, "height", "a fixed height would distort the chart on a narrow screen")

			require.Equal(t, "title", els[1].name, "<title> is the first child")
			require.Equal(t, tt.label, els[1].text)
			require.Equal(t, "desc", els[2].name, "<desc> follows the title")
			require.NotEmpty(t, els[2].text)

			for _, e := range els {
				require.NotContains(t, []string{"script", "style", "foreignObject", "image", "use", "a"}, e.name,
					"a CSP-safe inline SVG has no <%s>", e.name)
				for name, value := range e.attrs {
					require.NotEqual(t, "style", name, "<%s> has a style attribute, which style-src 'self' blocks on inline SVG", e.name)
					require.False(t, strings.HasPrefix(name, "on"), "<%s> has an event handler %s", e.name, name)
					require.NotContains(t, name, "href", "<%s> refers to another resource", e.name)
					require.NotContains(t, value, "url(", "<%s %s> refers to another resource", e.name, name)
				}
				if e.name == "text" {
					require.Equal(t, fontFamily, e.attrs["font-family"], "text %q names no fetched font", e.text)
					require.NotEmpty(t, e.attrs["font-size"], "text %q keeps its size", e.text)
				}
				if e.name == "path" {
					require.NotEmpty(t, e.attrs["d"])
				}
			}
			require.NotRegexp(t, `\sstyle=`, string(doc))
			require.NotContains(t, strings.ToLower(string(doc)), "<script")
		})
	}
}

func TestAccessibleSVG(t *testing.T) {
	const head = `<?xml version="1.0"?>
<!-- Generated by SVGo and Plotinum VG -->
<svg width="100pt" height="50pt" viewBox="0 0 100 50"
	xmlns="http://www.w3.org/2000/svg">
`
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr error
	}{
		{
			name: "stroke becomes presentation attributes",
			body: `<path d="M0,0L1,1" style="fill:none;stroke:#0072B2;stroke-width:2;stroke-dasharray:7,3" />`,
			want: `<path d="M0,0L1,1" fill="none" stroke="#0072B2" stroke-width="2" stroke-dasharray="7,3" />`,
		},
		{
			name: "text keeps its font, drops font-variant and names fonts a browser has",
			body: "<text x=\"1\" y=\"2\"\n\tstyle=\"font-family:Liberation Sans;font-variant:none;font-size:11px;fill:#222222\">a style=&#34;b&#34;</text>",
			want: "<text x=\"1\" y=\"2\"\n font-family=\"" + fontFamily + `" font-size="11px" fill="#222222">a style=&#34;b&#34;</text>`,
		},
		{
			name:    "an unknown property is refused, not dropped",
			body:    `<path d="M0,0" style="filter:url(#x)" />`,
			wantErr: errSVG,
		},
		{
			name:    "an unterminated style is refused",
			body:    `<path d="M0,0" style="fill:none`,
			wantErr: errSVG,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := accessibleSVG([]byte(head+tt.body+"\n</svg>\n"), "T", "D")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Contains(t, string(out), tt.want)
			parseSVG(t, out)
		})
	}

	_, err := accessibleSVG([]byte("<p>not svg</p>"), "T", "D")
	require.ErrorIs(t, err, errSVG)
}

func TestLineThresholds(t *testing.T) {
	doc, err := sixHours().SVG()
	require.NoError(t, err)
	els := parseSVG(t, doc)

	page := strokes(els, "#D55E00")
	require.NotEmpty(t, page, "the page threshold is drawn in vermilion")
	require.NotEmpty(t, page[0].attrs["stroke-dasharray"], "thresholds are dashed, not told apart by colour alone")
	ticket := strokes(els, "#E69F00")
	require.NotEmpty(t, ticket, "the ticket threshold is drawn in orange")
	require.NotEqual(t, page[0].attrs["stroke-dasharray"], ticket[0].attrs["stroke-dasharray"], "each threshold has its own dash")

	series := strokes(els, "#0072B2")
	require.NotEmpty(t, series, "the series is drawn")
	require.Empty(t, series[0].attrs["stroke-dasharray"], "the first series is solid")

	require.Subset(t, texts(els), []string{"page (14.4×)", "ticket (6×)", "error ratio", "1.0%", "0.0%"},
		"the legend names every line and the axis reads in percent")
	require.Contains(t, els[2].text, "page (14.4×): 1.44%")
}

func TestLineTicks(t *testing.T) {
	tests := []struct {
		name  string
		chart Line
		want  []string
	}{
		{"six hours: hourly", sixHours(), []string{"13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00"}},
		{"three days: daily", threeDays(), []string{"Thu 3", "Fri 4", "Sat 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.chart.SVG()
			require.NoError(t, err)
			require.Subset(t, texts(parseSVG(t, doc)), tt.want)
		})
	}
}

func TestTimeTicks(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"six hours", t0, t0.Add(6 * time.Hour), []string{"13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00"}},
		{"one hour", t0, t0.Add(time.Hour), []string{"13:00", "13:15", "13:30", "13:45", "14:00"}},
		{"three days", t0, t0.Add(72 * time.Hour), []string{"Thu 3", "Fri 4", "Sat 5"}},
		{"thirty days: Mondays", t0, t0.AddDate(0, 0, 30), []string{"Mon 7", "Mon 14", "Mon 21", "Mon 28"}},
		{"one instant", t0, t0, []string{"13:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := timeTicks{}.Ticks(float64(tt.from.Unix()), float64(tt.to.Unix()))
			var labels []string
			for _, tick := range ticks {
				require.GreaterOrEqual(t, tick.Value, float64(tt.from.Unix()), "ticks stay on the axis")
				require.LessOrEqual(t, tick.Value, float64(tt.to.Unix())+1, "ticks stay on the axis")
				if tick.Label != "" {
					labels = append(labels, tick.Label)
				}
			}
			require.Equal(t, tt.want, labels)
			require.LessOrEqual(t, len(labels), maxLabels)
		})
	}
}

func TestLineEmptyAndBadValues(t *testing.T) {
	nan := sixHours()
	nan.Series[0].Points[100].V = math.NaN()
	nan.Series[0].Points[200].V = math.Inf(1)

	single := sixHours()
	single.Series[0].Points = []Point{{T: t0.Add(time.Hour), V: 0.003}}

	allNaN := sixHours()
	allNaN.Series[0].Points = []Point{{T: t0, V: math.NaN()}, {T: t0.Add(time.Minute), V: math.Inf(-1)}}

	outside := sixHours()
	outside.From, outside.To = t0.Add(-48*time.Hour), t0.Add(-42*time.Hour)

	tests := []struct {
		name      string
		chart     Line
		noData    bool
		seriesLen int    // how many paths draw the series
		desc      string // part of the description
	}{
		{"empty, no range", Line{Title: "nothing"}, true, 0, noData},
		{"empty with a range", Line{From: t0, To: t0.Add(time.Hour)}, true, 0, noData},
		{"all NaN", allNaN, true, 0, "error ratio: no data"},
		{"data outside the range", outside, true, 0, "error ratio: no data"},
		{"NaN and Inf break the line", nan, false, 3, "error ratio: 358 points"},
		{"a single point is drawn", single, false, 1, "error ratio: 1 points, last 0.3%"},
		{"unsorted points", Line{Series: []Series{{Name: "x", Points: []Point{{t0.Add(time.Minute), 2}, {t0, 1}}}}}, false, 1, "x: 2 points, last 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.chart.SVG()
			require.NoError(t, err, "empty or bad data is a chart that says so, not an error")
			els := parseSVG(t, doc)
			if tt.noData {
				require.Contains(t, texts(els), noData)
			} else {
				require.NotContains(t, texts(els), noData)
			}
			var drawn int
			for _, e := range els {
				if e.name == "path" && (e.attrs["stroke"] == "#0072B2" || e.attrs["fill"] == "#0072B2") {
					drawn++
				}
			}
			if len(tt.chart.Series) > 0 {
				drawn -= 2 // the legend's sample: a line and a point on it
			}
			require.Equal(t, tt.seriesLen, drawn)
			require.Contains(t, els[2].text, tt.desc)
		})
	}
}

func TestLineYRange(t *testing.T) {
	lo, hi := 0.0, 0.05
	c := sixHours()
	c.YMin, c.YMax = &lo, &hi
	doc, err := c.SVG()
	require.NoError(t, err)
	require.Subset(t, texts(parseSVG(t, doc)), []string{"0.00%", "2.50%", "5.00%"}, "a fixed range is in the chart's units")

	f, err := sixHours().figure()
	require.NoError(t, err)
	require.Equal(t, 0.0, f.plot.Y.Min, "a ratio's axis starts at zero")
	require.InDelta(t, 1.44*1.05, f.plot.Y.Max, 1e-9, "the axis fits the highest threshold with headroom")
}

func TestSize(t *testing.T) {
	_, err := Line{Width: -1}.SVG()
	require.ErrorIs(t, err, ErrSize)
	_, err = Bars{Height: -1}.PNG()
	require.ErrorIs(t, err, ErrSize)

	doc, err := Line{Width: 390, Height: 240}.SVG()
	require.NoError(t, err)
	require.Equal(t, "0 0 390 240", parseSVG(t, doc)[0].attrs["viewBox"])
}

func TestBarsTotals(t *testing.T) {
	tests := []struct {
		name  string
		chart Bars
		want  []float64
	}{
		{"stacked", Bars{Labels: []string{"a", "b"}, Stacks: []Stack{{"s1", []float64{1, 2}}, {"s2", []float64{3, 4}}}}, []float64{4, 6}},
		{"short stack counts as zero", Bars{Labels: []string{"a", "b"}, Stacks: []Stack{{"s1", []float64{1}}, {"s2", []float64{3, 4}}}}, []float64{4, 4}},
		{"NaN, Inf and negatives count as zero", Bars{Labels: []string{"a", "b", "c"}, Stacks: []Stack{{"s1", []float64{math.NaN(), math.Inf(1), -2}}, {"s2", []float64{1, 1, 1}}}}, []float64{1, 1, 1}},
		{"no stacks", Bars{Labels: []string{"a"}}, []float64{0}},
		{"13 weeks", weeks(13), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.chart.Totals()
			if tt.want != nil {
				require.Equal(t, tt.want, got)
			}
			doc, err := tt.chart.SVG()
			require.NoError(t, err)
			els := parseSVG(t, doc)
			for i, total := range got {
				if total > 0 {
					require.Contains(t, texts(els), formatCount(total), "bar %d shows its total", i)
					require.Contains(t, els[2].text, tt.chart.Labels[i]+": "+formatCount(total))
				}
			}
		})
	}
}

func formatCount(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func TestBarsEmptyAndMismatch(t *testing.T) {
	for _, c := range []Bars{{Title: "none"}, {Labels: []string{"a", "b"}, Stacks: []Stack{{"s", []float64{0, 0}}}}} {
		doc, err := c.SVG()
		require.NoError(t, err)
		els := parseSVG(t, doc)
		require.Contains(t, texts(els), noData)
		require.Contains(t, els[2].text, noData)
	}

	_, err := Bars{Labels: []string{"a"}, Stacks: []Stack{{"s", []float64{1, 2}}}}.SVG()
	require.ErrorContains(t, err, `stack "s" has 2 values for 1 labels`)
}
