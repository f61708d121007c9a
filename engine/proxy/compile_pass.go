package proxy

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// passConf is the settings of one upstream module (proxy, uwsgi or
// fastcgi) at one level. Everything here is inherited; the *_pass target
// itself is not.
type passConf struct {
	connectTimeout, sendTimeout, readTimeout time.Duration

	interceptErrors    bool
	passRequestHeaders bool
	passRequestBody    bool
	bufferSize         int

	hideHeaders []string
	passHeaders []string
	// ignoreAccelRedirect is *_ignore_headers X-Accel-Redirect: the
	// answer is passed on as it is.
	ignoreAccelRedirect bool

	// nextUpstream is a set of next*; nextTries 0 means no limit.
	nextUpstream int
	nextTries    int
	nextTimeout  time.Duration

	// params are uwsgi_param or fastcgi_param; setHeaders proxy_set_header.
	params     []*paramTemplate
	setHeaders []*paramTemplate

	httpVersion string // proxy_http_version

	redirectOff bool
	redirects   []proxyRedirect // explicit proxy_redirect lines

	modifier1, modifier2 uint8
	fastcgiIndex         string
	splitPathInfo        *regexp.Regexp
}

// proxyRedirect is one "proxy_redirect from to" (from "default" is
// resolved against the location's proxy_pass).
type proxyRedirect struct {
	isDefault bool
	from, to  string
	re        *regexp.Regexp
	toCV      *complexValue
}

// paramTemplate is one uwsgi_param, fastcgi_param or proxy_set_header.
type paramTemplate struct {
	key        string
	value      *complexValue
	ifNotEmpty bool
}

// next upstream conditions.
const (
	nextError = 1 << iota
	nextTimeout
	nextInvalidHeader
	nextHTTP500
	nextHTTP502
	nextHTTP503
	nextHTTP504
	nextHTTP403
	nextHTTP404
	nextHTTP429
	nextNonIdempotent
	nextOff
)

func defaultPassConf(httpVersion string) passConf {
	return passConf{
		connectTimeout:     60 * time.Second,
		sendTimeout:        60 * time.Second,
		readTimeout:        60 * time.Second,
		passRequestHeaders: true,
		passRequestBody:    true,
		bufferSize:         4096,
		nextUpstream:       nextError | nextTimeout,
		httpVersion:        httpVersion,
	}
}

// proxyPass is a location's proxy_pass target.
type proxyPass struct {
	// up is the upstream group (named, or implicit for a host:port);
	// nil when the URL has variables.
	up  *upstream
	url *complexValue
	// host is $proxy_host: the group name, or host[:port] (no :80).
	host, port string
	// uri is the URI part of proxy_pass, and hasURI whether there is one.
	uri    string
	hasURI bool
	// location is the location's name, the prefix the URI part replaces.
	location string
	raw      string
}

// uwsgiPass and fastcgiPass are the *_pass targets.
type uwsgiPass struct {
	up  *upstream
	url *complexValue
}

type fastcgiPass = uwsgiPass

// passDirective handles the proxy_, uwsgi_ and fastcgi_ directives.
func (cc *compiler) passDirective(c *locConf, d *nginxconf.Directive, level int) (bool, error) {
	var pc *passConf
	var mod, name string
	switch {
	case strings.HasPrefix(d.Name, "proxy_"):
		pc, mod, name = &c.proxyConf, "proxy", d.Name[len("proxy_"):]
	case strings.HasPrefix(d.Name, "uwsgi_"):
		pc, mod, name = &c.uwsgiConf, "uwsgi", d.Name[len("uwsgi_"):]
	case strings.HasPrefix(d.Name, "fastcgi_"):
		pc, mod, name = &c.fastcgiConf, "fastcgi", d.Name[len("fastcgi_"):]
	default:
		return false, nil
	}
	vt := cc.cfg.vars
	switch name {
	case "pass":
		if level != levelLocation && level != levelIf {
			return true, errAt(d, "%q directive is not allowed here", d.Name)
		}
		// each module checks only its own: nginx accepts proxy_pass
		// and uwsgi_pass in one location, and the last one handles it
		if c.handler != handlerStatic && c.set[d.Name] {
			return true, errAt(d, "%q directive is duplicate", d.Name)
		}
		c.set[d.Name] = true
		if len(d.Args) != 1 {
			return true, errAt(d, "invalid number of arguments in %q directive", d.Name)
		}
		return true, cc.passTarget(c, d, mod, level)
	case "connect_timeout", "send_timeout", "read_timeout", "next_upstream_timeout":
		v, err := durationArg(d)
		if err != nil {
			return true, err
		}
		switch name {
		case "connect_timeout":
			pc.connectTimeout = v
		case "send_timeout":
			pc.sendTimeout = v
		case "read_timeout":
			pc.readTimeout = v
		default:
			pc.nextTimeout = v
		}
		return true, nil
	case "buffer_size":
		v, err := sizeArg(d, false)
		if err != nil {
			return true, err
		}
		pc.bufferSize = int(v)
		return true, nil
	case "param":
		if mod == "proxy" {
			break
		}
		if len(d.Args) < 2 || len(d.Args) > 3 {
			return true, errAt(d, "invalid number of arguments in %q directive", d.Name)
		}
		if c.first(mod + "_param") {
			pc.params = nil
		}
		cv, err := compileValue(d.Arg(1), vt)
		if err != nil {
			return true, errAt(d, "%v", err)
		}
		p := &paramTemplate{key: d.Arg(0), value: cv}
		if len(d.Args) == 3 {
			if d.Arg(2) != "if_not_empty" {
				return true, errAt(d, "invalid parameter %q", d.Arg(2))
			}
			p.ifNotEmpty = true
		}
		pc.params = append(pc.params, p)
		return true, nil
	case "set_header":
		if mod != "proxy" {
			break
		}
		if len(d.Args) != 2 {
			return true, errAt(d, "invalid number of arguments in \"proxy_set_header\" directive")
		}
		if c.first("proxy_set_header") {
			pc.setHeaders = nil
		}
		cv, err := compileValue(d.Arg(1), vt)
		if err != nil {
			return true, errAt(d, "%v", err)
		}
		pc.setHeaders = append(pc.setHeaders, &paramTemplate{key: d.Arg(0), value: cv})
		return true, nil
	case "http_version":
		if mod != "proxy" {
			break
		}
		switch d.Arg(0) {
		case "1.0", "1.1":
			pc.httpVersion = d.Arg(0)
		default:
			return true, errAt(d, "invalid value %q in \"proxy_http_version\" directive, it must be \"1.0\" or \"1.1\"", d.Arg(0))
		}
		return true, nil
	case "hide_header":
		if c.first(mod + "_hide_header") {
			pc.hideHeaders = nil
		}
		pc.hideHeaders = append(pc.hideHeaders, strings.ToLower(d.Arg(0)))
		return true, nil
	case "ignore_headers":
		// a bitmask: the level's list replaces the inherited one; of
		// its values only X-Accel-Redirect changes what wsgideck does
		pc.ignoreAccelRedirect = false
		for _, v := range d.Values() {
			if strings.EqualFold(v, "X-Accel-Redirect") {
				pc.ignoreAccelRedirect = true
			}
		}
		return true, nil
	case "pass_header":
		if c.first(mod + "_pass_header") {
			pc.passHeaders = nil
		}
		pc.passHeaders = append(pc.passHeaders, strings.ToLower(d.Arg(0)))
		return true, nil
	case "next_upstream":
		pc.nextUpstream = 0
		for _, v := range d.Values() {
			switch v {
			case "error":
				pc.nextUpstream |= nextError
			case "timeout":
				pc.nextUpstream |= nextTimeout
			case "invalid_header":
				pc.nextUpstream |= nextInvalidHeader
			case "http_500":
				pc.nextUpstream |= nextHTTP500
			case "http_502":
				pc.nextUpstream |= nextHTTP502
			case "http_503":
				pc.nextUpstream |= nextHTTP503
			case "http_504":
				pc.nextUpstream |= nextHTTP504
			case "http_403":
				pc.nextUpstream |= nextHTTP403
			case "http_404":
				pc.nextUpstream |= nextHTTP404
			case "http_429":
				pc.nextUpstream |= nextHTTP429
			case "non_idempotent":
				pc.nextUpstream |= nextNonIdempotent
			case "off":
				pc.nextUpstream = nextOff
			case "updating":
			default:
				return true, errAt(d, "invalid value %q", v)
			}
		}
		return true, nil
	case "next_upstream_tries":
		n, err := intArg(d, 0)
		if err != nil {
			return true, err
		}
		pc.nextTries = n
		return true, nil
	case "modifier1", "modifier2":
		if mod != "uwsgi" {
			break
		}
		n, err := intArg(d, 0)
		if err != nil || n > 255 {
			return true, errAt(d, "invalid value %q in %q directive", d.Arg(0), d.Name)
		}
		if name == "modifier1" {
			pc.modifier1 = uint8(n)
		} else {
			pc.modifier2 = uint8(n)
		}
		return true, nil
	case "index":
		if mod != "fastcgi" {
			break
		}
		pc.fastcgiIndex = d.Arg(0)
		return true, nil
	case "split_path_info":
		if mod != "fastcgi" {
			break
		}
		re, err := compileRegex(d.Arg(0))
		if err != nil {
			return true, errAt(d, "%v", err)
		}
		if re.NumSubexp() != 2 {
			return true, errAt(d, "pattern %q must have 2 captures", d.Arg(0))
		}
		pc.splitPathInfo = re
		return true, nil
	case "redirect":
		if mod != "proxy" {
			break
		}
		args := d.Values()
		if c.first("proxy_redirect") {
			pc.redirects = nil
			pc.redirectOff = false
		}
		switch {
		case len(args) == 1 && args[0] == "off":
			pc.redirectOff = true
			pc.redirects = nil
		case len(args) == 1 && args[0] == "default":
			pc.redirects = append(pc.redirects, proxyRedirect{isDefault: true})
		case len(args) == 2:
			pr := proxyRedirect{from: args[0], to: args[1]}
			if strings.HasPrefix(pr.from, "~") {
				pat, fold := pr.from[1:], false
				if strings.HasPrefix(pat, "*") {
					pat, fold = pat[1:], true
				}
				re, err := compileRegexFold(pat, fold)
				if err != nil {
					return true, errAt(d, "%v", err)
				}
				pr.re = re
			}
			cv, err := compileValue(pr.to, vt)
			if err != nil {
				return true, errAt(d, "%v", err)
			}
			pr.toCV = cv
			pc.redirects = append(pc.redirects, pr)
		default:
			return true, errAt(d, "invalid number of arguments in \"proxy_redirect\" directive")
		}
		return true, nil
	}
	// the rest (buffers, caches, temp paths, ssl, ...) has no effect
	if nginxconf.Lookup(d.Name) == nil {
		return true, errAt(d, "unknown directive %q", d.Name)
	}
	switch name {
	case "buffering", "buffers", "busy_buffers_size", "request_buffering", "max_temp_file_size",
		"temp_file_write_size", "temp_path", "ignore_client_abort", "socket_keepalive",
		"force_ranges", "limit_rate", "store", "store_access", "cache", "no_cache", "cache_bypass",
		"cache_key", "cache_valid", "cache_path", "cache_methods", "cache_min_uses", "cache_use_stale",
		"cache_lock", "cache_lock_timeout", "cache_lock_age", "cache_revalidate", "cache_background_update",
		"cache_max_range_offset", "cache_convert_head", "bind", "keep_conn", "catch_stderr":
		return true, nil
	}
	cc.noEffect(d)
	return true, nil
}

// passTarget compiles proxy_pass, uwsgi_pass or fastcgi_pass.
func (cc *compiler) passTarget(c *locConf, d *nginxconf.Directive, mod string, level int) error {
	target := d.Arg(0)
	vt := cc.cfg.vars
	if strings.Contains(target, "$") {
		cv, err := compileValue(target, vt)
		if err != nil {
			return errAt(d, "%v", err)
		}
		switch mod {
		case "proxy":
			c.handler = handlerProxy
			c.proxy = &proxyPass{url: cv, raw: target}
		case "uwsgi":
			c.handler = handlerUWSGI
			c.uwsgi = &uwsgiPass{url: cv}
		default:
			c.handler = handlerFastCGI
			c.fastcgi = &fastcgiPass{url: cv}
		}
		return nil
	}
	switch mod {
	case "proxy":
		u := target
		var rest string
		switch {
		case strings.HasPrefix(strings.ToLower(u), "http://"):
			rest = u[len("http://"):]
		case strings.HasPrefix(strings.ToLower(u), "https://"):
			return errAt(d, "https protocol requires SSL support; wsgideck proxies plain http only")
		default:
			return errAt(d, "invalid URL prefix in %q", target)
		}
		pu, perr := parseUpstreamURL(rest, true)
		if perr != "" {
			return errAt(d, "%s in upstream \"%s\"", perr, rest)
		}
		hostport, uri, hasURI := rest[:pu.hostLen], pu.uri, pu.hasURI
		pp := &proxyPass{raw: target, uri: uri, hasURI: hasURI}
		if c.loc != nil {
			pp.location = c.loc.name
			if hasURI && (c.loc.kind == locRegex || c.loc.kind == locNamed || level == levelIf) {
				return errAt(d, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
			}
		}
		c.handler = handlerProxy
		c.proxy = pp
		cc.pendingPass = append(cc.pendingPass, func() error {
			up, host, port, err := cc.upstreamFor(d, hostport, "80")
			if err != nil {
				return err
			}
			pp.up, pp.host, pp.port = up, host, port
			return nil
		})
	default:
		addr := target
		for _, p := range []string{"uwsgi://", "suwsgi://"} {
			if strings.HasPrefix(addr, p) {
				if p == "suwsgi://" {
					return errAt(d, "suwsgi requires SSL support, which wsgideck's proxy does not have")
				}
				addr = addr[len(p):]
			}
		}
		if _, perr := parseUpstreamURL(addr, false); perr != "" {
			return errAt(d, "%s in upstream \"%s\"", perr, addr)
		}
		up := &uwsgiPass{}
		if mod == "uwsgi" {
			c.handler = handlerUWSGI
			c.uwsgi = up
		} else {
			c.handler = handlerFastCGI
			c.fastcgi = up
		}
		defPort := ""
		cc.pendingPass = append(cc.pendingPass, func() error {
			g, _, _, err := cc.upstreamFor(d, addr, defPort)
			if err != nil {
				return err
			}
			up.up = g
			return nil
		})
	}
	return nil
}

// upstreamFor resolves a *_pass address: a named upstream block, or an
// implicit group of the addresses a host name resolves to.
func (cc *compiler) upstreamFor(d *nginxconf.Directive, hostport, defPort string) (*upstream, string, string, error) {
	if up := cc.cfg.upstream(hostport); up != nil {
		return up, hostport, "", nil
	}
	if strings.HasPrefix(hostport, "unix:") {
		up := &upstream{name: hostport, implicit: true}
		up.peers = []*peer{newPeer(hostport, "unix", hostport[len("unix:"):], 1)}
		up.init()
		return up, hostport, "", nil
	}
	host, port := hostport, defPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.Contains(hostport, ":") && !strings.HasPrefix(hostport, "[") {
		return nil, "", "", errAt(d, "invalid port in upstream %q", hostport)
	}
	if port == "" {
		if up := cc.cfg.upstream(host); up != nil {
			return up, host, "", nil
		}
		return nil, "", "", errAt(d, "no port in upstream %q", hostport)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, "", "", errAt(d, "invalid port in upstream %q", hostport)
	}
	key := implicitKey(host, port)
	up := cc.cfg.implicit[key]
	if up == nil {
		ips, err := resolveHost(host, cc.lookup)
		if err != nil {
			// nginx resolves a *_pass host after reading the config and
			// names the host alone
			return nil, "", "", errAt(d, "host not found in upstream %q", host)
		}
		up = &upstream{name: hostport, implicit: true}
		for _, ip := range ips {
			a := net.JoinHostPort(ip, port)
			up.peers = append(up.peers, newPeer(a, "tcp", a, 1))
		}
		up.init()
		cc.cfg.implicit[key] = up
	}
	proxyHost := hostport
	if port == "80" && defPort == "80" {
		proxyHost = host
	}
	return up, proxyHost, port, nil
}

// resolveHost resolves a host name to its addresses as nginx does at
// startup (IPv4 and IPv6 alike).
func resolveHost(host string, lookup func(string) ([]string, error)) ([]string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip := net.ParseIP(h); ip != nil {
		return []string{ip.String()}, nil
	}
	if lookup == nil {
		lookup = net.LookupHost
	}
	addrs, err := lookup(h)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("host not found")
	}
	return addrs, nil
}

// compileUpstream is an upstream {} block.
func (cc *compiler) compileUpstream(d *nginxconf.Directive) error {
	name := d.Arg(0)
	if cc.cfg.upstream(name) != nil {
		return errAt(d, "duplicate upstream %q", name)
	}
	up := &upstream{name: name}
	if d.Block == nil {
		return errAt(d, "directive \"upstream\" has no opening \"{\"")
	}
	for _, s := range d.Block.Expand() {
		switch s.Name {
		case "server":
			p, err := cc.parseUpstreamServer(s)
			if err != nil {
				return err
			}
			if p.backup {
				up.backups = append(up.backups, p.peers...)
			} else {
				up.peers = append(up.peers, p.peers...)
			}
		case "least_conn":
			up.method = balanceLeastConn
		case "ip_hash":
			up.method = balanceIPHash
		case "hash":
			up.method = balanceHash
			cv, err := compileValue(s.Arg(0), cc.cfg.vars)
			if err != nil {
				return errAt(s, "%v", err)
			}
			up.hashKey = cv
			up.hashConsistent = s.Arg(1) == "consistent"
		case "random":
			up.method = balanceRandom
		case "keepalive":
			n, err := intArg(s, 0)
			if err != nil {
				return err
			}
			up.keepalive = n
		case "keepalive_timeout":
			v, err := durationArg(s)
			if err != nil {
				return err
			}
			up.keepaliveTimeout = v
		case "keepalive_requests":
			n, err := intArg(s, 0)
			if err != nil {
				return err
			}
			up.keepaliveRequests = n
		default:
			if nginxconf.Lookup(s.Name) == nil {
				return errAt(s, "unknown directive %q", s.Name)
			}
			cc.noEffect(s)
		}
	}
	if len(up.peers) == 0 {
		if len(up.backups) > 0 {
			return errAt(d, "no servers are inside upstream, only backup ones")
		}
		return errAt(d, "no servers are inside upstream")
	}
	if len(up.backups) > 0 && up.method != balanceRoundRobin && up.method != balanceLeastConn {
		return errAt(d, "load balancing method does not support the \"backup\" parameter")
	}
	up.init()
	cc.cfg.upstreams[strings.ToLower(name)] = up
	return nil
}

type upstreamServer struct {
	peers  []*peer
	backup bool
}

// parseUpstreamServer is "server address [weight=] [max_fails=]
// [fail_timeout=] [backup] [down] [max_conns=]".
func (cc *compiler) parseUpstreamServer(d *nginxconf.Directive) (*upstreamServer, error) {
	if len(d.Args) == 0 {
		return nil, errAt(d, "invalid number of arguments in \"server\" directive")
	}
	weight, maxFails, maxConns := 1, 1, 0
	failTimeout := 10 * time.Second
	var backup, down bool
	for _, p := range d.Values()[1:] {
		k, v, _ := strings.Cut(p, "=")
		var err error
		switch k {
		case "weight":
			weight, err = strconv.Atoi(v)
			if weight <= 0 {
				err = fmt.Errorf("bad weight")
			}
		case "max_fails":
			maxFails, err = strconv.Atoi(v)
		case "max_conns":
			maxConns, err = strconv.Atoi(v)
		case "fail_timeout":
			var s int64
			s, err = nginxconf.ParseTime(v, true)
			failTimeout = time.Duration(s) * time.Second
		case "backup":
			backup = true
		case "down":
			down = true
		case "resolve", "service", "slow_start", "route", "drain":
		default:
			return nil, errAt(d, "invalid parameter %q", p)
		}
		if err != nil || (k == "max_fails" && maxFails < 0) {
			return nil, errAt(d, "invalid parameter %q", p)
		}
	}
	addr := d.Arg(0)
	if _, perr := parseUpstreamURL(addr, false); perr != "" {
		return nil, errAt(d, "%s in upstream \"%s\"", perr, addr)
	}
	var peers []*peer
	if strings.HasPrefix(addr, "unix:") {
		peers = append(peers, newPeer(addr, "unix", addr[len("unix:"):], weight))
	} else {
		host, port := addr, "80"
		if h, p, err := net.SplitHostPort(addr); err == nil {
			host, port = h, p
		}
		ips, err := resolveHost(host, cc.lookup)
		if err != nil {
			return nil, errAt(d, "host not found in upstream %q", addr)
		}
		for _, ip := range ips {
			a := net.JoinHostPort(ip, port)
			peers = append(peers, newPeer(a, "tcp", a, weight))
		}
	}
	for _, p := range peers {
		p.maxFails, p.failTimeout, p.down, p.maxConns = maxFails, failTimeout, down, maxConns
		p.server = addr
	}
	return &upstreamServer{peers: peers, backup: backup}, nil
}
