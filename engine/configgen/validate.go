package configgen

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// A FieldError is one problem with one Config field.
type FieldError struct {
	Field   string // the Config field, e.g. "App.Module" or "Static[1].URL"
	Value   string // the offending value, as given
	Problem string // what is wrong and how to fix it
}

func (e FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Problem
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem)
}

// A ValidationError lists every problem found in a Config.
type ValidationError struct {
	Profile Profile
	Fields  []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s config:", e.Profile)
	for _, f := range e.Fields {
		b.WriteString("\n  ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Validate checks c (after WithDefaults) for profile p. It returns nil or
// a *ValidationError naming every bad field.
func Validate(p Profile, c Config) error {
	if p != Local && p != Production {
		return &ValidationError{Profile: p, Fields: []FieldError{{Field: "Profile", Value: string(p), Problem: `must be "local" or "production"`}}}
	}
	given := c.Static // errors quote what the user wrote, before "/" is added
	c = c.WithDefaults(p)
	v := &validator{p: p}

	switch {
	case c.Name == "":
		v.add("Name", "", "required: a short project name such as myapp")
	case !namePattern.MatchString(c.Name):
		v.add("Name", c.Name, "use only letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters")
	}
	switch c.Framework {
	case "", "django", "flask":
	default:
		v.add("Framework", c.Framework, `must be "django", "flask" or empty`)
	}

	switch {
	case c.App.Module == "":
		v.add("App.Module", "", "required: the dotted Python module holding the app, e.g. wsgi or mysite.wsgi")
	case !isDottedName(c.App.Module):
		v.add("App.Module", c.App.Module, "must be a dotted Python module name such as mysite.wsgi (no .py, no slashes)")
	}
	if !isIdentifier(c.App.Callable) {
		v.add("App.Callable", c.App.Callable, "must be a Python name such as application, app or create_app (no parentheses: set App.Factory for a factory)")
	}

	v.path("Chdir", c.Chdir, true)
	v.path("Venv", c.Venv, false)
	for i, pp := range c.PythonPath {
		v.path(fmt.Sprintf("PythonPath[%d]", i), pp, true)
	}
	for i, kv := range c.Env {
		field := fmt.Sprintf("Env[%d]", i)
		key, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !envKey.MatchString(key):
			v.add(field, kv, "must be KEY=VALUE with KEY made of letters, digits and '_'")
		case !iniSafe(kv):
			v.add(field, kv, "must be one line without leading or trailing spaces and without $( or @(, which uWSGI would expand")
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Static {
		field := fmt.Sprintf("Static[%d]", i)
		switch {
		case !strings.HasPrefix(s.URL, "/"):
			v.add(field+".URL", given[i].URL, "must be a URL path starting with /, e.g. /static/")
		case s.URL == "/":
			v.add(field+".URL", s.URL, "/ would hide the app behind the static folder; use a prefix such as /static/")
		case !nginxSafe(s.URL) || strings.Contains(s.URL, "%"):
			v.add(field+".URL", s.URL, "must not contain spaces, quotes, %, ;, {, }, # or $")
		case seen[s.URL]:
			v.add(field+".URL", s.URL, "is mapped twice; merge the two folders or use another prefix")
		}
		seen[s.URL] = true
		v.path(field+".Dir", s.Dir, true)
		if !nginxSafe(s.Dir) {
			v.add(field+".Dir", s.Dir, "nginx cannot use this folder name without quoting: rename it to avoid spaces, quotes, ;, {, }, # and $")
		}
	}

	if c.Processes < 0 || c.Processes > 1024 {
		v.add("Processes", fmt.Sprint(c.Processes), "must be from 1 to 1024 (or 0 for the default)")
	}
	if c.Threads < 0 || c.Threads > 1024 {
		v.add("Threads", fmt.Sprint(c.Threads), "must be from 0 to 1024")
	}
	if c.Harakiri < 0 {
		v.add("Harakiri", fmt.Sprint(c.Harakiri), "must be a number of seconds, 0 or more")
	}
	if c.MaxRequests < 0 {
		v.add("MaxRequests", fmt.Sprint(c.MaxRequests), "must be 0 or more")
	}
	if c.BufferSize < 4096 || c.BufferSize > 65535 {
		v.add("BufferSize", fmt.Sprint(c.BufferSize), "must be from 4096 to 65535 bytes (uWSGI's limits)")
	}
	if !nginxSize.MatchString(c.ClientMaxBodySize) {
		v.add("ClientMaxBodySize", c.ClientMaxBodySize, "must be an nginx size such as 10m, 512k or 0 (no limit)")
	}

	if p == Local {
		v.port("ProxyPort", c.ProxyPort, true)
		v.port("AppPort", c.AppPort, true)
		v.port("StatsPort", c.StatsPort, false)
		v.distinct([]string{"ProxyPort", "AppPort", "StatsPort"}, []int{c.ProxyPort, c.AppPort, c.StatsPort})
	} else {
		v.production(c)
	}
	if len(v.errs) > 0 {
		return &ValidationError{Profile: p, Fields: v.errs}
	}
	return nil
}

func (v *validator) production(c Config) {
	if len(c.ServerNames) == 0 {
		v.add("ServerNames", "", "production needs at least one server name: the domain users type, e.g. example.com")
	}
	for i, n := range c.ServerNames {
		if n == "" || !nginxSafe(n) || strings.Contains(n, "/") {
			v.add(fmt.Sprintf("ServerNames[%d]", i), n, "must be a host name such as example.com or *.example.com")
		}
	}
	v.port("HTTPPort", c.HTTPPort, true)
	v.port("HTTPSPort", c.HTTPSPort, true)
	if c.HTTPPort == c.HTTPSPort && c.TLSCert != "" {
		v.add("HTTPSPort", fmt.Sprint(c.HTTPSPort), "must differ from HTTPPort")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		field := "TLSKey"
		if c.TLSCert == "" {
			field = "TLSCert"
		}
		v.add(field, "", "HTTPS needs both the certificate (TLSCert) and its key (TLSKey)")
	}
	for _, f := range []struct{ field, p string }{{"TLSCert", c.TLSCert}, {"TLSKey", c.TLSKey}} {
		if field, p := f.field, f.p; p != "" {
			v.path(field, p, false)
			if !nginxSafe(p) {
				v.add(field, p, "nginx cannot use this path without quoting: avoid spaces, quotes, ;, {, }, # and $")
			}
		}
	}
	v.path("Socket", c.Socket, true)
	if len(c.Socket) > 107 {
		v.add("Socket", c.Socket, "is longer than a unix socket path may be (107 bytes); use a shorter one under /run")
	}
	if !nginxSafe(c.Socket) {
		v.add("Socket", c.Socket, "nginx cannot use this path without quoting: avoid spaces, quotes, ;, {, }, # and $")
	}
	if !unixName.MatchString(c.User) {
		v.add("User", c.User, "must be a system user name such as www-data")
	}
	if !unixName.MatchString(c.Group) {
		v.add("Group", c.Group, "must be a system group name such as www-data")
	}
	v.path("UWSGIBinary", c.UWSGIBinary, true)
	v.path("IniPath", c.IniPath, true)
	v.path("LogDir", c.LogDir, true)
	if !nginxSafe(c.LogDir) {
		v.add("LogDir", c.LogDir, "nginx cannot use this path without quoting: avoid spaces, quotes, ;, {, }, # and $")
	}
	if !nginxTime.MatchString(c.StaticExpires) {
		v.add("StaticExpires", c.StaticExpires, "must be an nginx time such as 30d, 12h or max, or off")
	}
}

type validator struct {
	p    Profile
	errs []FieldError
}

func (v *validator) add(field, value, problem string) {
	v.errs = append(v.errs, FieldError{Field: field, Value: value, Problem: problem})
}

// path checks a file system path: absolute in production, absolute or
// relative to the project folder locally, and safe to write into uwsgi.ini.
func (v *validator) path(field, p string, required bool) {
	if p == "" {
		if required {
			v.add(field, "", "required")
		}
		return
	}
	if !iniSafe(p) {
		v.add(field, p, "must be one line without leading or trailing spaces and without $( or @(, which uWSGI would expand")
		return
	}
	// Local paths may also be relative to the project folder.
	if v.p == Production && !path.IsAbs(p) {
		v.add(field, p, "must be an absolute path on the server, e.g. /srv/myapp")
	}
}

func (v *validator) port(field string, port int, required bool) {
	if port == 0 && !required {
		return
	}
	if port < 1 || port > 65535 {
		v.add(field, fmt.Sprint(port), "must be a TCP port from 1 to 65535")
	}
}

// distinct reports a port used by two fields.
func (v *validator) distinct(fields []string, ports []int) {
	for i := range ports {
		for j := range i {
			if ports[i] != 0 && ports[i] == ports[j] {
				v.add(fields[i], fmt.Sprint(ports[i]), "is the same port as "+fields[j]+"; each needs its own")
				break
			}
		}
	}
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	envKey      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	unixName    = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	nginxSize   = regexp.MustCompile(`^[0-9]+[kKmMgG]?$`)
	nginxTime   = regexp.MustCompile(`^(max|off|epoch|([0-9]+(ms|s|m|h|d|w|M|y)?)+)$`)
)

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		return false
	}
	return true
}

func isDottedName(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !isIdentifier(part) {
			return false
		}
	}
	return true
}

// iniSafe reports whether s survives a uwsgi.ini line unchanged: the
// parser trims spaces and has no escapes for line breaks, and expands
// $(ENV) and @(file) everywhere. '%' is escaped as "%%" when rendered.
func iniSafe(s string) bool {
	if strings.TrimSpace(s) != s || strings.Contains(s, "$(") || strings.Contains(s, "@(") {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// nginxSafe reports whether s can be an unquoted nginx directive argument
// with no variable expansion.
func nginxSafe(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"';{}#$\`, r) {
			return false
		}
	}
	return true
}
