package proxy

import (
	"net"
	"strings"
)

// implicitKey is the key of an implicit group: the host, lower-cased
// (nginx compares hosts caselessly), and the port.
func implicitKey(host, port string) string { return strings.ToLower(host) + ":" + port }

// upstream is the upstream block called name, if any. nginx compares the
// names without case (ngx_http_upstream_add, and init_request for names
// from variables), so "proxy_pass http://GRP" uses "upstream grp {}";
// upstreams is keyed by the lower-case name.
func (c *Config) upstream(name string) *upstream { return c.upstreams[strings.ToLower(name)] }

// varUpstream finds the group for a *_pass address made of variables, as
// ngx_http_upstream_init_request does: an upstream block by name when no
// port was given, else the implicit group of a literal *_pass with the
// same host and port, else an IP address as it is. A host name is looked
// up only when a resolver is configured (with the system's resolver,
// whatever addresses the directive names); without one the answer is
// nginx's 502 "no resolver defined", so a config that works here works on
// nginx too. defPort is the scheme's port ("80" for proxy_pass, "" for
// uwsgi_pass and fastcgi_pass). port is "" for an upstream block.
func (r *request) varUpstream(hostport, defPort string) (up *upstream, port string, rc int) {
	host, port := hostport, defPort
	noPort := true
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port, noPort = h, p, false
	}
	if noPort {
		if g := r.cfg.upstream(host); g != nil {
			return g, "", 0
		}
	}
	if g := r.cfg.implicit[implicitKey(host, port)]; g != nil {
		return g, port, 0
	}
	if port == "" {
		r.errorf(levelError, "no port in upstream %q", hostport)
		return nil, "", 500
	}
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); ip != nil {
		a := net.JoinHostPort(ip.String(), port)
		up = &upstream{name: hostport, implicit: true, peers: []*peer{newPeer(a, "tcp", a, 1)}}
		up.init()
		return up, port, 0
	}
	if !r.conf.resolver {
		r.errorf(levelError, "no resolver defined to resolve %s", host)
		return nil, "", 502
	}
	ips, err := resolveHost(host, nil)
	if err != nil {
		r.errorf(levelError, "%s could not be resolved (3: Host not found)", host)
		return nil, "", 502
	}
	up = &upstream{name: hostport, implicit: true}
	for _, ip := range ips {
		a := net.JoinHostPort(ip, port)
		up.peers = append(up.peers, newPeer(a, "tcp", a, 1))
	}
	up.init()
	return up, port, 0
}
