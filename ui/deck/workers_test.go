package deck_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// workerTable is the Workers tab's table on screen.
func (h *harness) workerTable() *widget.Table {
	h.t.Helper()
	for _, o := range h.objects() {
		if tb, ok := o.(*widget.Table); ok {
			return tb
		}
	}
	h.t.Fatal("no workers table on screen")
	return nil
}

// tableRow is one row of the Workers table as the window shows it, by
// column title.
type tableRow map[string]string

// workerRows reads the table the way it is drawn: its header titles, and
// each cell through the table's own update function.
func (h *harness) workerRows() []tableRow {
	h.t.Helper()
	tb := h.workerTable()
	rows, cols := tb.Length()
	titles := make([]string, cols)
	for c := range titles {
		l := widget.NewLabel("")
		tb.UpdateHeader(widget.TableCellID{Row: -1, Col: c}, l)
		titles[c] = l.Text
	}
	out := make([]tableRow, rows)
	for r := range out {
		out[r] = tableRow{}
		for c, title := range titles {
			l := widget.NewLabel("")
			tb.UpdateCell(widget.TableCellID{Row: r, Col: c}, l)
			out[r][title] = l.Text
		}
	}
	return out
}

func (r tableRow) int(t *testing.T, col string) int {
	t.Helper()
	v, ok := r[col]
	if !ok {
		t.Fatalf("the table has no %q column: %v", col, r)
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
	if err != nil {
		t.Fatalf("column %q shows %q, not a number", col, v)
	}
	return n
}

// rowOf returns worker id's row, or nil.
func (h *harness) rowOf(id int) tableRow {
	for _, r := range h.workerRows() {
		if r["Worker"] == strconv.Itoa(id) {
			return r
		}
	}
	return nil
}

// selectWorker selects worker id's row in the table, as a click does.
func (h *harness) selectWorker(id int) {
	h.t.Helper()
	for i, r := range h.workerRows() {
		if r["Worker"] == strconv.Itoa(id) {
			h.workerTable().Select(widget.TableCellID{Row: i, Col: 0})
			if !strings.Contains(h.texts(), fmt.Sprintf("Worker %d", id)) {
				h.t.Fatalf("selecting row %d does not show worker %d as selected", i, id)
			}
			return
		}
	}
	h.t.Fatalf("no row for worker %d", id)
}

// startDemo taps Start, shows the Workers tab and waits until the table
// shows every worker ready.
func (h *harness) startDemo(workers int) {
	h.t.Helper()
	h.tap("Start")
	if s := h.d.Snapshot(); s.State != deck.Running {
		h.t.Fatalf("after Start: %v (engine %s; proxy %s)", s.State, s.Engine.Message, s.Proxy.Message)
	}
	h.d.SelectTab(deck.TabWorkers)
	h.waitWorkersReady(workers)
}

// waitWorkersReady waits until the table shows n workers, each idle or
// busy (loaded), and the engine's own snapshot agrees.
func (h *harness) waitWorkersReady(n int) {
	h.t.Helper()
	var rows []tableRow
	defer func() {
		if h.t.Failed() {
			h.t.Logf("the table showed %v; the engine %+v", rows, h.proj.Snapshot().Workers)
		}
	}()
	h.waitFor(fmt.Sprintf("the table to show %d ready workers", n), func() bool {
		rows = h.workerRows()
		if len(rows) != n {
			return false
		}
		for _, r := range rows {
			if st := r["Status"]; !strings.HasPrefix(st, "idle") && !strings.HasPrefix(st, "busy") {
				return false
			}
		}
		return len(liveWorkers(h.proj.Snapshot())) == n
	})
}

// pids maps worker id to pid as the table shows them.
func (h *harness) pids() map[int]int {
	out := map[int]int{}
	for _, r := range h.workerRows() {
		out[r.int(h.t, "Worker")] = r.int(h.t, "PID")
	}
	return out
}

// A graceful reload of one worker replaces its process and only its
// process; the table shows the new pid and one more respawn.
func TestWorkerGracefulReload(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	before := h.pids()
	r1 := h.rowOf(1)
	if r1.int(t, "Respawns") != 0 {
		t.Fatalf("worker 1 starts with respawns %q", r1["Respawns"])
	}
	if b := h.button("Graceful reload"); !b.Disabled() {
		t.Error("Graceful reload is enabled with no worker selected")
	}
	h.selectWorker(1)
	h.tap("Graceful reload")
	h.waitFor("worker 1 to be replaced", func() bool {
		r := h.rowOf(1)
		return r != nil && r.int(t, "PID") != before[1] && r["Status"] == "idle" && r.int(t, "Respawns") == 1
	})
	if pid := h.rowOf(2).int(t, "PID"); pid != before[2] {
		t.Errorf("worker 2's pid changed from %d to %d: only worker 1 was to be reloaded", before[2], pid)
	}
	h.checkTableMatchesEngine()
	if !h.processGone(before[1]) {
		t.Errorf("the old worker 1 (pid %d) is still running", before[1])
	}
	// It serves.
	if code, _, err := get(t, h.url()); err != nil || code != 200 {
		t.Errorf("GET / after the reload: %d %v", code, err)
	}
	h.assertNoCrashNotes()
}

// assertNoCrashNotes fails if the app announced a crash: the tests that
// call it only ask for reloads and kills.
func (h *harness) assertNoCrashNotes() {
	h.t.Helper()
	for _, n := range h.notifications() {
		if strings.Contains(n, "crashed") {
			h.t.Errorf("a worker command was notified as a crash: %q", n)
		}
	}
}

// Kill kills the worker's process; the master respawns it, and the table
// shows the new pid and the respawn. A kill the user asked for is not
// announced as a crash.
func TestWorkerKill(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	before := h.pids()
	h.selectWorker(2)
	h.tap("Kill")
	h.waitFor("worker 2 to be respawned", func() bool {
		r := h.rowOf(2)
		return r != nil && r.int(t, "PID") != before[2] && r["Status"] == "idle" && r.int(t, "Respawns") == 1
	})
	if !h.processGone(before[2]) {
		t.Errorf("the killed worker (pid %d) is still running", before[2])
	}
	if pid := h.rowOf(1).int(t, "PID"); pid != before[1] {
		t.Errorf("worker 1's pid changed from %d to %d", before[1], pid)
	}
	h.checkTableMatchesEngine()
	h.assertNoCrashNotes()
}

// A chain reload replaces every worker, one at a time, while a client
// keeps sending requests through the proxy: none of them fails.
func TestChainReloadReplacesEveryWorkerWithoutFailedRequests(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	before := h.pids()

	var sent, failed atomic.Int64
	var firstErr sync.Once
	var errMsg atomic.Value
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			code, _, err := get(t, h.url()+"whoami.json")
			sent.Add(1)
			if err != nil || code != 200 {
				failed.Add(1)
				firstErr.Do(func() { errMsg.Store(fmt.Sprintf("status %d, error %v", code, err)) })
			}
		}
	}()
	h.waitFor("the client to be sending requests", func() bool { return sent.Load() >= 5 })
	atStart := sent.Load()
	h.tap("Chain reload") // returns once the last worker is replaced
	during := sent.Load() - atStart
	close(stop)
	<-done

	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during the chain reload; the first: %v", n, sent.Load(), errMsg.Load())
	}
	if during == 0 {
		t.Error("no request was sent while the chain reload ran: the test proved nothing")
	}
	h.waitWorkersReady(2)
	after := h.pids()
	for id, pid := range before {
		if after[id] == pid {
			t.Errorf("worker %d kept its pid %d through the chain reload", id, pid)
		}
		if !h.processGone(pid) {
			t.Errorf("the old worker %d (pid %d) is still running", id, pid)
		}
	}
	h.checkTableMatchesEngine()
	h.assertNoCrashNotes()
	t.Logf("%d requests during the chain reload, %d in all", during, sent.Load())
}

// Add worker and Remove worker grow and shrink the engine, and the table
// with it.
func TestAddAndRemoveWorker(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	h.tap("Add worker")
	h.waitWorkersReady(3)
	if h.rowOf(3) == nil {
		t.Fatalf("no row for the new worker 3: %v", h.workerRows())
	}
	h.checkTableMatchesEngine()
	if !strings.Contains(h.texts(), "3 workers") {
		t.Errorf("the summary does not count 3 workers:\n%s", h.texts())
	}

	h.tap("Remove worker")
	h.waitWorkersReady(2)
	h.checkTableMatchesEngine()
	if s := h.proj.Snapshot(); len(s.Workers) != 3 || s.Workers[2].Status != "cheap" {
		t.Errorf("the engine's slots after Remove: %+v, want worker 3 kept as cheap", s.Workers)
	}
	if !strings.Contains(h.texts(), "2 workers (1 more stopped: cheap)") {
		t.Errorf("the summary does not count the stopped worker:\n%s", h.texts())
	}
	h.tap("Remove worker")
	h.waitWorkersReady(1)
	h.checkTableMatchesEngine()
	// One worker always stays: Remove is off.
	if b := h.button("Remove worker"); !b.Disabled() {
		t.Error("Remove worker is enabled with one worker left")
	}
	if code, _, err := get(t, h.url()); err != nil || code != 200 {
		t.Errorf("GET / with one worker: %d %v", code, err)
	}
}

// checkTableMatchesEngine compares the table with the engine's snapshot,
// read from the backend directly (not through the window).
func (h *harness) checkTableMatchesEngine() {
	h.t.Helper()
	var snap deck.Snapshot
	h.waitFor("the table to match the engine", func() bool {
		snap = h.proj.Snapshot()
		rows := h.workerRows()
		live := liveWorkers(snap)
		if len(rows) != len(live) {
			return false
		}
		for i, w := range live {
			if rows[i].int(h.t, "Worker") != w.ID || rows[i].int(h.t, "PID") != w.PID {
				return false
			}
		}
		return true
	})
}

// liveWorkers are the engine's workers that have a process: a slot that
// Remove worker emptied stays in the engine's list as "cheap", with no pid
// (as in uWSGI's stats), and the table leaves it out.
func liveWorkers(s deck.Snapshot) []deck.Worker {
	var out []deck.Worker
	for _, w := range s.Workers {
		if w.PID > 0 {
			out = append(out, w)
		}
	}
	return out
}

func (h *harness) url() string { return "http://127.0.0.1:" + strconv.Itoa(h.proxyPort) + "/" }

// At a 1200 px wide window every column of the Workers table is on
// screen, Memory last, without scrolling sideways; and a column's widest
// expected value fits in it.
func TestWorkersTableFitsA1200pxWindow(t *testing.T) {
	h := newHarness(t)
	if w := h.win.Canvas().Size().Width; w != 1200 {
		t.Fatalf("the window is %v wide", w)
	}
	h.startDemo(2)
	tb := h.workerTable()
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
	right := abs(tb).X + tb.Size().Width
	var memory *widget.Label
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok && l.Text == "Memory" {
			memory = l
		}
	}
	if memory == nil {
		t.Fatalf("the Memory column is not drawn at 1200 px: it is off screen")
	}
	if end := abs(memory).X + memory.Size().Width; end > right+0.5 {
		t.Errorf("the Memory column ends at %.0f, past the table's right edge at %.0f: it needs a sideways scroll", end, right)
	}
	// The widest values the columns are sized for are not clipped.
	for title, v := range map[string]string{"Memory": "1023.9 MiB", "PID": "4194304", "Requests": "1,234,567", "CPU": "100.0%"} {
		for _, o := range h.objects() {
			if l, ok := o.(*widget.Label); ok && l.Text == title {
				need := fyne.MeasureText(v, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
				if l.Size().Width+0.5 < need {
					t.Errorf("the %s column is %.0f wide; %q needs %.0f", title, l.Size().Width, v, need)
				}
			}
		}
	}
}
