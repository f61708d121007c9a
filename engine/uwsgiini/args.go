package uwsgiini

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// FromArgs reads a uWSGI command line (without the program name), after
// the options uWSGI takes from UWSGI_* environment variables (see
// environOptions), as getopt_long does in uWSGI: --name VALUE, --name=VALUE, bare flags,
// unambiguous prefixes of long names, short flags (-p 4, -p4, -Mp4), "--"
// to end the options, and positional FILE.ini[:section] arguments, which
// uWSGI reads after all the options. --ini FILE is read in place.
func (l *Loader) FromArgs(args []string) (*Config, error) {
	st, err := l.newState()
	if err != nil {
		return nil, err
	}
	if err := st.environOptions(); err != nil {
		return nil, err
	}
	var positional []int
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for j := i + 1; j < len(args); j++ {
				positional = append(positional, j)
			}
			i = len(args)
		case strings.HasPrefix(a, "--"):
			if i, err = st.longOption(args, i); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			if i, err = st.shortOptions(args, i); err != nil {
				return nil, err
			}
		default:
			positional = append(positional, i)
		}
	}
	for _, i := range positional {
		if err := st.positional(args[i], i+1); err != nil {
			return nil, err
		}
	}
	return st.finish()
}

func argError(i int, key, format string, a ...any) error {
	return &Error{Line: i + 1, Key: key, Msg: fmt.Sprintf(format, a...)}
}

// resolveLong finds a long option by exact name or unique prefix.
func resolveLong(name string, i int) (string, error) {
	if _, ok := realByName[name]; ok {
		return name, nil
	}
	var matches []string
	for _, r := range realList {
		if strings.HasPrefix(r.name, name) {
			matches = append(matches, r.name)
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		sort.Strings(matches)
		return "", argError(i, name, "option --%s is ambiguous: it could be --%s; write the full name", name, strings.Join(matches, ", --"))
	}
	msg := fmt.Sprintf("unknown option --%s", name)
	if s := suggest(name); s != "" {
		msg += fmt.Sprintf(" (did you mean --%s?)", s)
	}
	return "", argError(i, name, "%s; uWSGI refuses unknown command-line options (use --set-placeholder NAME=VALUE for placeholders)", msg)
}

func (st *state) longOption(args []string, i int) (int, error) {
	written, value, hasValue := strings.Cut(args[i][2:], "=")
	name, err := resolveLong(written, i)
	if err != nil {
		return i, err
	}
	at := i
	switch kind, _ := arity(name); kind {
	case ArgNone:
		if hasValue {
			return i, argError(i, name, "--%s takes no value; write --%s alone (in an ini file: %s = false to turn it off)", written, written, name)
		}
		return i, st.add(name, written, "true", "", at+1, true)
	case ArgOptional:
		if !hasValue {
			return i, st.add(name, written, "true", "", at+1, true)
		}
	default:
		if !hasValue {
			if i+1 >= len(args) {
				return i, argError(i, name, "--%s needs a value: --%s VALUE", written, written)
			}
			i++
			value = args[i]
		}
	}
	return i, st.add(name, written, value, "", at+1, false)
}

func (st *state) shortOptions(args []string, i int) (int, error) {
	a, at := args[i], i
	for k := 1; k < len(a); k++ {
		r, ok := realShort[a[k]]
		if !ok {
			return i, argError(i, string(a[k]), "unknown option -%c in %q", a[k], a)
		}
		raw, rest := "-"+string(a[k]), a[k+1:]
		switch r.arg {
		case ArgNone:
			if err := st.add(r.name, raw, "true", "", at+1, true); err != nil {
				return i, err
			}
			continue
		case ArgOptional:
			if rest == "" {
				return i, st.add(r.name, raw, "true", "", at+1, true)
			}
		default:
			if rest == "" {
				if i+1 >= len(args) {
					return i, argError(i, r.name, "%s (--%s) needs a value: %s VALUE", raw, r.name, raw)
				}
				i++
				rest = args[i]
			}
		}
		return i, st.add(r.name, raw, rest, "", at+1, false)
	}
	return i, nil
}

// positional loads a bare FILE.ini argument. uWSGI 2.0.21 itself only
// accepts names ending in .ini here; FILE.ini:section is our extension.
func (st *state) positional(a string, line int) error {
	if strings.HasPrefix(a, "[") {
		return nil // uWSGI skips these ("[options]" placeholders)
	}
	if f, _ := st.splitSection(a); strings.HasSuffix(f, ".ini") {
		if err := st.loadSpec(a, "", line); err != nil {
			if e, ok := err.(*Error); ok && e.File == "" && e.Line == 0 {
				e.Line = line
			}
			return err
		}
		return nil
	}
	return &Error{Line: line, Msg: fmt.Sprintf("unable to load configuration from %q: wsgideck reads .ini files only; options must start with -- (for example --wsgi-file %s)", a, a)}
}

// environSkipped are the UWSGI_ variables uWSGI uses for itself rather
// than as options (parse_sys_envs in core/uwsgi.c).
var environSkipped = []string{"RELOADS=", "VASSALS_DIR=", "EMPEROR_FD=", "BROODLORD_NUM=", "EMPEROR_FD_CONFIG=", "EMPEROR_PROXY=", "JVM_", "ORIGINAL_PROC_NAME="}

// environOptions adds an option for every UWSGI_NAME=value environment
// variable, in the environment's order and before the command line, as
// uWSGI does: UWSGI_HTTP_SOCKET=:8000 is --http-socket :8000 (the name
// lower-cased, "_" read as "-"; container images configure uWSGI this
// way). Each option's File is "$UWSGI_NAME" and its Line 0.
func (st *state) environOptions() error {
	env := st.l.Environ
	if env == nil {
		env = os.Environ
	}
	for _, kv := range env() {
		rest, ok := strings.CutPrefix(kv, "UWSGI_")
		if !ok || skippedEnviron(rest) {
			continue
		}
		name, value, ok := strings.Cut(rest, "=")
		if !ok || name == "" {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if err := st.add(key, key, value, "$UWSGI_"+name, 0, false); err != nil {
			return err
		}
	}
	return nil
}

func skippedEnviron(rest string) bool {
	for _, p := range environSkipped {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}
