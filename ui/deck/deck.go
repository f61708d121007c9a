package deck

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Tab names, in the order the window shows them. The smoke run and the
// keyboard shortcuts (Ctrl+1...) use them too.
const (
	TabOverview = "Overview"
	TabWorkers  = "Workers"
	TabGraphs   = "Graphs"
	TabIni      = "uwsgi.ini"
	TabNginx    = "nginx.conf"
	TabLogs     = "Logs"
	TabRequests = "Requests"
	TabExport   = "Export"
)

// Tabs lists the tab names in order.
var Tabs = []string{TabOverview, TabWorkers, TabGraphs, TabIni, TabNginx, TabLogs, TabRequests, TabExport}

// Options configure a Deck.
type Options struct {
	App     fyne.App
	Window  fyne.Window
	Backend Backend
	// Tick is how often the window reads the backend (state, samples,
	// logs). 0 means DefaultTick; a negative value starts no polling
	// goroutine at all, and the caller calls Refresh (tests do).
	Tick time.Duration
	// OpenURL opens a link in the browser; nil means App.OpenURL.
	OpenURL func(*url.URL) error
	// Notify shows a desktop notification; nil means App.SendNotification.
	Notify func(title, content string)
	// OnSelect is called after the selected project changed (not for the
	// first project New shows).
	OnSelect func(id string)
	// Go runs background work (commands, checks, detection); nil means a
	// new goroutine. Tests pass a func that runs it at once, on the
	// calling goroutine, which makes every command synchronous.
	Go func(work func())
}

// DefaultTick is how often the window refreshes from the backend.
const DefaultTick = time.Second

// Deck is wsgideck's main window content: the project sidebar, the
// toolbar and the tabs of the selected project.
//
// Everything in a Deck belongs to the Fyne goroutine. The backend is read
// by a polling goroutine, whose results are applied through fyne.Do; the
// commands (start, stop, save...) run on goroutines of their own and report
// back the same way.
type Deck struct {
	opts Options
	b    Backend
	app  fyne.App
	win  fyne.Window

	projects []ProjectInfo
	snaps    map[string]Snapshot
	selected string
	proj     Project
	gen      int // bumped on every project switch; stale poll results are dropped

	busy map[string]string // project id -> the work in progress, "Starting..."

	sidebar  *sidebar
	toolbar  *toolbar
	tabs     *container.AppTabs
	tabItems map[string]*container.TabItem
	overview *overviewTab
	workers  *workersTab
	graphs   *graphsTab
	ini      *configTab
	ngx      *configTab
	logs     *logsTab
	requests *requestsTab
	export   *exportTab
	status   *statusBar
	root     fyne.CanvasObject

	poll      *poller
	cancelSub func()
	notified  map[EventKind]time.Time
	// killed holds the worker pids whose death is announced already, or
	// was asked for: killed on the user's request, or by harakiri. Their
	// deaths are no crash.
	killed   map[int]bool
	stopOnce sync.Once
	stopPoll chan struct{}
	pollDone chan struct{}
}

// New builds the window content for b and selects the first project.
func New(o Options) *Deck {
	if o.Tick == 0 {
		o.Tick = DefaultTick
	}
	if o.App == nil {
		o.App = fyne.CurrentApp()
	}
	d := &Deck{
		opts:     o,
		b:        o.Backend,
		app:      o.App,
		win:      o.Window,
		snaps:    map[string]Snapshot{},
		busy:     map[string]string{},
		notified: map[EventKind]time.Time{},
		killed:   map[int]bool{},
		tabItems: map[string]*container.TabItem{},
		stopPoll: make(chan struct{}),
		pollDone: make(chan struct{}),
	}
	d.poll = newPoller(d.b)
	d.status = newStatusBar()
	d.sidebar = newSidebar(d)
	d.toolbar = newToolbar(d)
	d.overview = newOverviewTab(d)
	d.workers = newWorkersTab(d)
	d.graphs = newGraphsTab(d)
	d.ini = newIniTab(d)
	d.ngx = newNginxTab(d)
	d.logs = newLogsTab(d)
	d.requests = newRequestsTab(d)
	d.export = newExportTab(d)

	d.tabs = container.NewAppTabs()
	add := func(name string, icon fyne.Resource, content fyne.CanvasObject) {
		ti := container.NewTabItemWithIcon(name, icon, content)
		d.tabItems[name] = ti
		d.tabs.Append(ti)
	}
	add(TabOverview, theme.HomeIcon(), d.overview.root)
	add(TabWorkers, theme.ListIcon(), d.workers.root)
	add(TabGraphs, theme.GridIcon(), d.graphs.root)
	add(TabIni, theme.DocumentIcon(), d.ini.root)
	add(TabNginx, theme.DocumentIcon(), d.ngx.root)
	add(TabLogs, theme.MenuIcon(), d.logs.root)
	add(TabRequests, theme.MailForwardIcon(), d.requests.root)
	add(TabExport, theme.UploadIcon(), d.export.root)
	d.tabs.OnSelected = func(ti *container.TabItem) { d.tabShown(ti.Text) }

	main := container.NewBorder(d.toolbar.root, nil, nil, nil, d.tabs)
	split := container.NewHSplit(d.sidebar.root, main)
	split.Offset = 0.19
	d.root = container.NewBorder(nil, d.status.root, nil, nil, split)

	d.reloadProjects()
	if len(d.projects) > 0 {
		// The first project shows until the caller selects the one it
		// remembers. OnSelect is not told: the app remembers what it is
		// told, and would forget the last project before reading it.
		onSelect := d.opts.OnSelect
		d.opts.OnSelect = nil
		d.SelectProject(d.projects[0].ID)
		d.opts.OnSelect = onSelect
	}
	if o.Tick > 0 {
		go d.pollLoop()
	} else {
		close(d.pollDone)
	}
	return d
}

// Content is the window's content.
func (d *Deck) Content() fyne.CanvasObject { return d.root }

// Selected returns the selected project's id.
func (d *Deck) Selected() string { return d.selected }

// SelectProject shows project id; an unknown id is ignored.
func (d *Deck) SelectProject(id string) {
	p := d.b.Project(id)
	if p == nil {
		return
	}
	if d.cancelSub != nil {
		d.cancelSub()
	}
	d.selected, d.proj = id, p
	d.killed = map[int]bool{} // the pids of the other project's workers
	d.gen++
	d.poll.setProject(p, d.gen)
	gen := d.gen
	d.cancelSub = p.Subscribe(func(ev Event) {
		fyne.Do(func() {
			if d.gen == gen {
				d.event(ev)
			}
		})
		d.poll.kick()
	})
	d.sidebar.selectID(id)
	d.graphs.reset()
	d.logs.reset()
	d.requests.reset()
	d.workers.reset()
	d.ini.setProject(p)
	d.ngx.setProject(p)
	d.export.setProject(p)
	d.overview.setProject(p)
	d.toolbar.update()
	if d.opts.OnSelect != nil {
		d.opts.OnSelect(id)
	}
	d.Refresh()
}

// SelectTab shows the named tab (one of Tabs).
func (d *Deck) SelectTab(name string) {
	if ti, ok := d.tabItems[name]; ok {
		d.tabs.Select(ti)
	}
}

// CurrentTab returns the name of the tab on screen.
func (d *Deck) CurrentTab() string {
	if d.tabs == nil {
		return ""
	}
	if ti := d.tabs.Selected(); ti != nil {
		return ti.Text
	}
	return ""
}

func (d *Deck) tabShown(name string) {
	snap := d.snaps[d.selected]
	switch name {
	case TabOverview:
		d.overview.update(snap)
		d.overview.check()
	case TabWorkers:
		d.workers.update(snap)
	case TabGraphs:
		d.graphs.refresh()
	case TabIni:
		d.ini.shown()
	case TabNginx:
		d.ngx.shown()
	case TabExport:
		d.export.shown()
	case TabLogs:
		d.logs.onShow()
	case TabRequests:
		d.requests.onShow()
	}
}

// reloadProjects rereads the project list.
func (d *Deck) reloadProjects() {
	d.projects = d.b.Projects()
	d.sidebar.refresh()
}

// Refresh brings the window up to date with the backend. With a polling
// goroutine it asks that goroutine to poll now (only it may poll: the
// cursors are its own); without one (Tick < 0, in tests) it polls and
// applies the result on the calling goroutine.
func (d *Deck) Refresh() {
	if d.opts.Tick > 0 {
		d.poll.kick()
		return
	}
	d.apply(d.poll.poll())
}

func (d *Deck) pollLoop() {
	defer close(d.pollDone)
	t := time.NewTicker(d.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-d.stopPoll:
			return
		case <-t.C:
		case <-d.poll.kicked:
		}
		r := d.poll.poll()
		fyne.Do(func() { d.apply(r) })
	}
}

// apply shows a poll result.
func (d *Deck) apply(r pollResult) {
	for id, s := range r.snaps {
		d.snaps[id] = s
	}
	d.sidebar.update()
	if r.gen != d.gen {
		return // the selection changed since: its data is stale
	}
	snap := d.snaps[d.selected]
	d.toolbar.update()
	// The views off screen are brought up to date when shown.
	switch d.CurrentTab() {
	case TabOverview:
		d.overview.update(snap)
	case TabWorkers:
		d.workers.update(snap)
	}
	d.graphs.push(r, d.CurrentTab() == TabGraphs)
	d.logs.push(r.logs)
	d.requests.push(r.traces)
}

// Snapshot returns the selected project's last known state.
func (d *Deck) Snapshot() Snapshot { return d.snaps[d.selected] }

// run does work for project id on a goroutine of its own, showing label
// (in the toolbar, while it runs) and the outcome. done, when set, is
// called on the Fyne goroutine afterwards, with work's error.
func (d *Deck) run(id, label string, work func(ctx context.Context) error, done func(error)) {
	if _, busy := d.busy[id]; busy {
		d.status.show(SevWarning, "Please wait: "+d.busy[id])
		return
	}
	d.busy[id] = label
	d.toolbar.update()
	d.sidebar.update()
	d.status.working(label)
	d.goAsync(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := work(ctx)
		cancel()
		fyne.Do(func() {
			delete(d.busy, id)
			d.status.done()
			if err != nil && !errors.Is(err, context.Canceled) {
				d.status.show(SevError, plainError(err))
			}
			if done != nil {
				done(err)
			}
			d.toolbar.update()
			d.Refresh()
		})
	})
}

// goAsync runs work in the background (see Options.Go).
func (d *Deck) goAsync(work func()) {
	if d.opts.Go != nil {
		d.opts.Go(work)
		return
	}
	go work()
}

// Busy reports the work in progress for the selected project, or "".
func (d *Deck) Busy() string { return d.busy[d.selected] }

// Start, Stop and Reload act on the selected project; the toolbar, the
// menu and the keyboard shortcuts call them.
func (d *Deck) Start(t Tier) {
	d.command(t, "Starting", func(p Project, ctx context.Context) error { return p.Start(ctx, t) })
}
func (d *Deck) Stop(t Tier) {
	d.command(t, "Stopping", func(p Project, ctx context.Context) error { return p.Stop(ctx, t) })
}
func (d *Deck) Reload(t Tier) {
	d.command(t, "Reloading", func(p Project, ctx context.Context) error { return p.Reload(ctx, t) })
}

func (d *Deck) command(t Tier, verb string, fn func(Project, context.Context) error) {
	p := d.proj
	if p == nil {
		return
	}
	if err := folderGone(p.Info()); err != nil && verb != "Stopping" {
		d.status.show(SevError, plainError(err))
		d.showError(p.Info().Name+" cannot run", err)
		return
	}
	if verb != "Stopping" {
		action := map[string]string{"Starting": "start", "Reloading": "reload"}[verb]
		if err := configMissing(p.Info(), t, action); err != nil {
			d.status.show(SevError, plainError(err))
			d.showError(p.Info().Name+" cannot "+action, err)
			return
		}
	}
	if why := refused(verb, t, d.Snapshot(), p.Info().Name); why != "" {
		d.status.show(SevInfo, why)
		return
	}
	label := verb + " the " + t.String() + "…"
	d.run(d.selected, label, func(ctx context.Context) error { return fn(p, ctx) }, func(err error) {
		if err != nil {
			d.overview.check()
			return
		}
		d.status.show(SevInfo, verb[:len(verb)-3]+"ed: "+t.String())
		if verb == "Starting" {
			d.overview.check()
		}
	})
}

// OpenInBrowser opens the selected project's proxy address.
func (d *Deck) OpenInBrowser() {
	s := d.Snapshot()
	if s.URL == "" {
		d.status.show(SevWarning, "The proxy has no address to open: check the listen directive in nginx.conf.")
		return
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		d.status.show(SevError, err.Error())
		return
	}
	open := d.opts.OpenURL
	if open == nil {
		open = d.app.OpenURL
	}
	if err := open(u); err != nil {
		d.status.show(SevError, "Could not open the browser: "+err.Error())
	}
}

// event reacts to a backend event at once, rather than at the next tick.
func (d *Deck) event(ev Event) {
	switch ev.Kind {
	case EventWorkerDied:
		if d.killed[ev.PID] {
			delete(d.killed, ev.PID)
			return
		}
		d.notify(ev.Kind, "A worker crashed", ev.Message)
	case EventHarakiri:
		if ev.PID > 0 {
			d.killed[ev.PID] = true
		}
		d.notify(ev.Kind, "Harakiri: a worker was killed", ev.Message)
	case EventReloadFailed:
		d.notify(ev.Kind, "Reload failed", ev.Message)
		d.status.show(SevError, "Reload failed: "+ev.Message)
	case EventConfigChanged:
		d.ini.reloadFromDoc()
		d.ngx.reloadFromDoc()
	}
}

// notify sends a desktop notification, at most one per kind every 10 s so
// that a crash loop does not flood the desktop.
func (d *Deck) notify(kind EventKind, title, content string) {
	now := time.Now()
	if t, ok := d.notified[kind]; ok && now.Sub(t) < 10*time.Second {
		return
	}
	d.notified[kind] = now
	name := d.selected
	for _, p := range d.projects {
		if p.ID == d.selected {
			name = p.Name
		}
	}
	title = name + ": " + title
	if d.opts.Notify != nil {
		d.opts.Notify(title, content)
		return
	}
	d.app.SendNotification(fyne.NewNotification(title, content))
}

// StartAll and StopAll act on every project (the tray menu).
func (d *Deck) StartAll() {
	for _, pi := range d.projects {
		p := d.b.Project(pi.ID)
		d.run(pi.ID, "Starting "+pi.Name+"…", func(ctx context.Context) error { return p.Start(ctx, Both) }, nil)
	}
}

func (d *Deck) StopAll() {
	for _, pi := range d.projects {
		p := d.b.Project(pi.ID)
		d.run(pi.ID, "Stopping "+pi.Name+"…", func(ctx context.Context) error { return p.Stop(ctx, Both) }, nil)
	}
}

// Shutdown stops polling and everything the backend started. It blocks, so
// call it off the Fyne goroutine, or before the app's loop ends.
func (d *Deck) Shutdown(ctx context.Context) error {
	d.stopOnce.Do(func() { close(d.stopPoll) })
	<-d.pollDone
	return d.b.StopAll(ctx)
}

// showError shows err in a dialog, in plain words.
func (d *Deck) showError(title string, err error) {
	if d.win == nil {
		d.status.show(SevError, title+": "+plainError(err))
		return
	}
	msg := widget.NewLabel(plainError(err))
	msg.Wrapping = fyne.TextWrapWord
	dlg := dialog.NewCustom(title, "Close", container.NewPadded(msg), d.win)
	dlg.Resize(fyne.NewSize(520, 0))
	dlg.Show()
}

// plainError is an error message as a sentence.
func plainError(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	if r := []rune(s); r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
		s = string(r)
	}
	return s
}

// VisibleLogLines returns the text of the log lines the Logs tab shows
// (after its filters).
func (d *Deck) VisibleLogLines() []string { return d.logs.Shown() }

// ExportTo writes the production bundle shown on the Export tab into dir.
func (d *Deck) ExportTo(dir string) {
	d.export.shown()
	d.export.WriteTo(dir)
}

// FirstFrame returns a channel that receives the time the window's first
// frame was painted (the startup benchmark's end point).
func (d *Deck) FirstFrame() <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		<-d.status.probe.first
		ch <- d.status.probe.firstAt
	}()
	return ch
}
