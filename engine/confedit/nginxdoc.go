package confedit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// NginxOptions configure OpenNginx. The zero value reads an nginx.conf
// with its own folder as the prefix.
type NginxOptions struct {
	// Prefix is nginx's -p: what relative include paths resolve against.
	// "" means the main file's folder (how wsgideck runs a project).
	Prefix string
	// Context is where the main file's top level is read: 0 for a complete
	// nginx.conf, nginxconf.CtxHTTP for a sites-available file.
	Context nginxconf.Context
	// Saver writes the files; nil means a zero atomicfile.Saver.
	Saver *atomicfile.Saver
}

// NginxDoc is an nginx.conf and the files it includes, being edited.
// Edits may touch any of the files; Save writes each one that changed.
type NginxDoc struct {
	mu    sync.Mutex
	path  string
	opts  NginxOptions
	cfg   *nginxconf.Config
	saved map[string][]byte // per file: the content on disk when last loaded or saved
	gone  bool              // the main file was missing at the last Refresh
}

// OpenNginx loads the nginx.conf at path and everything it includes. A
// config with errors still opens (Validate lists them); only a main file
// that cannot be read is an error.
func OpenNginx(path string, opts NginxOptions) (*NginxDoc, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	d := &NginxDoc{path: abs, opts: opts}
	if err := d.load(nil); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *NginxDoc) loadOptions(mem map[string][]byte) *nginxconf.Options {
	o := &nginxconf.Options{Prefix: d.opts.Prefix, Context: d.opts.Context}
	if mem != nil {
		o.ReadFile = func(p string) ([]byte, error) {
			if b, ok := mem[p]; ok {
				return b, nil
			}
			return os.ReadFile(p)
		}
	}
	return o
}

// load reads the config from disk (mem nil), or rebuilds it from the
// in-memory contents in mem, reading from disk only files not in it. The
// saved contents are taken from disk for files read from disk.
func (d *NginxDoc) load(mem map[string][]byte) error {
	var cfg *nginxconf.Config
	if mem == nil {
		src, ok, err := readDisk(d.path)
		if err != nil || !ok {
			if err == nil {
				err = os.ErrNotExist
			}
			return fmt.Errorf("open %s: %w", d.path, err)
		}
		cfg, _ = nginxconf.LoadSource(d.path, src, d.loadOptions(nil))
		d.saved = map[string][]byte{}
		for _, f := range cfg.Files {
			d.saved[f.Path] = f.Bytes()
		}
		d.gone = false
	} else {
		cfg, _ = nginxconf.LoadSource(d.path, mem[d.path], d.loadOptions(mem))
		for _, f := range cfg.Files {
			if _, ok := d.saved[f.Path]; !ok {
				d.saved[f.Path] = f.Bytes() // newly included: read from disk
			}
		}
	}
	d.cfg = cfg
	return nil
}

// Path is the main file's absolute path.
func (d *NginxDoc) Path() string { return d.path }

// Paths lists the main file and every file it includes.
func (d *NginxDoc) Paths() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, f := range d.cfg.Files {
		out = append(out, f.Path)
	}
	return out
}

// Config returns the parsed config. Read it freely on one goroutine; make
// changes inside Edit so that a concurrent Refresh sees them whole.
func (d *NginxDoc) Config() *nginxconf.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// Edit runs fn on the config under the document's lock, then re-checks it
// (Config().Diagnostics is up to date afterwards). Edits made before fn
// fails stay; Revert undoes them. After editing an include directive, call
// ReloadIncludes.
func (d *NginxDoc) Edit(fn func(c *nginxconf.Config) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := fn(d.cfg)
	d.cfg.Check()
	return err
}

// contents returns every file's current bytes.
func (d *NginxDoc) contents() map[string][]byte {
	mem := map[string][]byte{}
	for _, f := range d.cfg.Files {
		mem[f.Path] = f.Bytes()
	}
	return mem
}

// ReloadIncludes re-resolves the include directives after an edit changed
// them, keeping the unsaved edits of every file already loaded. The tree
// is rebuilt: *Directive values taken before are stale.
func (d *NginxDoc) ReloadIncludes() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.load(d.contents())
}

// Bytes returns the current content of one of the document's files (the
// main file for ""), or nil when the document does not hold it.
func (d *NginxDoc) Bytes(path string) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if path == "" {
		path = d.path
	}
	if f := d.cfg.File(path); f != nil {
		return f.Bytes()
	}
	return nil
}

// SetSource replaces the whole content of one of the document's files
// (the main file for ""), as a source editor does, and re-reads the
// config; unsaved edits in the other files are kept. The tree is rebuilt.
func (d *NginxDoc) SetSource(path string, src []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if path == "" {
		path = d.path
	}
	mem := d.contents()
	if _, ok := mem[path]; !ok {
		return fmt.Errorf("confedit: %s is not part of %s", path, d.path)
	}
	mem[path] = bytes.Clone(src)
	return d.load(mem)
}

// Dirty reports unsaved edits in any of the files.
func (d *NginxDoc) Dirty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dirty()
}

func (d *NginxDoc) dirty() bool {
	if d.gone {
		return true
	}
	for _, f := range d.cfg.Files {
		if saved, ok := d.saved[f.Path]; !ok || !bytes.Equal(saved, f.Src) {
			return true
		}
	}
	return false
}

// Validate checks the edited config as nginx -t would (engine/nginxconf):
// errors in nginx's words with their file:line, then nginx's warnings,
// then, as Info, the directives wsgideck's proxy does not act on.
func (d *NginxDoc) Validate() []Problem {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs, warns, infos []Problem
	for _, dg := range d.cfg.Check() {
		p := Problem{Severity: Error, File: orPath(dg.File, d.path), Line: dg.Line, Msg: dg.Msg}
		switch {
		case dg.Severity != nginxconf.SeverityWarning:
			errs = append(errs, p)
		case strings.HasSuffix(dg.Msg, "has no effect in wsgideck"):
			// Valid nginx that the proxy ignores (sendfile, user): the
			// file is right for real nginx, so it is not a warning.
			p.Severity = Info
			infos = append(infos, p)
		default:
			p.Severity = Warning
			warns = append(warns, p)
		}
	}
	return append(append(errs, warns...), infos...)
}

func (d *NginxDoc) saver() *atomicfile.Saver {
	if d.opts.Saver != nil {
		return d.opts.Saver
	}
	return &atomicfile.Saver{}
}

// Save validates and writes every changed file; see Document.Save. The
// included files are written before the main file.
func (d *NginxDoc) Save() error { return d.save(true) }

// ForceSave is Save without the conflict check.
func (d *NginxDoc) ForceSave() error { return d.save(false) }

func (d *NginxDoc) save(checkConflict bool) error {
	if errs := Errors(d.Validate()); len(errs) > 0 {
		return &InvalidError{Path: d.path, Problems: errs}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// The main file goes last: it is what includes the others.
	var changed []*nginxconf.File
	files := append(append([]*nginxconf.File(nil), d.cfg.Files[1:]...), d.cfg.Main)
	for _, f := range files {
		saved, ok := d.saved[f.Path]
		if !ok || !bytes.Equal(saved, f.Src) || (d.gone && f == d.cfg.Main) {
			changed = append(changed, f)
		}
	}
	if checkConflict {
		// Every file, not only the changed ones: the edits were validated
		// together with the other files' content as the document knows it.
		for _, f := range files {
			if d.gone && f == d.cfg.Main {
				continue // putting a deleted file back loses nothing
			}
			disk, ok, err := readDisk(f.Path)
			if err != nil {
				return fmt.Errorf("save %s: %w", f.Path, err)
			}
			saved, known := d.saved[f.Path]
			if ok != known || !bytes.Equal(disk, saved) {
				return &ConflictError{Path: f.Path}
			}
		}
	}
	for _, f := range changed {
		data := f.Bytes()
		if err := d.saver().WriteFile(f.Path, data, 0o644); err != nil {
			return err
		}
		d.saved[f.Path] = data
		if f == d.cfg.Main {
			d.gone = false
		}
	}
	return nil
}

// Diff returns the unified diff from the files on disk to the edited ones,
// one file after another, "" when nothing changed.
func (d *NginxDoc) Diff() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dir := filepath.Dir(d.path)
	var sb strings.Builder
	for _, f := range d.cfg.Files {
		disk, ok, err := readDisk(f.Path)
		if err != nil {
			return "", err
		}
		name := displayName(dir, f.Path)
		old := "a/" + name
		if !ok {
			old = "/dev/null"
		}
		sb.WriteString(UnifiedDiff(old, "b/"+name, disk, f.Src))
	}
	return sb.String(), nil
}

// Revert discards every edit and reloads the config from disk.
func (d *NginxDoc) Revert() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.load(nil)
}

// Refresh compares the files on disk with what was last loaded or saved;
// see Document.Refresh. A reload rebuilds the tree.
func (d *NginxDoc) Refresh() (Refreshed, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var changed []string
	mainGone := false
	for _, f := range d.cfg.Files {
		disk, ok, err := readDisk(f.Path)
		if err != nil {
			return Refreshed{}, err
		}
		saved, known := d.saved[f.Path]
		if !ok && f == d.cfg.Main {
			mainGone = true
		}
		if ok != known || !bytes.Equal(disk, saved) {
			if !ok && !known {
				continue // missing before and after
			}
			changed = append(changed, f.Path)
		}
	}
	switch {
	case mainGone && d.gone:
		return Refreshed{State: Unchanged}, nil
	case mainGone:
		d.gone = true
		return Refreshed{State: Removed, Paths: changed}, nil
	case len(changed) == 0:
		return Refreshed{State: Unchanged}, nil
	case d.dirty():
		// Files the user did not edit take the disk's version quietly only
		// if no file is edited at all; otherwise the user decides.
		if same := d.sameAsEdits(changed); same {
			for _, p := range changed {
				d.saved[p] = d.cfg.File(p).Bytes()
			}
			d.gone = false
			return Refreshed{State: Reloaded, Paths: changed}, nil
		}
		return Refreshed{State: Conflict, Paths: changed}, nil
	}
	if err := d.load(nil); err != nil {
		return Refreshed{}, err
	}
	return Refreshed{State: Reloaded, Paths: changed}, nil
}

// sameAsEdits reports whether every changed file on disk now holds exactly
// the edited content, and no other file has unsaved edits.
func (d *NginxDoc) sameAsEdits(changed []string) bool {
	isChanged := map[string]bool{}
	for _, p := range changed {
		isChanged[p] = true
	}
	for _, f := range d.cfg.Files {
		disk, _, err := readDisk(f.Path)
		if err != nil {
			return false
		}
		if isChanged[f.Path] {
			if !bytes.Equal(disk, f.Src) {
				return false
			}
		} else if !bytes.Equal(d.saved[f.Path], f.Src) {
			return false
		}
	}
	return true
}
