package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPNG(t *testing.T) {
	small := sixHours()
	small.Width, small.Height = 390, 240
	nan := sixHours()
	nan.Series[0].Points[10].V = math.NaN()
	nan.Series[0].Points[11].V = math.Inf(-1)
	tests := []struct {
		name  string
		chart interface{ PNG() ([]byte, error) }
		w, h  int
	}{
		{"six hours at the default size, doubled", sixHours(), 1440, 600},
		{"three days", threeDays(), 1440, 600},
		{"a phone-sized chart", small, 780, 480},
		{"NaN and Inf", nan, 1440, 600},
		{"empty", Line{}, 1440, 600},
		{"empty bars", Bars{}, 1440, 600},
		{"bars", weeks(13), 1440, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.chart.PNG()
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(b))
			require.NoError(t, err, "the PNG decodes")
			require.Equal(t, image.Rect(0, 0, tt.w, tt.h), img.Bounds())
			require.Equal(t, color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}, color.RGBAModel.Convert(img.At(1, 1)), "the background is white")
			require.True(t, inked(img), "something is drawn")
		})
	}
}

// inked reports whether img has a pixel that is not white.
func inked(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
				return true
			}
		}
	}
	return false
}

// TestConcurrentRendering draws charts from many goroutines at once, as a
// web server does; under -race it proves the package and the plotting
// library share no unguarded state.
func TestConcurrentRendering(t *testing.T) {
	// Small PNGs: rasterising is slow under the race detector, and size
	// does not change which state is shared.
	line, bars := sixHours(), weeks(13)
	line.Width, line.Height = 200, 100
	bars.Width, bars.Height = 200, 100
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			_, err := line.SVG()
			errs <- err
			_, err = bars.PNG()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
