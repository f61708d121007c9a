package confedit

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// INIOptions configure OpenINI. The zero value is ready to use.
type INIOptions struct {
	// Section is the section to edit and validate; "" means [uwsgi].
	Section string
	// Saver writes the file; nil means a zero atomicfile.Saver (backups in
	// .wsgideck/backups beside the file).
	Saver *atomicfile.Saver
	// Loader reads the file for validation; nil means a zero
	// uwsgiini.Loader (the real environment).
	Loader *uwsgiini.Loader
}

// INIDoc is a uwsgi.ini being edited.
type INIDoc struct {
	mu     sync.Mutex
	path   string
	opts   INIOptions
	ini    *INI
	saved  []byte // the content on disk when last loaded or saved
	exists bool   // the file existed then
}

// OpenINI loads the uwsgi.ini at path. A missing file gives an empty
// document (Dirty once something is set) rather than an error, so a new
// project's file can be built up and saved.
func OpenINI(path string, opts INIOptions) (*INIDoc, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	d := &INIDoc{path: abs, opts: opts}
	if err := d.load(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *INIDoc) load() error {
	b, ok, err := readDisk(d.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.path, err)
	}
	d.ini = ParseINI(d.path, b, d.opts.Section)
	d.saved, d.exists = b, ok
	return nil
}

// Path is the file's absolute path.
func (d *INIDoc) Path() string { return d.path }

// Paths is the file alone: ini = includes are not edited here.
func (d *INIDoc) Paths() []string { return []string{d.path} }

// Bytes returns the edited content.
func (d *INIDoc) Bytes() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ini.Bytes()
}

// Saved returns the content as last loaded from or saved to disk.
func (d *INIDoc) Saved() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.saved)
}

// Dirty reports unsaved edits.
func (d *INIDoc) Dirty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dirty()
}

func (d *INIDoc) dirty() bool {
	return !d.exists || !bytes.Equal(d.ini.Bytes(), d.saved)
}

// Edit runs fn on the file under the document's lock; use it for several
// edits that belong together. fn's error is returned as is, and the edits
// it made before failing stay (Revert undoes them).
func (d *INIDoc) Edit(fn func(f *INI) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fn(d.ini)
}

// SetSource replaces the whole content, as a source editor does.
func (d *INIDoc) SetSource(src []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ini = ParseINI(d.path, src, d.opts.Section)
}

// Entries lists the section's options; see INI.Entries.
func (d *INIDoc) Entries() []Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ini.Entries()
}

// Get returns the effective occurrence of key; see INI.Get.
func (d *INIDoc) Get(key string) (Entry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ini.Get(key)
}

// Set sets key; see INI.Set.
func (d *INIDoc) Set(key, value string) error {
	return d.Edit(func(f *INI) error { return f.Set(key, value) })
}

// Add adds an occurrence of a repeatable key; see INI.Add.
func (d *INIDoc) Add(key, value string) error {
	return d.Edit(func(f *INI) error { return f.Add(key, value) })
}

// RemoveValue removes one occurrence of key; see INI.RemoveValue.
func (d *INIDoc) RemoveValue(key, value string) bool {
	var ok bool
	d.Edit(func(f *INI) error { ok = f.RemoveValue(key, value); return nil })
	return ok
}

// Remove removes every occurrence of key; see INI.Remove.
func (d *INIDoc) Remove(key string) int {
	var n int
	d.Edit(func(f *INI) error { n = f.Remove(key); return nil })
	return n
}

// Parsed reads the edited content the way uWSGI does (expanded values,
// each option with its file and line), for checks such as engine/crosscheck.
func (d *INIDoc) Parsed() (*uwsgiini.Config, error) {
	return d.loader().Parse(d.path, d.Bytes(), d.opts.Section)
}

func (d *INIDoc) loader() *uwsgiini.Loader {
	if d.opts.Loader != nil {
		return d.opts.Loader
	}
	return &uwsgiini.Loader{}
}

// Validate reads the edited content as uWSGI would and then as the engine
// does: a fatal read error (an include loop, a bad set line), bad values
// (a buffer-size over 65535, processes = 0, no app) are errors; unknown
// options (with uWSGI's did-you-mean) are warnings; options the engine
// ignores or does not act on yet are Info.
func (d *INIDoc) Validate() []Problem {
	data := d.Bytes()
	cfg, err := d.loader().Parse(d.path, data, d.opts.Section)
	if err != nil {
		return []Problem{d.problemOf(err)}
	}
	var errs, warns, infos []Problem
	if _, err := appserver.FromINI(cfg); err != nil {
		errs = append(errs, d.problemOf(err))
	}
	ignored := map[string]bool{}
	for _, o := range cfg.Ignored {
		ignored[o.Key] = true
	}
	for _, w := range cfg.Warnings {
		p := Problem{Severity: Warning, File: orPath(w.File, d.path), Line: w.Line, Msg: w.Msg}
		if ignored[w.Key] {
			p.Severity = Info
			infos = append(infos, p)
			continue
		}
		warns = append(warns, p)
	}
	for _, w := range appserver.Pending(cfg) {
		infos = append(infos, Problem{Severity: Info, File: orPath(w.File, d.path), Line: w.Line, Msg: w.Msg})
	}
	return append(append(errs, warns...), infos...)
}

func orPath(file, path string) string {
	if file == "" {
		return path
	}
	return file
}

// problemOf turns a read or engine error into a Problem with its line.
// engine/appserver words its errors "FILE:LINE: option: message".
func (d *INIDoc) problemOf(err error) Problem {
	var ue *uwsgiini.Error
	if errors.As(err, &ue) {
		msg := ue.Msg
		if ue.Key != "" && !strings.Contains(msg, ue.Key) {
			msg = ue.Key + ": " + msg
		}
		return Problem{Severity: Error, File: orPath(ue.File, d.path), Line: ue.Line, Msg: msg}
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, d.path+":"); ok {
		num, tail, _ := strings.Cut(rest, ":")
		if n, err := strconv.Atoi(num); err == nil {
			return Problem{Severity: Error, File: d.path, Line: n, Msg: strings.TrimSpace(tail)}
		}
	}
	return Problem{Severity: Error, File: d.path, Msg: msg}
}

func (d *INIDoc) saver() *atomicfile.Saver {
	if d.opts.Saver != nil {
		return d.opts.Saver
	}
	return &atomicfile.Saver{}
}

// Save validates and writes the file; see Document.Save.
func (d *INIDoc) Save() error { return d.save(true) }

// ForceSave is Save without the conflict check.
func (d *INIDoc) ForceSave() error { return d.save(false) }

func (d *INIDoc) save(checkConflict bool) error {
	if errs := Errors(d.Validate()); len(errs) > 0 {
		return &InvalidError{Path: d.path, Problems: errs}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	data := d.ini.Bytes()
	if checkConflict {
		disk, ok, err := readDisk(d.path)
		if err != nil {
			return fmt.Errorf("save %s: %w", d.path, err)
		}
		if ok != d.exists || !bytes.Equal(disk, d.saved) {
			return &ConflictError{Path: d.path}
		}
	}
	if err := d.saver().WriteFile(d.path, data, 0o644); err != nil {
		return err
	}
	d.saved, d.exists = data, true
	return nil
}

// Diff returns the unified diff from the file on disk to the edited
// content, "" when they are the same.
func (d *INIDoc) Diff() (string, error) {
	disk, ok, err := readDisk(d.path)
	if err != nil {
		return "", err
	}
	name := filepath.Base(d.path)
	old := "a/" + name
	if !ok {
		old = "/dev/null"
	}
	return UnifiedDiff(old, "b/"+name, disk, d.Bytes()), nil
}

// Revert discards the edits and reloads the file from disk.
func (d *INIDoc) Revert() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.load()
}

// Refresh compares the file on disk with what was last loaded or saved;
// see Document.Refresh.
func (d *INIDoc) Refresh() (Refreshed, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	disk, ok, err := readDisk(d.path)
	if err != nil {
		return Refreshed{}, err
	}
	switch {
	case ok == d.exists && bytes.Equal(disk, d.saved):
		return Refreshed{State: Unchanged}, nil
	case !ok:
		d.saved, d.exists = nil, false
		return Refreshed{State: Removed, Paths: []string{d.path}}, nil
	case bytes.Equal(disk, d.ini.Bytes()):
		// The disk caught up with the edits (or the user made the same
		// change twice): nothing is lost either way.
		d.saved, d.exists = disk, true
		return Refreshed{State: Reloaded, Paths: []string{d.path}}, nil
	case d.dirty():
		return Refreshed{State: Conflict, Paths: []string{d.path}}, nil
	}
	d.ini = ParseINI(d.path, disk, d.opts.Section)
	d.saved, d.exists = disk, true
	return Refreshed{State: Reloaded, Paths: []string{d.path}}, nil
}
