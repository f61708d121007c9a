package crosscheck

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// engineAddr is one address the engine binds: a request socket, or the
// stats server.
type engineAddr struct {
	opt   uwsgiini.Option
	key   string // canonical option: socket, http-socket, http, fastcgi-socket, stats
	proto appserver.Protocol
	addr  string // the address as written in the (comma-separated) value
	ep    endpoint
}

// serves reports whether the address takes requests (not stats).
func (a engineAddr) serves() bool { return a.key != "stats" }

// engineKeys maps the socket options to their protocol.
var engineKeys = map[string]appserver.Protocol{
	"socket":         appserver.ProtoUWSGI,
	"http-socket":    appserver.ProtoHTTP,
	"http":           appserver.ProtoHTTP,
	"fastcgi-socket": appserver.ProtoFastCGI,
}

func engineAddrs(ini *uwsgiini.Config, dir string) []engineAddr {
	var out []engineAddr
	for _, o := range ini.Options {
		proto, ok := engineKeys[o.Key]
		if !ok && o.Key != "stats" {
			continue
		}
		for _, a := range strings.Split(o.Value, ",") {
			a = strings.TrimSpace(a)
			ep, ok := uwsgiAddr(dir, a)
			if !ok {
				continue // the engine's own validation reports it
			}
			out = append(out, engineAddr{opt: o, key: o.Key, proto: proto, addr: a, ep: ep})
		}
	}
	return out
}

// protoWords says what a protocol is, for messages.
func protoWords(p appserver.Protocol) string {
	switch p {
	case appserver.ProtoHTTP:
		return "speaks HTTP"
	case appserver.ProtoFastCGI:
		return "speaks FastCGI"
	}
	return "speaks the uwsgi protocol"
}

// passFor is the nginx directive that talks a protocol.
func passFor(p appserver.Protocol) confedit.Pass {
	switch p {
	case appserver.ProtoHTTP:
		return confedit.ProxyPass
	case appserver.ProtoFastCGI:
		return confedit.FastCGIPass
	}
	return confedit.UWSGIPass
}

// protoOf is the protocol a pass directive talks, and the uWSGI option
// that speaks it.
func protoOf(p confedit.Pass) (appserver.Protocol, string) {
	switch p {
	case confedit.ProxyPass:
		return appserver.ProtoHTTP, "http-socket"
	case confedit.FastCGIPass:
		return appserver.ProtoFastCGI, "fastcgi-socket"
	}
	return appserver.ProtoUWSGI, "socket"
}

// node is a directive with its place in the config as nginx reads it:
// includes expanded, so parent is the enclosing block directive even
// across files.
type node struct {
	d      *nginxconf.Directive
	parent *node
}

// ancestor returns the nearest enclosing directive called name.
func (n *node) ancestor(name string) *node {
	for p := n.parent; p != nil; p = p.parent {
		if p.d.Name == name {
			return p
		}
	}
	return nil
}

// walk visits every directive of b as nginx reads it.
func walk(b *nginxconf.Block, parent *node, fn func(n *node)) {
	for _, d := range b.Expand() {
		n := &node{d: d, parent: parent}
		fn(n)
		if d.Block != nil {
			walk(d.Block, n, fn)
		}
	}
}

// passEP is one address a pass reaches: the pass's own target, or one
// server of its upstream group.
type passEP struct {
	src  *nginxconf.Directive // the pass, or the upstream's server line
	word string               // the address as written there
	ep   endpoint
	name string // a host name to resolve ("" for IPs, unix sockets)
	bad  string // why the address cannot be used, for an error
}

// pass is one uwsgi_pass, proxy_pass or fastcgi_pass.
type pass struct {
	n        *node
	kind     confedit.Pass
	scheme   string // proxy_pass: "http" or "https"
	upstream *upstream
	eps      []passEP
	variable bool // the target holds a variable: resolved per request
}

type upstream struct {
	d       *nginxconf.Directive
	name    string
	servers []*nginxconf.Directive
}

type listen struct {
	d  *nginxconf.Directive
	ep endpoint
}

// root is a root or alias directive with its folder.
type root struct {
	n   *node
	dir string // absolute
}

// site is what the check needs from nginx.conf.
type site struct {
	cfg       *nginxconf.Config
	prefix    string
	passes    []*pass
	upstreams map[string]*upstream
	listens   []listen
	roots     []root
	servers   []*node
}

func readSite(cfg *nginxconf.Config) *site {
	s := &site{cfg: cfg, prefix: strings.TrimSuffix(cfg.Prefix, "/"), upstreams: map[string]*upstream{}}
	var passes []*node
	walk(cfg.Main.Block, nil, func(n *node) {
		d := n.d
		switch d.Name {
		case "upstream":
			if d.Block != nil && len(d.Args) == 1 {
				u := &upstream{d: d, name: d.Arg(0), servers: d.Block.Find("server")}
				s.upstreams[u.name] = u
			}
		case "server":
			if d.Block != nil {
				s.servers = append(s.servers, n)
			}
		case "listen":
			if len(d.Args) > 0 {
				if ep, ok := nginxListen(s.prefix, d.Arg(0)); ok {
					s.listens = append(s.listens, listen{d: d, ep: ep})
				}
			}
		case "uwsgi_pass", "proxy_pass", "fastcgi_pass":
			if len(d.Args) == 1 {
				passes = append(passes, n)
			}
		case "root", "alias":
			if len(d.Args) == 1 && !strings.Contains(d.Arg(0), "$") {
				s.roots = append(s.roots, root{n: n, dir: absPath(s.prefix, d.Arg(0))})
			}
		}
	})
	// Upstream groups may be defined after the passes that use them.
	for _, n := range passes {
		s.passes = append(s.passes, s.readPass(n))
	}
	return s
}

// nginxListen reads a listen address: "8080", "127.0.0.1:8080",
// "*:80", "[::]:80", "localhost:8080" or "unix:/path".
func nginxListen(prefix, a string) (endpoint, bool) {
	if p, ok := strings.CutPrefix(a, "unix:"); ok {
		return endpoint{unix: absPath(prefix, p)}, true
	}
	if p, err := strconv.Atoi(a); err == nil {
		return endpoint{port: p}, p > 0 && p < 65536
	}
	if !strings.Contains(a, ":") || strings.HasSuffix(a, "]") {
		return endpoint{host: strings.Trim(a, "[]"), port: 80}, true // a host alone listens on 80
	}
	return parseHostPort(a)
}

// readPass splits a pass's target into the addresses it reaches.
func (s *site) readPass(n *node) *pass {
	d := n.d
	p := &pass{n: n, kind: confedit.Pass(d.Name)}
	target := d.Arg(0)
	if strings.Contains(target, "$") {
		p.variable = true
		return p
	}
	defPort := 0
	switch p.kind {
	case confedit.ProxyPass:
		scheme, rest, ok := strings.Cut(target, "://")
		if !ok {
			p.eps = append(p.eps, passEP{src: d, word: target, bad: "has no http:// or https:// scheme"})
			return p
		}
		p.scheme = strings.ToLower(scheme)
		defPort = 80
		if p.scheme == "https" {
			defPort = 443
		}
		if path, ok := strings.CutPrefix(rest, "unix:"); ok {
			path, _, _ = strings.Cut(path, ":") // http://unix:/path:/uri
			p.eps = append(p.eps, passEP{src: d, word: target, ep: endpoint{unix: absPath(s.prefix, path)}})
			return p
		}
		target, _, _ = strings.Cut(rest, "/")
	case confedit.UWSGIPass:
		if rest, ok := strings.CutPrefix(target, "uwsgi://"); ok {
			target = rest
		} else if rest, ok := strings.CutPrefix(target, "suwsgi://"); ok {
			target, p.scheme = rest, "suwsgi"
		}
	}
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		p.eps = append(p.eps, passEP{src: d, word: d.Arg(0), ep: endpoint{unix: absPath(s.prefix, path)}})
		return p
	}
	if u, ok := s.upstreams[target]; ok {
		p.upstream = u
		for _, srv := range u.servers {
			if len(srv.Args) > 0 {
				p.eps = append(p.eps, s.upstreamServer(srv))
			}
		}
		return p
	}
	p.eps = append(p.eps, hostEP(d, d.Arg(0), target, defPort))
	return p
}

// upstreamServer reads an upstream's "server ADDR [params];".
func (s *site) upstreamServer(srv *nginxconf.Directive) passEP {
	a := srv.Arg(0)
	if path, ok := strings.CutPrefix(a, "unix:"); ok {
		return passEP{src: srv, word: a, ep: endpoint{unix: absPath(s.prefix, path)}}
	}
	return hostEP(srv, a, a, 80)
}

// hostEP reads "host[:port]"; without a port, defPort applies (0: none
// allowed, an error).
func hostEP(src *nginxconf.Directive, word, hostport string, defPort int) passEP {
	e := passEP{src: src, word: word}
	ep, ok := parseHostPort(hostport)
	switch {
	case ok && ep.host == "":
		e.bad = "has no host"
		return e
	case !ok && strings.Contains(strings.Trim(hostport, "[]"), ":") && !strings.HasPrefix(hostport, "["):
		e.bad = fmt.Sprintf("has an invalid port in %q", hostport)
		return e
	case !ok:
		if defPort == 0 {
			e.bad = fmt.Sprintf("names no upstream {} group called %q, and as a host name it has no port", hostport)
			return e
		}
		ep = endpoint{host: strings.Trim(hostport, "[]"), port: defPort}
	}
	e.ep = ep
	if isName(ep.host) {
		e.name = ep.host
	}
	return e
}

// isName reports whether host must be resolved (it is not an IP literal).
func isName(host string) bool {
	h := strings.Trim(host, "[]")
	return h != "" && h != "*" && net.ParseIP(h) == nil
}
