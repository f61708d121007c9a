package deck

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// logRow is one line of the Logs tab: time, source and text in monospace,
// as compact as a terminal. It draws canvas.Text directly (no Label
// padding), so a screen shows twice the lines a list of Labels would.
type logRow struct {
	widget.BaseWidget
	when, src, text string
	level           Level
}

func newLogRow() *logRow {
	r := &logRow{}
	r.ExtendBaseWidget(r)
	return r
}

func (r *logRow) set(when, src, text string, level Level) {
	if r.when == when && r.src == src && r.text == text && r.level == level {
		return
	}
	r.when, r.src, r.text, r.level = when, src, text, level
	r.Refresh()
}

func (r *logRow) CreateRenderer() fyne.WidgetRenderer {
	mono := fyne.TextStyle{Monospace: true}
	rr := &logRowRenderer{r: r, when: canvas.NewText("", nil), src: canvas.NewText("", nil), text: canvas.NewText("", nil)}
	for _, t := range []*canvas.Text{rr.when, rr.src, rr.text} {
		t.TextStyle = mono
	}
	rr.Refresh()
	return rr
}

type logRowRenderer struct {
	r               *logRow
	when, src, text *canvas.Text
}

func (rr *logRowRenderer) metrics() (pad, charW, h float32) {
	th := theme.CurrentForWidget(rr.r)
	size := th.Size(theme.SizeNameText)
	m := fyne.MeasureText("0", size, fyne.TextStyle{Monospace: true})
	return th.Size(theme.SizeNamePadding), m.Width, m.Height
}

func (rr *logRowRenderer) Layout(size fyne.Size) {
	pad, cw, h := rr.metrics()
	y := (size.Height - h) / 2
	x := pad * 2
	rr.when.Move(fyne.NewPos(x, y))
	x += 9 * cw
	rr.src.Move(fyne.NewPos(x, y))
	x += 10 * cw
	rr.text.Move(fyne.NewPos(x, y))
}

func (rr *logRowRenderer) MinSize() fyne.Size {
	pad, cw, h := rr.metrics()
	return fyne.NewSize(pad*2+30*cw, h+pad)
}

func (rr *logRowRenderer) Refresh() {
	th := theme.CurrentForWidget(rr.r)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	size := th.Size(theme.SizeNameText)
	rr.when.Text, rr.src.Text, rr.text.Text = rr.r.when, rr.r.src, rr.r.text
	rr.when.Color = th.Color(theme.ColorNamePlaceHolder, v)
	rr.src.Color = th.Color(theme.ColorNamePlaceHolder, v)
	switch rr.r.level {
	case LevelError:
		rr.text.Color = th.Color(theme.ColorNameError, v)
	case LevelWarn:
		rr.text.Color = th.Color(theme.ColorNameWarning, v)
	default:
		rr.text.Color = th.Color(theme.ColorNameForeground, v)
	}
	for _, t := range []*canvas.Text{rr.when, rr.src, rr.text} {
		t.TextSize = size
		t.Refresh()
	}
}

func (rr *logRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{rr.when, rr.src, rr.text}
}

func (rr *logRowRenderer) Destroy() {}
