package deck

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// MaxTraces is how many request traces the Requests tab keeps.
const MaxTraces = 1000

// requestsTab lists the selected project's recent requests; a selected
// one shows the hops it took (browser, proxy, engine, worker, app), what
// each answered and how long each took.
type requestsTab struct {
	d      *Deck
	traces []Trace // oldest first, at most MaxTraces
	sel    uint64  // the Seq of the selected trace; 0 for none
	stale  bool

	list   *widget.List
	empty  *widget.Label
	hint   *widget.Label // in the detail pane while no request is selected
	title  *widget.Label
	hops   *widget.Label
	bar    *hopBar
	detail *fyne.Container
	root   fyne.CanvasObject
}

func newRequestsTab(d *Deck) *requestsTab {
	r := &requestsTab{d: d}
	r.list = widget.NewList(
		func() int { return len(r.traces) },
		func() fyne.CanvasObject { return newLogRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(r.traces) {
				t := &r.traces[id]
				o.(*logRow).set(t.Start.Format("15:04:05"), traceTag(t), traceSummary(t), traceLevel(t))
			}
		})
	r.list.HideSeparators = true
	r.list.OnSelected = func(id widget.ListItemID) {
		if id < len(r.traces) {
			r.sel = r.traces[id].Seq
			r.showDetail()
		}
	}
	// Not wrapped: a wrapping label centred is measured at its narrowest,
	// one word a line, and its height alone made the window grow.
	r.empty = widget.NewLabel("No requests yet: open the project in the browser, and each request shows here.")
	r.empty.Importance = widget.LowImportance
	r.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.hops = widget.NewLabel("")
	r.hops.TextStyle.Monospace = true
	r.bar = newHopBar()
	r.hint = widget.NewLabel("Select a request to see its hops: the proxy, the engine, the worker that ran the app, and the time each took.")
	r.hint.Importance = widget.LowImportance
	r.hint.Wrapping = fyne.TextWrapWord
	r.detail = container.NewVBox(r.hint)
	// The hops are long monospace lines: they scroll, rather than set the
	// tab's (and so the window's) minimum width.
	split := container.NewVSplit(container.NewStack(r.list, container.NewCenter(r.empty)), container.NewScroll(container.NewPadded(r.detail)))
	split.Offset = 0.6
	r.root = split
	return r
}

func (r *requestsTab) reset() {
	r.traces, r.sel = nil, 0
	r.list.UnselectAll()
	r.changed()
	r.showDetail()
}

// push adds new traces, dropping the oldest past MaxTraces.
func (r *requestsTab) push(ts []Trace) {
	if len(ts) == 0 {
		return
	}
	r.traces = append(r.traces, ts...)
	if n := len(r.traces); n > MaxTraces {
		r.traces = append(r.traces[:0], r.traces[n-MaxTraces:]...)
	}
	r.changed()
}

// changed shows the new list when the tab is on screen.
func (r *requestsTab) changed() {
	if r.d.CurrentTab() != TabRequests {
		r.stale = true
		return
	}
	r.stale = false
	if len(r.traces) == 0 {
		r.empty.Show()
	} else {
		r.empty.Hide()
	}
	r.list.Refresh()
	if r.sel != 0 {
		if i := r.index(r.sel); i >= 0 {
			// The selected row keeps its selection as older rows drop.
			r.list.Select(i)
			return
		}
		// The selected request itself dropped out of the list: its row
		// index now holds another request.
		r.sel = 0
		r.list.UnselectAll()
		r.showDetail()
	}
	// Nothing selected: follow the newest, as the Logs tab does.
	r.list.ScrollToBottom()
}

func (r *requestsTab) onShow() {
	if r.stale {
		r.changed()
	}
}

func (r *requestsTab) index(seq uint64) int {
	for i := range r.traces {
		if r.traces[i].Seq == seq {
			return i
		}
	}
	return -1
}

// showDetail shows the selected trace's hops, or the hint when none is
// selected (after a switch to another project, the previous project's
// request must not stay on screen).
func (r *requestsTab) showDetail() {
	i := r.index(r.sel)
	if i < 0 {
		if len(r.detail.Objects) != 1 || r.detail.Objects[0] != r.hint {
			r.detail.Objects = []fyne.CanvasObject{r.hint}
			r.detail.Refresh()
		}
		return
	}
	t := &r.traces[i]
	r.title.SetText(fmt.Sprintf("%s %s  →  %d  in %s", t.Method, t.URI, t.Status, ms1(t.Total)))
	r.hops.SetText(strings.Join(traceHops(t, r.d.snaps[r.d.selected]), "\n"))
	r.bar.set(t)
	if len(r.detail.Objects) != 3 {
		r.detail.Objects = []fyne.CanvasObject{r.title, r.bar, r.hops}
		r.detail.Refresh()
	}
}

// traceHops describes each hop of t, in the order the request went.
func traceHops(t *Trace, snap Snapshot) []string {
	var out []string
	proxyAt := "the proxy"
	if len(snap.Proxy.Addrs) > 0 {
		proxyAt = "proxy " + snap.Proxy.Addrs[0]
	}
	browser := "browser"
	if t.Client != "" {
		browser += " " + t.Client
	}
	if p := t.Proxy; p != nil {
		switch {
		case t.Engine != nil:
			out = append(out, fmt.Sprintf("%s → %s: %s of its own, passed it to the engine at %s", browser, proxyAt, ms1(t.ProxyOwn()), p.Upstream))
		case p.Upstream != "":
			out = append(out, fmt.Sprintf("%s → %s: %s, answered %d: the engine at %s did not answer (is it running? see Logs)", browser, proxyAt, ms1(p.Duration), p.Status, p.Upstream))
		default:
			out = append(out, fmt.Sprintf("%s → %s: %s, answered %d alone (a static file, a redirect or an error page): no engine hop", browser, proxyAt, ms1(p.Duration), p.Status))
		}
	}
	if e := t.Engine; e != nil {
		from := "proxy"
		if t.Proxy == nil {
			from = browser
		}
		who := "the master answered itself"
		if e.Worker > 0 {
			who = "worker " + strconv.Itoa(e.Worker) + " (pid " + strconv.Itoa(e.PID) + ") ran the app"
		}
		if e.Wait > 0 {
			// All the cores were busy: the request queued in the master.
			out = append(out, fmt.Sprintf("%s → engine: waited %s for a free worker (all were busy)", from, ms1(e.Wait)))
			from = "engine"
		}
		out = append(out, fmt.Sprintf("%s → %s: %s, answered %d, %s, %s",
			engineFrom(from), who, ms1(e.Duration-e.Wait), e.Status, outcomeText(e.Outcome), bytesIEC(uint64(max(e.Bytes, 0)))))
	}
	return out
}

func outcomeText(o string) string {
	switch o {
	case "ok", "":
		return "ok"
	case "exception":
		return "the app raised an exception (its traceback is in Logs)"
	case "worker-lost":
		return "the worker died under the request"
	case "harakiri":
		return "killed by harakiri"
	}
	return o
}

// traceTag is the source column: who ran the request.
func traceTag(t *Trace) string {
	switch {
	case t.Engine != nil && t.Engine.Worker > 0:
		return "worker " + strconv.Itoa(t.Engine.Worker)
	case t.Engine != nil:
		return "engine"
	}
	return "proxy"
}

func traceSummary(t *Trace) string {
	return fmt.Sprintf("%s %s  →  %d  %s", t.Method, t.URI, t.Status, ms1(t.Total))
}

func traceLevel(t *Trace) Level {
	switch {
	case t.Status >= 500 || t.Status == 0:
		return LevelError
	case t.Status >= 400:
		return LevelWarn
	}
	return LevelInfo
}

func ms1(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// VisibleRequests returns the Requests tab's rows as they read, for tests
// and the smoke run.
func (d *Deck) VisibleRequests() []string {
	out := make([]string, len(d.requests.traces))
	for i := range d.requests.traces {
		t := &d.requests.traces[i]
		out[i] = traceTag(t) + ": " + traceSummary(t)
	}
	return out
}

// hopBar draws a trace's time split between the proxy's own share and the
// engine's, each as wide as its share of the total.
type hopBar struct {
	widget.BaseWidget
	proxy, engine float32 // fractions of the total
}

func newHopBar() *hopBar {
	b := &hopBar{}
	b.ExtendBaseWidget(b)
	return b
}

func (b *hopBar) set(t *Trace) {
	b.proxy, b.engine = 0, 0
	if t.Total > 0 {
		if t.Engine != nil {
			b.engine = float32(min(1, float64(t.Engine.Duration)/float64(t.Total)))
		}
		if t.Proxy != nil {
			b.proxy = 1 - b.engine
		}
	} else if t.Engine != nil {
		b.engine = 1
	}
	b.Refresh()
}

func (b *hopBar) CreateRenderer() fyne.WidgetRenderer {
	r := &hopBarRenderer{b: b, proxy: canvas.NewRectangle(nil), engine: canvas.NewRectangle(nil)}
	r.Refresh()
	return r
}

type hopBarRenderer struct {
	b             *hopBar
	proxy, engine *canvas.Rectangle
}

func (r *hopBarRenderer) Layout(size fyne.Size) {
	pw := size.Width * r.b.proxy
	r.proxy.Move(fyne.NewPos(0, 0))
	r.proxy.Resize(fyne.NewSize(pw, size.Height))
	r.engine.Move(fyne.NewPos(pw, 0))
	r.engine.Resize(fyne.NewSize(size.Width*r.b.engine, size.Height))
}

func (r *hopBarRenderer) MinSize() fyne.Size {
	return fyne.NewSize(100, theme.CurrentForWidget(r.b).Size(theme.SizeNamePadding)*2)
}

func (r *hopBarRenderer) Refresh() {
	th := theme.CurrentForWidget(r.b)
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.proxy.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.engine.FillColor = th.Color(theme.ColorNameSuccess, v)
	r.Layout(r.b.Size())
	r.proxy.Refresh()
	r.engine.Refresh()
}

func (r *hopBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.proxy, r.engine}
}

func (r *hopBarRenderer) Destroy() {}

// engineFrom names the hop into the worker: from the proxy or the browser
// through the engine, or from the engine's queue.
func engineFrom(from string) string {
	if from == "engine" {
		return "engine"
	}
	return from + " → engine"
}
