package chart

import (
	"image"
	"image/color"
	"math"
)

// plotter draws anti-aliased lines into an RGBA buffer using Xiaolin Wu's
// algorithm. Coordinates are in device pixels with pixel centres on whole
// numbers, so a line at y = 2 lights row 2 fully and nothing else. Pixels
// outside the buffer are skipped, so callers need not clip.
//
// A stroke is drawn in two steps: its segments add their coverage into a
// mask, then fill composites the mask in one colour. Adding is what Wu's end
// points are designed for (two segments meeting at a pixel share it), it
// makes parallel lines sum to a solid thick line, and compositing once means
// a translucent stroke does not darken where its segments meet.
type plotter struct {
	img  *image.RGBA
	w, h int
	// mask is the coverage of the current stroke (255 = full), column-major
	// so that filling a column walks contiguous memory.
	mask []uint8

	// The rows of each column the current stroke touched, lo[x]..hi[x].
	// fill visits only these and leaves them clear.
	lo, hi []int32

	// clipLo is the first column drawn: the columns left of it are kept
	// as they are (a scrolled frame redraws only its right part).
	clipLo int
}

// setImage points the plotter at img, reusing its mask when the size is the
// same.
func (p *plotter) setImage(img *image.RGBA) {
	p.img, p.w, p.h = img, img.Rect.Dx(), img.Rect.Dy()
	if len(p.mask) != p.w*p.h || len(p.lo) != p.w {
		p.mask = make([]uint8, p.w*p.h)
		p.lo = make([]int32, p.w)
		p.hi = make([]int32, p.w)
	} else {
		clear(p.mask)
	}
	for x := range p.lo {
		p.lo[x], p.hi[x] = math.MaxInt32, -1
	}
}

// cover adds coverage cov (0..255) at pixel (x, y) to the current stroke.
// It is small enough to be inlined into the line loops.
func (p *plotter) cover(x, y, cov int) {
	if uint(x-p.clipLo) >= uint(p.w-p.clipLo) || uint(y) >= uint(p.h) {
		return
	}
	i := x*p.h + y
	p.mask[i] = uint8(min(int(p.mask[i])+cov, 255))
	p.lo[x] = min(p.lo[x], int32(y))
	p.hi[x] = max(p.hi[x], int32(y))
}

// fill composites the current stroke in colour c and clears it.
func (p *plotter) fill(c color.NRGBA) {
	pix, stride := p.img.Pix, p.img.Stride
	cr, cg, cb, ca := uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
	for x := range p.lo {
		lo, hi := int(p.lo[x]), int(p.hi[x])
		if lo > hi {
			continue
		}
		p.lo[x], p.hi[x] = math.MaxInt32, -1
		col := p.mask[x*p.h+lo : x*p.h+hi+1]
		pi := lo*stride + x*4
		for k, m := range col {
			if m != 0 {
				col[k] = 0
				a := (ca*uint32(m) + 127) / 255
				inv := 255 - a
				px := pix[pi : pi+4 : pi+4]
				px[0] = uint8((cr*a + uint32(px[0])*inv + 127) / 255)
				px[1] = uint8((cg*a + uint32(px[1])*inv + 127) / 255)
				px[2] = uint8((cb*a + uint32(px[2])*inv + 127) / 255)
				px[3] = uint8((255*a + uint32(px[3])*inv + 127) / 255)
			}
			pi += stride
		}
	}
}

// blend composites c at coverage cov (0..1) over pixel (x, y). The buffer is
// premultiplied, so this is the Porter-Duff "over" operator.
func (p *plotter) blend(x, y int, c color.NRGBA, cov float64) {
	if uint(x) >= uint(p.w) || uint(y) >= uint(p.h) || cov <= 0 {
		return
	}
	a := uint32(float64(c.A)*math.Min(cov, 1) + 0.5)
	if a == 0 {
		return
	}
	i := y*p.img.Stride + x*4
	px := p.img.Pix[i : i+4 : i+4]
	inv := 255 - a
	px[0] = uint8((uint32(c.R)*a + uint32(px[0])*inv + 127) / 255)
	px[1] = uint8((uint32(c.G)*a + uint32(px[1])*inv + 127) / 255)
	px[2] = uint8((uint32(c.B)*a + uint32(px[2])*inv + 127) / 255)
	px[3] = uint8((255*a + uint32(px[3])*inv + 127) / 255)
}

// hline draws a crisp one-pixel horizontal line on row y from x0 to x1.
func (p *plotter) hline(y, x0, x1 int, c color.NRGBA) {
	for x := x0; x <= x1; x++ {
		p.blend(x, y, c, 1)
	}
}

// vline draws a crisp one-pixel vertical line on column x from y0 to y1.
func (p *plotter) vline(x, y0, y1 int, c color.NRGBA) {
	for y := y0; y <= y1; y++ {
		p.blend(x, y, c, 1)
	}
}

// stroke draws one line of the given width in colour c: thickLine then fill.
func (p *plotter) stroke(x0, y0, x1, y1 float64, width int, c color.NRGBA) {
	p.thickLine(x0, y0, x1, y1, width)
	p.fill(c)
}

// thickLine adds a line about width pixels wide to the current stroke, as
// parallel Wu lines spread along the minor axis. The spread grows with the
// slope so the width measured across the line stays the same, and each line
// is weakened so that together they cover exactly that width.
func (p *plotter) thickLine(x0, y0, x1, y1 float64, width int) {
	if width <= 1 {
		p.line(x0, y0, x1, y1, 1)
		return
	}
	dx, dy := x1-x0, y1-y0
	steep := math.Abs(dy) > math.Abs(dx)
	g := 0.0
	if steep && dy != 0 {
		g = dx / dy
	} else if !steep && dx != 0 {
		g = dy / dx
	}
	if !finite(g) {
		return
	}
	// The extent along the minor axis, split into n lines of n/extent
	// strength spaced extent/n apart: every inner pixel sums to 1.
	extent := float64(width) * math.Sqrt(1+g*g)
	n := int(math.Ceil(extent))
	gap := extent / float64(n)
	for k := 0; k < n; k++ {
		o := -extent/2 + gap/2 + float64(k)*gap
		if steep {
			p.line(x0+o, y0, x1+o, y1, gap)
		} else {
			p.line(x0, y0+o, x1, y1+o, gap)
		}
	}
}

// line adds a one-pixel anti-aliased line from (x0, y0) to (x1, y1) at the
// given strength (1 = full) to the current stroke.
func (p *plotter) line(x0, y0, x1, y1, strength float64) {
	if !finite(x0) || !finite(y0) || !finite(x1) || !finite(y1) {
		return
	}
	steep := math.Abs(y1-y0) > math.Abs(x1-x0)
	if steep {
		x0, y0, x1, y1 = y0, x0, y1, x1
	}
	if x0 > x1 {
		x0, x1, y0, y1 = x1, x0, y1, y0
	}
	limit := p.w // along the major axis
	if steep {
		limit = p.h
	}
	// Entirely outside along the major axis: nothing to draw. Clamping the
	// ends keeps the float-to-int conversions below in range.
	if x1 < -1 || x0 > float64(limit) {
		return
	}
	x0c, x1c := math.Max(x0, -1), math.Min(x1, float64(limit))

	gradient := 1.0
	if dx := x1 - x0; dx != 0 {
		gradient = (y1 - y0) / dx
	}
	s255 := strength * 255

	// plot adds coverage cov (0..1) at (major, minor).
	plot := func(major int, minor float64, cov float64) {
		if minor < -2 || minor > 1<<30 {
			return // far off the buffer across the minor axis
		}
		if steep {
			p.cover(int(minor), major, int(cov*s255+0.5))
		} else {
			p.cover(major, int(minor), int(cov*s255+0.5))
		}
	}
	// The two end points get partial coverage along the major axis (xgap),
	// which is what lets consecutive segments join without a seam.
	xend := math.Round(x0c)
	yend := y0 + gradient*(xend-x0)
	xgap := 1 - frac(x0c+0.5)
	xpxl1 := int(xend)
	iy := math.Floor(yend)
	plot(xpxl1, iy, (1-(yend-iy))*xgap)
	plot(xpxl1, iy+1, (yend-iy)*xgap)

	xend = math.Round(x1c)
	yend = y0 + gradient*(xend-x0)
	xgap = frac(x1c + 0.5)
	xpxl2 := int(xend)
	if xpxl2 != xpxl1 {
		iy = math.Floor(yend)
		plot(xpxl2, iy, (1-(yend-iy))*xgap)
		plot(xpxl2, iy+1, (yend-iy)*xgap)
	}

	// The span between, clipped to the buffer along the major axis.
	full := int(s255 + 0.5)
	from, to := max(xpxl1+1, 0), min(xpxl2-1, limit-1)
	y := y0 + gradient*(float64(from)-x0)
	for x := from; x <= to; x, y = x+1, y+gradient {
		if y < -2 || y > 1<<30 {
			continue // off the buffer across the minor axis
		}
		iy := int(y+2) - 2 // floor, as y+2 >= 0
		b := int((y-float64(iy))*s255 + 0.5)
		if steep {
			p.cover(iy, x, full-b)
			p.cover(iy+1, x, b)
		} else {
			p.cover(x, iy, full-b)
			p.cover(x, iy+1, b)
		}
	}
}

func frac(x float64) float64 { return x - math.Floor(x) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
