package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/project"
	"github.com/wsgideck/wsgideck/engine/watch"
)

// DeckOptions configure a Deck.
type DeckOptions struct {
	// Store says where the project list and the demo live (engine/project).
	Store project.StoreOptions
	// Python is the workers' interpreter for a project that names none
	// (Project.Python) and whose uwsgi.ini names no home (virtualenv);
	// "" means python3 on PATH.
	Python string
	// LogLines, SampleInterval and ReadyTimeout are each Runner's (see
	// RunnerOptions).
	LogLines       int
	SampleInterval time.Duration
	ReadyTimeout   time.Duration
	// Check holds the cross-tier check's lookups, for every project.
	Check crosscheck.Options
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf receives problems that concern no command (a folder that
	// cannot be watched); nil discards them.
	Logf Logf
}

// Deck is the set of projects and what runs them: one Runner per project,
// created when first asked for, and the project's two files as documents
// shared by every editor. Its methods are safe for concurrent use.
type Deck struct {
	opts  DeckOptions
	store *project.Store

	mu      sync.Mutex
	runners map[string]*Runner
	docs    map[string]*sharedDocs
	closed  bool
}

// sharedDocs are a project's documents, watched for changes on disk.
// Each is opened on its own, when first asked for and when its file is
// there (nil until then); the watcher runs from the first.
type sharedDocs struct {
	ini     *confedit.INIDoc
	ngx     *confedit.NginxDoc
	watcher *watch.Watcher
	done    chan struct{}
}

// list is the documents opened so far.
func (s *sharedDocs) list() []confedit.Document {
	var out []confedit.Document
	if s.ini != nil {
		out = append(out, s.ini)
	}
	if s.ngx != nil {
		out = append(out, s.ngx)
	}
	return out
}

// track has the watcher hand changes of doc's files to doc.
func (s *sharedDocs) track(doc confedit.Document) {
	if s.watcher != nil {
		s.watcher.Track(doc)
	}
}

// OpenDeck reads the project list (putting the demo's files in place) and
// returns a Deck with nothing running.
func OpenDeck(opts DeckOptions) (*Deck, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	store, err := project.OpenStore(opts.Store)
	if err != nil {
		return nil, err
	}
	return &Deck{opts: opts, store: store, runners: map[string]*Runner{}, docs: map[string]*sharedDocs{}}, nil
}

func (d *Deck) logf(format string, args ...any) {
	if d.opts.Logf != nil {
		d.opts.Logf(format, args...)
	}
}

// Store is the project list, for what the Deck does not wrap (Rename,
// ResetDemo, ListPath).
func (d *Deck) Store() *project.Store { return d.store }

// Projects lists the projects, the demo first.
func (d *Deck) Projects() []project.Project { return d.store.Projects() }

// Project returns the project with id.
func (d *Deck) Project(id string) (project.Project, bool) { return d.store.Get(id) }

// Detect looks at a folder, without changing it: the apps, frameworks,
// virtualenvs and static folders in it, with evidence.
func (d *Deck) Detect(dir string) (*detect.Result, error) { return detect.Detect(dir) }

// Propose detects the app in dir and proposes a local configuration with
// ports no project uses.
func (d *Deck) Propose(dir string) (*project.Proposal, error) { return d.store.Propose(dir) }

// Create writes the proposal's configs and adds the project.
func (d *Deck) Create(pr *project.Proposal, name string, opts project.InitOptions) (project.Project, *project.InitResult, error) {
	return d.store.Create(pr, name, opts)
}

// Add adds a folder whose configs already exist.
func (d *Deck) Add(p project.Project) (project.Project, error) { return d.store.Add(p) }

// Update changes a project's settings (see project.Store.Update). While
// the project runs, its folder and files cannot change. A Runner takes the
// other settings (name, interpreter) when it is made: Update replaces a
// stopped project's Runner, so ask Runner again afterwards (and subscribe
// again); a running one keeps its settings until the next Update after it
// stopped.
func (d *Deck) Update(id string, fn func(p *project.Project) error) error {
	before, ok := d.store.Get(id)
	if !ok {
		return fmt.Errorf("no project %q", id)
	}
	d.mu.Lock()
	r := d.runners[id]
	d.mu.Unlock()
	running := r != nil && !r.idle()
	err := d.store.Update(id, func(p *project.Project) error {
		if err := fn(p); err != nil {
			return err
		}
		if running && (p.Dir != before.Dir || p.Ini != before.Ini || p.Nginx != before.Nginx) {
			return errors.New("stop the project before moving its folder or files")
		}
		return nil
	})
	if err != nil {
		return err
	}
	after, _ := d.store.Get(id)
	d.mu.Lock()
	var docs *sharedDocs
	if !running {
		delete(d.runners, id)
	}
	if after.Dir != before.Dir || after.Ini != before.Ini || after.Nginx != before.Nginx {
		docs = d.docs[id]
		delete(d.docs, id)
	}
	d.mu.Unlock()
	docs.close()
	return nil
}

// Remove stops the project and takes it off the list; its folder and
// files stay.
func (d *Deck) Remove(ctx context.Context, id string) error {
	p, ok := d.store.Get(id)
	if !ok {
		return fmt.Errorf("no project %q", id)
	}
	if p.Builtin() {
		return errors.New("the demo project is built in and cannot be removed")
	}
	d.mu.Lock()
	r := d.runners[id]
	d.mu.Unlock()
	if r != nil {
		if err := r.Stop(ctx, Both); err != nil {
			return err
		}
	}
	if err := d.store.Remove(id); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.runners, id)
	docs := d.docs[id]
	delete(d.docs, id)
	d.mu.Unlock()
	docs.close()
	return nil
}

// Runner returns project id's Runner, making it on first use.
func (d *Deck) Runner(id string) (*Runner, error) {
	p, ok := d.store.Get(id)
	if !ok {
		return nil, fmt.Errorf("no project %q", id)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("the deck is closed")
	}
	if r := d.runners[id]; r != nil {
		return r, nil
	}
	r := NewRunner(RunnerOptions{
		Name: p.Name, Dir: p.Dir, Ini: p.Ini, Nginx: p.Nginx,
		Python: p.Python, DefaultPython: d.opts.Python,
		Check:    d.opts.Check,
		LogLines: d.opts.LogLines, SampleInterval: d.opts.SampleInterval, ReadyTimeout: d.opts.ReadyTimeout,
		Now: d.opts.Now,
	})
	r.holderName = func(port int) string { return d.portHolder(id, port) }
	r.fixHooks = func() (func() error, func()) { return d.fixHooks(id) }
	d.runners[id] = r
	return r, nil
}

// portHolder names the project, other than id, whose servers hold port.
func (d *Deck) portHolder(id string, port int) string {
	d.mu.Lock()
	others := make(map[string]*Runner, len(d.runners))
	for oid, r := range d.runners {
		if oid != id {
			others[oid] = r
		}
	}
	d.mu.Unlock()
	for _, r := range others {
		if r.HoldsPort(port) {
			return "the project " + r.Name() + " in this app holds it"
		}
	}
	return ""
}

// fixHooks are the guard and the follow-up of saving a fix of project id:
// an editor's unsaved edits are never overwritten, and the editors'
// documents pick the saved files up at once.
func (d *Deck) fixHooks(id string) (guard func() error, after func()) {
	guard = func() error {
		d.mu.Lock()
		docs := d.docs[id]
		d.mu.Unlock()
		if docs == nil {
			return nil
		}
		for _, doc := range docs.list() {
			if doc.Dirty() {
				return fmt.Errorf("%s has unsaved edits: save or revert them first", filepath.Base(doc.Path()))
			}
		}
		return nil
	}
	after = func() {
		d.mu.Lock()
		docs := d.docs[id]
		r := d.runners[id]
		d.mu.Unlock()
		if docs != nil {
			for _, doc := range docs.list() {
				doc.Refresh()
			}
		}
		if r != nil {
			r.emit(Event{Kind: EventConfigChanged, Message: "a fix rewrote the configuration"})
		}
	}
	return guard, after
}

// Docs returns project id's uwsgi.ini and nginx.conf as documents for
// editing: the same two on every call, watched, so that a change on disk
// reaches them (confedit's Refresh: reloaded when they have no unsaved
// edits, a conflict when they have) and the project's Runner publishes
// EventConfigChanged with the file's path. It is IniDoc and NginxDoc
// together: a missing file is an error.
func (d *Deck) Docs(id string) (*confedit.INIDoc, *confedit.NginxDoc, error) {
	ini, err := d.IniDoc(id)
	if err != nil {
		return nil, nil, err
	}
	ngx, err := d.NginxDoc(id)
	if err != nil {
		return nil, nil, err
	}
	return ini, ngx, nil
}

// IniDoc returns project id's uwsgi.ini as a shared, watched document
// (see Docs), opened on its own: nginx.conf need not exist. A uwsgi.ini
// that is not on disk is a *MissingConfigError (fs.ErrNotExist); once
// opened, the document stays, and keeps its content if the file is
// deleted later.
func (d *Deck) IniDoc(id string) (*confedit.INIDoc, error) {
	var doc *confedit.INIDoc
	err := d.openShared(id, func(p project.Project, s *sharedDocs) error {
		if s.ini == nil {
			if err := missingFile(p, Engine); err != nil {
				return err
			}
			ini, err := confedit.OpenINI(p.Ini, confedit.INIOptions{})
			if err != nil {
				return err
			}
			s.ini = ini
			s.track(ini)
		}
		doc = s.ini
		return nil
	})
	return doc, err
}

// NginxDoc returns project id's nginx.conf as a shared, watched document,
// opened on its own: uwsgi.ini need not exist (see IniDoc).
func (d *Deck) NginxDoc(id string) (*confedit.NginxDoc, error) {
	var doc *confedit.NginxDoc
	err := d.openShared(id, func(p project.Project, s *sharedDocs) error {
		if s.ngx == nil {
			if err := missingFile(p, Proxy); err != nil {
				return err
			}
			ngx, err := confedit.OpenNginx(p.Nginx, confedit.NginxOptions{Prefix: p.Dir})
			if err != nil {
				return err
			}
			s.ngx = ngx
			s.track(ngx)
		}
		doc = s.ngx
		return nil
	})
	return doc, err
}

// missingFile is the *MissingConfigError of project p's file of tier t,
// or nil.
func missingFile(p project.Project, t Tier) error {
	path := p.Ini
	if t == Proxy {
		path = p.Nginx
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &MissingConfigError{Tier: t, Path: path, Dir: p.Dir}
	}
	return nil
}

// openShared calls open with project id's shared documents, made (and
// their folder watched) on first use, under the Deck's lock.
func (d *Deck) openShared(id string, open func(project.Project, *sharedDocs) error) error {
	p, ok := d.store.Get(id)
	if !ok {
		return fmt.Errorf("no project %q", id)
	}
	r, err := d.Runner(id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("the deck is closed")
	}
	s := d.docs[id]
	if s == nil {
		s = &sharedDocs{done: make(chan struct{})}
		// The project's own files are reported even before a document
		// reads them: a missing one coming back is news.
		var names []string
		for _, f := range []string{p.Ini, p.Nginx} {
			if filepath.Dir(f) == filepath.Clean(p.Dir) {
				names = append(names, filepath.Base(f))
			}
		}
		w, err := watch.New(p.Dir, watch.Options{Logf: watch.Logf(d.opts.Logf), Names: names})
		if err != nil {
			d.logf("%s: changes made outside the app will not be noticed: %v", p.Dir, err)
			close(s.done)
		} else {
			s.watcher = w
			go s.forward(w, r)
		}
		d.docs[id] = s
	}
	return open(p, s)
}

// forward turns the watcher's events into the Runner's.
func (s *sharedDocs) forward(w *watch.Watcher, r *Runner) {
	defer close(s.done)
	for ev := range w.Events() {
		msg := ev.Kind.String()
		switch ev.Kind {
		case watch.Changed:
			msg = "changed on disk"
		case watch.Conflict:
			msg = "changed on disk while it has unsaved edits, which are kept"
		case watch.Removed:
			msg = "removed from disk"
		case watch.Failed:
			msg = "changed on disk but could not be read: " + fmt.Sprint(ev.Err)
		}
		r.emit(Event{Kind: EventConfigChanged, Path: ev.Path, Message: relTo(r.Dir(), ev.Path) + " " + msg})
	}
}

func (s *sharedDocs) close() {
	if s == nil || s.watcher == nil {
		return
	}
	s.watcher.Close()
	<-s.done
}

// Check runs project id's check on the files on disk (see Runner.Check).
// Fixes applied through the Report save the files, refusing while an
// editor holds unsaved edits of them.
func (d *Deck) Check(ctx context.Context, id string) (*Report, error) {
	r, err := d.Runner(id)
	if err != nil {
		return nil, err
	}
	return r.Check(ctx)
}

// FreePorts suggests a proxy port and an engine port, near nginx's and
// uWSGI's usual ones, that are free now and that no project configures.
func (d *Deck) FreePorts() (proxyPort, enginePort int) {
	avoid := map[int]bool{}
	for _, p := range d.store.Projects() {
		var c configuredAddrs
		eng, px := c.get(p.Ini, p.Nginx, p.Dir)
		for _, a := range append(eng, px...) {
			if _, port, ok := hostPort(a); ok {
				avoid[port] = true
			}
		}
	}
	proxyPort = project.FreePort(project.DefaultProxyPort, avoid)
	enginePort = project.FreePort(project.DefaultAppPort, avoid)
	return proxyPort, enginePort
}

// ProductionConfig is the production profile's starting point for project
// id (see project.ProductionConfig), with notes on what could not be
// carried over.
func (d *Deck) ProductionConfig(id string, opts project.ExportOptions) (configgen.Config, []string, error) {
	p, ok := d.store.Get(id)
	if !ok {
		return configgen.Config{}, nil, fmt.Errorf("no project %q", id)
	}
	opts.Ini, opts.Nginx = p.Ini, p.Nginx
	if opts.Name == "" {
		opts.Name = project.Slug(p.Name)
	}
	return project.ProductionConfig(p.Dir, opts)
}

// Export generates project id's production bundle (not written; see
// configgen.WriteDir), with notes.
func (d *Deck) Export(id string, opts project.ExportOptions) (configgen.Files, configgen.Config, []string, error) {
	p, ok := d.store.Get(id)
	if !ok {
		return nil, configgen.Config{}, nil, fmt.Errorf("no project %q", id)
	}
	opts.Ini, opts.Nginx = p.Ini, p.Nginx
	if opts.Name == "" {
		opts.Name = project.Slug(p.Name)
	}
	return project.Export(p.Dir, opts)
}

// CheckExport validates a bundle with the real programs (see the package
// function).
func (d *Deck) CheckExport(ctx context.Context, files configgen.Files) []ExportCheck {
	return CheckExport(ctx, files)
}

// StopAll stops every project, in parallel, and returns when every server
// has stopped and every worker process is gone. Requests in progress may
// finish until ctx ends; then the workers are killed.
func (d *Deck) StopAll(ctx context.Context) error {
	d.mu.Lock()
	rs := make([]*Runner, 0, len(d.runners))
	for _, r := range d.runners {
		rs = append(rs, r)
	}
	d.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Stop(ctx, Both)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops everything (StopAll) and stops watching the files. The Deck
// makes no Runner afterwards.
func (d *Deck) Close(ctx context.Context) error {
	err := d.StopAll(ctx)
	d.mu.Lock()
	d.closed = true
	docs := d.docs
	d.docs = map[string]*sharedDocs{}
	d.mu.Unlock()
	for _, s := range docs {
		s.close()
	}
	return err
}
