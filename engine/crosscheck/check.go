package crosscheck

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// Options configure Check. The zero value checks everything with the real
// resolver and the real process table.
type Options struct {
	// Dir is the project folder: file names in messages are relative to
	// it. "" means the folder of uwsgi.ini.
	Dir string
	// SkipPorts leaves out the port checks, for a project that is running
	// (its own ports are busy, held by itself).
	SkipPorts bool
	// SkipResolve leaves out host name lookups: names then only match
	// when spelt the same.
	SkipResolve bool
	// LookupHost resolves a host name; nil means net.DefaultResolver.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// PortOwners lists the processes listening on a TCP port; nil means
	// gopsutil's view of the system's sockets.
	PortOwners func(ctx context.Context, port int) []Owner
	// Timeout bounds the name lookups and the process-table reads; 0
	// means 3 seconds.
	Timeout time.Duration
}

// Check reads both documents as they are in memory (unsaved edits
// included) and reports every mismatch. Its error is for a uwsgi.ini that
// cannot be read at all (an include loop, say); the documents' own
// Validate reports that with its line.
func Check(ini *confedit.INIDoc, ngx *confedit.NginxDoc, opts Options) (*Report, error) {
	c, err := newMatched(ini, ngx, opts)
	if err != nil {
		return nil, err
	}
	c.checkBufferSize()
	c.checkStatic()
	if !c.opts.SkipPorts {
		c.checkPorts()
	}
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Severity < c.out[j].Severity })
	return &Report{Findings: c.out}, nil
}

// newMatched reads both documents and matches nginx's passes to the
// engine's sockets (reporting what does not match).
func newMatched(ini *confedit.INIDoc, ngx *confedit.NginxDoc, opts Options) (*checker, error) {
	parsed, err := ini.Parsed()
	if err != nil {
		return nil, fmt.Errorf("crosscheck: %w", err)
	}
	iniDir := filepath.Dir(ini.Path())
	if opts.Dir == "" {
		opts.Dir = iniDir
	}
	if opts.Timeout == 0 {
		opts.Timeout = 3 * time.Second
	}
	c := &checker{
		opts: opts, ini: ini, ngx: ngx, parsed: parsed, names: namer{opts.Dir},
		iniDir: iniDir, site: readSite(ngx.Config()),
		resolved: map[string]lookup{}, reaches: map[int][]passEP{},
	}
	c.eng = engineAddrs(parsed, iniDir)
	c.resolve()
	c.checkPasses()
	return c, nil
}

type lookup struct {
	ips []string
	err error
}

type checker struct {
	opts   Options
	ini    *confedit.INIDoc
	ngx    *confedit.NginxDoc
	parsed *uwsgiini.Config
	names  namer
	iniDir string
	site   *site
	eng    []engineAddr

	resolved map[string]lookup
	// reaches maps an engine address (its index in eng) to the nginx
	// addresses that reach it.
	reaches map[int][]passEP
	// served lists the passes that reach the engine.
	served []*pass
	out    []Finding
}

func (c *checker) add(f Finding) { c.out = append(c.out, f) }

func (c *checker) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.opts.Timeout)
}

// resolve looks up every host name the passes, upstream servers and
// engine sockets use.
func (c *checker) resolve() {
	if c.opts.SkipResolve {
		return
	}
	var hosts []string
	for _, p := range c.site.passes {
		for _, e := range p.eps {
			if e.name != "" {
				hosts = append(hosts, e.name)
			}
		}
	}
	for _, a := range c.eng {
		if a.ep.unix == "" && isName(a.ep.host) {
			hosts = append(hosts, a.ep.host)
		}
	}
	lookupHost := c.opts.LookupHost
	if lookupHost == nil {
		lookupHost = net.DefaultResolver.LookupHost
	}
	for _, h := range hosts {
		if _, done := c.resolved[h]; done {
			continue
		}
		ctx, cancel := c.ctx()
		ips, err := lookupHost(ctx, h)
		cancel()
		c.resolved[h] = lookup{ips, err}
	}
}

// ips returns the addresses of a host: itself for an IP, the lookup for a
// name (nil when it failed or was skipped).
func (c *checker) ips(host string) []string {
	h := strings.Trim(host, "[]")
	if ip := net.ParseIP(h); ip != nil {
		return []string{ip.String()}
	}
	if c.opts.SkipResolve && strings.EqualFold(h, "localhost") {
		return []string{"127.0.0.1", "::1"}
	}
	return c.resolved[host].ips
}

// local reports whether an nginx target is on this machine.
func (c *checker) local(ep endpoint) bool {
	return ep.unix != "" || isLocalHost(ep.host, c.ips(ep.host))
}

// match returns the index of the engine address that ep reaches, or -1.
func (c *checker) match(ep endpoint) int {
	for i, a := range c.eng {
		if !a.serves() {
			continue
		}
		if ep.unix != "" || a.ep.unix != "" {
			if ep.unix == a.ep.unix {
				return i
			}
			continue
		}
		if ep.port != a.ep.port {
			continue
		}
		if a.ep.wildcard() {
			if c.local(ep) && reachesWildcard(a.ep.host, c.ips(ep.host), ep.host) {
				return i
			}
			continue
		}
		if strings.EqualFold(a.ep.host, ep.host) || intersects(c.ips(a.ep.host), c.ips(ep.host)) {
			return i
		}
	}
	return -1
}

// reachesWildcard reports whether a target reaches a socket bound to
// every address: uWSGI's ":3031" and "0.0.0.0:3031" are IPv4 only, so an
// IPv6 target does not reach them; "[::]:3031" takes both.
func reachesWildcard(bind string, targetIPs []string, targetHost string) bool {
	if bind == "::" || bind == "[::]" {
		return true
	}
	if targetHost == "" || targetHost == "*" {
		return true
	}
	for _, s := range targetIPs {
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// iniAt names an engine address's line: "uwsgi.ini:3 http-socket = :3031".
func (c *checker) iniAt(a engineAddr) string {
	return fmt.Sprintf("%s %s = %s", c.names.at(a.opt.File, a.opt.Line), a.opt.Raw, a.addr)
}

// dirAt names a directive's line: "nginx.conf:12 uwsgi_pass 127.0.0.1:3031".
func (c *checker) dirAt(d *nginxconf.Directive) string {
	words := []string{d.NameWord.Raw}
	for _, a := range d.Args {
		words = append(words, a.Raw)
	}
	return c.names.at(d.File.Path, d.Line) + " " + strings.Join(words, " ")
}

func dirLoc(d *nginxconf.Directive) Location { return Location{File: d.File.Path, Line: d.Line} }

func iniLoc(a engineAddr) Location { return Location{File: a.opt.File, Line: a.opt.Line} }
