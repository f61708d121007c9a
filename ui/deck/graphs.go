package deck

import (
	"math"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/engine/metrics"
	"github.com/wsgideck/wsgideck/ui/chart"
)

// graphsTab holds the live charts. Samples come from the backend's ring
// buffers through the poller; each poll brings only the samples newer than
// the last, and a project switch refills the charts from the whole history.
type graphsTab struct {
	d       *Deck
	cpu     *chart.Chart
	rss     *chart.Chart
	rps     *chart.Chart
	latency *chart.Chart
	status  *chart.Chart
	queue   *chart.Chart
	statusT *widget.Label
	charts  []*chart.Chart
	proxyOK bool
	colored bool // the status and total series have their theme colours
	root    fyne.CanvasObject
}

func newGraphsTab(d *Deck) *graphsTab {
	g := &graphsTab{d: d}
	mk := func(u chart.Unit, empty string) *chart.Chart {
		c := chart.NewChart(u)
		c.EmptyText = empty
		g.charts = append(g.charts, c)
		return c
	}
	idle := "Start the engine to see live samples"
	g.cpu = mk(chart.Percent, idle)
	g.cpu.SoftMax = 100
	g.rss = mk(chart.Bytes, idle)
	g.rps = mk(chart.RequestsPerSecond, idle)
	g.latency = mk(chart.Milliseconds, "No requests yet")
	g.status = mk(chart.RequestsPerSecond, "No responses yet")
	g.queue = mk(chart.Count, idle)
	g.statusT = widget.NewLabelWithStyle("Responses by status class", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	g.statusT.Truncation = fyne.TextTruncateEllipsis

	// A fresh start has seconds of data, not minutes: start narrow.
	for _, c := range g.charts {
		c.Window = time.Minute
	}
	sel := chart.NewWindowSelector(time.Minute, func(w time.Duration) {
		for _, c := range g.charts {
			c.SetWindow(w)
		}
	})
	hint := widget.NewLabel("One sample per second. Click a legend entry to highlight it; right-click to hide it.")
	hint.Importance = widget.LowImportance
	hint.Truncation = fyne.TextTruncateEllipsis
	top := container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel("Window"), sel), nil, hint)
	card := func(title fyne.CanvasObject, c *chart.Chart) fyne.CanvasObject {
		return container.NewBorder(title, nil, nil, nil, c)
	}
	title := func(s string) fyne.CanvasObject {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	grid := container.NewGridWithColumns(2,
		card(title("CPU per worker (% of one core)"), g.cpu),
		card(title("Memory per worker (RSS)"), g.rss),
		card(title("Requests per second"), g.rps),
		card(title("Latency (p50 and p95)"), g.latency),
		card(g.statusT, g.status),
		card(title("Listen queue and requests in flight"), g.queue),
	)
	g.root = container.NewBorder(container.NewPadded(top), nil, nil, nil, container.NewVScroll(container.NewPadded(grid)))
	return g
}

// reset drops every series: a new project, or a restart.
func (g *graphsTab) reset() {
	for _, c := range g.charts {
		for _, n := range c.Names() {
			c.RemoveSeries(n)
		}
		c.Refresh()
	}
	g.proxyOK, g.colored = false, false
	g.updateStatusTitle()
}

func (g *graphsTab) updateStatusTitle() {
	if g.proxyOK {
		g.statusT.SetText("Proxy responses by status class, per second")
	} else {
		// The proxy has no per-request hook yet: these are the app's
		// responses, as the engine counted them.
		g.statusT.SetText("App responses by status class, per second (as the engine saw them)")
	}
}

func workerName(id int) string { return "worker " + strconv.Itoa(id) }

// refresh redraws the charts (when the tab comes on screen).
func (g *graphsTab) refresh() {
	for _, c := range g.charts {
		c.Refresh()
	}
}

// push adds a poll's new samples to the charts, with one refresh per chart
// when the tab is on screen (the samples are kept either way).
func (g *graphsTab) push(r pollResult, visible bool) {
	if len(r.workers) == 0 && len(r.totals) == 0 && len(r.proxy) == 0 {
		return
	}
	for id, samples := range r.workers {
		name := workerName(id)
		for _, s := range samples {
			cpu, rss := math.NaN(), math.NaN()
			if s.Proc {
				cpu, rss = s.CPUPercent, float64(s.RSS)
			}
			g.cpu.Push(name, s.Time, cpu)
			g.rss.Push(name, s.Time, rss)
			g.rps.Push(name, s.Time, s.RPS)
		}
	}
	for _, s := range r.totals {
		g.rps.Push("total", s.Time, s.RPS)
		p50, p95 := math.NaN(), math.NaN()
		if s.Requests > 0 {
			p50, p95 = ms(s.P50), ms(s.P95)
		}
		g.latency.Push("p50", s.Time, p50)
		g.latency.Push("p95", s.Time, p95)
		g.queue.Push("listen queue", s.Time, float64(s.ListenQueue))
		g.queue.Push("in flight", s.Time, float64(s.InFlight))
		if !r.proxyOK {
			g.pushStatus(s.Time, s.Status, secondsOf(r.totals, s))
		}
	}
	if r.proxyOK != g.proxyOK {
		g.proxyOK = r.proxyOK
		g.updateStatusTitle()
	}
	for _, s := range r.proxy {
		// ProxySample.Status counts one interval; RPS says its length.
		g.pushRate(s.Time, s.Status, s.RPS)
	}
	if !g.colored {
		// SetSeriesColor refreshes: once is enough.
		g.colored = true
		g.status.SetSeriesColor("5xx", theme.ColorNameError)
		g.status.SetSeriesColor("4xx", theme.ColorNameWarning)
		g.status.SetSeriesColor("2xx", theme.ColorNameSuccess)
		g.rps.SetSeriesColor("total", theme.ColorNameForeground)
	}
	if visible {
		g.refresh()
	}
}

// secondsOf is the length of the interval sample s covers, from its RPS.
func secondsOf(_ []metrics.MasterSample, s metrics.MasterSample) float64 {
	if s.RPS > 0 && s.Requests > 0 {
		return float64(s.Requests) / s.RPS
	}
	return 1
}

func (g *graphsTab) pushStatus(t time.Time, c metrics.StatusCounts, secs float64) {
	if secs <= 0 {
		secs = 1
	}
	g.status.Push("2xx", t, float64(c.Success)/secs)
	g.status.Push("3xx", t, float64(c.Redirection)/secs)
	g.status.Push("4xx", t, float64(c.ClientError)/secs)
	g.status.Push("5xx", t, float64(c.ServerError)/secs)
}

func (g *graphsTab) pushRate(t time.Time, c metrics.StatusCounts, rps float64) {
	total := float64(c.Success + c.Redirection + c.ClientError + c.ServerError + c.Informational + c.Other)
	secs := 1.0
	if rps > 0 && total > 0 {
		secs = total / rps
	}
	g.pushStatus(t, c, secs)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
