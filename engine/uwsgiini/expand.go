package uwsgiini

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bounds on one value: uWSGI loops forever on "a = x%(a)"; we stop and
// say why.
const (
	maxExpansion     = 1 << 20 // bytes
	maxSubstitutions = 1000
)

// finish runs the three late passes (core/uwsgi.c: $ then @ then %),
// classifies every option and applies strict mode.
func (st *state) finish() (*Config, error) {
	if err := st.pass('$', func(k string) (string, bool, error) {
		v, ok := st.getenv(k)
		return v, ok, nil
	}); err != nil {
		return nil, err
	}
	if err := st.pass('@', st.fileValue); err != nil {
		return nil, err
	}
	if err := st.pass('%', func(k string) (string, bool, error) {
		v, ok := st.placeholder(k)
		return v, ok, nil
	}); err != nil {
		return nil, err
	}
	return st.cfg, st.classify()
}

// pass is uwsgi_apply_config_pass for one symbol.
func (st *state) pass(sym byte, hook func(string) (string, bool, error)) error {
	for i := range st.cfg.Options {
		o := &st.cfg.Options[i]
		if o.bare || o.expanded {
			continue
		}
		v, err := expandValue(o.Value, sym, hook)
		if err != nil {
			return &Error{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf("%s: %v", o.Raw, err)}
		}
		o.Value = v
	}
	return nil
}

// expandValue replaces SYM(key) in v, replaying uWSGI's scanner exactly: a
// new SYM restarts a key even inside one, nested parentheses belong to the
// key, an unresolved key is left as written, and after each replacement the
// scan restarts at the second byte (so a value that begins with a freshly
// inserted "%(x)" is not expanded again, as in uWSGI).
func expandValue(v string, sym byte, hook func(string) (string, bool, error)) (string, error) {
	state, depth, start, subs := 0, 0, 0, 0
	for j := 0; j < len(v); j++ {
		c := v[j]
		switch {
		case c == sym:
			state = 1
		case c == '(' && state == 1:
			state, depth, start = 2, 0, j+1
		case state > 1 && c == '(':
			state++
			depth++
		case state > 1 && c == ')':
			if depth > 0 {
				state++
				depth--
				continue
			}
			if state <= 2 {
				state = 0
				continue
			}
			key := v[start : start+state-2]
			val, ok, err := hook(key)
			if err != nil {
				return v, err
			}
			if !ok {
				state = 0
				continue
			}
			v = v[:start-2] + val + v[start+state-1:]
			if subs++; subs > maxSubstitutions || len(v) > maxExpansion {
				return v, fmt.Errorf("%c(%s) expands without end (a value that refers to itself?); break the loop", sym, key)
			}
			state, j = 0, 0
		case state > 1:
			state++
		default:
			state = 0
		}
	}
	return v, nil
}

// fileValue is the @(file) hook (uwsgi_simple_file_read): the file's
// content without one trailing newline.
func (st *state) fileValue(name string) (string, bool, error) {
	if strings.Contains(name, "://") {
		return "", false, fmt.Errorf("@(%s): only plain files are supported in wsgideck", name)
	}
	data, err := st.readFile(name)
	if err != nil {
		return "", false, fmt.Errorf("@(%s): cannot read the file (%v); paths are relative to the current directory %s", name, unwrapPath(err), st.cwd)
	}
	return strings.TrimSuffix(string(data), "\n"), true, nil
}

// lookup is uwsgi_get_exported_opt: the FIRST value of the option stored
// under exactly this name (aliases are distinct names to uWSGI).
func (st *state) lookup(name string) (string, bool) {
	st.refs[name] = true
	i, ok := st.firstOpt[name]
	if !ok {
		return "", false
	}
	o := st.cfg.Options[i]
	return o.Value, !o.bare // uWSGI stores NULL for a bare flag
}

// placeholder is the %(...) hook (uwsgi_manage_placeholder): a plain name,
// or a left-to-right pipeline of names and numbers where + - * / apply to
// the next item, ++ and -- to the result so far, and items with no
// operator between them are concatenated: %(a b + 1).
func (st *state) placeholder(key string) (string, bool) {
	if !strings.Contains(key, " ") {
		return st.lookup(key)
	}
	var cur *string
	op := ""
	for _, tok := range strings.Fields(key) {
		var val string
		switch tok {
		case "+", "-", "*", "/":
			op = tok
			continue
		case "++", "--":
			if cur != nil {
				n := strtoll(*cur) + 1
				if tok == "--" {
					n -= 2
				}
				s := strconv.FormatInt(n, 10)
				cur = &s
			}
			op = ""
			continue
		default:
			if isDigits(tok) {
				val = tok
			} else {
				val, _ = st.lookup(tok)
			}
		}
		a := ""
		if cur != nil {
			a = *cur
		}
		x, y := strtoll(a), strtoll(val)
		var res string
		switch op {
		case "":
			res = a + val
		case "+":
			res = strconv.FormatInt(x+y, 10)
		case "-":
			res = strconv.FormatInt(x-y, 10)
		case "*":
			res = strconv.FormatInt(x*y, 10)
		case "/":
			res = "0" // uWSGI's answer to division by zero
			if y != 0 {
				res = strconv.FormatInt(x/y, 10)
			}
		}
		cur, op = &res, ""
	}
	if cur == nil {
		return "", false
	}
	return *cur, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// strtoll parses a leading base-10 integer like C's strtoll: leading
// space, an optional sign, digits, anything after ignored, clamped on
// overflow, 0 when there are no digits.
func strtoll(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n uint64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint64(s[i]-'0')
		if n > math.MaxInt64 {
			if neg {
				return math.MinInt64
			}
			return math.MaxInt64
		}
	}
	if neg {
		return -int64(n)
	}
	return int64(n)
}

// classify sorts every option into meaningful, ignored, unsupported or
// unknown, and enforces strict mode.
func (st *state) classify() error {
	c := st.cfg
	strict := c.Bool("strict")
	for _, o := range c.Options {
		// (Files only: a flag's value given on the command line or in a
		// UWSGI_* variable has no line to move a comment to.)
		if r, ok := realByName[o.name]; ok && r.arg == ArgNone && o.File != "" && o.Line > 0 && meantFalse(o.Value) {
			c.Warnings = append(c.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf(
				"%s = %s reads as true: uWSGI has no inline comments, so the whole text is the value; put the comment on its own line", o.Raw, o.Value)})
		}
		if spec, ok := specByName[o.name]; ok {
			if spec.Unit == UnitBytes {
				if err := st.sizeSuffix(o, strict); err != nil {
					return err
				}
			}
			if spec.Ignored {
				c.Ignored = append(c.Ignored, o)
				c.Warnings = append(c.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf("%s is accepted but ignored: %s", o.Raw, spec.Note)})
			} else if o.Key == "include" && !strings.HasSuffix(o.Value, ".ini") && !strings.Contains(o.Value, ".ini:") {
				c.Warnings = append(c.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf("include = %s is ignored: wsgideck reads only .ini files", o.Value)})
			}
			continue
		}
		if IsUWSGIOption(o.name) {
			c.Warnings = append(c.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf("%s is a uWSGI option that wsgideck does not support; it is ignored", o.Raw)})
			continue
		}
		if st.declared[o.name] || (st.refs[o.name] && !strict) {
			continue // a placeholder in use
		}
		msg := fmt.Sprintf("unknown option %q", o.Raw)
		if s := suggest(o.name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		if strict {
			return &Error{File: o.File, Line: o.Line, Key: o.Key, Msg: msg + "; strict mode is on: fix the name, or declare a placeholder with set-placeholder = NAME=VALUE"}
		}
		c.Warnings = append(c.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: msg + ": uWSGI keeps it only as a placeholder for %(...)"})
	}
	return nil
}

// sizeSuffix warns about a k, m or g suffix on a size, which uWSGI 2.0.21
// does not read (Config.Size explains); under strict it is an error.
func (st *state) sizeSuffix(o Option, strict bool) error {
	n, suffixed, ok := parseSize(o.Value)
	if !ok || !suffixed {
		return nil
	}
	digits := strings.TrimSpace(o.Value)
	digits = digits[:len(digits)-1]
	msg := fmt.Sprintf("%s = %s: wsgideck reads %d bytes, but uWSGI 2.0 reads no size suffix and would take %s bytes; write %s = %d so that both agree",
		o.Raw, o.Value, n, digits, o.Raw, n)
	if strict {
		return &Error{File: o.File, Line: o.Line, Key: o.Key, Msg: msg + " (strict mode is on)"}
	}
	st.cfg.Warnings = append(st.cfg.Warnings, Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: msg})
	return nil
}

// meantFalse reports a flag value like "false # why": false before what
// looks like a comment, but true to uWSGI, which has no inline comments.
func meantFalse(v string) bool {
	cut := len(v)
	for _, c := range []string{" #", " ;", "\t#", "\t;"} {
		if i := strings.Index(v, c); i >= 0 && i < cut {
			cut = i
		}
	}
	return cut < len(v) && !ParseBool(strings.TrimSpace(v[:cut])) && ParseBool(v)
}
