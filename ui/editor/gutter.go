package editor

import (
	"sort"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// gutter shows line numbers beside the text, and marks problem lines with a
// dot and the problem's colour. It draws only the rows in view: a file of
// thousands of lines costs as many text objects as fit on the screen.
type gutter struct {
	widget.BaseWidget

	lines int
	marks map[int]Severity // by 1-based line
	viewY float32          // scroll offset of the view
	viewH float32          // height of the view; 0 before the first layout
}

func newGutter() *gutter {
	g := &gutter{lines: 1}
	g.ExtendBaseWidget(g)
	return g
}

func (g *gutter) setLines(n int) {
	if n == g.lines {
		return
	}
	g.lines = n
	g.Refresh()
}

func (g *gutter) setMarks(m map[int]Severity) {
	g.marks = m
	g.Refresh()
}

func (g *gutter) setView(y, h float32) {
	if y == g.viewY && h == g.viewH {
		return
	}
	g.viewY, g.viewH = y, h
	g.Refresh()
}

// visible returns the 0-based rows to draw, [first, last).
func (g *gutter) visible(m metrics) (first, last int) {
	if g.viewH <= 0 {
		return 0, min(g.lines, 200)
	}
	first = int((g.viewY - m.pad) / m.pitch)
	last = int((g.viewY+g.viewH-m.pad)/m.pitch) + 2
	return max(first, 0), min(last, g.lines)
}

func (g *gutter) CreateRenderer() fyne.WidgetRenderer {
	r := &gutterRenderer{g: g, bg: canvas.NewRectangle(nil), rule: canvas.NewRectangle(nil)}
	r.Refresh()
	return r
}

func (g *gutter) MinSize() fyne.Size {
	m := rowMetrics(g)
	digits := max(len(strconv.Itoa(g.lines)), 3)
	return fyne.NewSize(float32(digits)*m.charW+3*m.pad, m.rowTop(g.lines)+m.pad)
}

type gutterRenderer struct {
	g     *gutter
	bg    *canvas.Rectangle
	rule  *canvas.Rectangle
	texts []*canvas.Text
	dots  []*canvas.Circle
	objs  []fyne.CanvasObject
	size  fyne.Size
}

func (r *gutterRenderer) Layout(size fyne.Size) {
	r.size = size
	r.bg.Resize(size)
	r.rule.Move(fyne.NewPos(size.Width-1, 0))
	r.rule.Resize(fyne.NewSize(1, size.Height))
	r.place()
}

func (r *gutterRenderer) MinSize() fyne.Size { return r.g.MinSize() }

func (r *gutterRenderer) Refresh() {
	th := theme.CurrentForWidget(r.g)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(theme.ColorNameHeaderBackground, v)
	r.rule.FillColor = th.Color(theme.ColorNameSeparator, v)
	r.place()
	r.bg.Refresh()
	r.rule.Refresh()
}

// place positions one text (and, on marked lines, one dot) per visible row.
func (r *gutterRenderer) place() {
	g := r.g
	m := rowMetrics(g)
	th := theme.CurrentForWidget(g)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	plain := th.Color(theme.ColorNamePlaceHolder, v)
	first, last := g.visible(m)
	n := last - first
	for len(r.texts) < n {
		t := canvas.NewText("", plain)
		t.TextStyle = fyne.TextStyle{Monospace: true}
		t.Alignment = fyne.TextAlignTrailing
		r.texts = append(r.texts, t)
	}
	dotSize := m.rowH * 0.45
	ndots := 0
	width := r.size.Width
	if width == 0 {
		width = g.MinSize().Width
	}
	for i, t := range r.texts {
		if i >= n {
			t.Hidden = true
			continue
		}
		row := first + i
		t.Hidden = false
		t.Text = strconv.Itoa(row + 1)
		t.TextSize = m.size
		t.Color = plain
		t.TextStyle.Bold = false
		if s, ok := g.marks[row+1]; ok {
			c := severityColor(g, s)
			t.Color = c
			// (no bold: not every theme has a bold monospace face)
		}
		// A note colours the number; a problem also gets a dot.
		if s, ok := g.marks[row+1]; ok && s != Info {
			c := severityColor(g, s)
			if ndots == len(r.dots) {
				r.dots = append(r.dots, canvas.NewCircle(nil))
			}
			d := r.dots[ndots]
			ndots++
			d.FillColor = c
			d.Hidden = false
			d.Resize(fyne.NewSize(dotSize, dotSize))
			d.Move(fyne.NewPos(m.pad/2, m.rowTop(row)+(m.rowH-dotSize)/2))
			d.Refresh()
		}
		t.Resize(fyne.NewSize(width-m.pad*1.5, m.rowH))
		t.Move(fyne.NewPos(0, m.rowTop(row)))
		t.Refresh()
	}
	for _, d := range r.dots[ndots:] {
		d.Hidden = true
	}
	r.objs = r.objs[:0]
	r.objs = append(r.objs, r.bg, r.rule)
	for _, d := range r.dots {
		r.objs = append(r.objs, d)
	}
	for _, t := range r.texts {
		r.objs = append(r.objs, t)
	}
}

func (r *gutterRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *gutterRenderer) Destroy()                     {}

// marks draws a translucent bar across each problem line, over the text.
// Rectangles are not tappable, so clicks still reach the Entry below.
type marks struct {
	widget.BaseWidget
	lines map[int]Severity
	found int // 1-based line of the current find match, 0 for none
}

func newMarks() *marks {
	m := &marks{}
	m.ExtendBaseWidget(m)
	return m
}

func (m *marks) setMarks(l map[int]Severity) {
	m.lines = l
	m.Refresh()
}

func (m *marks) setFound(line int) {
	if m.found == line {
		return
	}
	m.found = line
	m.Refresh()
}

func (m *marks) CreateRenderer() fyne.WidgetRenderer {
	r := &marksRenderer{m: m}
	r.Refresh()
	return r
}

type marksRenderer struct {
	m    *marks
	bars []*canvas.Rectangle
	objs []fyne.CanvasObject
	size fyne.Size
}

func (r *marksRenderer) Layout(size fyne.Size) {
	r.size = size
	r.place()
}

func (r *marksRenderer) MinSize() fyne.Size { return fyne.NewSize(0, 0) }

func (r *marksRenderer) Refresh() {
	r.place()
	canvas.Refresh(r.m)
}

func (r *marksRenderer) place() {
	met := rowMetrics(r.m)
	i := 0
	// In line order: bars of adjacent lines touch, and drawing them in a
	// fixed order keeps the edge pixels the same from frame to frame.
	lines := make([]int, 0, len(r.m.lines))
	for line := range r.m.lines {
		lines = append(lines, line)
	}
	sort.Ints(lines)
	for _, line := range lines {
		s := r.m.lines[line]
		if s == Info {
			continue // notes get no bar: nothing to fix
		}
		if i == len(r.bars) {
			r.bars = append(r.bars, canvas.NewRectangle(nil))
		}
		b := r.bars[i]
		i++
		b.Hidden = false
		b.FillColor = withAlpha(severityColor(r.m, s), 48)
		b.Move(fyne.NewPos(2, met.rowTop(line-1)-(met.pitch-met.rowH)/2))
		b.Resize(fyne.NewSize(r.size.Width-4, met.pitch))
		b.Refresh()
	}
	if line := r.m.found; line > 0 {
		if i == len(r.bars) {
			r.bars = append(r.bars, canvas.NewRectangle(nil))
		}
		b := r.bars[i]
		i++
		th := theme.CurrentForWidget(r.m)
		b.Hidden = false
		b.FillColor = withAlpha(th.Color(theme.ColorNamePrimary, fyne.CurrentApp().Settings().ThemeVariant()), 40)
		b.Move(fyne.NewPos(2, met.rowTop(line-1)-(met.pitch-met.rowH)/2))
		b.Resize(fyne.NewSize(r.size.Width-4, met.pitch))
		b.Refresh()
	}
	for _, b := range r.bars[i:] {
		b.Hidden = true
	}
	r.objs = r.objs[:0]
	for _, b := range r.bars {
		r.objs = append(r.objs, b)
	}
}

func (r *marksRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *marksRenderer) Destroy()                     {}
