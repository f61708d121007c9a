package watch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/confedit"
)

// DefaultDebounce is how long the watched files must stay quiet before
// their changes are reported.
const DefaultDebounce = 100 * time.Millisecond

// Kind says what happened to a file.
type Kind int

const (
	// Changed: the file's content changed; its document, if any, has
	// reloaded it.
	Changed Kind = iota
	// Conflict: the file changed while its document has unsaved edits,
	// which it keeps.
	Conflict
	// Removed: the file is gone. A document keeps its content, unsaved.
	Removed
	// Failed: the change could not be read; Err says why.
	Failed
)

func (k Kind) String() string {
	switch k {
	case Changed:
		return "changed"
	case Conflict:
		return "conflict"
	case Removed:
		return "removed"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is one change noticed.
type Event struct {
	Kind Kind
	Path string            // the file, absolute
	Doc  confedit.Document // the document that reads it; nil if none is tracked
	Err  error             // for Failed
}

// Logf is a printf-style logger.
type Logf func(format string, args ...any)

// Options configure a Watcher. The zero value is ready to use.
type Options struct {
	// Debounce is the quiet time before a change is reported; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Names are files in the project folder reported even without a
	// document; nil means uwsgi.ini and nginx.conf.
	Names []string
	// Logf receives watcher errors (a folder that cannot be watched); nil
	// discards them.
	Logf Logf
}

// Watcher watches one project folder. Read Events until Close.
type Watcher struct {
	dir    string
	opts   Options
	fsw    *fsnotify.Watcher
	events chan Event
	fire   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	docs    []confedit.Document
	dirs    map[string]bool // folders being watched
	timer   *time.Timer     // the quiet timer, running while changes are pending
	pending map[string]int  // changed files, by the order of their last event
	seq     int
	content map[string][]byte // untracked named files: last content seen (nil: missing)
	closed  bool
}

// New starts watching dir.
func New(dir string, opts Options) (*Watcher, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Names == nil {
		opts.Names = []string{"uwsgi.ini", "nginx.conf"}
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w := &Watcher{
		dir: abs, opts: opts, fsw: fsw,
		events: make(chan Event, 16), fire: make(chan struct{}, 1), done: make(chan struct{}),
		dirs: map[string]bool{}, pending: map[string]int{}, content: map[string][]byte{},
	}
	if err := fsw.Add(abs); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w.dirs[abs] = true
	for _, n := range opts.Names {
		p := filepath.Join(abs, n)
		b, _ := os.ReadFile(p)
		w.content[p] = b
	}
	w.wg.Add(1)
	go w.loop()
	return w, nil
}

// Events delivers the changes, in the order they settle. It is closed by
// Close.
func (w *Watcher) Events() <-chan Event { return w.events }

// Track hands changes to doc's files to doc (through Refresh), and
// watches the folders of its included files.
func (w *Watcher) Track(doc confedit.Document) {
	w.mu.Lock()
	if !slices.Contains(w.docs, doc) {
		w.docs = append(w.docs, doc)
	}
	w.mu.Unlock()
	w.watchDirs()
}

// Untrack stops handing changes to doc.
func (w *Watcher) Untrack(doc confedit.Document) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.docs = slices.DeleteFunc(w.docs, func(d confedit.Document) bool { return d == doc })
}

// Close stops watching and closes Events.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	close(w.done)
	err := w.fsw.Close()
	w.wg.Wait()
	close(w.events)
	return err
}

func (w *Watcher) logf(format string, args ...any) {
	if w.opts.Logf != nil {
		w.opts.Logf(format, args...)
	}
}

// watchDirs adds the folders of every tracked file.
func (w *Watcher) watchDirs() {
	w.mu.Lock()
	var want []string
	for _, d := range w.docs {
		for _, p := range d.Paths() {
			dir := filepath.Dir(p)
			if !w.dirs[dir] {
				want = append(want, dir)
			}
		}
	}
	w.mu.Unlock()
	for _, dir := range want {
		if err := w.fsw.Add(dir); err != nil {
			w.logf("watch: %s: %v", dir, err)
			continue
		}
		w.mu.Lock()
		w.dirs[dir] = true
		w.mu.Unlock()
	}
}

// ignored reports the names the watcher never reports: atomicfile's
// temporary files and anything in a .wsgideck folder.
func ignored(path string) bool {
	if atomicfile.IsTemp(filepath.Base(path)) {
		return true
	}
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if part == ".wsgideck" {
			return true
		}
	}
	return false
}

// owner returns the document reading path, and whether the watcher
// reports path at all.
func (w *Watcher) owner(path string) (confedit.Document, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range w.docs {
		if slices.Contains(d.Paths(), path) {
			return d, true
		}
	}
	_, named := w.content[path]
	return nil, named
}

func (w *Watcher) loop() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ignored(ev.Name) {
				continue
			}
			if _, interesting := w.owner(ev.Name); interesting {
				w.schedule(ev.Name)
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.logf("watch %s: %v", w.dir, err)
		case <-w.fire:
			for _, path := range w.takePending() {
				if ev, ok := w.settle(path); ok {
					select {
					case w.events <- ev:
					case <-w.done:
						return
					}
				}
			}
			w.watchDirs() // a reload may have brought new includes
		}
	}
}

// schedule marks path changed and (re)starts the quiet timer. One timer
// serves the whole folder: a burst that touches several files (an
// editor's write-rename, a git checkout) settles as one, and the files
// are reported in the order they last changed.
func (w *Watcher) schedule(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.seq++
	w.pending[path] = w.seq
	if w.timer != nil {
		w.timer.Reset(w.opts.Debounce)
		return
	}
	w.timer = time.AfterFunc(w.opts.Debounce, func() {
		select {
		case w.fire <- struct{}{}:
		default: // a settle is already due; it takes every pending file
		}
	})
}

// takePending returns the changed files, oldest change first, and clears
// the list.
func (w *Watcher) takePending() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	paths := make([]string, 0, len(w.pending))
	for p := range w.pending {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, func(a, b string) int { return w.pending[a] - w.pending[b] })
	clear(w.pending)
	return paths
}

// settle decides what a settled change of path means.
func (w *Watcher) settle(path string) (Event, bool) {
	doc, _ := w.owner(path)
	if doc != nil {
		r, err := doc.Refresh()
		if err != nil {
			return Event{Kind: Failed, Path: path, Doc: doc, Err: err}, true
		}
		switch r.State {
		case confedit.Reloaded:
			return Event{Kind: Changed, Path: path, Doc: doc}, true
		case confedit.Conflict:
			return Event{Kind: Conflict, Path: path, Doc: doc}, true
		case confedit.Removed:
			return Event{Kind: Removed, Path: path, Doc: doc}, true
		}
		return Event{}, false
	}
	b, err := os.ReadFile(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return Event{Kind: Failed, Path: path, Err: err}, true
	}
	w.mu.Lock()
	before, known := w.content[path]
	if missing {
		w.content[path] = nil
	} else {
		w.content[path] = b
	}
	w.mu.Unlock()
	switch {
	case missing && before == nil:
		return Event{}, false
	case missing:
		return Event{Kind: Removed, Path: path}, true
	case known && before != nil && bytes.Equal(before, b):
		return Event{}, false
	}
	return Event{Kind: Changed, Path: path}, true
}
