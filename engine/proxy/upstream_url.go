package proxy

import (
	"strings"
)

// upstreamURL is an upstream address split the way ngx_parse_url splits
// it: "host[:port][/uri]", "[v6][:port][/uri]" or "unix:path[:uri]".
type upstreamURL struct {
	host    string // without the port; "unix:path" for a socket
	port    string // "" when none was given
	uri     string
	hasURI  bool
	unix    bool
	hostLen int // len of "host[:port]" in the address
}

// parseUpstreamURL splits addr. uriPart allows a URI after the host (as
// proxy_pass does; uwsgi_pass, fastcgi_pass and upstream servers do not).
// The error is nginx's reason ("invalid port", "no host", ...), which
// callers put in front of ` in upstream "ADDR"`.
func parseUpstreamURL(addr string, uriPart bool) (upstreamURL, string) {
	var u upstreamURL
	if len(addr) >= 5 && strings.EqualFold(addr[:5], "unix:") {
		path := addr[5:]
		if uriPart {
			if i := strings.IndexByte(path, ':'); i >= 0 {
				u.uri, u.hasURI = path[i+1:], true
				path = path[:i]
			}
		}
		if path == "" {
			return u, "no path in the unix domain socket"
		}
		u.unix = true
		u.host = "unix:" + path
		u.hostLen = 5 + len(path)
		return u, ""
	}
	last := len(addr)
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		if !uriPart {
			return u, "invalid host"
		}
		if i == 0 {
			return u, "no host"
		}
		u.uri, u.hasURI = addr[i:], true
		last = i
	}
	hp := addr[:last]
	u.hostLen = last
	var portStr string
	hasPort := false
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return u, "invalid host"
		}
		u.host = hp[:end+1]
		rest := hp[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			portStr, hasPort = rest[1:], true
		default:
			return u, "invalid host"
		}
	} else if i := strings.IndexByte(hp, ':'); i >= 0 {
		u.host, portStr, hasPort = hp[:i], hp[i+1:], true
	} else {
		u.host = hp
	}
	if hasPort {
		n, ok := atoiPort(portStr)
		if !ok || n < 1 || n > 65535 {
			return u, "invalid port"
		}
		u.port = portStr
	}
	if u.host == "" {
		return u, "no host"
	}
	return u, ""
}

// atoiPort is ngx_atoi: digits only, at least one.
func atoiPort(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
