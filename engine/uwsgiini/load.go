package uwsgiini

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Version is what %V expands to: the uWSGI version wsgideck imitates.
const Version = "2.0.21"

// Identity is the user the config is read as (%u %U %g %G).
type Identity struct{ UID, User, GID, Group string }

// Loader reads configurations. Its func fields replace the real
// environment, host, clock and files (nil means the real one), which keeps
// tests deterministic. The zero Loader is ready to use.
type Loader struct {
	Getenv     func(key string) (string, bool)
	Getwd      func() (string, error)
	Hostname   func() (string, error)
	NumCPU     func() int
	Now        func() time.Time
	Identity   func() Identity
	Executable func() (string, error)
	ReadFile   func(name string) ([]byte, error)      // absolute paths only
	Stat       func(name string) (fs.FileInfo, error) // absolute paths only (if-exists, if-file, if-dir)
	Glob       func(pattern string) ([]string, error) // absolute patterns only (for-glob)
	Environ    func() []string                        // "K=V" in order, for UWSGI_* options (FromArgs)
	Version    string                                 // %V; Version when empty
}

var defaultLoader Loader

// Load reads a uwsgi.ini file; path may be "file.ini:section".
func Load(path string) (*Config, error) { return defaultLoader.Load(path) }

// Parse reads ini data as if it were the file name (which need not exist).
// section "" means [uwsgi].
func Parse(name string, data []byte, section string) (*Config, error) {
	return defaultLoader.Parse(name, data, section)
}

// FromArgs reads a uWSGI command line (without the program name).
func FromArgs(args []string) (*Config, error) { return defaultLoader.FromArgs(args) }

func (l *Loader) version() string {
	if l.Version != "" {
		return l.Version
	}
	return Version
}

// state is one read in progress: it plays uWSGI's global exported_opts.
type state struct {
	l        *Loader
	cfg      *Config
	cwd      string
	host     string
	exe      string
	cpus     int
	now      time.Time
	id       Identity
	first    *fileMagic      // the first file loaded: the upper-case magic variables
	lastFile string          // "ini = :section" reads this file again
	stack    []readingFile   // files being read, to stop include loops
	refs     map[string]bool // names looked up by %(...): placeholders in use
	declared map[string]bool // placeholders declared with set-ph

	firstOpt     map[string]int // index in cfg.Options of each name's first occurrence
	logic        *logicBlock    // the if-X / for-X block being read, if any
	logicRunning bool           // storing what a block let through: no block tests
}

type readingFile struct{ id, name string }

func (l *Loader) newState() (*state, error) {
	st := &state{l: l, cfg: &Config{}, refs: map[string]bool{}, declared: map[string]bool{}, firstOpt: map[string]int{}}
	var err error
	if l.Getwd != nil {
		st.cwd, err = l.Getwd()
	} else {
		st.cwd, err = os.Getwd()
	}
	if err != nil {
		return nil, fmt.Errorf("uwsgiini: current directory: %w", err)
	}
	if l.Hostname != nil {
		st.host, _ = l.Hostname()
	} else {
		st.host, _ = os.Hostname()
	}
	if l.Executable != nil {
		st.exe, _ = l.Executable()
	} else {
		st.exe, _ = os.Executable()
	}
	st.cpus = runtime.NumCPU()
	if l.NumCPU != nil {
		st.cpus = l.NumCPU()
	}
	st.now = time.Now()
	if l.Now != nil {
		st.now = l.Now()
	}
	if l.Identity != nil {
		st.id = l.Identity()
	} else {
		st.id = currentIdentity()
	}
	return st, nil
}

func currentIdentity() Identity {
	id := Identity{UID: strconv.Itoa(os.Getuid()), GID: strconv.Itoa(os.Getgid())}
	id.User, id.Group = id.UID, id.GID // uWSGI falls back to the numbers
	if u, err := user.LookupId(id.UID); err == nil {
		id.User = u.Username
	}
	if g, err := user.LookupGroupId(id.GID); err == nil {
		id.Group = g.Name
	}
	return id
}

func (st *state) abs(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(st.cwd, name)
}

func (st *state) readFile(name string) ([]byte, error) {
	if st.l.ReadFile != nil {
		return st.l.ReadFile(st.abs(name))
	}
	return os.ReadFile(st.abs(name))
}

func (st *state) stat(name string) (fs.FileInfo, error) {
	if st.l.Stat != nil {
		return st.l.Stat(st.abs(name))
	}
	return os.Stat(st.abs(name))
}

func (st *state) globAbs(pattern string) ([]string, error) {
	if st.l.Glob != nil {
		return st.l.Glob(pattern)
	}
	return filepath.Glob(pattern)
}

func (st *state) getenv(key string) (string, bool) {
	if st.l.Getenv != nil {
		return st.l.Getenv(key)
	}
	return os.LookupEnv(key)
}

// Load reads a uwsgi.ini file; path may be "file.ini:section".
func (l *Loader) Load(path string) (*Config, error) {
	st, err := l.newState()
	if err != nil {
		return nil, err
	}
	if err := st.loadSpec(path, "", 0); err != nil {
		return nil, err
	}
	return st.finish()
}

// Parse reads ini data as if it were the file name.
func (l *Loader) Parse(name string, data []byte, section string) (*Config, error) {
	st, err := l.newState()
	if err != nil {
		return nil, err
	}
	if err := st.parse(name, section, data); err != nil {
		return nil, err
	}
	return st.finish()
}

// splitSection splits "file.ini:section" at the last colon, as uWSGI does,
// unless the whole string names an existing file.
func (st *state) splitSection(spec string) (file, section string) {
	k := strings.LastIndexByte(spec, ':')
	if k < 0 {
		return spec, ""
	}
	if _, err := os.Stat(st.abs(spec)); err == nil && k > 0 {
		return spec, ""
	}
	return spec[:k], spec[k+1:]
}

// loadSpec reads "file.ini[:section]" for the command line (from == "")
// or for an ini = line of file from at line.
func (st *state) loadSpec(spec, from string, line int) error {
	file, section := st.splitSection(spec)
	if file == "" {
		if st.lastFile == "" {
			return &Error{File: from, Line: line, Key: "ini", Msg: fmt.Sprintf("%q names only a section, but no ini file was read before it; write FILE.ini:%s", spec, section)}
		}
		file = st.lastFile // uWSGI: ":section" reads the last file loaded
	}
	id := st.abs(file) + ":" + section
	for k, r := range st.stack {
		if r.id == id {
			var chain []string
			for _, r := range st.stack[k:] {
				chain = append(chain, r.name)
			}
			return &Error{File: from, Line: line, Key: "ini", Msg: fmt.Sprintf("include loop: %s -> %s; remove one of the ini = lines", strings.Join(chain, " -> "), file)}
		}
	}
	if len(st.stack) >= 64 {
		return &Error{File: from, Line: line, Key: "ini", Msg: "ini = includes nest more than 64 deep; flatten them"}
	}
	data, err := st.readFile(file)
	if err != nil {
		msg := fmt.Sprintf("cannot read %s: %v", file, unwrapPath(err))
		if from != "" && !filepath.IsAbs(file) {
			msg += fmt.Sprintf("; uWSGI opens included files relative to the current directory (%s)", st.cwd)
			if _, err := os.Stat(st.abs(filepath.Join(filepath.Dir(from), file))); err == nil {
				msg += ", not to the including file: write %d" + file
			}
		}
		return &Error{File: from, Line: line, Key: "ini", Msg: msg}
	}
	return st.parse(file, section, data)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parse reads one ini file's data: core/ini.c uwsgi_ini_config.
func (st *state) parse(file, section string, data []byte) error {
	st.stack = append(st.stack, readingFile{st.abs(file) + ":" + section, file})
	defer func() { st.stack = st.stack[:len(st.stack)-1] }()
	st.lastFile = file

	cur := describe(st.cwd, file, section)
	if st.first == nil {
		st.first = &cur
	}
	text, starts := substitute(data, st.table(cur, *st.first))

	asked := section
	if asked == "" {
		asked = "uwsgi"
	}
	current, found := "", false
	var seen []string
	for k, raw := range strings.Split(text, "\n") {
		if nul := strings.IndexByte(raw, 0); nul >= 0 {
			raw = raw[:nul] // uWSGI handles each line as a C string
		}
		line := strings.Trim(raw, " \t\r")
		switch {
		case line == "":
		case line[0] == '[':
			current = ""
			if len(line) > 1 {
				current = line[1 : len(line)-1] // uWSGI drops the last byte, whatever it is
			}
			seen = append(seen, current)
		case line[0] == ';' || line[0] == '#':
		case current == asked:
			found = true
			key, value, _ := strings.Cut(line, "=")
			key = strings.TrimRight(key, " \t\r")
			value = strings.Trim(value, " \t\r")
			if err := st.add(key, key, value, file, starts[k], false); err != nil {
				return err
			}
		}
	}
	if !found {
		msg := fmt.Sprintf("no options in section [%s] of %s (section names are case-sensitive; uWSGI ignores the file)", asked, file)
		if len(seen) > 0 {
			msg += "; sections found: [" + strings.Join(seen, "], [") + "]"
		}
		st.cfg.Warnings = append(st.cfg.Warnings, Warning{File: file, Line: 1, Msg: msg})
	}
	return nil
}

// add records one option occurrence, acting on immediate ones:
// add_exported_option in core/config.c. name is the key uWSGI stores,
// raw the spelling shown to users.
func (st *state) add(name, raw, value, file string, line int, bare bool) error {
	if !st.logicRunning {
		if logicClosers[name] {
			st.logic = nil
		}
		if st.logic != nil {
			return st.runLogic(name, raw, value, file, line, bare)
		}
	}
	if len(st.cfg.Options) >= maxOptions {
		return &Error{File: file, Line: line, Key: name, Msg: fmt.Sprintf("more than %d options (a for block repeating too much?)", maxOptions)}
	}
	o := Option{Key: canonical(name), Raw: raw, Value: value, File: file, Line: line, name: name, bare: bare}
	o.expanded = immediate[o.Key] || logicOpeners[o.Key] // uWSGI runs these at once (UWSGI_OPT_IMMEDIATE)
	if _, seen := st.firstOpt[name]; !seen {
		st.firstOpt[name] = len(st.cfg.Options)
	}
	st.cfg.Options = append(st.cfg.Options, o)
	if logicOpeners[o.Key] {
		return st.openLogic(o)
	}
	switch o.Key {
	case "ini":
		return st.loadSpec(value, file, line)
	case "include":
		if f, _ := st.splitSection(value); strings.HasSuffix(f, ".ini") {
			return st.loadSpec(value, file, line)
		}
	case "set":
		ph, v, ok := strings.Cut(value, "=")
		if !ok || ph == "" {
			return &Error{File: file, Line: line, Key: o.Key, Msg: fmt.Sprintf("%s = %q needs the form NAME=VALUE", raw, value)}
		}
		st.declared[ph] = true
		return st.add(ph, ph, v, file, line, false)
	}
	return nil
}
