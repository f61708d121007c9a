package proxy

import (
	"math"
	"strings"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// limitConf is a level's limit_req and limit_conn settings. The two lists
// are inherited only by a level that has none of its own; the rest as
// usual.
type limitConf struct {
	reqs        []*limitReq
	reqStatus   int
	reqLogLevel int
	reqDryRun   bool

	conns        []*limitConn
	connStatus   int
	connLogLevel int
	connDryRun   bool
}

// defaultLimitConf is nginx's defaults: 503, logged at "error".
func defaultLimitConf() limitConf {
	return limitConf{reqStatus: 503, reqLogLevel: levelError, connStatus: 503, connLogLevel: levelError}
}

// limitZoneMinSize is the least size nginx takes for these zones: 8 pages.
const limitZoneMinSize = 8 * slabPage

// maxLimitRequests bounds burst= and delay= (in requests) and rate=, so
// that nginx's arithmetic in thousandths cannot overflow: a limit this
// large never applies anyway.
const maxLimitRequests = 1 << 40

// The numbers of these directives are read with nginxconf.ParseNumber,
// which is ngx_atoi: digits only, so "burst=+5" and "limit_conn z +3"
// are refused as nginx refuses them (strconv would take the sign).

// limitZoneDir is limit_req_zone KEY zone=NAME:SIZE rate=N(r/s|r/m) and
// limit_conn_zone KEY zone=NAME:SIZE, read before the servers so that
// limit_req and limit_conn may name a zone declared further down.
func (cc *compiler) limitZoneDir(d *nginxconf.Directive) error {
	if len(d.Args) < 2 {
		return errAt(d, "invalid number of arguments in %q directive", d.Name)
	}
	key, err := compileValue(d.Arg(0), cc.cfg.vars)
	if err != nil {
		return errAt(d, "%v", err)
	}
	var name string
	var size int64
	rate, scale := int64(1), int64(1)
	for _, a := range d.Values()[1:] {
		switch {
		case strings.HasPrefix(a, "zone="):
			v := a[len("zone="):]
			colon := strings.IndexByte(v, ':')
			if colon <= 0 {
				return errAt(d, "invalid zone size %q", a)
			}
			s, err := nginxconf.ParseSize(v[colon+1:])
			if err != nil || s <= 0 {
				return errAt(d, "invalid zone size %q", a)
			}
			if s < limitZoneMinSize {
				return errAt(d, "zone %q is too small", a)
			}
			name, size = v[:colon], s
		case d.Name == "limit_req_zone" && strings.HasPrefix(a, "rate="):
			v := a[len("rate="):]
			scale = 1
			if strings.HasSuffix(v, "r/s") {
				v = v[:len(v)-3]
			} else if strings.HasSuffix(v, "r/m") {
				v, scale = v[:len(v)-3], 60
			}
			n, err := nginxconf.ParseNumber(v)
			if err != nil || n <= 0 {
				return errAt(d, "invalid rate %q", a)
			}
			rate = min(n, maxLimitRequests)
		default:
			return errAt(d, "invalid parameter %q", a)
		}
	}
	if name == "" {
		return errAt(d, "%q must have \"zone\" parameter", d.Name)
	}
	if z := cc.zoneOf(name); z != "" {
		if z != d.Name {
			return errAt(d, "the shared memory zone %q is already declared for a different use", name)
		}
		return errAt(d, "%s %q is already bound to key %q", d.Name, name, d.Arg(0))
	}
	if d.Name == "limit_req_zone" {
		// nginx's ctx->rate; at least 1, or 1r/m.. would never leak
		r := max(rate*1000/scale, 1)
		cc.cfg.reqZones[name] = &reqZone{name: name, key: key, size: size, rate: r, state: newReqState(size)}
		return nil
	}
	cc.cfg.connZones[name] = &connZone{name: name, key: key, size: size, state: newConnState(size)}
	return nil
}

// zoneOf is the directive that declared a zone name, or "".
func (cc *compiler) zoneOf(name string) string {
	if cc.cfg.reqZones[name] != nil {
		return "limit_req_zone"
	}
	if cc.cfg.connZones[name] != nil {
		return "limit_conn_zone"
	}
	return ""
}

// limitZoneErr is the error for a zone= or limit_conn name that names no
// zone of the directive's kind.
func (cc *compiler) limitZoneErr(d *nginxconf.Directive, name, want string) error {
	if z := cc.zoneOf(name); z != "" && z != want {
		return errAt(d, "the shared memory zone %q is already declared for a different use", name)
	}
	return errAt(d, "zero size shared memory zone %q", name)
}

// limitDirective applies the limit_req and limit_conn directives to a
// level; handled is false for any other directive.
func (cc *compiler) limitDirective(c *locConf, d *nginxconf.Directive) (handled bool, err error) {
	l := &c.limits
	switch d.Name {
	case "limit_req":
		return true, cc.limitReqDir(c, d)
	case "limit_conn":
		return true, cc.limitConnDir(c, d)
	case "limit_req_status", "limit_conn_status":
		n, err := nginxconf.ParseNumber(d.Arg(0))
		if len(d.Args) != 1 || err != nil {
			return true, errAt(d, "%q directive invalid number", d.Name)
		}
		if n < 400 || n > 599 {
			return true, errAt(d, "value must be between 400 and 599")
		}
		if d.Name == "limit_req_status" {
			l.reqStatus = int(n)
		} else {
			l.connStatus = int(n)
		}
	case "limit_req_log_level", "limit_conn_log_level":
		lvl, ok := parseLevel(d.Arg(0))
		if len(d.Args) != 1 || !ok || lvl < levelError || lvl > levelInfo {
			return true, errAt(d, "invalid value %q in %q directive", d.Arg(0), d.Name)
		}
		if d.Name == "limit_req_log_level" {
			l.reqLogLevel = lvl
		} else {
			l.connLogLevel = lvl
		}
	case "limit_req_dry_run", "limit_conn_dry_run":
		v, err := flagArg(d)
		if err != nil {
			return true, err
		}
		if d.Name == "limit_req_dry_run" {
			l.reqDryRun = v
		} else {
			l.connDryRun = v
		}
	default:
		return false, nil
	}
	return true, nil
}

// limitReqDir is limit_req zone=NAME [burst=N] [nodelay | delay=N].
func (cc *compiler) limitReqDir(c *locConf, d *nginxconf.Directive) error {
	lim := &limitReq{}
	var burst, delay int64
	nodelay := false
	for _, a := range d.Values() {
		switch {
		case strings.HasPrefix(a, "zone="):
			name := a[len("zone="):]
			if lim.zone = cc.cfg.reqZones[name]; lim.zone == nil {
				return cc.limitZoneErr(d, name, "limit_req_zone")
			}
		case strings.HasPrefix(a, "burst="):
			n, err := nginxconf.ParseNumber(a[len("burst="):])
			if err != nil || n <= 0 {
				return errAt(d, "invalid burst value %q", a)
			}
			burst = min(n, maxLimitRequests)
		case strings.HasPrefix(a, "delay="):
			n, err := nginxconf.ParseNumber(a[len("delay="):])
			if err != nil || n <= 0 {
				return errAt(d, "invalid delay value %q", a)
			}
			delay = min(n, maxLimitRequests)
		case a == "nodelay":
			nodelay = true
		default:
			return errAt(d, "invalid parameter %q", a)
		}
	}
	if lim.zone == nil {
		return errAt(d, "\"limit_req\" must have \"zone\" parameter")
	}
	lim.burst, lim.delay = burst*1000, delay*1000
	if nodelay {
		lim.delay = math.MaxInt64
	}
	if c.first("limit_req") {
		c.limits.reqs = nil
	}
	for _, o := range c.limits.reqs {
		if o.zone == lim.zone {
			return errAt(d, "\"limit_req\" directive is duplicate")
		}
	}
	c.limits.reqs = append(c.limits.reqs, lim)
	return nil
}

// limitConnDir is limit_conn NAME N.
func (cc *compiler) limitConnDir(c *locConf, d *nginxconf.Directive) error {
	if len(d.Args) != 2 {
		return errAt(d, "invalid number of arguments in \"limit_conn\" directive")
	}
	z := cc.cfg.connZones[d.Arg(0)]
	if z == nil {
		return cc.limitZoneErr(d, d.Arg(0), "limit_conn_zone")
	}
	if c.first("limit_conn") {
		c.limits.conns = nil
	}
	for _, o := range c.limits.conns {
		if o.zone == z {
			return errAt(d, "\"limit_conn\" directive is duplicate")
		}
	}
	n, err := nginxconf.ParseNumber(d.Arg(1))
	if err != nil || n <= 0 {
		return errAt(d, "invalid number of connections %q", d.Arg(1))
	}
	if n > 65535 {
		return errAt(d, "connection limit must be less 65536")
	}
	c.limits.conns = append(c.limits.conns, &limitConn{zone: z, conn: int(n)})
	return nil
}
