package editor

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/wsgideck/wsgideck/ui/internal/uitest"
)

// validateKV flags lines without "=" as errors and "TODO" as a warning.
func validateKV(text string) []Problem {
	var ps []Problem
	for i, l := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(l) == "":
		case !strings.Contains(l, "="):
			ps = append(ps, Problem{Line: i + 1, Severity: Error, Message: "want key = value"})
		case strings.Contains(l, "TODO"):
			ps = append(ps, Problem{Line: i + 1, Severity: Warning, Message: "a TODO is left"})
		}
	}
	return ps
}

func newTestEditor(t *testing.T) (*Editor, fyne.Window) {
	t.Helper()
	app = uitest.New(test.NewTempApp(t))
	e := New()
	e.Validate = validateKV
	w := test.NewTempWindow(t, e)
	w.Resize(fyne.NewSize(500, 300))
	return e, w
}

// app is the current test's app: the debounce timer's fyne.Do waits in
// its queue until the test drains it, as the real driver runs it on the
// UI goroutine.
var app *uitest.App

// nextCheck drains the UI queue until a validation arrives on checked.
func nextCheck(t *testing.T, checked <-chan []Problem) []Problem {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		app.Drain()
		select {
		case ps := <-checked:
			return ps
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("no validation arrived")
	return nil
}

func TestTypingShowsErrorOnItsLineAfterDebounce(t *testing.T) {
	e, w := newTestEditor(t)
	e.Debounce = 20 * time.Millisecond
	checked := make(chan []Problem, 8)
	e.OnChecked = func(ps []Problem) { checked <- ps }
	e.SetText("a = 1\nb = 2\n")
	nextCheck(t, checked) // the SetText validation

	var changes []string
	e.OnChanged = func(s string) { changes = append(changes, s) }
	e.entry.CursorRow, e.entry.CursorColumn = 2, 0
	w.Canvas().Focus(e.entry)
	test.Type(e.entry, "oops")
	if len(changes) == 0 || !strings.HasSuffix(changes[len(changes)-1], "oops") {
		t.Fatalf("OnChanged not called with the typed text: %q", changes)
	}
	// Typing four runes restarts the timer each time: one validation of
	// the final text arrives.
	if ps := nextCheck(t, checked); len(ps) != 1 || ps[0].Line != 3 || ps[0].Severity != Error {
		t.Fatalf("problems %+v, want one error on line 3", ps)
	}
	if s, ok := e.gutter.marks[3]; !ok || s != Error {
		t.Errorf("gutter marks %v, want line 3 marked as an error", e.gutter.marks)
	}
	if _, ok := e.marks.lines[3]; !ok {
		t.Errorf("no bar on line 3: %v", e.marks.lines)
	}
	if !strings.Contains(e.status.Text, "1 error") {
		t.Errorf("status %q", e.status.Text)
	}
}

func TestCheckIsSynchronousAndCountsSeverities(t *testing.T) {
	e, _ := newTestEditor(t)
	e.Debounce = time.Hour
	e.SetText("a = 1\nbad\nc = TODO\nworse\n")
	ps := e.Check()
	if len(ps) != 3 {
		t.Fatalf("%d problems, want 3: %+v", len(ps), ps)
	}
	if got := e.status.Text; !strings.HasPrefix(got, "2 errors, 1 warning") {
		t.Errorf("status %q", got)
	}
	if len(e.list.Objects) != 3 {
		t.Errorf("%d rows in the problem list, want 3", len(e.list.Objects))
	}
	e.SetText("a = 1\n")
	if ps := e.Check(); len(ps) != 0 || e.status.Text != "No problems" {
		t.Errorf("after fixing: %+v, %q", ps, e.status.Text)
	}
}

func TestGutterRowsLineUpWithTheEntryText(t *testing.T) {
	e, w := newTestEditor(t)
	var lines []string
	for i := 1; i <= 40; i++ {
		lines = append(lines, "key"+strings.Repeat("x", i%7)+" = v")
	}
	e.SetText(strings.Join(lines, "\n"))
	w.Resize(fyne.NewSize(500, 600))
	m := rowMetrics(e.entry)
	// The Entry is as tall as its text: rows placed at m.rowTop must span
	// exactly its content.
	textH := e.entry.MinSize().Height
	if got := m.rowTop(40) + m.pad; got < textH-2 || got > textH+2 {
		t.Errorf("40 rows end at %.1f, the entry's text is %.1f tall", got, textH)
	}
	if g := e.gutter.MinSize().Height; g != m.rowTop(40)+m.pad {
		t.Errorf("gutter height %.1f, want %.1f", g, m.rowTop(40)+m.pad)
	}
}

func TestGoToLineAndFind(t *testing.T) {
	e, w := newTestEditor(t)
	var lines []string
	for i := 1; i <= 100; i++ {
		lines = append(lines, "k"+strings.Repeat("0", 3)+" = "+string(rune('a'+i%26)))
	}
	lines[79] = "needle = here"
	e.SetText(strings.Join(lines, "\n"))
	w.Resize(fyne.NewSize(500, 300))
	e.GoToLine(50)
	if e.entry.CursorRow != 49 {
		t.Errorf("cursor row %d, want 49", e.entry.CursorRow)
	}
	if e.scroll.Offset.Y <= 0 {
		t.Error("the view did not scroll to line 50")
	}
	e.ShowFind()
	test.Type(e.find.query, "NEEDLE")
	if len(e.find.matches) != 1 || e.entry.CursorRow != 79 {
		t.Fatalf("matches %v, cursor row %d", e.find.matches, e.entry.CursorRow)
	}
	if e.marks.found != 80 {
		t.Errorf("highlighted line %d, want 80", e.marks.found)
	}
	if e.find.count.Text != "1 of 1" {
		t.Errorf("count %q", e.find.count.Text)
	}
}

// The error bar, the gutter dot and the problem list line up with the
// offending line, in a fixed rendering (light theme, test fonts).
func TestRendersProblemsOnTheirLines(t *testing.T) {
	app = uitest.New(test.NewTempApp(t))
	e := New()
	e.Validate = validateKV
	e.Debounce = time.Hour
	w := test.NewTempWindow(t, e)
	w.Resize(fyne.NewSize(420, 260))
	e.SetText("# settings\nprocesses = 2\nthreads\nharakiri = TODO\n")
	e.Check()
	test.AssertObjectRendersToImage(t, "editor/problems.png", e)
}
