package deck

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// workerColumns are the Workers table's columns: title and width in
// characters of the widest value expected ("1023.9 MiB", "999.9 ms",
// pid 4194304). Together they fit a 1200 px window beside the sidebar;
// the titles are set in caption size so that long ones ("Exceptions")
// do not widen columns of short numbers.
var workerColumns = []struct {
	title string
	chars int
	right bool
}{
	{"Worker", 4, false}, {"PID", 7, true}, {"Status", 9, false}, {"Requests", 8, true}, {"Req/s", 6, true},
	{"Avg", 8, true}, {"p95", 8, true}, {"Exceptions", 5, true}, {"Harakiri", 5, true},
	{"Respawns", 5, true}, {"CPU", 6, true}, {"Memory", 10, true},
}

// workersTab is the live table of the engine's workers and their commands.
type workersTab struct {
	d        *Deck
	rows     []Worker
	table    *widget.Table
	selected int // worker id, 0 for none
	summary  *widget.Label
	empty    *widget.Label
	sel      *widget.Label
	wReload  *widget.Button
	wKill    *widget.Button
	mReload  *widget.Button
	mChain   *widget.Button
	mAdd     *widget.Button
	mRemove  *widget.Button
	unsup    *widget.Label
	root     fyne.CanvasObject
}

func newWorkersTab(d *Deck) *workersTab {
	w := &workersTab{d: d}
	w.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(w.rows), len(workerColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateClip
			return l
		},
		w.updateCell,
	)
	w.table.ShowHeaderColumn = false
	w.table.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.SizeName = theme.SizeNameCaptionText
		return l
	}
	w.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Col >= 0 && id.Col < len(workerColumns) {
			l.SetText(workerColumns[id.Col].title)
			if workerColumns[id.Col].right {
				l.Alignment = fyne.TextAlignTrailing
			} else {
				l.Alignment = fyne.TextAlignLeading
			}
		}
	}
	ch := fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{})
	for i, c := range workerColumns {
		tw := fyne.MeasureText(c.title, theme.CaptionTextSize(), fyne.TextStyle{Bold: true}).Width
		w.table.SetColumnWidth(i, fyne.Max(float32(c.chars)*ch.Width, tw)+theme.InnerPadding()*2)
	}
	w.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(w.rows) {
			w.selected = w.rows[id.Row].ID
		}
		w.updateActions()
	}

	w.summary = widget.NewLabel("")
	w.empty = widget.NewLabel("The engine is not running. Start it to see its workers here.")
	w.empty.Importance = widget.LowImportance
	w.sel = widget.NewLabelWithStyle("Select a worker", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.wReload = widget.NewButtonWithIcon("Graceful reload", theme.ViewRefreshIcon(), func() {
		id := w.selected
		w.workerCommand(fmt.Sprintf("Reloading worker %d…", id), func(p Project, ctx context.Context) error { return p.ReloadWorker(ctx, id) })
	})
	w.wKill = widget.NewButtonWithIcon("Kill", theme.CancelIcon(), func() {
		id := w.selected
		// The death this causes is no crash: the window does not announce
		// it as one.
		pid := w.pidOf(id)
		if pid > 0 {
			d.killed[pid] = true
		}
		w.workerCommandThen(fmt.Sprintf("Killing worker %d…", id), func(p Project, ctx context.Context) error { return p.KillWorker(ctx, id) }, func(err error) {
			if err != nil {
				delete(d.killed, pid)
			}
		})
	})
	w.wKill.Importance = widget.DangerImportance
	w.mReload = widget.NewButtonWithIcon("Reload all", theme.ViewRefreshIcon(), func() { d.Reload(Engine) })
	w.mChain = widget.NewButtonWithIcon("Chain reload", theme.MediaSkipNextIcon(), func() {
		w.workerCommand("Chain reload…", func(p Project, ctx context.Context) error { return p.ChainReload(ctx) })
	})
	w.mAdd = widget.NewButtonWithIcon("Add worker", theme.ContentAddIcon(), func() {
		w.workerCommand("Adding a worker…", func(p Project, ctx context.Context) error { return p.AddWorker(ctx) })
	})
	w.mRemove = widget.NewButtonWithIcon("Remove worker", theme.ContentRemoveIcon(), func() {
		w.workerCommand("Removing a worker…", func(p Project, ctx context.Context) error { return p.RemoveWorker(ctx) })
	})
	w.unsup = widget.NewLabel("")
	w.unsup.Importance = widget.LowImportance
	w.unsup.Wrapping = fyne.TextWrapWord

	master := container.NewHBox(widget.NewLabelWithStyle("All workers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		w.mReload, w.mChain, w.mAdd, w.mRemove)
	worker := container.NewHBox(w.sel, w.wReload, w.wKill)
	top := container.NewVBox(w.summary, master, worker)
	w.root = container.NewBorder(container.NewPadded(top), w.unsup, nil, nil, container.NewStack(w.table, container.NewCenter(w.empty)))
	w.updateActions()
	return w
}

func (w *workersTab) reset() {
	w.rows = nil
	w.selected = 0
	w.table.Hide()
	w.empty.Show()
	w.table.UnselectAll()
	w.table.Refresh()
	w.updateActions()
}

func (w *workersTab) workerCommand(label string, fn func(Project, context.Context) error) {
	w.workerCommandThen(label, fn, nil)
}

// workerCommandThen runs a worker command; done, when set, gets its error
// on the Fyne goroutine.
func (w *workersTab) workerCommandThen(label string, fn func(Project, context.Context) error, done func(error)) {
	d := w.d
	p := d.proj
	d.run(d.selected, label, func(ctx context.Context) error { return fn(p, ctx) }, func(err error) {
		if errors.Is(err, errors.ErrUnsupported) {
			d.status.show(SevWarning, plainError(err))
		}
		if done != nil {
			done(err)
		}
	})
}

// pidOf is worker id's process as the table shows it; 0 if unknown.
func (w *workersTab) pidOf(id int) int {
	for _, r := range w.rows {
		if r.ID == id {
			return r.PID
		}
	}
	return 0
}

func (w *workersTab) update(s Snapshot) {
	// A slot that Remove worker (or the cheaper) emptied has no process:
	// it is counted in the summary, not shown as a row of zeros.
	w.rows = w.rows[:0]
	cheap := 0
	for _, r := range s.Workers {
		if r.Status == "cheap" && r.PID == 0 {
			cheap++
			continue
		}
		w.rows = append(w.rows, r)
	}
	if len(w.rows) == 0 {
		// An empty table still draws its column lines: the hint goes on
		// its own.
		w.table.Hide()
		w.empty.Show()
		if s.Engine.State == Running || s.Engine.State == Degraded {
			setLabel(w.empty, "The engine runs, but has no workers yet.", w.empty.Importance)
		} else {
			setLabel(w.empty, "The engine is not running. Start it to see its workers here.", w.empty.Importance)
		}
	} else {
		w.empty.Hide()
		w.table.Show()
	}
	busy := 0
	for _, r := range w.rows {
		if r.Status == "busy" {
			busy++
		}
	}
	if s.Engine.State == Running || s.Engine.State == Degraded {
		stopped := ""
		if cheap > 0 {
			stopped = fmt.Sprintf(" (%d more stopped: cheap)", cheap)
		}
		setLabel(w.summary, fmt.Sprintf("%d worker%s%s, %d busy  ·  listen queue %d  ·  %s request%s  ·  %s exception%s since start",
			len(w.rows), plural(len(w.rows)), stopped, busy, s.ListenQueue, count(s.Requests), plural(int(s.Requests)),
			count(s.Exceptions), plural(int(s.Exceptions))), w.summary.Importance)
	} else {
		setLabel(w.summary, "", w.summary.Importance)
	}
	w.table.Refresh()
	w.updateActions()
}

func (w *workersTab) updateActions() {
	d := w.d
	caps := Capabilities{}
	if d.proj != nil {
		caps = d.proj.Supports()
	}
	running := len(w.rows) > 0
	_, busy := d.busy[d.selected]
	found := false
	for _, r := range w.rows {
		if r.ID == w.selected {
			found = true
		}
	}
	if found {
		setLabel(w.sel, fmt.Sprintf("Worker %d", w.selected), w.sel.Importance)
	} else {
		setLabel(w.sel, "Select a worker", w.sel.Importance)
	}
	enable(w.wReload, found && !busy && caps.ReloadWorker)
	enable(w.wKill, found && !busy && caps.KillWorker)
	enable(w.mReload, running && !busy)
	enable(w.mChain, running && !busy && caps.ChainReload)
	enable(w.mAdd, running && !busy && caps.AddRemoveWorker)
	enable(w.mRemove, running && !busy && caps.AddRemoveWorker && len(w.rows) > 1)
	var missing []string
	if !caps.ReloadWorker {
		missing = append(missing, "graceful reload of one worker")
	}
	if !caps.ChainReload {
		missing = append(missing, "chain reload")
	}
	if !caps.AddRemoveWorker {
		missing = append(missing, "adding and removing workers")
	}
	if len(missing) > 0 && d.proj != nil {
		setLabel(w.unsup, "Not available with this engine yet: "+joinWords(missing)+".", w.unsup.Importance)
		w.unsup.Show()
	} else {
		w.unsup.Hide()
	}
}

func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	out := ""
	for i, s := range ws {
		switch {
		case i == 0:
			out = s
		case i == len(ws)-1:
			out += " and " + s
		default:
			out += ", " + s
		}
	}
	return out
}

func (w *workersTab) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(w.rows) || id.Col >= len(workerColumns) {
		l.SetText("")
		return
	}
	r := w.rows[id.Row]
	l.Importance = widget.MediumImportance
	if workerColumns[id.Col].right {
		l.Alignment = fyne.TextAlignTrailing
	} else {
		l.Alignment = fyne.TextAlignLeading
	}
	var s string
	switch id.Col {
	case 0:
		s = strconv.Itoa(r.ID)
	case 1:
		s = strconv.Itoa(r.PID)
	case 2:
		s = r.Status
		if len(r.Busy) > 0 {
			s = r.Status + " · " + strings.Join(r.Busy, ", ")
		}
		switch r.Status {
		case "busy":
			l.Importance = widget.HighImportance
		case "starting", "retiring":
			l.Importance = widget.WarningImportance
		case "dead":
			l.Importance = widget.DangerImportance
		}
	case 3:
		s = count(r.Requests)
	case 4:
		s = strconv.FormatFloat(r.RPS, 'f', 1, 64)
	case 5:
		s = latency(r.AvgLatency)
	case 6:
		s = latency(r.P95)
	case 7:
		s = count(r.Exceptions)
		if r.Exceptions > 0 {
			l.Importance = widget.DangerImportance
		}
	case 8:
		s = count(r.Harakiri)
		if r.Harakiri > 0 {
			l.Importance = widget.DangerImportance
		}
	case 9:
		s = count(r.Respawns)
		if r.Respawns > 0 {
			l.Importance = widget.WarningImportance
		}
	case 10:
		s = strconv.FormatFloat(r.CPU, 'f', 1, 64) + "%"
	case 11:
		s = bytesIEC(r.RSS)
	}
	if l.Text != s {
		l.SetText(s)
	} else {
		l.Refresh() // the importance may have changed
	}
}

// count formats a counter with thousands separators.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// latency formats a request duration: "–" when there was none.
func latency(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	// "1.25 s": as wide as "999.9 ms", which the column is sized for.
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// bytesIEC formats a size: "48.2 MiB".
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
