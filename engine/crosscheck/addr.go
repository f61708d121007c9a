package crosscheck

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// endpoint is an address a server listens on or nginx connects to.
type endpoint struct {
	unix string // socket path, absolute; "" for TCP
	host string // "" for every IPv4 address (uWSGI's ":3031", nginx's "8080"), "*" likewise
	port int
}

func (e endpoint) String() string {
	if e.unix != "" {
		return "unix:" + e.unix
	}
	return net.JoinHostPort(e.host, strconv.Itoa(e.port))
}

// wildcard reports whether the endpoint listens on every address.
func (e endpoint) wildcard() bool {
	switch e.host {
	case "", "*", "0.0.0.0", "::", "[::]":
		return true
	}
	return false
}

// parseHostPort reads "host:port", ":port", "[v6]:port" or a bare port.
func parseHostPort(s string) (endpoint, bool) {
	if p, err := strconv.Atoi(s); err == nil {
		return endpoint{port: p}, p > 0 && p < 65536
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return endpoint{}, false
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return endpoint{}, false
	}
	return endpoint{host: host, port: p}, true
}

// absPath resolves a socket or folder path against dir.
func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// uwsgiAddr reads a uWSGI socket address: anything with a ':' is TCP,
// anything else a unix socket path (uWSGI's rule); "@name" is Linux's
// abstract namespace.
func uwsgiAddr(dir, s string) (endpoint, bool) {
	if !strings.Contains(s, ":") {
		if strings.HasPrefix(s, "@") {
			return endpoint{unix: s}, true
		}
		return endpoint{unix: absPath(dir, s)}, s != ""
	}
	return parseHostPort(s)
}

// replacePortIn rewrites the port of a "host:port", ":port" or bare-port
// word from old to new, keeping its spelling; ok is false when the word
// holds no such port.
func replacePortIn(s string, old, new int) (string, bool) {
	o, n := strconv.Itoa(old), strconv.Itoa(new)
	if s == o {
		return n, true
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || s[i+1:] != o {
		return s, false
	}
	if j := strings.LastIndexByte(s[:i], ']'); strings.HasPrefix(s, "[") && j != i-1 {
		return s, false // a colon inside an IPv6 literal
	}
	return s[:i+1] + n, true
}

// isLocalHost reports whether host names this machine: a loopback or
// unspecified address, "localhost", or an address of a local interface.
func isLocalHost(host string, resolved []string) bool {
	if host == "" || host == "*" || strings.EqualFold(host, "localhost") {
		return true
	}
	ips := resolved
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		ips = []string{ip.String()}
	}
	addrs, _ := net.InterfaceAddrs()
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			continue
		}
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}
