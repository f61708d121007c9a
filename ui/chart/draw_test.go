package chart

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestScrolledFrameMatchesFullRedraw: a frame drawn by scrolling the last
// one and redrawing only the new columns looks like the same frame drawn
// from scratch, for smooth and noisy data, gaps, a highlighted and a
// hidden series, and ticks of one and several samples.
func TestScrolledFrameMatchesFullRedraw(t *testing.T) {
	for _, noise := range []bool{false, true} {
		t.Run(fmt.Sprintf("noise=%v", noise), func(t *testing.T) {
			newTestApp(t, theme.DarkTheme())
			now := t0
			c := NewChart(Percent)
			c.Now = func() time.Time { return now }
			c.Window = time.Minute
			c.SoftMax = 100 // the axis stays 0-100: the frames can scroll
			rng := rand.New(rand.NewPCG(3, 4))
			vals := []float64{20, 40, 60, 80}
			push := func() {
				for i := range vals {
					v := vals[i]
					switch {
					case noise:
						v = 100 * rng.Float64()
					default:
						v = math.Max(0, math.Min(100, v+4*rng.NormFloat64()))
						vals[i] = v
					}
					if i == 2 && rng.IntN(6) == 0 {
						v = math.NaN() // a gap
					}
					c.Push(workerName(i), now, v)
				}
			}
			for k := 0; k < 90; k++ {
				now = now.Add(time.Second)
				push()
			}
			c.SetHighlighted(workerName(1))
			c.SetSeriesHidden(workerName(3), true)
			c.Resize(fyne.NewSize(640, 260))
			r := test.TempWidgetRenderer(t, c).(*chartRenderer)
			// 601 device columns: a column is 0.1 s, so a tick moves the
			// picture by whole columns and a full redraw at the same time
			// puts the samples at the same places.
			const w, h = 601, 220
			r.draw(w, h)
			epoch := r.epoch
			for step := 1; step <= 12; step++ {
				for k := 0; k < 1+step%3; k++ {
					now = now.Add(time.Second)
					push()
				}
				c.Refresh()
				got := slices.Clone(r.draw(w, h).(*image.RGBA).Pix)
				if r.epoch != epoch {
					t.Fatalf("step %d was a full redraw, not a scrolled one", step)
				}
				r.invalidate()
				want := r.draw(w, h).(*image.RGBA).Pix
				if n, worst := pixDiff(got, want); n > len(want)/4/500 || worst > 3 {
					t.Fatalf("step %d: the scrolled frame differs from the full redraw in %d pixels (by up to %d)", step, n, worst)
				}
				epoch = r.epoch
			}
		})
	}
}

// TestScaleChangeRedrawsAll: when a new sample changes the Y axis, the
// frame is drawn from scratch.
func TestScaleChangeRedrawsAll(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	now := t0
	c := NewChart(Count)
	c.Now = func() time.Time { return now }
	c.Window = time.Minute
	for k := 0; k < 30; k++ {
		now = now.Add(time.Second)
		c.Push("a", now, 5)
	}
	c.Resize(fyne.NewSize(400, 200))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	r.draw(301, 150)
	epoch := r.epoch
	now = now.Add(time.Second)
	c.Push("a", now, 5000)
	c.Refresh()
	got := slices.Clone(r.draw(301, 150).(*image.RGBA).Pix)
	if r.epoch == epoch {
		t.Fatal("a new Y scale scrolled the old frame")
	}
	r.invalidate()
	if n, _ := pixDiff(got, r.draw(301, 150).(*image.RGBA).Pix); n != 0 {
		t.Errorf("%d pixels differ from a full redraw", n)
	}
}

// pixDiff counts the pixels that differ and the largest channel difference.
func pixDiff(a, b []uint8) (n, worst int) {
	for i := 0; i+3 < len(a); i += 4 {
		d := 0
		for k := 0; k < 4; k++ {
			d = max(d, int(absDiff(a[i+k], b[i+k])))
		}
		if d > 0 {
			n++
			worst = max(worst, d)
		}
	}
	return n, worst
}
