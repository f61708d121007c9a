package deck

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// overviewTab shows both tiers, the request path between them, and the
// cross-tier check's findings with their fixes.
type overviewTab struct {
	d        *Deck
	flow     *widget.Label
	proxy    *tierCard
	engine   *tierCard
	problems *fyne.Container
	checking *widget.Activity
	checked  *widget.Label
	findings []Finding
	checkGen int
	root     fyne.CanvasObject
}

func newOverviewTab(d *Deck) *overviewTab {
	o := &overviewTab{d: d}
	o.flow = widget.NewLabel("")
	o.flow.Wrapping = fyne.TextWrapWord
	o.proxy = newTierCard(d, Proxy, "Proxy", "nginx-compatible: serves static files, passes the rest on")
	o.engine = newTierCard(d, Engine, "Engine", "uWSGI-compatible: a master and Python worker processes")
	o.problems = container.NewVBox()
	o.checking = widget.NewActivity()
	o.checked = widget.NewLabel("")
	o.checked.Importance = widget.LowImportance
	again := widget.NewButtonWithIcon("Check again", theme.ViewRefreshIcon(), o.check)
	again.Importance = widget.LowImportance
	problemsHead := container.NewBorder(nil, nil, heading("Checks"), container.NewHBox(o.checking, o.checked, again))

	var jumps []fyne.CanvasObject
	for _, t := range []struct {
		tab, label string
		icon       fyne.Resource
	}{
		{TabWorkers, "Workers: the live table", theme.ListIcon()},
		{TabGraphs, "Graphs: CPU, memory, requests", theme.GridIcon()},
		{TabLogs, "Logs: engine, workers, proxy", theme.MenuIcon()},
		{TabRequests, "Requests: each one hop by hop", theme.MailForwardIcon()},
		{TabIni, "Edit uwsgi.ini", theme.DocumentIcon()},
		{TabNginx, "Edit nginx.conf", theme.DocumentIcon()},
		{TabExport, "Export for production", theme.UploadIcon()},
	} {
		tab := t.tab
		b := widget.NewButtonWithIcon(t.label, t.icon, func() { d.SelectTab(tab) })
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		jumps = append(jumps, b)
	}
	content := container.NewVBox(
		heading("Request path"), o.flow,
		container.NewGridWithColumns(2, o.proxy.root, o.engine.root),
		widget.NewSeparator(),
		problemsHead, o.problems,
		widget.NewSeparator(),
		heading("Go to"), container.NewGridWithColumns(2, jumps...),
	)
	o.root = container.NewVScroll(container.NewPadded(content))
	return o
}

func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return l
}

func (o *overviewTab) setProject(Project) {
	o.findings = nil
	o.problems.RemoveAll()
	o.checked.SetText("")
	o.check()
}

// check runs the cross-tier check off the Fyne goroutine and shows it.
func (o *overviewTab) check() {
	p := o.d.proj
	if p == nil {
		return
	}
	o.checkGen++
	gen := o.checkGen
	o.checking.Show()
	o.checking.Start()
	o.d.goAsync(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		fs := p.Check(ctx)
		cancel()
		fyne.Do(func() {
			if gen != o.checkGen {
				return
			}
			o.checking.Stop()
			o.checking.Hide()
			o.showFindings(fs)
		})
	})
}

// Findings returns what the last check found, for tests.
func (o *overviewTab) Findings() []Finding { return o.findings }

func (o *overviewTab) showFindings(fs []Finding) {
	o.findings = fs
	o.problems.RemoveAll()
	o.checked.SetText("checked at " + time.Now().Format("15:04:05"))
	if len(fs) == 0 {
		ok := widget.NewLabel("No problems: the ports are free, and the proxy's upstream matches the engine's socket and protocol.")
		ok.Wrapping = fyne.TextWrapWord
		o.problems.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon())), nil, ok))
		return
	}
	for _, f := range fs {
		o.problems.Add(o.findingRow(f))
	}
}

func (o *overviewTab) findingRow(f Finding) fyne.CanvasObject {
	var icon fyne.Resource
	switch f.Severity {
	case SevError:
		icon = theme.NewErrorThemedResource(theme.ErrorIcon())
	case SevWarning:
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	default:
		icon = theme.InfoIcon()
	}
	msg := widget.NewLabel(f.Message)
	msg.Wrapping = fyne.TextWrapWord
	parts := []fyne.CanvasObject{msg}
	if len(f.Where) > 0 {
		where := widget.NewLabel(strings.Join(f.Where, " · "))
		where.Importance = widget.LowImportance
		where.SizeName = theme.SizeNameCaptionText
		parts = append(parts, where)
	}
	var right fyne.CanvasObject
	if f.Fix != nil {
		fix := f.Fix
		b := widget.NewButtonWithIcon("Fix: "+f.FixLabel, theme.ConfirmIcon(), nil)
		b.Importance = widget.HighImportance
		b.OnTapped = func() { o.applyFix(f.FixLabel, fix) }
		right = container.NewCenter(b)
	}
	return container.NewBorder(nil, nil, container.NewCenter(widget.NewIcon(icon)), right, container.New(&tightVBox{}, parts...))
}

// applyFix applies a finding's fix, reloads what runs, and checks again.
func (o *overviewTab) applyFix(label string, fix func(context.Context) error) {
	d := o.d
	p := d.proj
	d.run(d.selected, "Fixing: "+label+"…", func(ctx context.Context) error {
		if err := fix(ctx); err != nil {
			return err
		}
		s := p.Snapshot()
		if s.Engine.State == Running || s.Proxy.State == Running {
			return p.Reload(ctx, Both)
		}
		return nil
	}, func(err error) {
		if err == nil {
			d.status.show(SevInfo, "Fixed: "+label+". The files were saved (the previous versions are in .wsgideck/backups).")
		}
		d.ini.reloadFromDoc()
		d.ngx.reloadFromDoc()
		o.check()
	})
}

// ApplyFirstFix applies the first finding that has a fix, for the smoke run
// and tests; it reports whether there was one.
func (o *overviewTab) ApplyFirstFix() bool {
	for _, f := range o.findings {
		if f.Fix != nil {
			o.applyFix(f.FixLabel, f.Fix)
			return true
		}
	}
	return false
}

func (o *overviewTab) update(s Snapshot) {
	o.proxy.update(s.Proxy, s)
	o.engine.update(s.Engine, s)
	setLabel(o.flow, flowText(s), o.flow.Importance)
}

// flowText describes the request path through the project in one sentence.
func flowText(s Snapshot) string {
	proxy := strings.Join(s.Proxy.Addrs, ", ")
	if proxy == "" {
		proxy = "(no listen address)"
	}
	engine := strings.Join(s.Engine.Addrs, ", ")
	if engine == "" {
		engine = "(no socket)"
	}
	workers := "its workers"
	if n := len(s.Workers); n > 0 {
		workers = fmt.Sprintf("%d worker%s", n, plural(n))
	}
	app := s.App
	if app == "" {
		app = "the app"
	}
	return fmt.Sprintf("Browser  →  proxy on %s  →  engine on %s  →  %s  →  %s", proxy, engine, workers, app)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// tierCard is one tier's state, addresses and commands.
type tierCard struct {
	d       *Deck
	tier    Tier
	dot     *dot
	state   *widget.Label
	addrs   *widget.Label
	uptime  *widget.Label
	config  *widget.Label
	message *widget.Label
	start   *widget.Button
	stop    *widget.Button
	reload  *widget.Button
	root    fyne.CanvasObject
}

func newTierCard(d *Deck, t Tier, title, about string) *tierCard {
	c := &tierCard{d: d, tier: t, dot: newDot(Stopped)}
	c.state = widget.NewLabel("stopped")
	c.addrs = widget.NewLabel("")
	c.uptime = widget.NewLabel("")
	c.config = widget.NewLabel("")
	c.config.Truncation = fyne.TextTruncateEllipsis
	c.message = widget.NewLabel("")
	c.message.Wrapping = fyne.TextWrapWord
	c.message.Importance = widget.DangerImportance
	c.message.Hide()
	c.start = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), func() { d.Start(t) })
	c.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() { d.Stop(t) })
	c.reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { d.Reload(t) })
	aboutL := widget.NewLabel(about)
	aboutL.Importance = widget.LowImportance
	aboutL.Wrapping = fyne.TextWrapWord
	head := container.NewHBox(container.NewCenter(c.dot), widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), c.state)
	form := widget.NewForm(
		widget.NewFormItem("Address", c.addrs),
		widget.NewFormItem("Uptime", c.uptime),
		widget.NewFormItem("Config", c.config),
	)
	body := container.NewVBox(head, aboutL, form, c.message, container.NewHBox(c.start, c.stop, c.reload))
	c.root = widget.NewCard("", "", body)
	return c
}

func (c *tierCard) update(st Status, s Snapshot) {
	_, busy := c.d.busy[c.d.selected]
	c.dot.setState(st.State)
	setLabel(c.state, stateWord(st.State, false), stateImportance(st.State))
	if len(st.Addrs) == 0 {
		setLabel(c.addrs, "none configured", c.addrs.Importance)
	} else {
		setLabel(c.addrs, strings.Join(st.Addrs, ", "), c.addrs.Importance)
	}
	switch {
	case st.State == Running || st.State == Degraded:
		up := humanDuration(s.Time.Sub(st.Since))
		if st.PID > 0 {
			up += fmt.Sprintf("  (in this app, pid %d)", st.PID)
		}
		setLabel(c.uptime, up, c.uptime.Importance)
	case st.Since.IsZero() || st.State == Stopped && s.Time.Sub(st.Since) > 24*time.Hour:
		setLabel(c.uptime, "not running", c.uptime.Importance)
	default:
		setLabel(c.uptime, st.State.String()+" for "+humanDuration(s.Time.Sub(st.Since)), c.uptime.Importance)
	}
	setLabel(c.config, filepath.Base(st.Config), c.config.Importance)
	if st.Message != "" && (st.State == Failed || st.State == Degraded) {
		setLabel(c.message, plainError(fmt.Errorf("%s", st.Message)), c.message.Importance)
		c.message.Show()
	} else {
		c.message.Hide()
	}
	running := st.State == Running || st.State == Degraded
	enable(c.start, !busy && !running)
	enable(c.stop, !busy && (running || st.State == Failed))
	enable(c.reload, !busy && running)
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// humanDuration is a duration as people say it: "45 s", "3 min",
// "2 h 5 min". Past the first minute it drops the seconds: an uptime that
// changed every second would repaint the window every second for nothing.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%d d %d h", s/86400, s%86400/3600)
}
