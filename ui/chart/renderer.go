package chart

import (
	"image/color"
	"math"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// Interface guard.
var _ fyne.WidgetRenderer = (*chartRenderer)(nil)

const (
	maxYTicks = 12 // Y-axis labels allocated once
	maxXTicks = 16 // time-axis labels allocated once

	// dimAlpha is the opacity of the other series while one is highlighted.
	dimAlpha = 0.45
)

// themeValues is everything the chart takes from the theme; comparing it
// tells whether the theme changed.
type themeValues struct {
	fg, muted, disabled, grid, bg, primary, overlay color.NRGBA

	pad, caption, text, sep, radius float32
	capH, textH                     float32 // line heights of caption and body text
}

// tipRow is one series in the hover read-out.
type tipRow struct {
	swatch      canvas.Rectangle
	name, value canvas.Text
}

// chartRenderer draws a Chart. The plot (grid and lines) is one raster (see
// draw.go), drawn into buffers reused while the size stays the same. The
// labels and legend entries are allocated when the set of series changes and
// only moved or relabelled afterwards; they are drawn by the overlay rasters
// (overlay.go), not added to the object tree. The hover read-out is canvas
// objects.
type chartRenderer struct {
	c *Chart

	plot *canvas.Raster
	layers
	ov overlay // the axis labels and the legend (overlay.go)

	empty   canvas.Text
	yLabels [maxYTicks]canvas.Text
	xLabels [maxXTicks]canvas.Text
	cross   canvas.Line
	tipBg   canvas.Rectangle
	tipTime canvas.Text

	entries []*legendEntry   // per series
	markers []*canvas.Circle // per series
	rows    []*tipRow        // per series
	objects []fyne.CanvasObject

	th      themeValues
	palette [paletteSize]color.NRGBA
	colors  []color.NRGBA // per series

	gen, styleGen int // the chart generations this renderer reflects

	// The frame, fixed at Refresh so the raster and the labels agree.
	now, start, window int64 // unix ns
	lo, hi             float64
	any                bool // some visible sample lies in the window
	yShown             bool // the Y labels are showing (any, at the last relabel)
	ax                 yAxis
	xStep              time.Duration
	nx                 int
	gutter             float32 // width left of the plot for Y labels
	plotPos            fyne.Position
	plotSize           fyne.Size
	laidOut            fyne.Size
	hoverShown         bool
}

func newChartRenderer(c *Chart) *chartRenderer {
	r := &chartRenderer{c: c, gen: -1, styleGen: -1}
	r.plot = canvas.NewRaster(r.draw)
	// The raster is generated at the device size of its quad, one texel
	// per pixel: nearest sampling gives the same picture as smooth, and is
	// the cheaper texture lookup for a software GL painting every frame.
	r.plot.ScaleMode = canvas.ImageScalePixels
	r.ov.init(r)
	r.empty.Alignment = fyne.TextAlignCenter
	for i := range r.yLabels {
		r.yLabels[i].Alignment = fyne.TextAlignTrailing
		r.yLabels[i].Hidden = true
	}
	for i := range r.xLabels {
		r.xLabels[i].Hidden = true
	}
	r.cross.Hidden = true
	r.tipBg.Hidden = true
	r.tipTime.Hidden = true
	r.tipTime.TextStyle.Bold = true
	r.Refresh()
	return r
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) Destroy() {
	if r.c.r == r {
		r.c.r = nil
	}
}

// MinSize leaves room for a few Y ticks, a time axis and one legend row.
func (r *chartRenderer) MinSize() fyne.Size {
	t := &r.th
	w := 16 * t.capH
	h := 6*t.capH + t.capH/2 + t.capH + t.pad/2 + t.capH + t.pad
	return fyne.NewSize(w, h)
}

// Refresh applies theme and style changes, takes a new frame of data and
// repaints the plot. Layout runs only when something other than the samples
// changed: the theme, the series, the window, the size or the tick labels'
// width.
func (r *chartRenderer) Refresh() {
	relayout := r.applyTheme()
	if r.gen != r.c.gen {
		r.rebuild()
		relayout = true
	}
	if relayout || r.styleGen != r.c.styleGen {
		r.restyle()
		relayout = true // bold legend entries are wider; a new unit relabels
	}
	if r.scan() {
		relayout = true
	}
	if relayout || r.laidOut != r.c.Size() {
		r.Layout(r.c.Size())
	} else {
		r.updateYAxis(false)
		r.updateHover()
		r.updateOverlay()
	}
	r.plot.Refresh()
}

// applyTheme reads colours and sizes from the theme and reports a change.
func (r *chartRenderer) applyTheme() bool {
	th := r.c.Theme()
	var v fyne.ThemeVariant
	if app := fyne.CurrentApp(); app != nil {
		v = app.Settings().ThemeVariant()
	}
	col := func(n fyne.ThemeColorName) color.NRGBA { return nrgba(th.Color(n, v)) }
	t := themeValues{
		fg:       col(theme.ColorNameForeground),
		muted:    col(theme.ColorNamePlaceHolder),
		disabled: col(theme.ColorNameDisabled),
		grid:     col(theme.ColorNameSeparator),
		bg:       col(theme.ColorNameBackground),
		primary:  col(theme.ColorNamePrimary),
		overlay:  col(theme.ColorNameOverlayBackground),
		pad:      th.Size(theme.SizeNamePadding),
		caption:  th.Size(theme.SizeNameCaptionText),
		text:     th.Size(theme.SizeNameText),
		sep:      th.Size(theme.SizeNameSeparatorThickness),
		radius:   th.Size(theme.SizeNameInputRadius),
	}
	t.capH = fyne.MeasureText("0", t.caption, fyne.TextStyle{}).Height
	t.textH = fyne.MeasureText("0", t.text, fyne.TextStyle{}).Height
	if t == r.th {
		return false
	}
	r.th = t
	r.palette = palette(t.bg, t.primary)

	for i := range r.yLabels {
		r.yLabels[i].Color, r.yLabels[i].TextSize = t.muted, t.caption
		r.yLabels[i].Refresh()
	}
	for i := range r.xLabels {
		r.xLabels[i].Color, r.xLabels[i].TextSize = t.muted, t.caption
		r.xLabels[i].Refresh()
	}
	r.empty.Color, r.empty.TextSize = t.muted, t.text
	r.empty.Refresh()
	r.tipTime.Color, r.tipTime.TextSize = t.fg, t.caption
	r.tipTime.Refresh()
	r.cross.StrokeColor, r.cross.StrokeWidth = t.disabled, t.sep
	r.cross.Refresh()
	r.tipBg.FillColor, r.tipBg.StrokeColor = t.overlay, t.grid
	r.tipBg.StrokeWidth, r.tipBg.CornerRadius = t.sep, t.radius
	r.tipBg.Refresh()
	return true
}

// rebuild allocates the per-series objects after series were added or
// removed.
func (r *chartRenderer) rebuild() {
	n := len(r.c.series)
	r.entries = make([]*legendEntry, n)
	r.markers = make([]*canvas.Circle, n)
	r.rows = make([]*tipRow, n)
	r.colors = make([]color.NRGBA, n)
	for i, s := range r.c.series {
		r.entries[i] = newLegendEntry(s.name)
		r.markers[i] = &canvas.Circle{}
		r.markers[i].Hidden = true
		row := &tipRow{}
		row.name.Text = s.name
		row.value.Alignment = fyne.TextAlignTrailing
		row.swatch.Hidden, row.name.Hidden, row.value.Hidden = true, true, true
		r.rows[i] = row
	}

	// The labels and legend entries are laid out but drawn by the overlay,
	// not added here.
	objs := make([]fyne.CanvasObject, 0, 6+4*n)
	objs = append(objs, r.plot, r.ov.parts[0].raster, r.ov.parts[1].raster, &r.empty, &r.cross)
	for _, m := range r.markers {
		objs = append(objs, m)
	}
	objs = append(objs, &r.tipBg, &r.tipTime)
	for _, row := range r.rows {
		objs = append(objs, &row.swatch, &row.name, &row.value)
	}
	r.objects = objs
	r.gen = r.c.gen
	r.hoverShown = true // force updateHover to set the new objects' state
}

// restyle applies series colours, visibility and the highlight.
func (r *chartRenderer) restyle() {
	t := &r.th
	transparent := color.NRGBA{}
	for i, s := range r.c.series {
		col := r.seriesColor(s.name)
		r.colors[i] = col
		hidden := r.c.hidden[s.name]
		bold := r.c.highlighted == s.name

		e := r.entries[i]
		e.gap = t.pad
		e.swatch.Resize(fyne.NewSize(t.caption, t.caption))
		e.swatch.CornerRadius = t.radius / 2
		e.label.TextSize, e.label.TextStyle.Bold = t.caption, bold
		if hidden {
			e.swatch.FillColor, e.swatch.StrokeColor, e.swatch.StrokeWidth = transparent, col, t.sep*1.5
			e.label.Color = t.disabled
		} else {
			e.swatch.FillColor, e.swatch.StrokeColor, e.swatch.StrokeWidth = col, transparent, 0
			e.label.Color = t.fg
		}
		e.Refresh()

		m := r.markers[i]
		m.FillColor, m.StrokeColor, m.StrokeWidth = col, t.bg, t.sep*1.5
		m.Refresh()

		row := r.rows[i]
		row.swatch.FillColor, row.swatch.CornerRadius = col, t.radius/2
		row.name.Color, row.name.TextSize, row.name.TextStyle.Bold = t.fg, t.caption, bold
		row.value.Color, row.value.TextSize, row.value.TextStyle.Bold = t.fg, t.caption, bold
		row.swatch.Refresh()
		row.name.Refresh()
		row.value.Refresh()
	}
	r.styleGen = r.c.styleGen
}

// seriesColor is the theme colour set for the series, or its palette colour.
func (r *chartRenderer) seriesColor(name string) color.NRGBA {
	if cn, ok := r.c.colorNames[name]; ok {
		var v fyne.ThemeVariant
		if app := fyne.CurrentApp(); app != nil {
			v = app.Settings().ThemeVariant()
		}
		return nrgba(r.c.Theme().Color(cn, v))
	}
	return r.palette[r.c.slots[name]%paletteSize]
}

// scan fixes the frame's time span and finds the visible value range. It
// reports whether the window length changed.
func (r *chartRenderer) scan() bool {
	window := int64(r.c.window())
	changed := window != r.window
	r.now = r.c.now().UnixNano()
	r.window, r.start = window, r.now-window

	lo, hi := math.Inf(1), math.Inf(-1)
	total, visible := 0, 0
	for _, s := range r.c.series {
		total += s.n
		if r.c.hidden[s.name] {
			continue
		}
		visible++
		for j := s.search(r.start); j < s.n; j++ {
			v := s.valueAt(j)
			if !finite(v) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	r.any = lo <= hi
	r.lo, r.hi = lo, hi

	var text string
	switch {
	case total == 0:
		text = r.c.emptyText()
	case visible == 0:
		text = "all series hidden"
	case !r.any:
		text = "no data in the last " + strings.TrimPrefix(agoLabel(time.Duration(window)), "-")
	}
	setText(&r.empty, text)
	setVisible(&r.empty, text != "")
	return changed
}

// Layout places everything: the legend rows at the bottom, the time axis
// above them, the Y labels in a gutter on the left and the plot in the rest.
func (r *chartRenderer) Layout(size fyne.Size) {
	r.laidOut = size
	t := &r.th
	legendH := r.layoutLegend(size)
	top := t.capH / 2
	r.plotPos.Y = top
	r.plotSize.Height = fyne.Max(0, size.Height-top-t.capH-t.pad/2-legendH)
	r.updateYAxis(true)
	r.plotPos.X = r.gutter
	r.plotSize.Width = fyne.Max(0, size.Width-r.gutter-t.pad)
	r.plot.Move(r.plotPos)
	r.plot.Resize(r.plotSize)
	r.placeYLabels()
	r.layoutTimeAxis(size)
	r.empty.Move(r.plotPos)
	r.empty.Resize(r.plotSize)
	r.ov.place(size, r.plotPos, r.plotSize)
	r.updateHover()
	r.updateOverlay()
}

// layoutLegend flows the entries into rows along the bottom edge and returns
// the height used.
func (r *chartRenderer) layoutLegend(size fyne.Size) float32 {
	if len(r.entries) == 0 {
		return 0
	}
	t := &r.th
	rowH, space := t.capH, 3*t.pad
	rows, x := 1, float32(0)
	for _, e := range r.entries {
		w := e.minSize().Width
		if x > 0 && x+w > size.Width {
			rows, x = rows+1, 0
		}
		x += w + space
	}
	h := t.pad + float32(rows)*rowH + float32(rows-1)*t.pad/2
	y, x := size.Height-h+t.pad, float32(0)
	for _, e := range r.entries {
		s := e.minSize()
		if x > 0 && x+s.Width > size.Width {
			x, y = 0, y+rowH+t.pad/2
		}
		e.Move(fyne.NewPos(x, y))
		e.Resize(fyne.NewSize(s.Width, rowH))
		x += s.Width + space
	}
	return h
}

// updateYAxis recomputes the ticks for the current data and plot height and
// relabels the axis. force comes from Layout; otherwise a change of gutter
// width triggers a Layout and a change of ticks a repositioning.
func (r *chartRenderer) updateYAxis(force bool) {
	t := &r.th
	target := int(r.plotSize.Height / (2.5 * t.capH))
	target = max(1, min(target, maxYTicks-2))
	lo, hi := r.lo, r.hi
	if !r.any {
		lo, hi = 0, 0
	}
	if !r.c.AutoMin || !r.any {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	hi = math.Max(hi, r.c.SoftMax)
	ax := r.c.Unit.axis(lo, hi, target)
	for ax.n > maxYTicks && target > 1 {
		target--
		ax = r.c.Unit.axis(lo, hi, target)
	}
	changed := ax != r.ax || r.yShown != r.any
	r.ax, r.yShown = ax, r.any
	if !changed && !force {
		return // the common case: a new sample within the same scale
	}

	gutter := float32(0)
	for i := range r.yLabels {
		l := &r.yLabels[i]
		if i >= ax.n {
			setVisible(l, false)
			continue
		}
		setText(l, ax.label(r.c.Unit, i))
		gutter = fyne.Max(gutter, fyne.MeasureText(l.Text, l.TextSize, l.TextStyle).Width)
		setVisible(l, r.any)
	}
	gutter += 2 * t.pad
	if force {
		r.gutter = gutter
		return
	}
	if gutter != r.gutter {
		r.Layout(r.laidOut)
		return
	}
	r.placeYLabels()
}

func (r *chartRenderer) placeYLabels() {
	t := &r.th
	for i := 0; i < r.ax.n && i < maxYTicks; i++ {
		v := r.ax.lo + float64(i)*r.ax.step
		l := &r.yLabels[i]
		l.Move(fyne.NewPos(0, r.yFor(v)-t.capH/2))
		l.Resize(fyne.NewSize(r.gutter-t.pad, t.capH))
	}
}

// layoutTimeAxis labels the time axis "-5m ... now" under the plot.
func (r *chartRenderer) layoutTimeAxis(size fyne.Size) {
	t := &r.th
	window := time.Duration(r.window)
	intervals := max(1, min(int(r.plotSize.Width/(5*t.capH)), 6))
	r.xStep = timeStep(window, intervals)
	r.nx = min(int(window/r.xStep)+1, maxXTicks)
	y := r.plotPos.Y + r.plotSize.Height + t.pad/2
	for k := range r.xLabels {
		l := &r.xLabels[k]
		if k >= r.nx {
			setVisible(l, false)
			continue
		}
		d := time.Duration(k) * r.xStep
		setText(l, agoLabel(d))
		w := fyne.MeasureText(l.Text, l.TextSize, l.TextStyle).Width
		x := r.xFor(r.now-int64(d)) - w/2
		if k == 0 {
			x = r.plotPos.X + r.plotSize.Width - w // "now" ends at the plot's edge
		}
		x = fyne.Max(0, fyne.Min(x, size.Width-w))
		l.Move(fyne.NewPos(x, y))
		l.Resize(fyne.NewSize(w, t.capH))
		setVisible(l, true)
	}
}

// xFor maps a time (unix ns) to a horizontal position in the widget.
func (r *chartRenderer) xFor(ns int64) float32 {
	f := float64(ns-r.start) / float64(r.window)
	return r.plotPos.X + float32(f)*r.plotSize.Width
}

// yFor maps a value to a vertical position in the widget.
func (r *chartRenderer) yFor(v float64) float32 {
	f := (r.ax.hi - v) / (r.ax.hi - r.ax.lo)
	return r.plotPos.Y + float32(f)*r.plotSize.Height
}

// updateHover places the crosshair, the markers and the read-out for the
// sample time nearest the mouse, or hides them.
func (r *chartRenderer) updateHover() {
	c := r.c
	p := c.hoverPos
	inPlot := c.hovering && r.any && r.plotSize.Width > 0 &&
		p.X >= r.plotPos.X && p.X <= r.plotPos.X+r.plotSize.Width &&
		p.Y >= r.plotPos.Y && p.Y <= r.plotPos.Y+r.plotSize.Height
	if !inPlot {
		r.hideHover()
		return
	}
	t := r.start + int64(float64(p.X-r.plotPos.X)/float64(r.plotSize.Width)*float64(r.window))
	snap, bestD := int64(0), int64(math.MaxInt64)
	loc := time.Local
	for _, s := range c.series {
		if c.hidden[s.name] {
			continue
		}
		j := s.nearest(t)
		if j < 0 {
			continue
		}
		ts := s.timeAt(j)
		if ts < r.start || ts > r.now {
			continue
		}
		if d := abs64(ts - t); d < bestD {
			snap, bestD, loc = ts, d, s.loc
		}
	}
	if bestD == math.MaxInt64 {
		r.hideHover()
		return
	}
	r.hoverShown = true
	th := &r.th
	cx := r.xFor(snap)
	r.cross.Position1 = fyne.NewPos(cx, r.plotPos.Y)
	r.cross.Position2 = fyne.NewPos(cx, r.plotPos.Y+r.plotSize.Height)
	r.cross.Hidden = false
	r.cross.Refresh()

	setText(&r.tipTime, time.Unix(0, snap).In(loc).Format("15:04:05")+"  "+agoLabel(time.Duration(r.now-snap)))
	nameW, valueW, nrows := float32(0), float32(0), 0
	d := th.pad * 2
	for i, s := range c.series {
		row, m := r.rows[i], r.markers[i]
		if c.hidden[s.name] {
			setVisible(&row.swatch, false)
			setVisible(&row.name, false)
			setVisible(&row.value, false)
			setVisible(m, false)
			continue
		}
		v := math.NaN()
		j := s.nearest(snap)
		if j >= 0 && abs64(s.timeAt(j)-snap) <= r.tolerance(s) {
			v = s.valueAt(j)
		}
		setText(&row.value, c.Unit.Format(v))
		if finite(v) {
			m.Move(fyne.NewPos(r.xFor(s.timeAt(j))-d/2, r.yFor(v)-d/2))
			m.Resize(fyne.NewSize(d, d))
		}
		setVisible(m, finite(v))
		nameW = fyne.Max(nameW, fyne.MeasureText(row.name.Text, row.name.TextSize, row.name.TextStyle).Width)
		valueW = fyne.Max(valueW, fyne.MeasureText(row.value.Text, row.value.TextSize, row.value.TextStyle).Width)
		nrows++
	}

	// The read-out box: time on top, then swatch, name and value per series.
	lineH := th.capH
	sw := th.caption * 0.8
	tipW := th.pad + sw + th.pad + nameW + 3*th.pad + valueW + th.pad
	tipW = fyne.Max(tipW, 2*th.pad+fyne.MeasureText(r.tipTime.Text, r.tipTime.TextSize, r.tipTime.TextStyle).Width)
	tipH := th.pad + float32(nrows+1)*lineH + th.pad
	size := r.laidOut
	x := cx + 2*th.pad
	if x+tipW > size.Width {
		x = cx - 2*th.pad - tipW
	}
	x = fyne.Max(0, x)
	y := fyne.Max(0, fyne.Min(p.Y-tipH/2, size.Height-tipH))
	r.tipBg.Move(fyne.NewPos(x, y))
	r.tipBg.Resize(fyne.NewSize(tipW, tipH))
	setVisible(&r.tipBg, true)
	r.tipTime.Move(fyne.NewPos(x+th.pad, y+th.pad))
	r.tipTime.Resize(fyne.NewSize(tipW-2*th.pad, lineH))
	setVisible(&r.tipTime, true)
	ly := y + th.pad + lineH
	for i, s := range c.series {
		if c.hidden[s.name] {
			continue
		}
		row := r.rows[i]
		row.swatch.Move(fyne.NewPos(x+th.pad, ly+(lineH-sw)/2))
		row.swatch.Resize(fyne.NewSize(sw, sw))
		row.name.Move(fyne.NewPos(x+th.pad+sw+th.pad, ly))
		row.name.Resize(fyne.NewSize(nameW, lineH))
		row.value.Move(fyne.NewPos(x+tipW-th.pad-valueW, ly))
		row.value.Resize(fyne.NewSize(valueW, lineH))
		setVisible(&row.swatch, true)
		setVisible(&row.name, true)
		setVisible(&row.value, true)
		ly += lineH
	}
}

// tolerance is how far from the hovered time a sample of s may be and still
// count as its value there: one sampling interval, and never less than what
// a pixel column spans.
func (r *chartRenderer) tolerance(s *Series) int64 {
	tol := r.window / int64(max(1, int(r.plotSize.Width)))
	if s.n >= 2 {
		interval := (s.timeAt(s.n-1) - s.timeAt(0)) / int64(s.n-1)
		tol = max(tol, interval)
	}
	return tol
}

func (r *chartRenderer) hideHover() {
	if !r.hoverShown {
		return
	}
	r.hoverShown = false
	setVisible(&r.cross, false)
	setVisible(&r.tipBg, false)
	setVisible(&r.tipTime, false)
	for i := range r.rows {
		setVisible(r.markers[i], false)
		setVisible(&r.rows[i].swatch, false)
		setVisible(&r.rows[i].name, false)
		setVisible(&r.rows[i].value, false)
	}
}

// setText changes a label and refreshes it only if the text differs, so a
// steady axis costs no text re-rendering.
func setText(t *canvas.Text, s string) {
	if t.Text != s {
		t.Text = s
		t.Refresh()
	}
}

// setVisible shows or hides o only if that changes anything.
func setVisible(o fyne.CanvasObject, visible bool) {
	if o.Visible() == visible {
		return
	}
	if visible {
		o.Show()
	} else {
		o.Hide()
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
