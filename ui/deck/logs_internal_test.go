package deck

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestLogsTab(t *testing.T) *logsTab {
	t.Helper()
	a := test.NewTempApp(t)
	d := &Deck{app: a, busy: map[string]string{}, status: newStatusBar()}
	// The Logs tab is the one on screen, so pushes refresh it at once.
	d.tabs = container.NewAppTabs(container.NewTabItem(TabLogs, widget.NewLabel("")))
	return newLogsTab(d)
}

// The Logs tab keeps at most MaxLogLines, dropping the oldest, and its
// filters see only what is kept.
func TestLogsAreBoundedAndFiltered(t *testing.T) {
	l := newTestLogsTab(t)
	now := time.Unix(1700000000, 0)
	var batch []LogLine
	for i := 0; i < MaxLogLines+1500; i++ {
		ln := LogLine{Seq: uint64(i + 1), Time: now, Source: LogEngine, Text: fmt.Sprintf("line %d", i)}
		if i%10 == 0 {
			ln.Source, ln.Worker, ln.Level, ln.Text = LogWorker, 1+i%3, LevelError, fmt.Sprintf("Traceback %d", i)
		}
		batch = append(batch, ln)
		if len(batch) == 700 {
			l.push(batch)
			batch = nil
		}
	}
	l.push(batch)
	if len(l.lines) != MaxLogLines {
		t.Fatalf("%d lines kept, want %d", len(l.lines), MaxLogLines)
	}
	shown := l.Shown()
	if len(shown) != MaxLogLines || shown[0] != "Traceback 1500" || shown[len(shown)-1] != fmt.Sprintf("line %d", MaxLogLines+1499) {
		t.Fatalf("kept %d lines, from %q to %q", len(shown), shown[0], shown[len(shown)-1])
	}
	if l.dropped != 1500 {
		t.Errorf("dropped %d, want 1500", l.dropped)
	}

	l.level.SetSelected(errOnly)
	l.worker.SetSelected("Worker 2")
	for _, s := range l.Shown() {
		if !strings.HasPrefix(s, "Traceback") {
			t.Fatalf("filtered view holds %q", s)
		}
	}
	n := len(l.Shown())
	// New lines pass through the same filters.
	l.push([]LogLine{
		{Source: LogWorker, Worker: 2, Level: LevelError, Text: "Traceback new"},
		{Source: LogWorker, Worker: 1, Level: LevelError, Text: "Traceback other worker"},
		{Source: LogEngine, Text: "plain"},
	})
	if got := l.Shown(); len(got) != n+1 || got[len(got)-1] != "Traceback new" {
		t.Fatalf("after a push: %d lines shown (want %d), last %q", len(got), n+1, got[len(got)-1])
	}
	l.search.SetText("NEW")
	if got := l.Shown(); len(got) != 1 {
		t.Errorf("search shows %v", got)
	}
	l.clear()
	if len(l.Shown()) != 0 || len(l.lines) != 0 {
		t.Error("Clear left lines behind")
	}
}

func TestRequestLinesAreCondensed(t *testing.T) {
	raw := "[pid: 8772|app: 0|req: 207/207] 127.0.0.1 () {32 vars in 406 bytes} [Sun Nov 22 02:14:50 2026] GET /whoami.json => generated 964 bytes in 2 msecs (HTTP/1.1 200) 4 headers in 127 bytes (1 switches on core 0)"
	got := displayText(LogLine{Source: LogEngine, Text: raw})
	want := "GET /whoami.json  →  200  964 B  2 ms  (pid 8772, request 207)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	access := `127.0.0.1 - - [22/Nov/2026:02:39:34 +0000] "GET /whoami.json HTTP/1.1" 200 964 "-" "Go-http-client/1.1"`
	if got, want := displayText(LogLine{Source: LogProxyAccess, Text: access}), "GET /whoami.json  →  200  964 B  (127.0.0.1)"; got != want {
		t.Errorf("access line: got %q, want %q", got, want)
	}
	if got := displayText(LogLine{Source: LogWorker, Text: raw}); got != raw {
		t.Error("worker output was rewritten")
	}
}

// FuzzDisplayText: condensing never panics, and a line that is not a
// request or access line is shown as it is.
func FuzzDisplayText(f *testing.F) {
	f.Add("[pid: 8772|app: 0|req: 207/207] 127.0.0.1 () {32 vars in 406 bytes} [Sun Nov 22 02:14:50 2026] GET /x => generated 964 bytes in 2 msecs (HTTP/1.1 200) 4 headers in 127 bytes (1 switches on core 0)", uint8(LogEngine))
	f.Add(`127.0.0.1 - - [22/Nov/2026:02:39:34 +0000] "GET / HTTP/1.1" 200 5407 "-" "curl"`, uint8(LogProxyAccess))
	f.Add("Traceback (most recent call last):", uint8(LogWorker))
	f.Fuzz(func(t *testing.T, text string, src uint8) {
		ln := LogLine{Source: LogSource(src % 4), Text: text}
		got := displayText(ln)
		if !requestLineRe.MatchString(text) && !accessLineRe.MatchString(text) && got != text {
			t.Fatalf("%q shown as %q", text, got)
		}
	})
}

// An empty list says why: nothing logged yet, or nothing passes the
// filters.
func TestLogsSayWhyTheListIsEmpty(t *testing.T) {
	l := newTestLogsTab(t)
	if !l.empty.Visible() || !strings.Contains(l.empty.Text, "No log lines yet") {
		t.Errorf("before any line: %q (visible %v)", l.empty.Text, l.empty.Visible())
	}
	l.push([]LogLine{{Seq: 1, Source: LogEngine, Text: "spawned uWSGI worker 1"}})
	if l.empty.Visible() {
		t.Errorf("a line is shown, and so is %q", l.empty.Text)
	}
	l.search.SetText("no such text")
	if !l.empty.Visible() || l.empty.Text != "No line matches the filters." {
		t.Errorf("with nothing matching: %q (visible %v)", l.empty.Text, l.empty.Visible())
	}
	l.search.SetText("")
	if l.empty.Visible() {
		t.Errorf("the filter is cleared, and the list still says %q", l.empty.Text)
	}
}

// Lines arriving while another tab is on screen change nothing drawn (a
// changed label would repaint the window every second); showing the tab
// brings the list and its footer up to date.
func TestHiddenLogsTabWaitsUntilShown(t *testing.T) {
	l := newTestLogsTab(t)
	l.d.tabs = container.NewAppTabs(
		container.NewTabItem(TabOverview, widget.NewLabel("")),
		container.NewTabItem(TabLogs, widget.NewLabel("")))
	l.d.tabs.SelectIndex(0)
	before := l.footer.Text
	l.push([]LogLine{{Seq: 1, Source: LogEngine, Text: "spawned uWSGI worker 1"}})
	if l.footer.Text != before || !l.stale {
		t.Fatalf("hidden tab: footer %q (was %q), stale %v", l.footer.Text, before, l.stale)
	}
	l.d.tabs.SelectIndex(1)
	l.onShow()
	if l.stale || !strings.HasPrefix(l.footer.Text, "1 line, 1 shown") || l.empty.Visible() {
		t.Errorf("after showing: footer %q, stale %v, empty hint visible %v", l.footer.Text, l.stale, l.empty.Visible())
	}
}

// Following keeps the newest line in view; a user who scrolls up to read
// stops following (the next lines do not yank the view back down), and
// ticking Follow again goes back to the bottom.
func TestLogsFollowStopsWhenTheUserScrollsUp(t *testing.T) {
	l := newTestLogsTab(t)
	w := test.NewTempWindow(t, l.root)
	w.Resize(fyne.NewSize(700, 400))
	seq := uint64(0)
	more := func(n int) {
		var b []LogLine
		for range n {
			seq++
			b = append(b, LogLine{Seq: seq, Source: LogEngine, Text: fmt.Sprintf("line %d", seq)})
		}
		l.push(b)
	}
	more(300)
	bottom := l.list.GetScrollOffset()
	if bottom <= 0 {
		t.Fatalf("following 300 lines: scroll offset %v, want the bottom", bottom)
	}

	// The mouse wheel over the list, upwards.
	test.Scroll(w.Canvas(), fyne.NewPos(350, 200), 0, 500)
	up := l.list.GetScrollOffset()
	if up >= bottom {
		t.Fatalf("scrolling up left the offset at %v (bottom %v)", up, bottom)
	}
	more(50)
	if got := l.list.GetScrollOffset(); got != up {
		t.Errorf("new lines moved the view from %v to %v while the user reads above", up, got)
	}
	if l.follow.Checked {
		t.Error("Follow stays ticked after the user scrolled up")
	}

	test.Tap(l.follow)
	if !l.follow.Checked || l.list.GetScrollOffset() <= bottom {
		t.Errorf("ticking Follow again: checked %v, offset %v (was %v before 50 more lines)", l.follow.Checked, l.list.GetScrollOffset(), bottom)
	}
	before := l.list.GetScrollOffset()
	more(10)
	if got := l.list.GetScrollOffset(); got <= before || !l.follow.Checked {
		t.Errorf("following again: 10 more lines moved the view from %v to %v, Follow ticked %v", before, got, l.follow.Checked)
	}
}
