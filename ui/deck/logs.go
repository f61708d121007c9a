package deck

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// MaxLogLines is how many log lines the Logs tab keeps; older lines are
// dropped, so a chatty app cannot grow the window's memory.
const MaxLogLines = 5000

// Log filter choices.
const (
	allSources = "All sources"
	allLevels  = "All levels"
	warnUp     = "Warnings and errors"
	errOnly    = "Errors only"
	allWorkers = "All workers"
)

var sourceChoices = []string{allSources, "Engine", "Worker output", "Proxy access", "Proxy errors"}

// logsTab shows the selected project's logs: engine, worker output, proxy
// access and error logs, with search, filters and follow mode.
type logsTab struct {
	d       *Deck
	lines   []LogLine // a ring of MaxLogLines, oldest at head
	head    int
	total   int   // lines ever pushed since the last reset: line n (0-based) sits at lines[n%MaxLogLines]
	shown   []int // the numbers (as in total) of the kept lines that pass the filters, ascending
	dropped uint64
	lastSeq uint64 // the Seq of the last line pushed: a gap means lines were dropped before they came

	list    *widget.List
	source  *widget.Select
	level   *widget.Select
	worker  *widget.Select
	search  *widget.Entry
	follow  *widget.Check
	footer  *widget.Label
	empty   *widget.Label // says why the list is empty
	workers []int
	stale   bool // lines arrived while the tab was not on screen
	// atBottom is the list's scroll offset and size right after following
	// scrolled it to the bottom: an offset above it, at the same size,
	// means the user scrolled up to read, which stops following.
	atBottom     float32
	atBottomSize fyne.Size
	root         fyne.CanvasObject
}

func newLogsTab(d *Deck) *logsTab {
	l := &logsTab{d: d}
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject { return newLogRow() },
		l.updateRow,
	)
	l.list.HideSeparators = true
	l.list.OnSelected = func(id widget.ListItemID) {
		// A selected line is copied: the list cannot select text.
		if id < len(l.shown) {
			line := l.line(l.shown[id])
			d.app.Clipboard().SetContent(formatLogLine(line))
			d.status.show(SevInfo, "Copied one log line to the clipboard.")
		}
		l.list.UnselectAll()
	}
	l.source = widget.NewSelect(sourceChoices, nil)
	l.source.SetSelected(allSources)
	l.level = widget.NewSelect([]string{allLevels, warnUp, errOnly}, nil)
	l.level.SetSelected(allLevels)
	l.worker = widget.NewSelect([]string{allWorkers}, nil)
	l.worker.SetSelected(allWorkers)
	l.search = widget.NewEntry()
	l.search.SetPlaceHolder("Search (Ctrl+F)")
	l.search.ActionItem = widget.NewButtonWithIcon("", theme.ContentClearIcon(), func() { l.search.SetText("") })
	l.follow = widget.NewCheck("Follow", nil)
	l.follow.SetChecked(true)
	// Callbacks last: setting the initial values above must not run them.
	refilter := func(string) { l.refilter() }
	l.source.OnChanged, l.level.OnChanged, l.worker.OnChanged, l.search.OnChanged = refilter, refilter, refilter, refilter
	l.follow.OnChanged = func(on bool) {
		if on {
			l.scrollToBottom()
		}
	}
	copyB := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), l.copyShown)
	clearB := widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), l.clear)
	l.footer = widget.NewLabel("")
	l.footer.Importance = widget.LowImportance

	filters := container.NewHBox(l.source, l.level, l.worker)
	actions := container.NewHBox(l.follow, copyB, clearB)
	top := container.NewBorder(nil, nil, filters, actions, l.search)
	l.empty = widget.NewLabel("")
	l.empty.Importance = widget.LowImportance
	l.root = container.NewBorder(container.NewPadded(top), l.footer, nil, nil, container.NewStack(l.list, container.NewCenter(l.empty)))
	l.updateFooter()
	return l
}

func (l *logsTab) reset() {
	l.lines, l.head, l.total, l.shown, l.dropped, l.lastSeq = nil, 0, 0, nil, 0, 0
	l.workers = nil
	l.worker.Options = []string{allWorkers}
	l.worker.SetSelected(allWorkers)
	l.list.Refresh()
	l.updateFooter()
}

// onShow is called when the tab comes on screen.
func (l *logsTab) onShow() {
	if l.stale {
		l.changed()
	}
	if l.follow.Checked {
		l.scrollToBottom()
	}
}

// scrollToBottom shows the newest line and remembers where that is.
func (l *logsTab) scrollToBottom() {
	l.list.ScrollToBottom()
	l.atBottom, l.atBottomSize = l.list.GetScrollOffset(), l.list.Size()
}

// userScrolledUp reports whether the list was scrolled up since following
// last put it at the bottom (the list has no scroll callback of its own).
func (l *logsTab) userScrolledUp() bool {
	return l.list.Size() == l.atBottomSize && l.list.GetScrollOffset() < l.atBottom-1
}

// line returns line number n (see total).
func (l *logsTab) line(n int) LogLine { return l.lines[n%MaxLogLines] }

// push adds new lines, dropping the oldest past MaxLogLines. Only the new
// lines are filtered: a poll costs what it brings, not what is kept.
func (l *logsTab) push(lines []LogLine) {
	if len(lines) == 0 {
		return
	}
	newWorkers := false
	q, wantWorker := l.filterArgs()
	for _, ln := range lines {
		if ln.Seq > l.lastSeq+1 {
			l.dropped += ln.Seq - l.lastSeq - 1
		}
		l.lastSeq = max(l.lastSeq, ln.Seq)
		if len(l.lines) < MaxLogLines {
			l.lines = append(l.lines, ln)
		} else {
			l.lines[l.head] = ln
			l.head = (l.head + 1) % MaxLogLines
			l.dropped++
		}
		if l.passes(ln, q, wantWorker) {
			l.shown = append(l.shown, l.total)
		}
		l.total++
		if ln.Worker > 0 && !containsInt(l.workers, ln.Worker) {
			l.workers = append(l.workers, ln.Worker)
			newWorkers = true
		}
	}
	// Forget the shown lines that were dropped from the ring.
	first := l.total - len(l.lines)
	k := 0
	for k < len(l.shown) && l.shown[k] < first {
		k++
	}
	if k > 0 {
		l.shown = append(l.shown[:0], l.shown[k:]...)
	}
	if newWorkers {
		sort.Ints(l.workers)
		opts := []string{allWorkers}
		for _, w := range l.workers {
			opts = append(opts, "Worker "+strconv.Itoa(w))
		}
		l.worker.Options = opts
		l.worker.Refresh()
	}
	l.changed()
}

// changed shows the new state of the list, if the tab is on screen.
func (l *logsTab) changed() {
	// A hidden tab waits for onShow: setting even its footer's text would
	// repaint the whole window every second on every tab.
	if l.d.CurrentTab() != TabLogs {
		l.stale = true
		return
	}
	l.stale = false
	if l.follow.Checked && l.userScrolledUp() {
		// Someone is reading older lines: new ones must not yank the
		// view down. Ticking Follow again goes back to the bottom.
		l.follow.SetChecked(false)
	}
	l.updateFooter()
	l.list.Refresh()
	if l.follow.Checked {
		l.scrollToBottom()
	}
}

func (l *logsTab) filterArgs() (q string, worker int) {
	q = strings.ToLower(strings.TrimSpace(l.search.Text))
	if s := l.worker.Selected; strings.HasPrefix(s, "Worker ") {
		worker, _ = strconv.Atoi(strings.TrimPrefix(s, "Worker "))
	}
	return q, worker
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// refilter recomputes the visible lines after a filter changed.
func (l *logsTab) refilter() {
	l.shown = l.shown[:0]
	q, wantWorker := l.filterArgs()
	for n := l.total - len(l.lines); n < l.total; n++ {
		if l.passes(l.line(n), q, wantWorker) {
			l.shown = append(l.shown, n)
		}
	}
	l.changed()
}

func (l *logsTab) passes(ln LogLine, q string, worker int) bool {
	switch l.source.Selected {
	case "Engine":
		if ln.Source != LogEngine {
			return false
		}
	case "Worker output":
		if ln.Source != LogWorker {
			return false
		}
	case "Proxy access":
		if ln.Source != LogProxyAccess {
			return false
		}
	case "Proxy errors":
		if ln.Source != LogProxyError {
			return false
		}
	}
	switch l.level.Selected {
	case warnUp:
		if ln.Level < LevelWarn {
			return false
		}
	case errOnly:
		if ln.Level < LevelError {
			return false
		}
	}
	if worker > 0 && ln.Worker != worker {
		return false
	}
	return q == "" || strings.Contains(strings.ToLower(ln.Text), q)
}

func (l *logsTab) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(l.shown) {
		return
	}
	ln := l.line(l.shown[id])
	o.(*logRow).set(ln.Time.Format("15:04:05"), sourceTag(ln), displayText(ln), ln.Level)
}

// requestLineRe matches uWSGI's request log line (the engine writes it
// the same way), capturing what a person scans for.
var requestLineRe = regexp.MustCompile(`^\[pid: (\d+)\|app: -?\d+\|req: (\d+)/\d+\] (\S*) \(.*?\) \{\d+ vars in \d+ bytes\} \[.+?\] (\S+) (.*?) => generated (\d+) bytes in (\d+) msecs(?: via \S+)? \(\S+ (\d{3})\)`)

// accessLineRe matches nginx's combined access log format.
var accessLineRe = regexp.MustCompile(`^(\S+) - \S+ \[.+?\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\d+) "`)

// displayText is how a line reads in the list: request lines condensed to
// "GET /path  200  964 B  2 ms" (copy and search use the full line).
func displayText(ln LogLine) string {
	if ln.Source == LogProxyAccess {
		if m := accessLineRe.FindStringSubmatch(ln.Text); m != nil {
			n, _ := strconv.ParseUint(m[6], 10, 64)
			return fmt.Sprintf("%s %s  →  %s  %s  (%s)", m[2], m[3], m[5], bytesIEC(n), m[1])
		}
		return ln.Text
	}
	if ln.Source != LogEngine {
		return ln.Text
	}
	m := requestLineRe.FindStringSubmatch(ln.Text)
	if m == nil {
		return ln.Text
	}
	n, _ := strconv.ParseUint(m[6], 10, 64)
	return fmt.Sprintf("%s %s  →  %s  %s  %s ms  (pid %s, request %s)", m[4], m[5], m[8], bytesIEC(n), m[7], m[1], m[2])
}

// sourceTag is the short source column: "engine", "worker 2", "access".
func sourceTag(ln LogLine) string {
	s := ln.Source.String()
	if ln.Worker > 0 {
		s = "worker " + strconv.Itoa(ln.Worker)
	}
	return s
}

func formatLogLine(ln LogLine) string {
	return ln.Time.Format("15:04:05") + " " + strings.TrimSpace(sourceTag(ln)) + ": " + ln.Text
}

// copyShown copies the lines that pass the filters.
func (l *logsTab) copyShown() {
	var b strings.Builder
	for _, n := range l.shown {
		b.WriteString(formatLogLine(l.line(n)))
		b.WriteByte('\n')
	}
	l.d.app.Clipboard().SetContent(b.String())
	l.d.status.show(SevInfo, fmt.Sprintf("Copied %d log line%s to the clipboard.", len(l.shown), plural(len(l.shown))))
}

// clear empties the view; lines that arrive later still show.
func (l *logsTab) clear() {
	l.lines, l.head, l.total, l.shown, l.dropped = nil, 0, 0, nil, 0
	l.changed()
}

func (l *logsTab) updateFooter() {
	noun := "lines"
	if len(l.lines) == 1 {
		noun = "line"
	}
	msg := fmt.Sprintf("%s %s, %s shown", count(uint64(len(l.lines))), noun, count(uint64(len(l.shown))))
	if l.dropped > 0 {
		msg += fmt.Sprintf(" · the oldest %s were dropped (the last %s are kept)", count(l.dropped), count(MaxLogLines))
	}
	msg += " · click a line to copy it"
	l.footer.SetText(msg)
	switch {
	case len(l.shown) > 0:
		l.empty.Hide()
		return
	case len(l.lines) == 0:
		setLabel(l.empty, "No log lines yet: the engine's, the workers' and the proxy's logs show here once the project runs.", l.empty.Importance)
	default:
		setLabel(l.empty, "No line matches the filters.", l.empty.Importance)
	}
	l.empty.Show()
}

// Shown returns the text of the lines that pass the filters, for tests.
func (l *logsTab) Shown() []string {
	out := make([]string, len(l.shown))
	for i, n := range l.shown {
		out[i] = l.line(n).Text
	}
	return out
}

// FocusSearch puts the cursor in the search field (Ctrl+F on this tab).
func (l *logsTab) FocusSearch() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(l.search); c != nil {
		c.Focus(l.search)
	}
}
