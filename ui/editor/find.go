package editor

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// findBar searches the text (case-insensitively) and moves the cursor to
// each match in turn; the match's line is highlighted.
type findBar struct {
	widget.BaseWidget
	e       *Editor
	query   *widget.Entry
	count   *widget.Label
	matches [][2]int // row, column (in runes) of each match
	current int
	root    fyne.CanvasObject
}

func newFindBar(e *Editor) *findBar {
	f := &findBar{e: e}
	f.ExtendBaseWidget(f)
	f.query = widget.NewEntry()
	f.query.SetPlaceHolder("Find")
	f.query.OnChanged = func(string) { f.search(); f.show(0) }
	f.query.OnSubmitted = func(string) { f.next(1) }
	f.count = widget.NewLabel("")
	prev := widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { f.next(-1) })
	next := widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { f.next(1) })
	closeB := widget.NewButtonWithIcon("", theme.CancelIcon(), f.close)
	prev.Importance, next.Importance, closeB.Importance = widget.LowImportance, widget.LowImportance, widget.LowImportance
	f.root = container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), container.NewHBox(f.count, prev, next, closeB), f.query)
	return f
}

func (f *findBar) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(f.root) }

func (f *findBar) open() {
	f.Show()
	f.search()
	if c := fyne.CurrentApp().Driver().CanvasForObject(f.query); c != nil {
		c.Focus(f.query)
	}
}

func (f *findBar) close() {
	f.Hide()
	f.e.marks.setFound(0)
	if c := fyne.CurrentApp().Driver().CanvasForObject(f.e.entry); c != nil {
		c.Focus(f.e.entry)
	}
}

// textChanged re-runs the search after an edit, keeping the position.
func (f *findBar) textChanged() {
	if f.Visible() {
		f.search()
	}
}

func (f *findBar) search() {
	f.matches = f.matches[:0]
	q := strings.ToLower(f.query.Text)
	if q == "" {
		f.count.SetText("")
		f.e.marks.setFound(0)
		return
	}
	for row, line := range strings.Split(f.e.entry.Text, "\n") {
		lower := strings.ToLower(line)
		for off := 0; ; {
			i := strings.Index(lower[off:], q)
			if i < 0 {
				break
			}
			col := len([]rune(line[:off+i]))
			f.matches = append(f.matches, [2]int{row, col})
			off += i + len(q)
		}
	}
	if f.current >= len(f.matches) {
		f.current = 0
	}
	f.updateCount()
}

func (f *findBar) updateCount() {
	switch {
	case len(f.matches) == 0:
		f.count.SetText("no matches")
	default:
		f.count.SetText(fmt.Sprintf("%d of %d", f.current+1, len(f.matches)))
	}
}

// next moves to the next (dir 1) or previous (dir -1) match.
func (f *findBar) next(dir int) {
	if len(f.matches) == 0 {
		return
	}
	f.show((f.current + dir + len(f.matches)) % len(f.matches))
}

func (f *findBar) show(i int) {
	if len(f.matches) == 0 {
		f.e.marks.setFound(0)
		return
	}
	f.current = i
	m := f.matches[i]
	f.e.entry.CursorRow, f.e.entry.CursorColumn = m[0], m[1]+len([]rune(f.query.Text))
	f.e.entry.Refresh()
	f.e.followCursor()
	f.e.marks.setFound(m[0] + 1)
	f.updateCount()
}
