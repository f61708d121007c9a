package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"github.com/go-text/render"
	"github.com/go-text/typesetting/font"
)

// The axis labels and the legend are drawn into one raster, the overlay,
// instead of being a canvas object each: a chart of 16 workers would
// otherwise add some eighty text and swatch objects to the window, and the
// window's every frame walks, measures and draws every object it holds,
// which costs more in a software-rendered GL than the charts' pixels do.
// The overlay's pixels change only when a label or the legend does (a new
// scale, a new series, a highlight), not with each sample, so its texture
// is drawn anew only then.
//
// The renderer keeps laying out its canvas.Text labels and legend entries
// as before; they are just not in the object tree. overlayItems turns them
// into a list of things to draw; when the list differs from the one drawn,
// the overlay is refreshed.

// overlayItem is one thing the overlay draws, in the chart's coordinates.
type overlayItem struct {
	text  string // "" for a swatch
	pos   fyne.Position
	size  fyne.Size
	align fyne.TextAlign
	color color.NRGBA // text colour, or swatch fill
	tsize float32
	bold  bool

	stroke      color.NRGBA // swatch outline
	strokeWidth float32
	radius      float32
}

// overlay is the renderer's overlay state. It is two rasters, which leave
// the plot out: the Y axis' gutter on the left, and the strip under the
// plot (time axis and legend). Each draws every item, clipped to its area.
// A window paints every raster in every frame, blending it over what lies
// beneath: the plot's area is best not covered twice.
type overlay struct {
	parts [2]overlayPart
	items []overlayItem // what the rasters show (or will at their next draw)
	next  []overlayItem // being built
	size  fyne.Size     // the chart's size the items were placed in
	texts textCache
	drawn int // times the rasters were refreshed, for tests
}

// overlayPart is one raster of the overlay and the area it covers.
type overlayPart struct {
	raster *canvas.Raster
	pos    fyne.Position
	size   fyne.Size
	buf    *image.RGBA
}

func (o *overlay) init(r *chartRenderer) {
	for i := range o.parts {
		p := &o.parts[i]
		p.raster = canvas.NewRaster(func(w, h int) image.Image { return r.drawOverlay(p, w, h) })
		p.raster.ScaleMode = canvas.ImageScalePixels
	}
}

// place sets the areas: the gutter left of and beside the plot, and
// everything below the plot.
func (o *overlay) place(size fyne.Size, plotPos fyne.Position, plotSize fyne.Size) {
	bottom := plotPos.Y + plotSize.Height
	o.parts[0].pos, o.parts[0].size = fyne.Position{}, fyne.NewSize(plotPos.X, bottom)
	o.parts[1].pos, o.parts[1].size = fyne.NewPos(0, bottom), fyne.NewSize(size.Width, fyne.Max(0, size.Height-bottom))
	for i := range o.parts {
		p := &o.parts[i]
		p.raster.Move(p.pos)
		p.raster.Resize(p.size)
	}
}

// updateOverlay collects the labels and legend as they are now and
// refreshes the overlay raster if anything differs from what it shows.
func (r *chartRenderer) updateOverlay() {
	o := &r.ov
	items := o.next[:0]
	addText := func(t *canvas.Text) {
		if !t.Visible() || t.Text == "" {
			return
		}
		items = append(items, overlayItem{text: t.Text, pos: t.Position(), size: t.Size(), align: t.Alignment,
			color: nrgba(t.Color), tsize: t.TextSize, bold: t.TextStyle.Bold})
	}
	for i := range r.yLabels {
		addText(&r.yLabels[i])
	}
	for i := range r.xLabels {
		addText(&r.xLabels[i])
	}
	for _, e := range r.entries {
		p := e.Position()
		sw := &e.swatch
		items = append(items, overlayItem{pos: p.Add(sw.Position()), size: sw.Size(), color: nrgba(sw.FillColor),
			stroke: nrgba(sw.StrokeColor), strokeWidth: sw.StrokeWidth, radius: sw.CornerRadius})
		if l := &e.label; l.Visible() && l.Text != "" {
			items = append(items, overlayItem{text: l.Text, pos: p.Add(l.Position()), size: l.Size(), align: l.Alignment,
				color: nrgba(l.Color), tsize: l.TextSize, bold: l.TextStyle.Bold})
		}
	}
	o.next = items
	if r.laidOut == o.size && equalItems(items, o.items) {
		return
	}
	o.items, o.next = o.next, o.items
	o.size = r.laidOut
	o.drawn++
	for i := range o.parts {
		o.parts[i].raster.Refresh()
	}
}

func equalItems(a, b []overlayItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// drawOverlay is the generator of an overlay raster, part.
func (r *chartRenderer) drawOverlay(part *overlayPart, w, h int) image.Image {
	o := &r.ov
	if part.buf == nil || part.buf.Rect.Dx() != w || part.buf.Rect.Dy() != h {
		part.buf = image.NewRGBA(image.Rect(0, 0, w, h))
	} else {
		clear(part.buf.Pix)
	}
	if part.size.Width <= 0 || w <= 0 {
		return part.buf
	}
	scale := float32(w) / part.size.Width
	th := r.c.Theme()
	for i := range o.items {
		it := o.items[i]
		it.pos = it.pos.Subtract(part.pos)
		if it.pos.X >= part.size.Width || it.pos.Y >= part.size.Height ||
			it.pos.X+it.size.Width <= 0 || it.pos.Y+it.size.Height <= 0 {
			continue // wholly outside this part
		}
		if it.text == "" {
			drawSwatch(part.buf, &it, scale)
			continue
		}
		img := o.texts.get(th, &it, scale)
		if img == nil {
			continue
		}
		// As Fyne places a text in its box: aligned across, centred down.
		tw := float32(img.Rect.Dx()) / scale
		th := float32(img.Rect.Dy()) / scale
		x := it.pos.X
		switch it.align {
		case fyne.TextAlignTrailing:
			x += it.size.Width - tw
		case fyne.TextAlignCenter:
			x += (it.size.Width - tw) / 2
		}
		y := it.pos.Y
		if it.size.Height > th {
			y += (it.size.Height - th) / 2
		}
		at := image.Pt(int(math.Round(float64(x*scale))), int(math.Round(float64(y*scale))))
		draw.Draw(part.buf, img.Rect.Add(at), img, image.Point{}, draw.Over)
	}
	return part.buf
}

// drawSwatch fills a legend swatch, or outlines it (a hidden series), with
// its corners rounded.
func drawSwatch(dst *image.RGBA, it *overlayItem, scale float32) {
	x0, y0 := float64(it.pos.X*scale), float64(it.pos.Y*scale)
	x1, y1 := x0+float64(it.size.Width*scale), y0+float64(it.size.Height*scale)
	rad := math.Min(float64(it.radius*scale), math.Min(x1-x0, y1-y0)/2)
	sw := float64(it.strokeWidth * scale)
	b := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(dst.Rect)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			// Signed distance from the pixel's centre to the rounded
			// rectangle's edge (negative inside).
			cx, cy := float64(px)+0.5, float64(py)+0.5
			dx := math.Max(math.Max(x0+rad-cx, cx-(x1-rad)), 0)
			dy := math.Max(math.Max(y0+rad-cy, cy-(y1-rad)), 0)
			var d float64
			if dx > 0 && dy > 0 {
				d = math.Hypot(dx, dy) - rad
			} else {
				d = -math.Min(math.Min(cx-x0, x1-cx), math.Min(cy-y0, y1-cy))
			}
			cover := clamp01(0.5 - d)
			if cover <= 0 {
				continue
			}
			// The stroke lies inside the edge, sw wide; the fill within.
			fill := cover
			if sw > 0 {
				fill = clamp01(0.5 - (d + sw))
				blend(dst, px, py, it.stroke, cover-fill)
			}
			blend(dst, px, py, it.color, fill)
		}
	}
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// blend draws c at (x, y) over dst with the given coverage.
func blend(dst *image.RGBA, x, y int, c color.NRGBA, cover float64) {
	a := float64(c.A) / 255 * cover
	if a <= 0 {
		return
	}
	i := dst.PixOffset(x, y)
	p := dst.Pix[i : i+4 : i+4]
	k := 1 - a
	p[0] = uint8(float64(c.R)*a + float64(p[0])*k + 0.5)
	p[1] = uint8(float64(c.G)*a + float64(p[1])*k + 0.5)
	p[2] = uint8(float64(c.B)*a + float64(p[2])*k + 0.5)
	p[3] = uint8(255*a + float64(p[3])*k + 0.5)
}

// textKey identifies a rendered label.
type textKey struct {
	text  string
	size  float32
	bold  bool
	color color.NRGBA
	scale float32
	font  string // the font resource's name
}

// textCache keeps the labels rendered, so that a redraw of the overlay
// (a new scale) renders only the labels it has not shown before.
type textCache struct {
	imgs map[textKey]*image.RGBA
}

// maxCachedTexts bounds the cache: the labels of a few scales.
const maxCachedTexts = 256

func (c *textCache) get(th fyne.Theme, it *overlayItem, scale float32) *image.RGBA {
	res := th.Font(fyne.TextStyle{Bold: it.bold})
	if res == nil {
		return nil
	}
	k := textKey{text: it.text, size: it.tsize, bold: it.bold, color: it.color, scale: scale, font: res.Name()}
	if img, ok := c.imgs[k]; ok {
		return img
	}
	face := parsedFace(res)
	if face == nil {
		return nil
	}
	ts := fyne.MeasureText(it.text, it.tsize, fyne.TextStyle{Bold: it.bold})
	w := int(math.Ceil(float64(ts.Width*scale))) + 2 // room for anti-aliasing past the advance
	h := int(math.Ceil(float64(ts.Height * scale)))
	if w <= 0 || h <= 0 {
		return nil
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// The baseline one ascent down, in device pixels (Renderer.DrawString
	// would leave the ascent unscaled).
	asc := float64(it.tsize)
	if ext, ok := face.FontHExtents(); ok && face.Upem() > 0 {
		asc = float64(ext.Ascender) * float64(it.tsize) / float64(face.Upem())
	}
	rd := render.Renderer{FontSize: it.tsize, PixScale: scale, Color: it.color}
	rd.DrawStringAt(it.text, img, 0, int(math.Ceil(asc*float64(scale))), face)
	if c.imgs == nil || len(c.imgs) >= maxCachedTexts {
		c.imgs = make(map[textKey]*image.RGBA)
	}
	c.imgs[k] = img
	return img
}

// faces holds the parsed theme fonts, shared by every chart.
var faces struct {
	mu sync.Mutex
	m  map[string]*font.Face // by resource name: resources need not be comparable
}

func parsedFace(res fyne.Resource) *font.Face {
	if res == nil {
		return nil
	}
	faces.mu.Lock()
	defer faces.mu.Unlock()
	if f, ok := faces.m[res.Name()]; ok {
		return f
	}
	f, err := font.ParseTTF(bytes.NewReader(res.Content()))
	if err != nil {
		fyne.LogError("chart: parsing the theme font "+res.Name(), err)
		f = nil
	}
	if faces.m == nil {
		faces.m = make(map[string]*font.Face)
	}
	faces.m[res.Name()] = f
	return f
}
