package uwsgiini

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Config logic (uWSGI's ConfigLogic: core/config.c and uwsgi_opt_logic):
// an if-X or for-X option opens a block that lasts until endif, end-if,
// endfor, end-for or end. Every option read inside the block goes through
// the block's test instead of being stored: a true if-X stores it once, a
// for-X once per item, each time with "%(_)" in its value replaced by the
// block's subject (the variable's value, the path, the item). Checked
// against uwsgi 2.0.21 (compat_test.go), including its quirks:
//
//   - the test runs again for each option, at read time: if-env sees the
//     environment uWSGI started with (env = lines are applied later), and
//     if-opt the first value the option has so far, before expansion;
//   - the if-X line and the closing line are themselves stored options;
//   - a block left open runs on into the files and arguments read after;
//   - options stored by a block (an ini = inside one, and everything that
//     file holds) skip the block tests: an endif in an included file is
//     just an option;
//   - a block opened inside a block whose test passed is an error
//     ("recursive logic in options is not supported"), but one inside a
//     block whose test failed is dropped with the rest, so its own endif
//     closes the outer block. (We follow uWSGI here: a config that loads
//     there loads here, to the same options.)
//
// if-reload is never true: wsgideck re-reads the config on a reload but
// does not re-exec itself. if-plugin is true for "python" and "http", the
// plugins built in (uWSGI's python3 plugin calls itself "python").

// Bounds uWSGI does not have: for-times repetitions, the options one
// read may store (for blocks multiply them), and a for-readline file.
const (
	maxForTimes    = 1000
	maxOptions     = 10000
	maxReadlineLen = 1 << 20
)

// logicBlock is the block being read.
type logicBlock struct {
	kind string // canonical option name: "if-env", "for-glob", ...
	arg  string // the option's value as read (magic variables applied)
	file string
	line int
}

// logicOpeners are the canonical names of the options that open a block:
// the specs marked Block (options.go), filled when the table is read.
var logicOpeners = map[string]bool{}

// logicClosers end a block; uWSGI compares the name as written.
var logicClosers = map[string]bool{"end": true, "endfor": true, "endif": true, "end-if": true, "end-for": true}

// builtinPlugins are the plugin names if-plugin sees as loaded.
var builtinPlugins = map[string]bool{"python": true, "http": true}

// runLogic passes one option read inside a block through the block's test
// (uwsgi.logic_opt), storing what the test lets through.
func (st *state) runLogic(name, raw, value, file string, line int, bare bool) error {
	b := st.logic
	st.logicRunning = true
	defer func() { st.logicRunning = false }()
	store := func(subject string, substitute bool) error {
		v := value
		if substitute {
			v = strings.ReplaceAll(value, "%(_)", subject)
		}
		return st.add(name, raw, v, file, line, bare)
	}
	data := b.arg
	switch b.kind {
	case "for":
		for _, tok := range strings.Split(data, " ") {
			if tok == "" {
				continue
			}
			if err := store(tok, true); err != nil {
				return err
			}
		}
		return nil
	case "for-times":
		n := strtoll(data)
		if n > maxForTimes {
			return &Error{File: b.file, Line: b.line, Key: b.kind, Msg: fmt.Sprintf("for-times = %s: more than %d repetitions; is the number right?", data, maxForTimes)}
		}
		for i := int64(1); i <= n; i++ {
			if err := store(strconv.FormatInt(i, 10), true); err != nil {
				return err
			}
		}
		return nil
	case "for-glob":
		for _, m := range st.glob(data) {
			if err := store(m, true); err != nil {
				return err
			}
		}
		return nil
	case "for-readline":
		var text []byte
		fi, err := st.stat(data)
		if err == nil && (!fi.Mode().IsRegular() || fi.Size() > maxReadlineLen) {
			err = fmt.Errorf("not a regular file of at most %d bytes", maxReadlineLen)
		}
		if err == nil {
			text, err = st.readFile(data)
		}
		if err != nil {
			st.cfg.Warnings = append(st.cfg.Warnings, Warning{File: b.file, Line: b.line, Key: b.kind,
				Msg: fmt.Sprintf("for-readline = %s: cannot read the file (%v); the options in this block are skipped, as uWSGI does", data, unwrapPath(err))})
			return nil
		}
		lines := strings.SplitAfter(string(text), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for _, l := range lines {
			if err := store(strings.TrimRight(l, "\r\n"), true); err != nil {
				return err
			}
		}
		return nil
	case "if-env", "if-not-env", "if-opt", "if-not-opt":
		key, want, compare := strings.Cut(data, "=")
		var got string
		var ok bool
		if strings.HasSuffix(b.kind, "env") {
			got, ok = st.getenv(key)
		} else {
			got, ok = st.lookup(key)
		}
		pass := ok && (!compare || got == want)
		if strings.HasPrefix(b.kind, "if-not-") {
			// Not set, or set to something else; %(_) is then the value
			// if there is one, else it stays as written.
			pass = !ok || compare && got != want
		}
		if !pass {
			return nil
		}
		return store(got, ok)
	}
	var pass bool
	switch b.kind {
	case "if-reload":
		pass = false
	case "if-not-reload":
		return store("", false) // uWSGI substitutes nothing here
	case "if-hostname", "if-not-hostname":
		pass = st.host == data
	case "if-hostname-match", "if-not-hostname-match":
		re, err := regexp.Compile(data)
		if err != nil {
			return &Error{File: b.file, Line: b.line, Key: b.kind, Msg: fmt.Sprintf("%s = %s is not a valid regular expression: %v", b.kind, data, err)}
		}
		pass = re.MatchString(st.host)
	case "if-exists", "if-not-exists":
		_, err := st.stat(data)
		pass = err == nil
	case "if-file", "if-not-file":
		fi, err := st.stat(data)
		pass = err == nil && fi.Mode().IsRegular()
	case "if-dir", "if-not-dir":
		fi, err := st.stat(data)
		pass = err == nil && fi.IsDir()
	case "if-plugin", "if-not-plugin":
		pass = builtinPlugins[data]
	}
	if strings.HasPrefix(b.kind, "if-not-") {
		pass = !pass
	}
	if !pass {
		return nil
	}
	return store(data, true)
}

// glob is for-glob's glob(3) with GLOB_MARK and GLOB_NOCHECK: sorted
// matches, directories with a trailing slash, and the pattern itself when
// nothing matches. Relative patterns are relative to the current directory
// and so are their matches.
func (st *state) glob(pattern string) []string {
	matches, err := st.globAbs(st.abs(pattern))
	if err != nil || len(matches) == 0 {
		return []string{pattern}
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		if fi, err := st.stat(m); err == nil && fi.IsDir() {
			m += "/"
		}
		if !filepath.IsAbs(pattern) {
			if rel, err := filepath.Rel(st.cwd, m); err == nil {
				if strings.HasSuffix(m, "/") {
					rel += "/"
				}
				m = rel
			}
		}
		out = append(out, m)
	}
	return out
}

// openLogic starts a block for an opener that was just stored.
func (st *state) openLogic(o Option) error {
	if st.logic != nil {
		return &Error{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf(
			"%s inside the %s block of %s: blocks do not nest (uWSGI exits: \"recursive logic in options is not supported\"); close the outer block with endif first",
			o.Raw, st.logic.kind, Where(st.logic.file, st.logic.line))}
	}
	st.logic = &logicBlock{kind: o.Key, arg: o.Value, file: o.File, line: o.Line}
	return nil
}
