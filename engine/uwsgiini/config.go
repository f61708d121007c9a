package uwsgiini

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Option is one occurrence of an option, after expansion.
type Option struct {
	Key   string // canonical name (aliases resolved: "workers" -> "processes")
	Raw   string // the name as written ("workers", "-p", "uwsgi-socket")
	Value string // expanded value ("true" for a bare command-line flag)
	File  string // "" for command-line options, "$UWSGI_NAME" for an environment variable
	Line  int    // 1-based; for the command line, the argument index (os.Args[Line] when args = os.Args[1:]); 0 for a variable

	name     string // the key uWSGI stores: Raw for long names, the long name for short flags
	bare     bool   // a command-line flag given without a value (uWSGI stores NULL)
	expanded bool   // immediate options are never expanded
}

// Bare reports a command-line flag given without a value (--chmod-socket
// rather than --chmod-socket=660): uWSGI stores no value for it, which some
// options read differently from any value.
func (o Option) Bare() bool { return o.bare }

// Where says where an option was set, for messages: "FILE:LINE",
// "command line argument N", or "environment variable $UWSGI_NAME".
func (o Option) Where() string { return Where(o.File, o.Line) }

// Where renders a File and Line as Option, Warning and Error hold them:
// "FILE:LINE", "command line argument N" (no file), "environment variable
// $UWSGI_NAME" (a file and line 0), or "command line" (neither).
func Where(file string, line int) string {
	switch {
	case file != "" && line == 0:
		return "environment variable " + file
	case file != "":
		return fmt.Sprintf("%s:%d", file, line)
	case line > 0:
		return fmt.Sprintf("command line argument %d", line)
	}
	return "command line"
}

// Warning is a problem that does not stop the config from loading.
type Warning struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (w Warning) String() string { return Where(w.File, w.Line) + ": " + w.Msg }

// Error is a fatal configuration problem. Msg says how to fix it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

var _ error = (*Error)(nil)

func (e *Error) Error() string {
	if e.File == "" && e.Line == 0 {
		return e.Msg
	}
	return Where(e.File, e.Line) + ": " + e.Msg
}

// Config is a fully read and expanded configuration. Options holds every
// occurrence uWSGI would store, in uWSGI's order: the ini/include lines
// themselves (followed by what they read), set-placeholder lines (followed
// by the placeholder they declare), placeholders and unsupported options.
// Scalar options keep their last value (Get), list options all (All).
type Config struct {
	Options  []Option  // every occurrence in order
	Warnings []Warning // unknown options (with file:line and a did-you-mean suggestion), ignored options
	Ignored  []Option  // options accepted but meaningless here (plugins, uid, gid, ...)
}

// Lookup returns the last occurrence of key (canonical or alias name).
func (c *Config) Lookup(key string) (Option, bool) {
	key = canonical(key)
	for i := len(c.Options) - 1; i >= 0; i-- {
		if c.Options[i].Key == key {
			return c.Options[i], true
		}
	}
	return Option{}, false
}

// Get returns the last value of key: scalar options keep the last value.
func (c *Config) Get(key string) (string, bool) {
	o, ok := c.Lookup(key)
	return o.Value, ok
}

// All returns every value of key in order: list options accumulate.
func (c *Config) All(key string) []string {
	key = canonical(key)
	var out []string
	for _, o := range c.Options {
		if o.Key == key {
			out = append(out, o.Value)
		}
	}
	return out
}

// Bool reports uWSGI's truthiness of the last value of key: true unless
// false, off, no (any case) or 0; an empty value is true. Absent is false.
func (c *Config) Bool(key string) bool {
	v, ok := c.Get(key)
	return ok && ParseBool(v)
}

// ParseBool applies uWSGI's boolean rule (uwsgi_opt_true).
func ParseBool(v string) bool {
	switch strings.ToLower(v) {
	case "false", "off", "no":
		return false
	}
	return v != "0"
}

func (c *Config) badValue(o Option, what, hint string) error {
	msg := fmt.Sprintf("%s = %q is not %s", o.Raw, o.Value, what)
	if strings.ContainsAny(o.Value, ";#") {
		hint = "uWSGI has no inline comments: put the comment on its own line"
	}
	if hint != "" {
		msg += "; " + hint
	}
	return &Error{File: o.File, Line: o.Line, Key: o.Key, Msg: msg}
}

// Int returns the last value of key as an integer, or def when absent.
func (c *Config) Int(key string, def int) (int, error) {
	o, ok := c.Lookup(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(o.Value))
	if err != nil {
		return def, c.badValue(o, "a whole number", "write digits only, e.g. "+o.Raw+" = 4")
	}
	return n, nil
}

// Size returns the last value of key in bytes, or def when absent. A k, m
// or g suffix multiplies by 1024, 1024² or 1024³. uWSGI 2.0.21 itself reads
// these values with atoi/strtoul and takes "32k" as 32 bytes, which is
// never what the writer meant: wsgideck reads what was meant, and the
// loader warns about the suffix (an error under strict) so that the file
// is fixed before it reaches uWSGI.
func (c *Config) Size(key string, def int64) (int64, error) {
	o, ok := c.Lookup(key)
	if !ok {
		return def, nil
	}
	n, _, ok := parseSize(o.Value)
	if !ok {
		return def, c.badValue(o, "a number of bytes", "write digits, e.g. "+o.Raw+" = 65536")
	}
	return n, nil
}

// parseSize reads digits with an optional k, m or g suffix; suffixed
// reports the suffix.
func parseSize(v string) (n int64, suffixed, ok bool) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	if len(v) > 1 {
		if m, has := sizeMultipliers[v[len(v)-1]]; has {
			mult, suffixed = m, true
			v = v[:len(v)-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false, false
	}
	return n * mult, suffixed, true
}

var sizeMultipliers = map[byte]int64{'k': 1 << 10, 'K': 1 << 10, 'm': 1 << 20, 'M': 1 << 20, 'g': 1 << 30, 'G': 1 << 30}

// MB returns the last value of a megabyte option (reload-on-rss, limit-as,
// ...) converted to bytes, or def (already in bytes) when absent.
func (c *Config) MB(key string, def int64) (int64, error) {
	o, ok := c.Lookup(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(o.Value), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>20 {
		return def, c.badValue(o, "a number of megabytes", "write whole megabytes, e.g. "+o.Raw+" = 512")
	}
	return n << 20, nil
}
