package confedit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// The helpers below are the structured nginx.conf edits the desktop app's
// forms make, as a thin layer over engine/nginxconf's splicing edits: each
// changes only the bytes it must. They edit a directive's own block, not
// files it includes (a change to uwsgi_params would reach every location
// that includes it).

// Servers returns the server blocks in the order nginx reads them: those
// of every http block for an nginx.conf, or the top-level ones of a file
// read in http context (a sites-available file). Servers in included
// files are found too.
func Servers(c *nginxconf.Config) []*nginxconf.Directive {
	var blocks []*nginxconf.Block
	if c.Context.Has(nginxconf.CtxHTTP) {
		blocks = append(blocks, c.Main.Block)
	} else {
		for _, h := range c.Main.Block.Find("http") {
			if h.Block != nil {
				blocks = append(blocks, h.Block)
			}
		}
	}
	var out []*nginxconf.Directive
	for _, b := range blocks {
		for _, s := range b.Find("server") {
			if s.Block != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

func needBlock(d *nginxconf.Directive, what string) error {
	if d == nil || d.Block == nil {
		return fmt.Errorf("confedit: %s needs a block directive (server or location)", what)
	}
	if d.File == nil {
		return errors.New("confedit: the directive is not part of a loaded file")
	}
	return nil
}

// own returns the directives called name written in d's own block
// (includes not followed).
func own(d *nginxconf.Directive, name string) []*nginxconf.Directive {
	var out []*nginxconf.Directive
	for _, c := range d.Block.Directives {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// SetListen makes srv listen on addr: the listen directive whose address
// is old (the first one when old is "") gets addr as its address, keeping
// its parameters (default_server, ssl, ...). A server without any listen
// directive gets "listen addr;" as its first directive.
func SetListen(srv *nginxconf.Directive, old, addr string) error {
	if err := needBlock(srv, "SetListen"); err != nil {
		return err
	}
	for _, l := range srv.Block.Find("listen") {
		if len(l.Args) > 0 && (old == "" || l.Arg(0) == old) {
			return l.SetArg(0, addr)
		}
	}
	if old != "" {
		return fmt.Errorf("confedit: %s has no listen %s", srv.Where(), old)
	}
	_, err := srv.Block.Insert(0, nginxconf.NewDirective("listen", addr))
	return err
}

// SetServerName makes names the server's server_name, in place, or adds
// the directive after the server's listen directives.
func SetServerName(srv *nginxconf.Directive, names ...string) error {
	if err := needBlock(srv, "SetServerName"); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New(`confedit: server_name needs at least one name (use "" for none)`)
	}
	if sn := srv.Block.Find("server_name"); len(sn) > 0 {
		return sn[0].SetArgs(names...)
	}
	at := 0
	for i, d := range srv.Block.Directives {
		if d.Name == "listen" {
			at = i + 1
		}
	}
	_, err := srv.Block.Insert(at, nginxconf.NewDirective("server_name", names...))
	return err
}

// ParseMatch splits a location match as written after "location":
// "/static/", "= /favicon.ico", "~* \.(png|jpg)$", "@fallback".
func ParseMatch(match string) (nginxconf.Location, []string, error) {
	match = strings.TrimSpace(match)
	args := []string{match}
	if mod, rest, ok := strings.Cut(match, " "); ok {
		switch mod {
		case "=", "^~", "~", "~*":
			args = []string{mod, strings.TrimSpace(rest)}
		}
	}
	loc, err := nginxconf.SplitLocation(args)
	if err != nil {
		return loc, nil, fmt.Errorf("confedit: location %q: %v", match, err)
	}
	return loc, args, nil
}

// FindLocation returns the location of parent (a server or a location)
// with the given match, or nil. Matches compare as nginx reads them:
// "=/x" and "= /x" are the same location.
func FindLocation(parent *nginxconf.Directive, match string) (*nginxconf.Directive, error) {
	if err := needBlock(parent, "FindLocation"); err != nil {
		return nil, err
	}
	want, _, err := ParseMatch(match)
	if err != nil {
		return nil, err
	}
	for _, d := range parent.Block.Find("location") {
		if got, err := d.Location(); err == nil && got == want {
			return d, nil
		}
	}
	return nil, nil
}

// AddLocation adds "location match { body }" to parent (a server, or a
// location for a nested one), after its last location, or at its end. A
// location with the same match is an error, as it is for nginx.
func AddLocation(parent *nginxconf.Directive, match string, body ...*nginxconf.Directive) (*nginxconf.Directive, error) {
	if err := needBlock(parent, "AddLocation"); err != nil {
		return nil, err
	}
	_, args, err := ParseMatch(match)
	if err != nil {
		return nil, err
	}
	if dup, _ := FindLocation(parent, match); dup != nil {
		return nil, fmt.Errorf("confedit: %s already has location %s (%s)", parent.Where(), match, dup.Where())
	}
	at := len(parent.Block.Directives)
	for i, d := range parent.Block.Directives {
		if d.Name == "location" {
			at = i + 1
		}
	}
	return parent.Block.Insert(at, nginxconf.NewBlockDirective("location", args, body...))
}

// RemoveLocation removes parent's location with the given match, with its
// body.
func RemoveLocation(parent *nginxconf.Directive, match string) error {
	loc, err := FindLocation(parent, match)
	if err != nil {
		return err
	}
	if loc == nil {
		return fmt.Errorf("confedit: %s has no location %s", parent.Where(), match)
	}
	return loc.Remove()
}

// SetDirective gives the directive name the args in d's own block (a
// server or location): the last occurrence is rewritten in place; without
// one, it is added after the block's simple directives, before its nested
// blocks. It returns the live directive.
func SetDirective(d *nginxconf.Directive, name string, args ...string) (*nginxconf.Directive, error) {
	if err := needBlock(d, "SetDirective"); err != nil {
		return nil, err
	}
	if have := own(d, name); len(have) > 0 {
		last := have[len(have)-1]
		return last, last.SetArgs(args...)
	}
	at := len(d.Block.Directives)
	for i, c := range d.Block.Directives {
		if c.Block != nil {
			at = i
			break
		}
	}
	return d.Block.Insert(at, nginxconf.NewDirective(name, args...))
}

// RemoveDirectives removes every directive called name from d's own block
// and returns how many there were.
func RemoveDirectives(d *nginxconf.Directive, name string) (int, error) {
	if err := needBlock(d, "RemoveDirectives"); err != nil {
		return 0, err
	}
	have := own(d, name)
	for _, c := range have {
		if err := c.Remove(); err != nil {
			return 0, err
		}
	}
	return len(have), nil
}

// Pass is a directive that hands requests to an upstream.
type Pass string

const (
	UWSGIPass   Pass = "uwsgi_pass"   // the uwsgi protocol: uWSGI's socket
	ProxyPass   Pass = "proxy_pass"   // HTTP: uWSGI's http-socket or http
	FastCGIPass Pass = "fastcgi_pass" // FastCGI: uWSGI's fastcgi-socket
)

// params is the stock file that fills a protocol's parameters, and the
// directive that sets one.
func (p Pass) params() (file, directive string) {
	switch p {
	case UWSGIPass:
		return "uwsgi_params", "uwsgi_param"
	case FastCGIPass:
		return "fastcgi_params", "fastcgi_param"
	}
	return "", ""
}

// SetPass makes loc hand its requests to target with pass: the other
// *_pass directives of loc are removed, pass is set (in place when loc has
// it), and for uwsgi_pass and fastcgi_pass an "include uwsgi_params;" (or
// fastcgi_params) is added before it when no parameters are in effect, so
// the app gets PATH_INFO and the rest. proxy_pass targets get "http://"
// when they have no scheme.
func SetPass(loc *nginxconf.Directive, pass Pass, target string) error {
	if err := needBlock(loc, "SetPass"); err != nil {
		return err
	}
	switch pass {
	case UWSGIPass, FastCGIPass:
	case ProxyPass:
		if !strings.Contains(target, "://") {
			target = "http://" + target
		}
	default:
		return fmt.Errorf("confedit: unknown pass directive %q", pass)
	}
	for _, other := range []Pass{UWSGIPass, ProxyPass, FastCGIPass} {
		if other != pass {
			if _, err := RemoveDirectives(loc, string(other)); err != nil {
				return err
			}
		}
	}
	d, err := SetDirective(loc, string(pass), target)
	if err != nil {
		return err
	}
	file, param := pass.params()
	if file == "" || paramsInEffect(loc, param) {
		return nil
	}
	for i, c := range loc.Block.Directives {
		if c == d {
			_, err := loc.Block.Insert(i, nginxconf.NewDirective("include", file))
			return err
		}
	}
	return nil
}

// paramsInEffect reports whether a location has param directives of its
// own (includes followed) or inherits them: nginx inherits *_param from
// the enclosing level only when a level sets none.
func paramsInEffect(d *nginxconf.Directive, param string) bool {
	for d != nil {
		if d.Block != nil && len(d.Block.Find(param)) > 0 {
			return true
		}
		if d.Parent == nil {
			return false
		}
		d = d.Parent.Parent
	}
	return false
}
