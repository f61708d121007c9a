package deck

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// stateColor is the theme colour of a state's dot.
func stateColor(s State) fyne.ThemeColorName {
	switch s {
	case Running:
		return theme.ColorNameSuccess
	case Starting, Stopping:
		return theme.ColorNamePrimary
	case Degraded:
		return theme.ColorNameWarning
	case Failed:
		return theme.ColorNameError
	}
	return theme.ColorNameDisabled
}

// stateImportance is the label importance that matches a state.
func stateImportance(s State) widget.Importance {
	switch s {
	case Running:
		return widget.SuccessImportance
	case Degraded:
		return widget.WarningImportance
	case Failed:
		return widget.DangerImportance
	case Starting, Stopping:
		return widget.HighImportance
	}
	return widget.LowImportance
}

// stateWord is how a state reads in a sentence.
func stateWord(s State, busy bool) string {
	if busy && (s == Stopped || s == Failed) {
		return "working…"
	}
	return s.String()
}

// dot is a small filled circle in a state's colour: the status dot of a
// project or a tier.
type dot struct {
	widget.BaseWidget
	state State
}

func newDot(s State) *dot {
	d := &dot{state: s}
	d.ExtendBaseWidget(d)
	return d
}

func (d *dot) setState(s State) {
	if d.state == s {
		return
	}
	d.state = s
	d.Refresh()
}

func (d *dot) CreateRenderer() fyne.WidgetRenderer {
	r := &dotRenderer{d: d, c: canvas.NewCircle(color.Transparent)}
	r.Refresh()
	return r
}

type dotRenderer struct {
	d *dot
	c *canvas.Circle
}

func (r *dotRenderer) Layout(size fyne.Size) {
	s := fyne.Min(size.Width, size.Height)
	s = fyne.Min(s, r.MinSize().Width)
	r.c.Resize(fyne.NewSize(s, s))
	r.c.Move(fyne.NewPos((size.Width-s)/2, (size.Height-s)/2))
}

func (r *dotRenderer) MinSize() fyne.Size {
	s := theme.CurrentForWidget(r.d).Size(theme.SizeNameInlineIcon) * 0.5
	return fyne.NewSize(s, s)
}

func (r *dotRenderer) Refresh() {
	th := theme.CurrentForWidget(r.d)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	c := th.Color(stateColor(r.d.state), v)
	if r.d.state == Starting || r.d.state == Stopping {
		// A ring while work is under way, a disc once settled.
		r.c.FillColor = color.Transparent
		r.c.StrokeColor = c
		r.c.StrokeWidth = 2
	} else {
		r.c.FillColor = c
		r.c.StrokeWidth = 0
	}
	r.c.Refresh()
}

func (r *dotRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.c} }
func (r *dotRenderer) Destroy()                     {}

// statusBar is the line at the bottom of the window: the work in progress,
// or the last outcome, in plain words.
type statusBar struct {
	probe    *paintProbe
	icon     *widget.Icon
	label    *widget.Label
	activity *widget.Activity
	root     fyne.CanvasObject
}

func newStatusBar() *statusBar {
	s := &statusBar{icon: widget.NewIcon(nil), label: widget.NewLabel("Ready"), activity: widget.NewActivity(), probe: newPaintProbe()}
	s.label.Truncation = fyne.TextTruncateEllipsis
	s.activity.Hide()
	s.icon.Hide()
	s.root = container.NewBorder(widget.NewSeparator(), nil,
		container.NewHBox(s.activity, s.icon), container.NewCenter(s.probe.raster), s.label)
	return s
}

func (s *statusBar) working(text string) {
	s.icon.Hide()
	s.activity.Show()
	s.activity.Start()
	s.label.Importance = widget.MediumImportance
	s.label.SetText(text)
}

func (s *statusBar) done() {
	s.activity.Stop()
	s.activity.Hide()
}

func (s *statusBar) show(sev Severity, text string) {
	s.done()
	switch sev {
	case SevError:
		s.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		s.label.Importance = widget.DangerImportance
	case SevWarning:
		s.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		s.label.Importance = widget.WarningImportance
	default:
		s.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		s.label.Importance = widget.MediumImportance
	}
	s.icon.Show()
	s.label.SetText(text)
}

// Text returns the status line, for tests.
func (s *statusBar) Text() string { return s.label.Text }

// setLabel changes a label only when its text or importance differ: a
// Label refresh reshapes its text, and the window polls every second.
func setLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text == text && l.Importance == imp {
		return
	}
	l.Importance = imp
	l.SetText(text)
}
