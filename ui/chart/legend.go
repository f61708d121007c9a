package chart

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

var _ fyne.Widget = (*legendEntry)(nil)

// legendEntry is one series in the legend: a colour swatch and the name.
// The chart's renderer styles and places it, and draws it into its overlay
// (it is not in the object tree); the chart finds the entry under a tap
// (Chart.Tapped, Chart.TappedSecondary).
type legendEntry struct {
	widget.BaseWidget
	name string

	swatch canvas.Rectangle
	label  canvas.Text
	gap    float32 // between swatch and label
}

func newLegendEntry(name string) *legendEntry {
	e := &legendEntry{name: name}
	e.label.Text = name
	e.ExtendBaseWidget(e)
	return e
}

var _ fyne.Widget = (*legendEntry)(nil)

func (e *legendEntry) CreateRenderer() fyne.WidgetRenderer {
	e.ExtendBaseWidget(e)
	return &legendEntryRenderer{e: e, objects: []fyne.CanvasObject{&e.swatch, &e.label}}
}

// minSize is the size the entry needs, computed without the renderer so the
// chart can flow the legend before entries are drawn.
func (e *legendEntry) minSize() fyne.Size {
	t := fyne.MeasureText(e.label.Text, e.label.TextSize, e.label.TextStyle)
	s := e.swatch.Size()
	return fyne.NewSize(s.Width+e.gap+t.Width, fyne.Max(s.Height, t.Height))
}

type legendEntryRenderer struct {
	e       *legendEntry
	objects []fyne.CanvasObject
}

func (r *legendEntryRenderer) Layout(size fyne.Size) {
	s := r.e.swatch.Size()
	r.e.swatch.Move(fyne.NewPos(0, (size.Height-s.Height)/2))
	r.e.label.Move(fyne.NewPos(s.Width+r.e.gap, 0))
	r.e.label.Resize(fyne.NewSize(size.Width-s.Width-r.e.gap, size.Height))
}

func (r *legendEntryRenderer) MinSize() fyne.Size { return r.e.minSize() }

func (r *legendEntryRenderer) Refresh() {
	r.Layout(r.e.Size())
	r.e.swatch.Refresh()
	r.e.label.Refresh()
}

func (r *legendEntryRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *legendEntryRenderer) Destroy() {}
