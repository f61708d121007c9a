package editor

import (
	"fmt"
	"image/color"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DefaultDebounce is how long the editor waits after the last keystroke
// before it validates.
const DefaultDebounce = 300 * time.Millisecond

// Severity grades a Problem.
type Severity uint8

const (
	Error   Severity = iota // the file cannot be saved like this
	Warning                 // the file works, but probably not as meant
	Info                    // worth knowing, nothing to fix (an option with no effect here)
)

// A Problem is one finding of the validator, on a line of the text.
type Problem struct {
	Line     int // 1-based; 0 means the whole file
	Col      int // 1-based; 0 when unknown
	Severity Severity
	Message  string
}

func (p Problem) String() string {
	if p.Line <= 0 {
		return p.Message
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Message)
}

// Editor is a monospace source editor with line numbers and problem marks.
//
// Set Validate (and optionally OnChanged) before the editor is shown. Like
// every widget it belongs to the Fyne goroutine; only Validate runs
// elsewhere.
type Editor struct {
	widget.BaseWidget

	// Validate checks the text and returns its problems. It is called on
	// a goroutine of its own, after the text stopped changing for
	// Debounce, and must not touch any widget.
	Validate func(text string) []Problem
	// OnChanged is called (on the Fyne goroutine) after every edit the
	// user makes, at once: the text is the document's source of truth.
	OnChanged func(text string)
	// OnChecked is called after a validation result was applied.
	OnChecked func(problems []Problem)
	// Debounce is the pause after typing before validation;
	// DefaultDebounce if 0.
	Debounce time.Duration

	entry    *widget.Entry
	gutter   *gutter
	marks    *marks
	scroll   *container.Scroll
	status   *widget.Label
	statusIc *widget.Icon
	list     *fyne.Container
	listWrap *container.Scroll
	find     *findBar
	root     *fyne.Container

	problems []Problem
	lines    int
	setting  bool // SetText in progress: not a user edit

	mu      sync.Mutex // guards version and timer, shared with the timer goroutine
	version uint64
	timer   *time.Timer
}

// New returns an empty editor.
func New() *Editor {
	e := &Editor{lines: 1}
	e.ExtendBaseWidget(e)

	e.entry = widget.NewMultiLineEntry()
	e.entry.TextStyle = fyne.TextStyle{Monospace: true}
	e.entry.Wrapping = fyne.TextWrapOff
	e.entry.Scroll = container.ScrollNone
	e.entry.OnChanged = e.changed
	e.entry.OnCursorChanged = e.followCursor

	e.gutter = newGutter()
	e.marks = newMarks()
	body := container.New(&bodyLayout{gutter: e.gutter}, e.gutter, container.NewStack(e.entry, e.marks))
	e.scroll = container.NewScroll(body)
	e.scroll.OnScrolled = func(p fyne.Position) { e.gutter.setView(p.Y, e.scroll.Size().Height) }

	e.status = widget.NewLabel("")
	e.statusIc = widget.NewIcon(nil)
	e.list = container.NewVBox()
	e.listWrap = container.NewScroll(e.list)
	e.find = newFindBar(e)
	e.find.Hide()

	bottom := container.NewBorder(nil, nil, e.statusIc, nil, e.status)
	footer := container.NewBorder(widget.NewSeparator(), nil, nil, nil, container.NewVBox(bottom, e.listWrap))
	e.root = container.NewBorder(e.find, footer, nil, nil, e.scroll)
	e.applyProblems(nil)
	return e
}

// CreateRenderer is a private method to Fyne which links this widget to its
// renderer.
func (e *Editor) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(e.root)
}

// Entry returns the text entry, for focusing it.
func (e *Editor) Entry() *widget.Entry { return e.entry }

// Text returns the text being edited.
func (e *Editor) Text() string { return e.entry.Text }

// SetText replaces the text without calling OnChanged (the caller changed
// it: a form edit, a revert, a file reloaded from disk), and validates it
// after the usual pause. The cursor stays on its line where it can.
func (e *Editor) SetText(s string) {
	if s == e.entry.Text {
		return
	}
	row, col := e.entry.CursorRow, e.entry.CursorColumn
	e.setting = true
	e.entry.SetText(s)
	e.setting = false
	e.textChanged(s)
	e.entry.CursorRow, e.entry.CursorColumn = clampCursor(s, row, col)
	e.entry.Refresh()
}

// Problems returns the problems found by the last validation.
func (e *Editor) Problems() []Problem { return append([]Problem(nil), e.problems...) }

// Check validates the current text now, on the calling goroutine, and shows
// the result. Tests use it instead of waiting for the debounce; the app
// uses it before saving.
func (e *Editor) Check() []Problem {
	e.mu.Lock()
	if e.timer != nil {
		e.timer.Stop()
	}
	e.mu.Unlock()
	var ps []Problem
	if e.Validate != nil {
		ps = e.Validate(e.entry.Text)
	}
	e.applyProblems(ps)
	return e.Problems()
}

// GoToLine moves the cursor to the start of line n (1-based), scrolls it into
// view and focuses the editor.
func (e *Editor) GoToLine(n int) {
	if n < 1 {
		n = 1
	}
	if n > e.lines {
		n = e.lines
	}
	e.entry.CursorRow, e.entry.CursorColumn = n-1, 0
	e.entry.Refresh()
	e.followCursor()
	if c := fyne.CurrentApp().Driver().CanvasForObject(e.entry); c != nil {
		c.Focus(e.entry)
	}
}

// ShowFind opens the find bar (Ctrl+F) and focuses it.
func (e *Editor) ShowFind() { e.find.open() }

func (e *Editor) changed(s string) {
	if e.setting {
		return
	}
	e.textChanged(s)
	if e.OnChanged != nil {
		e.OnChanged(s)
	}
}

func (e *Editor) textChanged(s string) {
	e.lines = strings.Count(s, "\n") + 1
	e.gutter.setLines(e.lines)
	e.find.textChanged()
	e.schedule(s)
}

// schedule restarts the debounce timer for text s.
func (e *Editor) schedule(s string) {
	if e.Validate == nil {
		return
	}
	d := e.Debounce
	if d <= 0 {
		d = DefaultDebounce
	}
	validate := e.Validate
	e.mu.Lock()
	e.version++
	v := e.version
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(d, func() {
		ps := validate(s)
		fyne.Do(func() {
			e.mu.Lock()
			current := e.version == v
			e.mu.Unlock()
			if current {
				e.applyProblems(ps)
			}
		})
	})
	e.mu.Unlock()
}

// applyProblems shows ps: gutter marks, line bars and the list below.
func (e *Editor) applyProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Severity < ps[j].Severity
	})
	e.problems = ps
	byLine := map[int]Severity{}
	nErr, nWarn, nInfo := 0, 0, 0
	for _, p := range ps {
		switch p.Severity {
		case Error:
			nErr++
		case Warning:
			nWarn++
		default:
			nInfo++
		}
		if p.Line > 0 {
			if s, ok := byLine[p.Line]; !ok || p.Severity < s {
				byLine[p.Line] = p.Severity
			}
		}
	}
	e.gutter.setMarks(byLine)
	e.marks.setMarks(byLine)

	switch {
	case nErr > 0:
		e.statusIc.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		e.status.SetText(countText(nErr, "error") + warnSuffix(nWarn) + ": not saved until fixed")
		e.status.Importance = widget.DangerImportance
	case nWarn > 0:
		e.statusIc.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		e.status.SetText(countText(nWarn, "warning") + ": the file can be saved")
		e.status.Importance = widget.WarningImportance
	default:
		e.statusIc.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		e.status.SetText("No problems")
		if nInfo > 0 {
			e.status.SetText("No problems · " + countText(nInfo, "note"))
		}
		e.status.Importance = widget.MediumImportance
	}
	e.status.Refresh()

	e.list.RemoveAll()
	for _, p := range ps {
		e.list.Add(newProblemRow(p, e.GoToLine))
	}
	// Show up to four problems; more scroll.
	rows := len(ps)
	if rows > 4 {
		rows = 4
	}
	h := float32(0)
	if rows > 0 {
		h = float32(rows) * newProblemRow(Problem{Message: "x"}, nil).MinSize().Height
	}
	e.listWrap.SetMinSize(fyne.NewSize(0, h))
	if rows == 0 {
		e.listWrap.Hide()
	} else {
		e.listWrap.Show()
	}
	if e.OnChecked != nil {
		e.OnChecked(e.Problems())
	}
}

func countText(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func warnSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return ", " + countText(n, "warning")
}

// followCursor scrolls the outer Scroll so that the cursor stays visible.
func (e *Editor) followCursor() {
	m := rowMetrics(e.entry)
	y := m.rowTop(e.entry.CursorRow)
	x := m.pad + float32(e.entry.CursorColumn)*m.charW + e.gutter.MinSize().Width
	off := e.scroll.Offset
	view := e.scroll.Size()
	if view.Height <= 0 {
		return
	}
	changed := false
	if y < off.Y {
		off.Y, changed = y-m.pad, true
	} else if y+m.rowH > off.Y+view.Height {
		off.Y, changed = y+m.rowH+m.pad-view.Height, true
	}
	if x < off.X+e.gutter.MinSize().Width {
		off.X, changed = x-e.gutter.MinSize().Width-m.pad, true
	} else if x+m.charW > off.X+view.Width {
		off.X, changed = x+2*m.charW-view.Width, true
	}
	if changed {
		if off.X < 0 {
			off.X = 0
		}
		if off.Y < 0 {
			off.Y = 0
		}
		e.scroll.ScrollToOffset(off)
		e.gutter.setView(e.scroll.Offset.Y, view.Height)
	}
}

// clampCursor keeps a cursor position inside text s.
func clampCursor(s string, row, col int) (int, int) {
	lines := strings.Split(s, "\n")
	if row >= len(lines) {
		row = len(lines) - 1
	}
	if row < 0 {
		row = 0
	}
	if n := len([]rune(lines[row])); col > n {
		col = n
	}
	return row, col
}

// metrics are the Entry's row geometry.
type metrics struct {
	pad   float32 // inner padding above the first row and left of the text
	rowH  float32 // height of one row of text
	pitch float32 // distance between row tops
	charW float32
	size  float32 // text size
}

func (m metrics) rowTop(row int) float32 { return m.pad + float32(row)*m.pitch }

// rowMetrics computes the geometry the Entry's text uses. RichText lays out
// the rows of one text segment back to back (the theme's line spacing goes
// only between segments, and an Entry's text is a single segment), below
// the inner padding.
func rowMetrics(o fyne.Widget) metrics {
	th := theme.CurrentForWidget(o)
	size := th.Size(theme.SizeNameText)
	ch := fyne.MeasureText("0", size, fyne.TextStyle{Monospace: true})
	return metrics{
		pad:   th.Size(theme.SizeNameInnerPadding),
		rowH:  ch.Height,
		pitch: ch.Height,
		charW: ch.Width,
		size:  size,
	}
}

// severityColor is the colour of a mark of severity s.
func severityColor(o fyne.Widget, s Severity) color.Color {
	th := theme.CurrentForWidget(o)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	switch s {
	case Error:
		return th.Color(theme.ColorNameError, v)
	case Warning:
		return th.Color(theme.ColorNameWarning, v)
	}
	return th.Color(theme.ColorNamePrimary, v)
}

// withAlpha returns c with alpha a (0..255).
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// newProblemRow is one line of the problem list: tapping it jumps to the line.
func newProblemRow(p Problem, goTo func(int)) fyne.CanvasObject {
	r := &problemRow{p: p, goTo: goTo}
	r.ExtendBaseWidget(r)
	return r
}

// problemRow is a compact, tappable line: an icon and the message.
type problemRow struct {
	widget.BaseWidget
	p    Problem
	goTo func(int)
}

var _ fyne.Tappable = (*problemRow)(nil)
var _ desktop.Cursorable = (*problemRow)(nil)

func (r *problemRow) Tapped(*fyne.PointEvent) {
	if r.goTo != nil && r.p.Line > 0 {
		r.goTo(r.p.Line)
	}
}

func (r *problemRow) Cursor() desktop.Cursor {
	if r.p.Line > 0 {
		return desktop.PointerCursor
	}
	return desktop.DefaultCursor
}

func (r *problemRow) CreateRenderer() fyne.WidgetRenderer {
	var icon fyne.Resource = theme.NewErrorThemedResource(theme.ErrorIcon())
	switch r.p.Severity {
	case Warning:
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	case Info:
		icon = theme.NewPrimaryThemedResource(theme.InfoIcon())
	}
	text := canvas.NewText(r.p.String(), theme.Color(theme.ColorNameForeground))
	return &problemRowRenderer{r: r, icon: canvas.NewImageFromResource(icon), text: text}
}

type problemRowRenderer struct {
	r    *problemRow
	icon *canvas.Image
	text *canvas.Text
}

func (pr *problemRowRenderer) Layout(size fyne.Size) {
	pad := theme.Padding()
	is := pr.text.MinSize().Height
	pr.icon.Resize(fyne.NewSize(is, is))
	pr.icon.Move(fyne.NewPos(pad*2, (size.Height-is)/2))
	pr.text.Move(fyne.NewPos(pad*3+is, (size.Height-pr.text.MinSize().Height)/2))
	pr.text.Resize(fyne.NewSize(size.Width-pad*3-is, pr.text.MinSize().Height))
}

func (pr *problemRowRenderer) MinSize() fyne.Size {
	t := pr.text.MinSize()
	return fyne.NewSize(theme.Padding()*3+t.Height+t.Width, t.Height+theme.Padding())
}

func (pr *problemRowRenderer) Refresh() {
	pr.text.Color = theme.Color(theme.ColorNameForeground)
	pr.text.Refresh()
	pr.icon.Refresh()
}

func (pr *problemRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{pr.icon, pr.text}
}

func (pr *problemRowRenderer) Destroy() {}

// bodyLayout puts the gutter at the left at its width and the text beside
// it, both as tall as the taller of them.
type bodyLayout struct{ gutter *gutter }

func (l *bodyLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	gw := objs[0].MinSize().Width
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(gw, size.Height))
	objs[1].Move(fyne.NewPos(gw, 0))
	objs[1].Resize(fyne.NewSize(size.Width-gw, size.Height))
}

func (l *bodyLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	g, t := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(g.Width+t.Width, max(g.Height, t.Height))
}
