package chart

import (
	"image"
	"image/color"
	"math"
	"time"
)

// The plot raster is drawn in two layers: the grid, redrawn only when the
// axes or the size change, and the series' lines, kept from one frame to the
// next. A full redraw puts now at the right edge; the frames after it map
// time to device columns on the same grid, with the right edge on the first
// column at or after now. So while the axes stay the same, a new frame is the
// last one moved left by whole columns, plus the few columns on the right
// where new samples arrived: a tick redraws a strip a few pixels wide instead
// of every segment of every series. The frame shown is the lines composited
// over the grid.

// layers are the renderer's drawing buffers.
type layers struct {
	buf   *image.RGBA // what the raster shows: lines over grid
	lines *image.RGBA // the series alone, scrolled between frames
	grid  *image.RGBA
	// The grid's rows and columns: the only pixels where grid and lines
	// need compositing, the grid being transparent elsewhere.
	gridRow  []bool // per row
	gridCols []int
	pl       plotter // draws into lines
	gpl      plotter // draws into grid

	key   frameKey
	keyOK bool  // lines and grid show key
	epoch int64 // unix ns at the right edge of the last full redraw
	right int64 // the right edge's column (after epoch) in the last frame
	drawn []seriesMark
}

// frameKey is what a frame's pixels depend on besides the samples and the
// time. While it stays the same, the next frame can scroll this one.
type frameKey struct {
	w, h          int
	plotW         float32
	ax            yAxis
	window        int64
	xStep         time.Duration
	nx            int
	gen, styleGen int
	th            themeValues
}

// seriesMark is what a frame drew of one series.
type seriesMark struct {
	appends, edits uint64
	newest         int64 // unix ns of the newest sample drawn
	has            bool  // the series had samples
}

// draw is the raster generator. It allocates nothing once the size is
// stable.
func (r *chartRenderer) draw(w, h int) image.Image {
	if r.buf == nil || r.buf.Rect.Dx() != w || r.buf.Rect.Dy() != h {
		rect := image.Rect(0, 0, w, h)
		r.buf, r.lines, r.grid = image.NewRGBA(rect), image.NewRGBA(rect), image.NewRGBA(rect)
		r.pl.setImage(r.lines)
		r.gpl.setImage(r.grid)
		r.keyOK = false
	}
	if w < 2 || h < 2 || !r.any || r.ax.hi <= r.ax.lo {
		clear(r.buf.Pix)
		r.keyOK = false
		return r.buf
	}
	key := frameKey{
		w: w, h: h, plotW: r.plotSize.Width, ax: r.ax, window: r.window,
		xStep: r.xStep, nx: r.nx, gen: r.gen, styleGen: r.styleGen, th: r.th,
	}
	// Device pixels per logical unit: lines are this many pixels thick.
	scale := 1.0
	if r.plotSize.Width > 0 {
		scale = float64(w) / float64(r.plotSize.Width)
	}
	px := max(1, int(math.Round(scale)))
	normal := max(1, int(math.Round(1.5*scale)))
	bold := normal + px
	// How far a segment's pixels reach left of its start: half a thick
	// line across a steep segment, plus the anti-aliasing.
	margin := bold + 3

	colNs := float64(r.window) / float64(w-1)
	full := !r.keyOK || key != r.key || len(r.drawn) != len(r.c.series) || r.now < r.epoch
	var right, shift int64
	if !full {
		right = int64(math.Ceil(float64(r.now-r.epoch) / colNs))
		shift = right - r.right
		full = shift < 0 || shift >= int64(w)
	}
	strip := w // the first column to redraw
	if !full {
		for i, s := range r.c.series {
			d := &r.drawn[i]
			if s.edits != d.edits || s.appends < d.appends {
				full = true
				break
			}
			if s.appends == d.appends {
				continue
			}
			if !d.has {
				full = true
				break
			}
			// The segment from the newest sample drawn to the new ones.
			x := r.colX(d.newest, right, colNs, w)
			strip = min(strip, max(0, int(math.Floor(x))-margin))
		}
	}
	if full {
		r.drawGrid(w, h, px)
		clear(r.lines.Pix)
		strip, right, r.epoch = 0, 0, r.now
	} else {
		strip = min(strip, w-int(shift))
		scrollLeft(r.lines, int(shift), strip)
	}
	r.key, r.keyOK, r.right = key, true, right

	if strip < w {
		r.pl.clipLo = strip
		// The samples from this time on have a part in the strip.
		from := r.epoch + int64(float64(int64(strip-margin)+right-int64(w-1))*colNs)
		hl := -1
		for i, s := range r.c.series {
			if r.c.hidden[s.name] {
				continue
			}
			if s.name == r.c.highlighted {
				hl = i
				continue
			}
			col := r.colors[i]
			if r.c.highlighted != "" {
				col = withAlpha(col, dimAlpha)
			}
			r.drawSeries(s, col, normal, w, h, from, right, colNs)
		}
		if hl >= 0 {
			r.drawSeries(r.c.series[hl], r.colors[hl], bold, w, h, from, right, colNs)
		}
		r.pl.clipLo = 0
	}
	if cap(r.drawn) < len(r.c.series) {
		r.drawn = make([]seriesMark, len(r.c.series))
	}
	r.drawn = r.drawn[:len(r.c.series)]
	for i, s := range r.c.series {
		m := seriesMark{appends: s.appends, edits: s.edits, has: s.n > 0}
		if s.n > 0 {
			m.newest = s.timeAt(s.n - 1)
		}
		r.drawn[i] = m
	}
	r.compose()
	return r.buf
}

// compose puts the lines over the grid into buf. Off the grid's rows and
// columns that is a copy of the lines.
func (r *chartRenderer) compose() {
	copy(r.buf.Pix, r.lines.Pix)
	w, stride := r.buf.Rect.Dx(), r.buf.Stride
	for y, on := range r.gridRow {
		if on {
			i, j := y*stride, y*stride+w*4
			over(r.buf.Pix[i:j], r.lines.Pix[i:j], r.grid.Pix[i:j])
		}
	}
	for _, x := range r.gridCols {
		for y, on := range r.gridRow {
			if !on {
				i := y*stride + x*4
				over(r.buf.Pix[i:i+4], r.lines.Pix[i:i+4], r.grid.Pix[i:i+4])
			}
		}
	}
}

// invalidate makes the next frame a full redraw.
func (r *chartRenderer) invalidate() { r.keyOK = false }

// colX is the horizontal position (device pixels) of time ns when the
// right edge is column right. float64(ns-epoch)/colNs is the same number in
// every frame, and subtracting a whole number of columns from it is exact,
// so a sample lands on the same pixel fraction frame after frame.
func (r *chartRenderer) colX(ns, right int64, colNs float64, w int) float64 {
	return float64(ns-r.epoch)/colNs - float64(right-int64(w-1))
}

// drawGrid draws the value grid lines and the time grid lines.
func (r *chartRenderer) drawGrid(w, h, px int) {
	clear(r.grid.Pix)
	if len(r.gridRow) != h {
		r.gridRow = make([]bool, h)
	} else {
		clear(r.gridRow)
	}
	r.gridCols = r.gridCols[:0]
	grid := r.th.grid
	for i := 0; i < r.ax.n; i++ {
		v := r.ax.lo + float64(i)*r.ax.step
		y := int(math.Round((r.ax.hi - v) / (r.ax.hi - r.ax.lo) * float64(h-1)))
		for k := 0; k < px; k++ {
			row := max(0, min(y-px/2+k, h-1))
			r.gpl.hline(row, 0, w-1, grid)
			r.gridRow[row] = true
		}
	}
	vgrid := withAlpha(grid, 0.5)
	for k := 1; k < r.nx; k++ {
		x := int(math.Round(float64(w-1) * (1 - float64(time.Duration(k)*r.xStep)/float64(r.window))))
		if x >= 0 && x < w {
			r.gpl.vline(x, 0, h-1, vgrid)
			r.gridCols = append(r.gridCols, x)
		}
	}
}

// scrollLeft moves img's pixels left by shift columns and clears the
// columns from clearFrom on.
func scrollLeft(img *image.RGBA, shift, clearFrom int) {
	w := img.Rect.Dx()
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		if shift > 0 {
			copy(row, row[shift*4:])
		}
		clear(row[clearFrom*4:])
	}
}

// over composites top over bottom into dst (premultiplied RGBA).
func over(dst, top, bottom []uint8) {
	for i := 0; i+3 < len(dst); i += 4 {
		t := top[i : i+4 : i+4]
		switch a := uint32(t[3]); a {
		case 0:
			copy(dst[i:i+4], bottom[i:i+4])
		case 255:
			copy(dst[i:i+4], t)
		default:
			b := bottom[i : i+4 : i+4]
			inv := 255 - a
			d := dst[i : i+4 : i+4]
			d[0] = uint8(uint32(t[0]) + (uint32(b[0])*inv+127)/255)
			d[1] = uint8(uint32(t[1]) + (uint32(b[1])*inv+127)/255)
			d[2] = uint8(uint32(t[2]) + (uint32(b[2])*inv+127)/255)
			d[3] = uint8(a + (uint32(b[3])*inv+127)/255)
		}
	}
}

// drawSeries draws the part of s from time from on as a polyline broken
// at NaN values. A sample with no neighbour to join is drawn as a dot so
// it is not invisible.
func (r *chartRenderer) drawSeries(s *Series, col color.NRGBA, width, w, h int, from, right int64, colNs float64) {
	ys := float64(h-1) / (r.ax.hi - r.ax.lo)
	j := s.search(from)
	var px, py float64
	run := 0
	// Start from the sample before, which the first segment comes from;
	// whether it is alone depends on the one before it.
	if j > 0 {
		if v := s.valueAt(j - 1); finite(v) {
			px, py = r.colX(s.timeAt(j-1), right, colNs, w), (r.ax.hi-v)*ys
			run = 1
			if j > 1 && finite(s.valueAt(j-2)) {
				run = 2
			}
		}
	}
	for ; j < s.n; j++ {
		v := s.valueAt(j)
		if !finite(v) {
			if run == 1 {
				r.dot(px, py, width)
			}
			run = 0
			continue
		}
		x := r.colX(s.timeAt(j), right, colNs, w)
		y := (r.ax.hi - v) * ys
		if run > 0 {
			r.pl.thickLine(px, py, x, y, width)
		}
		px, py = x, y
		run++
	}
	if run == 1 {
		r.dot(px, py, width)
	}
	r.pl.fill(col)
}

// dot marks a lone sample: a square as wide as the line.
func (r *chartRenderer) dot(x, y float64, width int) {
	half := float64(width) / 2
	r.pl.thickLine(x-half, y, x+half, y, width)
}
