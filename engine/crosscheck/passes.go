package crosscheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// checkPasses matches every pass against the engine's sockets.
func (c *checker) checkPasses() {
	var serving []int
	for i, a := range c.eng {
		if a.serves() {
			serving = append(serving, i)
		}
	}
	for _, p := range c.site.passes {
		if p.variable {
			continue // the address is computed per request
		}
		reached := false
		for _, e := range p.eps {
			if c.checkTarget(p, e) {
				continue
			}
			i := c.match(e.ep)
			switch {
			case i >= 0:
				reached = true
				c.reaches[i] = append(c.reaches[i], e)
				c.checkProtocol(p, e, c.eng[i])
			case !c.local(e.ep):
				// Another machine's server: not this project's to check.
			case len(serving) == 0:
				c.noSocket(p, e)
			default:
				c.wrongAddress(p, e, serving)
			}
		}
		if reached {
			c.served = append(c.served, p)
			c.checkParams(p)
		}
	}
	if len(c.site.passes) == 0 && len(serving) > 0 {
		c.noPass(c.eng[serving[0]])
	}
}

// passText names a pass and, for an upstream server, the server line:
// "nginx.conf:12 uwsgi_pass django (nginx.conf:4 server 127.0.0.1:8001)".
func (c *checker) passText(p *pass, e passEP) string {
	s := c.dirAt(p.n.d)
	if e.src != p.n.d {
		s += " (" + c.dirAt(e.src) + ")"
	}
	return s
}

func passLocs(p *pass, e passEP) []Location {
	locs := []Location{dirLoc(p.n.d)}
	if e.src != p.n.d {
		locs = append(locs, dirLoc(e.src))
	}
	return locs
}

// checkTarget reports an address nginx itself cannot use; it returns true
// when there is nothing more to check about it.
func (c *checker) checkTarget(p *pass, e passEP) bool {
	if e.bad != "" {
		c.add(Finding{Severity: confedit.Error, Kind: KindTarget, Locations: passLocs(p, e),
			Message: fmt.Sprintf("%s %s: nginx will not start; give it host:port, unix:/path, or the name of an upstream {} block", c.passText(p, e), e.bad)})
		return true
	}
	if e.name == "" || c.opts.SkipResolve {
		return false
	}
	if r := c.resolved[e.name]; r.err != nil || len(r.ips) == 0 {
		why := "no address"
		if r.err != nil {
			why = r.err.Error()
		}
		c.add(Finding{Severity: confedit.Error, Kind: KindResolve, Locations: passLocs(p, e),
			Message: fmt.Sprintf("%s: the host name %q does not resolve (%s), and nginx -t fails with \"host not found in upstream\"; use an IP address, add the name to /etc/hosts, or define an upstream {} block called %s", c.passText(p, e), e.name, why, e.name)})
		return true
	}
	return false
}

// nginxAddr spells an engine address as nginx's pass target: the
// wildcard ":3031" becomes 127.0.0.1:3031, a path unix:/path.
func nginxAddr(a engineAddr) string {
	ep := a.ep
	switch {
	case ep.unix != "":
		return "unix:" + ep.unix
	case ep.host == "::" || ep.host == "[::]":
		return fmt.Sprintf("[::1]:%d", ep.port)
	case ep.wildcard():
		return fmt.Sprintf("127.0.0.1:%d", ep.port)
	}
	return ep.String()
}

// passTarget is the argument of pass kind to reach addr (an nginx
// address, or an upstream name), keeping a proxy_pass URI.
func passTarget(kind confedit.Pass, addr, uri string) string {
	if kind != confedit.ProxyPass {
		return addr
	}
	if strings.HasPrefix(addr, "unix:") {
		return "http://" + addr + ":" + uri
	}
	return "http://" + addr + uri
}

// uriOf returns the URI part of a proxy_pass target ("/app/" of
// http://127.0.0.1:8000/app/), "" for none.
func uriOf(p *pass) string {
	if p.kind != confedit.ProxyPass {
		return ""
	}
	_, rest, _ := strings.Cut(p.n.d.Arg(0), "://")
	if path, ok := strings.CutPrefix(rest, "unix:"); ok {
		_, uri, _ := strings.Cut(path, ":")
		return uri
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}

// hostport returns a pass's target without scheme and URI: the address
// or upstream name.
func hostport(p *pass) string {
	t := p.n.d.Arg(0)
	if _, rest, ok := strings.Cut(t, "://"); ok {
		t = rest
	}
	if path, ok := strings.CutPrefix(t, "unix:"); ok {
		path, _, _ = strings.Cut(path, ":")
		return "unix:" + path
	}
	t, _, _ = strings.Cut(t, "/")
	return t
}

func (c *checker) checkProtocol(p *pass, e passEP, a engineAddr) {
	want, key := protoOf(p.kind)
	if a.proto == want {
		if p.scheme == "https" || p.scheme == "suwsgi" {
			c.add(Finding{Severity: confedit.Error, Kind: KindProtocol, Locations: append(passLocs(p, e), iniLoc(a)),
				Message: fmt.Sprintf("%s uses TLS, but %s does not: use %s without TLS there", c.passText(p, e), c.iniAt(a), strings.TrimPrefix(p.scheme, "s")+"://")})
		}
		return
	}
	use := passFor(a.proto)
	f := Finding{Severity: confedit.Error, Kind: KindProtocol, Locations: append(passLocs(p, e), iniLoc(a)),
		Message: fmt.Sprintf("%s, but %s %s: use %s there, or %s = here.", c.passText(p, e), c.iniAt(a), protoWords(a.proto), use, key)}
	if fix, ok := c.switchPass(p, use); ok {
		f.Fixes = append(f.Fixes, fix)
	}
	if fix, ok := c.renameSocket(a, key); ok {
		f.Fixes = append(f.Fixes, fix)
	}
	if a.proto == appserver.ProtoUWSGI && want == appserver.ProtoHTTP {
		f.Message += " (HTTP sent to a uwsgi socket is what uWSGI logs as \"invalid request block size: 21573\".)"
	}
	c.add(f)
}

// switchPass is the Fix that makes p a different pass directive to the
// same place.
func (c *checker) switchPass(p *pass, use confedit.Pass) (Fix, bool) {
	loc := p.n.parent
	if loc == nil || loc.d.Block == nil {
		return Fix{}, false
	}
	target := passTarget(use, hostport(p), "")
	if p.kind == confedit.ProxyPass && uriOf(p) != "" && uriOf(p) != "/" {
		return Fix{}, false // the URI rewrites paths; no other pass can do that
	}
	return Fix{
		Summary: fmt.Sprintf("use %s %s in %s", use, target, c.names.at(p.n.d.File.Path, p.n.d.Line)),
		apply:   func() error { return c.setPass(loc.d, use, target) },
	}, true
}

// renameSocket is the Fix that makes an engine option speak another
// protocol: "http-socket = :3031" becomes "socket = :3031".
func (c *checker) renameSocket(a engineAddr, key string) (Fix, bool) {
	if a.opt.File != c.ini.Path() || strings.Contains(a.opt.Value, ",") {
		return Fix{}, false
	}
	line, raw := a.opt.Line, a.opt.Raw
	return Fix{
		Summary: fmt.Sprintf("write %s = %s in %s", key, a.addr, c.names.at(a.opt.File, line)),
		apply: func() error {
			return c.ini.Edit(func(f *confedit.INI) error {
				e, err := findEntry(f, line, raw, a.addr)
				if err != nil {
					return err
				}
				return f.RenameAt(e.Line, key)
			})
		},
	}, true
}

// findEntry finds the option line that held key and an address when the
// check ran, even if lines moved since.
func findEntry(f *confedit.INI, line int, key, addr string) (confedit.Entry, error) {
	has := func(e confedit.Entry) bool {
		if e.Key != key {
			return false
		}
		for _, v := range strings.Split(e.Value, ",") {
			if strings.TrimSpace(v) == addr {
				return true
			}
		}
		return false
	}
	entries := f.Entries()
	for _, e := range entries {
		if e.Line == line && has(e) {
			return e, nil
		}
	}
	for _, e := range entries {
		if has(e) {
			return e, nil
		}
	}
	return confedit.Entry{}, fmt.Errorf("%s: no %s = %s line any more (its value may be computed with %%(...) or $(...); edit it by hand)", f.Name(), key, addr)
}

// wrongAddress reports a local target no engine socket listens on.
func (c *checker) wrongAddress(p *pass, e passEP, serving []int) {
	want, _ := protoOf(p.kind)
	best := c.eng[serving[0]]
	for _, i := range serving {
		if c.eng[i].proto == want {
			best = c.eng[i]
			break
		}
	}
	addr := nginxAddr(best)
	f := Finding{Severity: confedit.Error, Kind: KindAddress, Locations: append(passLocs(p, e), iniLoc(best)),
		Message: fmt.Sprintf("%s reaches nothing of this project: the app listens at %s. Point %s at %s, or change the socket.",
			c.passText(p, e), c.iniAt(best), p.kind, addr)}
	if best.proto == want {
		src := e.src
		var newWord string
		if src == p.n.d {
			newWord = passTarget(p.kind, addr, uriOf(p))
		} else {
			newWord = addr // an upstream server line takes the address as is
		}
		f.Fixes = append(f.Fixes, Fix{
			Summary: fmt.Sprintf("point %s at %s", c.names.at(src.File.Path, src.Line), newWord),
			apply: func() error {
				return c.ngx.Edit(func(*nginxconf.Config) error { return src.SetArg(0, newWord) })
			},
		})
	}
	if e.ep.unix != "" || !isName(e.ep.host) {
		newAddr := e.ep.String()
		if e.ep.unix != "" {
			newAddr = e.ep.unix
		}
		if fix, ok := c.setEngineAddr(best, newAddr); ok {
			f.Fixes = append(f.Fixes, fix)
		}
	}
	c.add(f)
}

// setEngineAddr is the Fix that rewrites one engine address in place.
func (c *checker) setEngineAddr(a engineAddr, newAddr string) (Fix, bool) {
	if a.opt.File != c.ini.Path() {
		return Fix{}, false
	}
	line, raw, old := a.opt.Line, a.opt.Raw, a.addr
	return Fix{
		Summary: fmt.Sprintf("set %s = %s in %s", raw, newAddr, c.names.at(a.opt.File, line)),
		apply: func() error {
			return c.ini.Edit(func(f *confedit.INI) error { return replaceAddr(f, line, raw, old, newAddr) })
		},
	}, true
}

// replaceAddr swaps one address in an option's comma-separated value.
func replaceAddr(f *confedit.INI, line int, key, old, new string) error {
	e, err := findEntry(f, line, key, old)
	if err != nil {
		return err
	}
	parts := strings.Split(e.Value, ",")
	for i, v := range parts {
		if strings.TrimSpace(v) == old {
			parts[i] = strings.Replace(v, old, new, 1)
			break
		}
	}
	return f.SetAt(e.Line, strings.Join(parts, ","))
}

// noSocket reports a pass while uwsgi.ini has no socket at all.
func (c *checker) noSocket(p *pass, e passEP) {
	_, key := protoOf(p.kind)
	addr := e.ep.String()
	if e.ep.unix != "" {
		addr = e.ep.unix
	}
	c.add(Finding{Severity: confedit.Error, Kind: KindNoSocket, Locations: append(passLocs(p, e), Location{File: c.ini.Path()}),
		Message: fmt.Sprintf("%s, but %s has no socket, so nothing serves the app there: add %s = %s to it.", c.passText(p, e), c.names.name(c.ini.Path()), key, addr),
		Fixes: []Fix{{
			Summary: fmt.Sprintf("add %s = %s to %s", key, addr, c.names.name(c.ini.Path())),
			apply:   func() error { return c.ini.Add(key, addr) },
		}},
	})
}

// noPass reports an nginx.conf that never sends a request to the engine.
func (c *checker) noPass(a engineAddr) {
	use := passFor(a.proto)
	target := passTarget(use, nginxAddr(a), "")
	f := Finding{Severity: confedit.Warning, Kind: KindNoPass, Locations: []Location{{File: c.ngx.Path()}, iniLoc(a)},
		Message: fmt.Sprintf("%s passes no request to the app: %s is never used. Add \"%s %s;\" to a location.", c.names.name(c.ngx.Path()), c.iniAt(a), use, target)}
	if len(c.site.servers) > 0 {
		srv := c.site.servers[0].d
		loc, _ := confedit.FindLocation(srv, "/")
		if loc == nil || (len(loc.Block.Find("try_files")) == 0 && len(loc.Block.Find("return")) == 0) {
			f.Fixes = append(f.Fixes, Fix{
				Summary: fmt.Sprintf("send location / of %s to %s with %s", c.names.at(srv.File.Path, srv.Line), target, use),
				apply: func() error {
					err := c.ngx.Edit(func(*nginxconf.Config) error {
						l, err := confedit.FindLocation(srv, "/")
						if err != nil {
							return err
						}
						if l == nil {
							if l, err = confedit.AddLocation(srv, "/"); err != nil {
								return err
							}
						}
						return confedit.SetPass(l, use, target)
					})
					c.ngx.ReloadIncludes()
					return err
				},
			})
		}
	}
	c.add(f)
}

// checkParams warns about a uwsgi_pass or fastcgi_pass with no
// parameters in effect: the app would get no PATH_INFO.
func (c *checker) checkParams(p *pass) {
	var file, param string
	switch p.kind {
	case confedit.UWSGIPass:
		file, param = "uwsgi_params", "uwsgi_param"
	case confedit.FastCGIPass:
		file, param = "fastcgi_params", "fastcgi_param"
	default:
		return
	}
	for n := p.n.parent; n != nil; n = n.parent {
		if n.d.Block != nil && (len(n.d.Block.Find(param)) > 0 || includes(n.d.Block, file)) {
			return
		}
	}
	f := Finding{Severity: confedit.Warning, Kind: KindParams, Locations: []Location{dirLoc(p.n.d)},
		Message: fmt.Sprintf("%s sends no %s: the app gets no PATH_INFO, QUERY_STRING or REQUEST_METHOD. Add \"include %s;\" before it.", c.dirAt(p.n.d), param, file)}
	loc := p.n.parent
	stock := filepath.Join(c.site.prefix, file)
	if _, err := os.Stat(stock); err != nil {
		f.Message += fmt.Sprintf(" (%s is nginx's stock file; it is missing from %s.)", file, c.site.prefix)
	} else if loc != nil && loc.d.Block != nil {
		kind, target := p.kind, p.n.d.Arg(0)
		f.Fixes = append(f.Fixes, Fix{
			Summary: fmt.Sprintf("include %s in %s", file, c.names.at(loc.d.File.Path, loc.d.Line)),
			apply:   func() error { return c.setPass(loc.d, kind, target) },
		})
	}
	c.add(f)
}

// includes reports whether b includes the stock file (the include may be
// new, not yet followed).
func includes(b *nginxconf.Block, file string) bool {
	for _, d := range b.Directives {
		if d.IsInclude() && filepath.Base(d.Arg(0)) == file {
			return true
		}
	}
	return false
}

// setPass edits a location's pass and follows the include it may add.
func (c *checker) setPass(loc *nginxconf.Directive, kind confedit.Pass, target string) error {
	err := c.ngx.Edit(func(*nginxconf.Config) error { return confedit.SetPass(loc, kind, target) })
	c.ngx.ReloadIncludes()
	return err
}
