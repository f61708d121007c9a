package chart

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// benchChart is 16 series of 900 samples (15 minutes at 1 Hz), all visible
// in a 15-minute window, laid out so the plot is 900x300 device pixels.
// With noise false the samples are random walks, like real CPU or RSS
// curves; with noise true every sample is random over the whole range, the
// worst case, where the lines cover nearly every pixel.
func benchChart(b *testing.B, noise bool) (*Chart, *chartRenderer) {
	app := test.NewTempApp(b)
	app.Settings().SetTheme(theme.DarkTheme())
	c := NewChart(Percent)
	c.Now = fixedNow
	c.Window = 15 * time.Minute
	rng := rand.New(rand.NewPCG(1, 2))
	walk := make([]float64, 16)
	for w := range walk {
		walk[w] = 10 + 5*float64(w)
	}
	for k := 899; k >= 0; k-- {
		ts := t0.Add(-time.Duration(k) * time.Second)
		for w := range walk {
			if noise {
				walk[w] = 100 * rng.Float64()
			} else {
				walk[w] = math.Max(0, math.Min(100, walk[w]+2*rng.NormFloat64()))
			}
			c.Push(fmt.Sprintf("worker %d", w+1), ts, walk[w])
		}
	}
	c.Refresh()
	r := test.WidgetRenderer(c).(*chartRenderer)
	size := fyne.NewSize(900, 300)
	for i := 0; i < 4; i++ { // the legend rows depend on the width
		c.Resize(size)
		size = size.Add(fyne.NewSize(900-r.plotSize.Width, 300-r.plotSize.Height))
	}
	if r.plotSize.Width != 900 || r.plotSize.Height != 300 {
		b.Fatalf("plot is %v, want 900x300", r.plotSize)
	}
	return c, r
}

// benchDraw times a full redraw (r.draw from scratch) at 900x300,
// reporting CPU time per draw too.
func benchDraw(b *testing.B, r *chartRenderer) {
	r.draw(900, 300)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		r.invalidate()
		r.draw(900, 300)
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDraw is the raster generator alone, drawing everything: what a
// repaint costs after a resize or a change of scale or style.
func BenchmarkDraw(b *testing.B) {
	_, r := benchChart(b, false)
	benchDraw(b, r)
}

// BenchmarkDrawNoise is the worst case: 16 series of full-range noise.
func BenchmarkDrawNoise(b *testing.B) {
	_, r := benchChart(b, true)
	benchDraw(b, r)
}

// BenchmarkDrawHighlighted draws with one series highlighted (the others
// translucent, the highlighted one thicker).
func BenchmarkDrawHighlighted(b *testing.B) {
	c, r := benchChart(b, false)
	c.SetHighlighted("worker 5")
	benchDraw(b, r)
}

// BenchmarkTick is one 1 Hz update as the app does it: push a sample to each
// of the 16 series, Refresh (rescan, relabel if needed), then repaint, which
// scrolls the last frame and draws the new column unless the scale changed.
func BenchmarkTick(b *testing.B) {
	c, r := benchChart(b, false)
	now := t0
	c.Now = func() time.Time { return now }
	names := c.Names()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second)
		for w, name := range names {
			c.Push(name, now, 40+30*math.Sin(float64(i)/30+float64(w)))
		}
		c.Refresh()
		r.draw(900, 300)
	}
}
