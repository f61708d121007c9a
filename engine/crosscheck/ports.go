package crosscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	psnet "github.com/shirou/gopsutil/v3/net"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// portUser is one TCP address the project listens on: an engine socket
// (eng >= 0) or an nginx listen address, with every listen directive
// that names it.
type portUser struct {
	ep      endpoint
	eng     int // index in checker.eng, or -1
	listens []*nginxconf.Directive
}

func (c *checker) portUsers() []*portUser {
	var out []*portUser
	for i, a := range c.eng {
		if a.ep.unix == "" {
			out = append(out, &portUser{ep: a.ep, eng: i})
		}
	}
	byAddr := map[string]*portUser{}
	for _, l := range c.site.listens {
		if l.ep.unix != "" {
			continue
		}
		k := strings.ToLower(l.ep.String())
		if u := byAddr[k]; u != nil {
			u.listens = append(u.listens, l.d)
			continue
		}
		u := &portUser{ep: l.ep, eng: -1, listens: []*nginxconf.Directive{l.d}}
		byAddr[k] = u
		out = append(out, u)
	}
	return out
}

// text and locs describe a port user for messages.
func (c *checker) userText(u *portUser) string {
	if u.eng >= 0 {
		return c.iniAt(c.eng[u.eng])
	}
	return c.dirAt(u.listens[0])
}

func (c *checker) userLocs(u *portUser) []Location {
	if u.eng >= 0 {
		return []Location{iniLoc(c.eng[u.eng])}
	}
	var locs []Location
	for _, d := range u.listens {
		locs = append(locs, dirLoc(d))
	}
	return locs
}

// overlap reports whether two TCP listeners would collide.
func (c *checker) overlap(a, b endpoint) bool {
	if a.port != b.port {
		return false
	}
	if a.wildcard() || b.wildcard() || strings.EqualFold(a.host, b.host) {
		return true
	}
	return intersects(c.ips(a.host), c.ips(b.host))
}

func (c *checker) checkPorts() {
	users := c.portUsers()
	avoid := map[int]bool{}
	for _, u := range users {
		avoid[u.ep.port] = true
	}
	clashing := map[*portUser]bool{}
	for i, a := range users {
		for _, b := range users[:i] {
			if (a.eng < 0 && b.eng < 0) || !c.overlap(a.ep, b.ep) {
				continue // nginx sorts out its own listen addresses
			}
			clashing[a], clashing[b] = true, true
			mover := a
			if a.eng < 0 {
				mover = b
			}
			f := Finding{Severity: confedit.Error, Kind: KindPortClash, Locations: append(c.userLocs(b), c.userLocs(a)...),
				Message: fmt.Sprintf("%s and %s both want port %d: the second one cannot start. Give one of them another port.", c.userText(b), c.userText(a), a.ep.port)}
			if p := c.nextFree(mover.ep, avoid); p > 0 {
				avoid[p] = true
				f.Fixes = append(f.Fixes, c.moveFix(mover, p))
			}
			c.add(f)
		}
	}
	for _, u := range users {
		if clashing[u] {
			continue
		}
		err := probe(u.ep)
		switch {
		case err == nil:
		case errors.Is(err, syscall.EADDRINUSE):
			owners := c.owners(u.ep.port)
			who := "another program (wsgideck cannot see which: run as that user, or as root, to find out)"
			if len(owners) > 0 {
				var names []string
				for _, o := range owners {
					names = append(names, o.String())
				}
				who = strings.Join(names, ", ")
				if len(owners) == 1 && int(owners[0].PID) == os.Getpid() {
					who += ", this program itself: is the project already running?"
				}
			}
			msg := fmt.Sprintf("%s: port %d is in use by %s", c.userText(u), u.ep.port, who)
			if !strings.HasSuffix(msg, "?") {
				msg += "."
			}
			f := Finding{Severity: confedit.Error, Kind: KindPortBusy, Locations: c.userLocs(u), Port: u.ep.port, Owners: owners, Message: msg}
			if p := c.nextFree(u.ep, avoid); p > 0 {
				avoid[p] = true
				f.Message += fmt.Sprintf(" Stop it, or move to port %d, which is free.", p)
				f.Fixes = append(f.Fixes, c.moveFix(u, p))
			}
			c.add(f)
		case errors.Is(err, syscall.EACCES):
			f := Finding{Severity: confedit.Error, Kind: KindPortBusy, Locations: c.userLocs(u), Port: u.ep.port,
				Message: fmt.Sprintf("%s: port %d is below 1024, which only root may bind.", c.userText(u), u.ep.port)}
			if p := c.nextFree(endpoint{host: u.ep.host, port: 8079 + u.ep.port/1000}, avoid); p > 0 {
				avoid[p] = true
				f.Message += fmt.Sprintf(" Use a port such as %d for local work.", p)
				f.Fixes = append(f.Fixes, c.moveFix(u, p))
			}
			c.add(f)
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			c.add(Finding{Severity: confedit.Error, Kind: KindPortBusy, Locations: c.userLocs(u), Port: u.ep.port,
				Message: fmt.Sprintf("%s: %s is not an address of this machine, so nothing can listen there; use 127.0.0.1.", c.userText(u), u.ep.host)})
		}
	}
	// A unix socket needs its folder.
	for _, a := range c.eng {
		if a.ep.unix == "" || strings.HasPrefix(a.ep.unix, "@") {
			continue
		}
		if _, err := os.Stat(filepath.Dir(a.ep.unix)); err != nil {
			c.add(Finding{Severity: confedit.Error, Kind: KindPortBusy, Locations: []Location{iniLoc(a)},
				Message: fmt.Sprintf("%s: the folder %s does not exist, so the socket cannot be created; create it first.", c.iniAt(a), filepath.Dir(a.ep.unix))})
		}
	}
}

// probe tries to listen where ep says and reports why it cannot.
func probe(ep endpoint) error {
	host := strings.Trim(ep.host, "[]")
	switch strings.ToLower(host) {
	case "", "*":
		host = "0.0.0.0"
	case "localhost":
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(ep.port)))
	if err != nil {
		return err
	}
	return ln.Close()
}

// nextFree returns the first port after ep's that is free on ep's host
// and not used by the project, or 0.
func (c *checker) nextFree(ep endpoint, avoid map[int]bool) int {
	for p := ep.port + 1; p < 65536 && p < ep.port+1000; p++ {
		if avoid[p] {
			continue
		}
		if probe(endpoint{host: ep.host, port: p}) == nil {
			return p
		}
	}
	return 0
}

func (c *checker) owners(port int) []Owner {
	ctx, cancel := c.ctx()
	defer cancel()
	if c.opts.PortOwners != nil {
		return c.opts.PortOwners(ctx, port)
	}
	return SystemPortOwners(ctx, port)
}

// SystemPortOwners lists the processes listening on TCP port (IPv4 or
// IPv6), from the system's socket table through gopsutil. Processes of
// other users show only when running as root.
func SystemPortOwners(ctx context.Context, port int) []Owner {
	conns, err := psnet.ConnectionsWithoutUidsWithContext(ctx, "tcp")
	if err != nil {
		return nil
	}
	seen := map[int32]bool{}
	var out []Owner
	for _, cn := range conns {
		if cn.Status != "LISTEN" || int(cn.Laddr.Port) != port || cn.Pid == 0 || seen[cn.Pid] {
			continue
		}
		seen[cn.Pid] = true
		o := Owner{PID: cn.Pid}
		if p, err := process.NewProcessWithContext(ctx, cn.Pid); err == nil {
			o.Name, _ = p.NameWithContext(ctx)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// moveFix is the Fix that moves a port user to port p, consistently in
// both files.
func (c *checker) moveFix(u *portUser, p int) Fix {
	if u.eng >= 0 {
		a := c.eng[u.eng]
		summary := fmt.Sprintf("move %s to port %d", c.iniAt(a), p)
		if refs := c.reaches[u.eng]; len(refs) > 0 {
			var at []string
			for _, r := range refs {
				at = append(at, c.names.at(r.src.File.Path, r.src.Line))
			}
			summary += " and point " + strings.Join(at, ", ") + " there"
		}
		return Fix{Summary: summary, apply: func() error { return c.moveEngine(u.eng, p) }}
	}
	var at []string
	for _, d := range u.listens {
		at = append(at, c.names.at(d.File.Path, d.Line))
	}
	return Fix{Summary: fmt.Sprintf("listen on port %d instead of %d (%s)", p, u.ep.port, strings.Join(at, ", ")),
		apply: func() error { return c.moveListens(u.listens, u.ep.port, p) }}
}

// moveEngine moves engine address i to port p, and every nginx pass or
// upstream server that reaches it.
func (c *checker) moveEngine(i, p int) error {
	a := c.eng[i]
	if a.opt.File != c.ini.Path() {
		return fmt.Errorf("%s is in %s, which is not edited here", c.iniAt(a), a.opt.File)
	}
	newAddr, ok := replacePortIn(a.addr, a.ep.port, p)
	if !ok {
		return fmt.Errorf("%s: cannot find port %d in %q", c.iniAt(a), a.ep.port, a.addr)
	}
	if err := c.ini.Edit(func(f *confedit.INI) error { return replaceAddr(f, a.opt.Line, a.opt.Raw, a.addr, newAddr) }); err != nil {
		return err
	}
	refs := c.reaches[i]
	return c.ngx.Edit(func(*nginxconf.Config) error {
		for _, r := range refs {
			w, ok := replaceTargetPort(r.src.Arg(0), a.ep.port, p)
			if !ok {
				return fmt.Errorf("%s: cannot find port %d in %q", c.dirAt(r.src), a.ep.port, r.src.Arg(0))
			}
			if err := r.src.SetArg(0, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// moveListens moves listen directives from port old to p.
func (c *checker) moveListens(ds []*nginxconf.Directive, old, p int) error {
	return c.ngx.Edit(func(*nginxconf.Config) error {
		for _, d := range ds {
			w, ok := replacePortIn(d.Arg(0), old, p)
			if !ok && old == 80 && !strings.Contains(d.Arg(0), ":") {
				w, ok = d.Arg(0)+":"+strconv.Itoa(p), true // "listen localhost" means port 80
			}
			if !ok {
				return fmt.Errorf("%s: cannot find port %d in %q", c.dirAt(d), old, d.Arg(0))
			}
			if err := d.SetArg(0, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// replaceTargetPort rewrites the port in a pass target or upstream server
// address: "127.0.0.1:3031", "uwsgi://h:3031", "http://h:3031/uri".
func replaceTargetPort(word string, old, p int) (string, bool) {
	scheme, rest, hasScheme := strings.Cut(word, "://")
	if !hasScheme {
		rest, scheme = word, ""
	}
	hp, uri := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hp, uri = rest[:i], rest[i:]
	}
	nhp, ok := replacePortIn(hp, old, p)
	if !ok {
		return word, false
	}
	if hasScheme {
		return scheme + "://" + nhp + uri, true
	}
	return nhp + uri, true
}

// MovePort moves every listener of the project on TCP port old to port
// new, in both documents, with everything that points at it: the
// engine's sockets on that port and the nginx passes and upstream servers
// that reach them, and nginx's listen directives on that port. It is what
// the desktop app's "change port" does; the documents are edited in
// memory, for the caller to review and save.
func MovePort(ini *confedit.INIDoc, ngx *confedit.NginxDoc, old, new int, opts Options) error {
	if new < 1 || new > 65535 {
		return fmt.Errorf("crosscheck: port %d: want 1 to 65535", new)
	}
	opts.SkipPorts = true
	c, err := newMatched(ini, ngx, opts)
	if err != nil {
		return err
	}
	moved := false
	for i, a := range c.eng {
		if a.ep.unix == "" && a.ep.port == old {
			if err := c.moveEngine(i, new); err != nil {
				return err
			}
			moved = true
		}
	}
	var listens []*nginxconf.Directive
	for _, l := range c.site.listens {
		if l.ep.unix == "" && l.ep.port == old {
			listens = append(listens, l.d)
		}
	}
	if len(listens) > 0 {
		if err := c.moveListens(listens, old, new); err != nil {
			return err
		}
		moved = true
	}
	if !moved {
		return fmt.Errorf("crosscheck: nothing in %s or %s listens on port %d", filepath.Base(ini.Path()), filepath.Base(ngx.Path()), old)
	}
	return nil
}
