package chart

import (
	"image"
	"image/color"
	"math"
	"testing"
)

var red = color.NRGBA{R: 255, A: 255}

func newPlotter(w, h int) *plotter {
	p := &plotter{}
	p.setImage(image.NewRGBA(image.Rect(0, 0, w, h)))
	return p
}

// alpha returns the coverage drawn at (x, y), 0..255.
func (p *plotter) alpha(x, y int) int { return int(p.img.RGBAAt(x, y).A) }

func TestWuHorizontal(t *testing.T) {
	p := newPlotter(10, 5)
	p.stroke(1, 2, 8, 2, 1, red)
	for x := 0; x < 10; x++ {
		for y := 0; y < 5; y++ {
			want := 0
			switch {
			case y == 2 && x >= 2 && x <= 7:
				want = 255
			case y == 2 && (x == 1 || x == 8):
				want = 128 // end points cover half a pixel
			}
			if got := p.alpha(x, y); got != want {
				t.Errorf("pixel (%d,%d) alpha %d, want %d", x, y, got, want)
			}
		}
	}
	if got := p.img.RGBAAt(4, 2); got != (color.RGBA{R: 255, A: 255}) {
		t.Errorf("full pixel colour %v", got)
	}
}

func TestWuBetweenRows(t *testing.T) {
	p := newPlotter(10, 6)
	p.stroke(0, 2.5, 9, 2.5, 1, red)
	for x := 1; x <= 8; x++ {
		if a, b := p.alpha(x, 2), p.alpha(x, 3); a < 127 || a > 128 || a+b != 255 {
			t.Errorf("column %d: rows 2,3 alpha %d,%d, want half each", x, a, b)
		}
	}
}

func TestWuDiagonal(t *testing.T) {
	p := newPlotter(10, 10)
	p.stroke(0, 0, 9, 9, 1, red)
	for i := 1; i < 9; i++ {
		if got := p.alpha(i, i); got != 255 {
			t.Errorf("(%d,%d) alpha %d, want 255", i, i, got)
		}
		if got := p.alpha(i, i+1) + p.alpha(i+1, i); got != 0 {
			t.Errorf("pixels next to the 45° diagonal at %d lit: %d", i, got)
		}
	}
}

// TestWuCoverage checks the defining property: every column of a shallow
// line (and every row of a steep one) gets a total coverage of one pixel.
func TestWuCoverage(t *testing.T) {
	for _, steep := range []bool{false, true} {
		p := newPlotter(40, 40)
		x0, y0, x1, y1 := 2.0, 5.3, 37.0, 21.7
		if steep {
			x0, y0, x1, y1 = y0, x0, y1, x1
		}
		p.stroke(x0, y0, x1, y1, 1, red)
		for i := 3; i <= 36; i++ {
			sum := 0
			for j := 0; j < 40; j++ {
				if steep {
					sum += p.alpha(j, i)
				} else {
					sum += p.alpha(i, j)
				}
			}
			if sum < 254 || sum > 256 {
				t.Errorf("steep=%v: line %d has coverage %d/255", steep, i, sum)
			}
		}
	}
}

func TestWuDirectionInvariant(t *testing.T) {
	a, b := newPlotter(20, 20), newPlotter(20, 20)
	a.stroke(1.2, 3.7, 17.9, 12.1, 1, red)
	b.stroke(17.9, 12.1, 1.2, 3.7, 1, red)
	for i := range a.img.Pix {
		if a.img.Pix[i] != b.img.Pix[i] {
			t.Fatal("drawing a line backwards gives different pixels")
		}
	}
}

func TestWuClipAndNonFinite(t *testing.T) {
	p := newPlotter(10, 10)
	p.stroke(-1e6, 5, -100, 5, 1, red)     // entirely left
	p.stroke(math.NaN(), 0, 5, 5, 1, red)  // NaN
	p.stroke(0, math.Inf(1), 5, 5, 1, red) // Inf
	p.stroke(3, -50, 3, -20, 1, red)       // entirely above
	for _, v := range p.img.Pix {
		if v != 0 {
			t.Fatal("a line outside the buffer or with NaN/Inf drew pixels")
		}
	}
	// Crossing the buffer from far away draws just the visible part.
	p.stroke(-1e9, 4, 1e9, 4, 1, red)
	for x := 0; x < 10; x++ {
		if p.alpha(x, 4) != 255 {
			t.Fatalf("clipped long line missing at x=%d", x)
		}
	}
}

func TestWuBlendOver(t *testing.T) {
	p := newPlotter(3, 3)
	half := color.NRGBA{B: 255, A: 128}
	p.blend(1, 1, red, 1)
	p.blend(1, 1, half, 1)
	got := p.img.RGBAAt(1, 1)
	// Blue at 50% over opaque red.
	if got.A != 255 || got.R < 126 || got.R > 128 || got.B < 127 || got.B > 129 {
		t.Errorf("blue 50%% over red = %v", got)
	}
	p.blend(0, 0, half, 0.5)
	if a := p.alpha(0, 0); a != 64 {
		t.Errorf("50%% alpha at 50%% coverage over transparent: alpha %d, want 64", a)
	}
}

func TestThickLine(t *testing.T) {
	p := newPlotter(12, 12)
	p.stroke(1, 5, 10, 5, 3, red)
	for x := 2; x <= 9; x++ {
		for y := 3; y <= 7; y++ {
			want := 0
			if y >= 4 && y <= 6 {
				want = 255
			}
			if got := p.alpha(x, y); got != want {
				t.Errorf("3-px line: (%d,%d) alpha %d, want %d", x, y, got, want)
			}
		}
	}
	// Width stays the same across the line when it slopes: a 45° 3-px line
	// covers about 3·√2 pixels per column.
	q := newPlotter(40, 40)
	q.stroke(5, 5, 35, 35, 3, red)
	sum := 0
	for y := 0; y < 40; y++ {
		sum += q.alpha(20, y)
	}
	if cov := float64(sum) / 255; cov < 4.1 || cov > 4.4 {
		t.Errorf("45° 3-px line covers %.2f pixels per column, want 3·√2 = 4.24", cov)
	}
	// and its inside is solid.
	for i := 10; i < 30; i++ {
		if q.alpha(i, i) != 255 {
			t.Errorf("45° 3-px line not solid at (%d,%d): alpha %d", i, i, q.alpha(i, i))
		}
	}
}

// FuzzLine draws arbitrary lines: never a panic, never a pixel outside the
// buffer (which would panic), and the call always terminates quickly.
func FuzzLine(f *testing.F) {
	f.Add(0.0, 0.0, 9.0, 9.0, 1)
	f.Add(-1e300, 5.0, 1e300, 5.0, 2)
	f.Add(3.0, -1e18, 3.0, 1e18, 3)
	f.Add(math.NaN(), 1.0, 2.0, 3.0, 1)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1 float64, width int) {
		if width < 0 || width > 8 {
			return
		}
		p := newPlotter(16, 9)
		p.stroke(x0, y0, x1, y1, width, red)
	})
}

// TestPolylineJoin checks that a translucent polyline is even where its
// segments meet: the coverage is summed in the mask and composited once.
func TestPolylineJoin(t *testing.T) {
	p := newPlotter(12, 10)
	half := color.NRGBA{G: 255, A: 128}
	p.thickLine(1, 5, 4.3, 5, 1)
	p.thickLine(4.3, 5, 7.6, 5, 1)
	p.thickLine(7.6, 5, 10, 5, 1)
	p.fill(half)
	for x := 2; x <= 9; x++ {
		if a := p.alpha(x, 5); a != 128 {
			t.Errorf("x=%d: alpha %d, want an even 128 along the polyline", x, a)
		}
	}
	// The mask is clear again: a second stroke elsewhere draws only itself.
	p.stroke(1, 8, 10, 8, 1, red)
	if a := p.alpha(5, 5); a != 128 {
		t.Errorf("second stroke changed the first: alpha %d", a)
	}
	for _, m := range p.mask {
		if m != 0 {
			t.Fatal("mask not cleared by fill")
		}
	}
}
