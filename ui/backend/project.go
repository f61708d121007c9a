package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/control"
	"github.com/wsgideck/wsgideck/engine/metrics"
	"github.com/wsgideck/wsgideck/engine/project"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// projectAdapter is deck.Project over a control.Runner and the Deck's
// shared documents of the project.
type projectAdapter struct {
	b    *Backend
	info deck.ProjectInfo
	r    *control.Runner

	// ini and ngx are the Deck's shared documents of the project, each
	// opened on its own when first asked for and its file is there, so
	// that each tab works without the other file; cancelDoc ends the
	// subscription that tells their listeners of changes on disk.
	docMu     sync.Mutex
	ini       *iniDocument
	ngx       *nginxDocument
	cancelDoc func()
}

var _ deck.Project = (*projectAdapter)(nil)

func (p *projectAdapter) Info() deck.ProjectInfo { return p.info }

func (p *projectAdapter) Start(ctx context.Context, t deck.Tier) error {
	return p.r.Start(ctx, control.Tier(t))
}

func (p *projectAdapter) Stop(ctx context.Context, t deck.Tier) error {
	return p.r.Stop(ctx, control.Tier(t))
}

func (p *projectAdapter) Reload(ctx context.Context, t deck.Tier) error {
	return p.r.Reload(ctx, control.Tier(t))
}

func (p *projectAdapter) ReloadWorker(ctx context.Context, id int) error {
	return p.r.ReloadWorker(ctx, id)
}

func (p *projectAdapter) KillWorker(ctx context.Context, id int) error {
	return p.r.KillWorker(ctx, id)
}

func (p *projectAdapter) ChainReload(ctx context.Context) error { return p.r.ChainReload(ctx) }

func (p *projectAdapter) AddWorker(ctx context.Context) error {
	_, err := p.r.AddWorker(ctx)
	return err
}

func (p *projectAdapter) RemoveWorker(ctx context.Context) error {
	_, err := p.r.RemoveWorker(ctx)
	return err
}

func (p *projectAdapter) Supports() deck.Capabilities { return deck.Capabilities(p.r.Supports()) }

func status(s control.Status) deck.Status {
	return deck.Status{State: deck.State(s.State), Addrs: s.Addrs, PID: s.PID, Since: s.Since, Message: s.Message, Config: s.Config}
}

func (p *projectAdapter) Snapshot() deck.Snapshot {
	s := p.r.Snapshot()
	out := deck.Snapshot{
		Time: s.Time, State: deck.State(s.State), Engine: status(s.Engine), Proxy: status(s.Proxy),
		App: s.App, URL: s.URL, ListenQueue: s.ListenQueue, InFlight: s.InFlight,
		Requests: s.Requests, Exceptions: s.Exceptions,
	}
	for _, w := range s.Workers {
		out.Workers = append(out.Workers, deck.Worker{
			ID: w.ID, PID: w.PID, Generation: w.Generation, Status: w.Status, Busy: w.Busy,
			Requests: w.Requests, RPS: w.RPS, AvgLatency: w.AvgLatency, P95: w.P95,
			Exceptions: w.Exceptions, Harakiri: w.Harakiri, Respawns: w.Respawns,
			CPU: w.CPU, RSS: w.RSS, Spawned: w.Spawned,
		})
	}
	return out
}

// windowEvents are the kinds the window reacts to: request and log events
// are left out (the window reads logs and figures by polling), so that
// they are not even delivered, one goroutine wake-up per request and per
// log line.
var windowEvents = []control.EventKind{
	control.EventState, control.EventWorkerSpawned, control.EventWorkerDied, control.EventHarakiri,
	control.EventRecycled, control.EventReloadStarted, control.EventReloadDone, control.EventReloadFailed,
	control.EventConfigChanged,
}

// Subscribe passes on the events the window reacts to (windowEvents).
func (p *projectAdapter) Subscribe(fn func(deck.Event)) (cancel func()) {
	return p.r.Subscribe(func(ev control.Event) {
		fn(deck.Event{Time: ev.Time, Kind: deck.EventKind(ev.Kind), Tier: deck.Tier(ev.Tier),
			Worker: ev.Worker, PID: ev.PID, Message: ev.Message})
	}, windowEvents...)
}

func (p *projectAdapter) WorkerHistory(id int, since time.Time) []metrics.WorkerSample {
	return p.r.WorkerHistory(id, since)
}

func (p *projectAdapter) TotalHistory(since time.Time) []metrics.MasterSample {
	return p.r.TotalHistory(since)
}

func (p *projectAdapter) ProxyHistory(since time.Time) ([]deck.ProxySample, bool) {
	h, ok := p.r.ProxyHistory(since)
	out := make([]deck.ProxySample, 0, len(h))
	for _, s := range h {
		out = append(out, deck.ProxySample{Time: s.Time, RPS: s.RPS, Status: s.Status})
	}
	return out, ok
}

func (p *projectAdapter) Logs(after uint64, max int) []deck.LogLine {
	ls := p.r.Logs(after, max)
	out := make([]deck.LogLine, len(ls))
	for i, l := range ls {
		out[i] = deck.LogLine{Seq: l.Seq, Time: l.Time, Source: deck.LogSource(l.Source), Worker: l.Worker,
			Level: deck.Level(l.Level), Text: l.Text}
	}
	return out
}

func (p *projectAdapter) Traces(after uint64, max int) []deck.Trace {
	ts := p.r.Traces(after, max)
	out := make([]deck.Trace, len(ts))
	for i, t := range ts {
		out[i] = deck.Trace{Seq: t.Seq, Start: t.Start, Method: t.Method, URI: t.URI, Client: t.Client, Status: t.Status, Total: t.Total}
		if h := t.Proxy; h != nil {
			out[i].Proxy = &deck.ProxyHop{Status: h.Status, Duration: h.Duration, Bytes: h.Bytes, Upstream: h.Upstream}
		}
		if h := t.Engine; h != nil {
			out[i].Engine = &deck.EngineHop{Duration: h.Duration, Wait: h.Wait, Worker: h.Worker, PID: h.PID, Status: h.Status,
				Bytes: h.Bytes, Outcome: h.Outcome}
		}
	}
	return out
}

// Check runs the Deck's check of the files on disk; each fix saves both
// files through the report (refusing while the editors hold unsaved edits).
func (p *projectAdapter) Check(ctx context.Context) []deck.Finding {
	rep, err := p.b.deck.Check(ctx, p.info.ID)
	if err != nil {
		return []deck.Finding{{Severity: deck.SevError, Message: err.Error()}}
	}
	var out []deck.Finding
	for _, pr := range rep.Problems {
		out = append(out, deck.Finding{Severity: severity(pr.Severity), Message: pr.Msg,
			Where: []string{where(rep.Dir, pr.File, pr.Line)}})
	}
	var once sync.Mutex // fixes of one report edit the same documents
	for _, f := range rep.Findings {
		df := deck.Finding{Severity: severity(f.Severity), Message: f.Message}
		for _, l := range f.Locations {
			df.Where = append(df.Where, where(rep.Dir, l.File, l.Line))
		}
		if len(f.Fixes) > 0 {
			fix := f.Fixes[0]
			df.FixLabel = fix.Summary
			df.Fix = func(context.Context) error {
				once.Lock()
				defer once.Unlock()
				return fixError(rep.Apply(fix))
			}
		}
		out = append(out, df)
	}
	return out
}

func severity(s confedit.Severity) deck.Severity {
	switch s {
	case confedit.Error:
		return deck.SevError
	case confedit.Warning:
		return deck.SevWarning
	}
	return deck.SevInfo
}

// where is "file:line", the file relative to the project folder.
func where(dir, file string, line int) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !filepathIsOutside(rel) {
		file = rel
	}
	if line <= 0 {
		return file
	}
	return file + ":" + itoa(line)
}

func filepathIsOutside(rel string) bool { return len(rel) >= 2 && rel[:2] == ".." }

// listenLocked subscribes, once, to the Runner's EventConfigChanged (the
// Deck's watcher of the project folder) and fires the listeners of the
// document of the changed file. It runs before the first document opens,
// so that no change after the open is missed. docMu is held.
func (p *projectAdapter) listenLocked() {
	if p.cancelDoc != nil {
		return
	}
	p.cancelDoc = p.r.Subscribe(func(ev control.Event) {
		if ev.Path == "" {
			return
		}
		p.docMu.Lock()
		ini, ngx := p.ini, p.ngx
		p.docMu.Unlock()
		path := filepath.Clean(ev.Path)
		if ini != nil && path == filepath.Clean(ini.Path()) {
			ini.listeners.fire()
		}
		if ngx != nil && path == filepath.Clean(ngx.Path()) {
			ngx.listeners.fire()
		}
	}, control.EventConfigChanged)
}

// Ini is the project's uwsgi.ini, shared and watched, opened on its own:
// it opens and stays editable while nginx.conf is missing, and nginx.conf
// coming back (generated, restored) changes nothing for it. A missing
// uwsgi.ini's error wraps fs.ErrNotExist.
func (p *projectAdapter) Ini() (deck.IniDocument, error) {
	p.docMu.Lock()
	defer p.docMu.Unlock()
	if p.ini != nil {
		return p.ini, nil
	}
	p.listenLocked()
	d, err := p.b.deck.IniDoc(p.info.ID)
	if err != nil {
		return nil, err
	}
	p.ini = newIniDocument(d)
	return p.ini, nil
}

// Nginx is the project's nginx.conf, shared and watched, opened on its
// own (see Ini).
func (p *projectAdapter) Nginx() (deck.NginxDocument, error) {
	p.docMu.Lock()
	defer p.docMu.Unlock()
	if p.ngx != nil {
		return p.ngx, nil
	}
	p.listenLocked()
	d, err := p.b.deck.NginxDoc(p.info.ID)
	if err != nil {
		return nil, err
	}
	p.ngx = newNginxDocument(d, p.info.Dir)
	return p.ngx, nil
}

// GenerateConfig writes a new local uwsgi.ini (Engine) or nginx.conf
// (Proxy) from the settings the project was made with, for a file that
// was deleted. It refuses to replace a file that exists. The new file
// uses the engine port the other file names, so that the two agree.
func (p *projectAdapter) GenerateConfig(t deck.Tier) error {
	pr, ok := p.b.deck.Project(p.info.ID)
	if !ok {
		return fmt.Errorf("no project %q", p.info.ID)
	}
	path, name := pr.Ini, configgen.FileUWSGIIni
	if t == deck.Proxy {
		path, name = pr.Nginx, configgen.FileNginxConf
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: wsgideck generates only a missing file; edit this one instead, or delete it first", path)
	}
	c := pr.Config
	if c.Name == "" {
		c.Name = project.Slug(pr.Name)
	}
	if port := enginePort(pr, t); port != 0 {
		c.AppPort = port
	}
	files, err := configgen.Generate(configgen.Local, c)
	if err != nil {
		return fmt.Errorf("%s cannot be generated from the project's settings: %w", name, err)
	}
	if err := (&atomicfile.Saver{}).WriteFile(path, files[name], 0o644); err != nil {
		return err
	}
	// nginx.conf includes the stock files: put back those missing too.
	if t == deck.Proxy {
		for _, stock := range []string{configgen.FileMimeTypes, configgen.FileUWSGIPar} {
			sp := filepath.Join(filepath.Dir(path), stock)
			if _, err := os.Stat(sp); errors.Is(err, fs.ErrNotExist) {
				if err := (&atomicfile.Saver{}).WriteFile(sp, files[stock], 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// enginePort is the engine's TCP port as the file that stays names it:
// uwsgi.ini's first socket when nginx.conf is generated, nginx.conf's
// first uwsgi_pass when uwsgi.ini is; 0 when it names none.
func enginePort(pr project.Project, generating deck.Tier) int {
	if generating == deck.Proxy {
		ini, err := uwsgiini.Load(pr.Ini)
		if err != nil {
			return 0
		}
		for _, v := range ini.All("socket") {
			if n := tcpPort(v); n != 0 {
				return n
			}
		}
		return 0
	}
	cfg, _ := nginxconf.Load(pr.Nginx, &nginxconf.Options{Prefix: pr.Dir})
	if cfg == nil {
		return 0
	}
	port := 0
	cfg.Main.Walk(func(d *nginxconf.Directive) bool {
		if d.Name == "uwsgi_pass" && port == 0 {
			port = tcpPort(d.Arg(0))
		}
		return port == 0
	})
	return port
}

// tcpPort reads the port of "host:port"; 0 for anything else (a unix
// socket, an upstream name).
func tcpPort(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(addr[i+1:])
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

// ExportConfig reads the project's files; the framework is the one the
// user confirmed when adding the project, as long as the files still serve
// the app it was confirmed for (detection alone may take a Django site
// behind a middleware for plain WSGI).
func (p *projectAdapter) ExportConfig() (configgen.Config, []string, error) {
	c, notes, err := p.b.deck.ProductionConfig(p.info.ID, project.ExportOptions{})
	if err != nil {
		return c, notes, err
	}
	if pr, ok := p.b.deck.Project(p.info.ID); ok && pr.Config.App.Module != "" && sameApp(pr.Config.App, c.App) {
		c.Framework = pr.Config.Framework
	}
	return c, notes, nil
}

// sameApp reports whether a and b name the same callable; an empty
// Callable is uWSGI's default, application.
func sameApp(a, b configgen.App) bool {
	cb := func(s string) string {
		if s == "" {
			return "application"
		}
		return s
	}
	return a.Module == b.Module && cb(a.Callable) == cb(b.Callable) && a.Factory == b.Factory
}

// fixError words a failed fix for the window.
func fixError(err error) error {
	var inv *confedit.InvalidError
	if errors.As(err, &inv) {
		return saveError(inv.Path, err)
	}
	var conflict *confedit.ConflictError
	if errors.As(err, &conflict) {
		return saveError(conflict.Path, err)
	}
	return err
}
