package chart

import "testing"

// The benchmarks time what a page or a warning pays for one chart. Run
// them with
//
//	go test -run '^$' -bench . -benchmem ./chart/
//
// They report; they never assert.

func BenchmarkLineSVG(b *testing.B) {
	for _, bc := range []struct {
		name  string
		chart Line
	}{
		{"6h_1m_360pts", sixHours()},
		{"3d_5m_864pts", threeDays()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.chart.SVG(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLinePNG(b *testing.B) {
	for _, bc := range []struct {
		name  string
		chart Line
	}{
		{"6h_1m_360pts", sixHours()},
		{"3d_5m_864pts", threeDays()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.chart.PNG(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBarsSVG(b *testing.B) {
	c := weeks(13)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SVG(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBarsPNG(b *testing.B) {
	c := weeks(13)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}
