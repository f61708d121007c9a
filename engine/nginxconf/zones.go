package nginxconf

import "strings"

// Shared memory zones, as ngx_shared_memory_add keeps them: the
// limit_req_zone, limit_conn_zone and *_cache_path directives declare a
// zone with a size, limit_req, limit_conn, *_cache and upstream's zone
// name one, and each zone belongs to the module that named it first. A
// zone named but never given a size is nginx -t's "zero size shared
// memory zone", a *_cache zone no *_cache_path declared is "zone ... is
// unknown".

// shmZone is one named zone.
type shmZone struct {
	name string
	// tag is the module the zone belongs to.
	tag  string
	size int64
	// first is the directive that named the zone first: where the
	// errors found once the whole config is read point.
	first *Directive
	// key is what a limit_*_zone declaration bound the zone to;
	// cacheDeclared is set by a *_cache_path.
	key           string
	keyBound      bool
	cacheDeclared bool
}

// cacheRef is a *_cache directive naming a zone.
type cacheRef struct {
	d    *Directive
	zone *shmZone
}

// zoneMinSize is 8 pages of 4 KiB: the least limit_req_zone,
// limit_conn_zone and upstream's zone accept.
const zoneMinSize = 8 * 4096

// keysZoneMinSize is 2 pages: the least keys_zone= accepts.
const keysZoneMinSize = 2 * 4096

// addZone is ngx_shared_memory_add: it finds or records the zone name for
// tag, with size (0 when d only refers to it). It reports nginx's errors
// at d and returns nil after one.
func (ck *checker) addZone(d *Directive, h *httpInfo, name, tag string, size int64) *shmZone {
	if h.zones == nil {
		h.zones = map[string]*shmZone{}
	}
	z := h.zones[name]
	if z == nil {
		z = &shmZone{name: name, tag: tag, size: size, first: d}
		h.zones[name] = z
		h.zoneOrder = append(h.zoneOrder, z)
		return z
	}
	if z.tag != tag {
		ck.errf(d, `the shared memory zone "%s" is already declared for a different use`, name)
		return nil
	}
	if z.size == 0 {
		z.size = size
	}
	if size != 0 && size != z.size {
		ck.errf(d, `the size %d of shared memory zone "%s" conflicts with already declared size %d`, size, name, z.size)
		return nil
	}
	return z
}

// zoneParam parses "zone=name:size" (or "keys_zone=..."); what is the
// word nginx's messages use ("zone", "keys zone"), min the least size.
func (ck *checker) zoneParam(d *Directive, i int, prefix, what string, min int64) (name string, size int64, ok bool) {
	arg := d.Arg(i)
	rest := arg[len(prefix):]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		ck.argErrf(d, i, `invalid %s size "%s"`, what, arg)
		return "", 0, false
	}
	size, err := ParseSize(rest[colon+1:])
	if err != nil {
		ck.argErrf(d, i, `invalid %s size "%s"`, what, arg)
		return "", 0, false
	}
	if size < min {
		ck.argErrf(d, i, `%s "%s" is too small`, what, arg)
		return "", 0, false
	}
	return rest[:colon], size, true
}

// limitZone is limit_req_zone and limit_conn_zone.
func (ck *checker) limitZone(d *Directive, fr *frame) {
	var name string
	var size int64
	named := false
	for i := 1; i < len(d.Args); i++ {
		a := d.Arg(i)
		switch {
		case strings.HasPrefix(a, "zone="):
			n, s, ok := ck.zoneParam(d, i, "zone=", "zone", zoneMinSize)
			if !ok {
				return
			}
			name, size, named = n, s, true
			continue
		case d.Name == "limit_req_zone" && strings.HasPrefix(a, "rate="):
			v := a[len("rate="):]
			if strings.HasSuffix(v, "r/s") || strings.HasSuffix(v, "r/m") {
				v = v[:len(v)-3]
			}
			if n, ok := atoi(v); !ok || n <= 0 {
				ck.argErrf(d, i, `invalid rate "%s"`, a)
				return
			}
			continue
		}
		ck.argErrf(d, i, `invalid parameter "%s"`, a)
		return
	}
	if !named || name == "" {
		ck.errf(d, `"%s" must have "zone" parameter`, d.Name)
		return
	}
	z := ck.addZone(d, fr.http, name, d.Name, size)
	if z == nil {
		return
	}
	if z.keyBound {
		ck.errf(d, `%s "%s" is already bound to key "%s"`, d.Name, name, z.key)
		return
	}
	z.key, z.keyBound = d.Arg(0), true
}

// limitReq is limit_req: zone=, burst=, delay=, nodelay.
func (ck *checker) limitReq(d *Directive, fr *frame) {
	var z *shmZone
	for i, a := range d.Values() {
		switch {
		case strings.HasPrefix(a, "zone="):
			if z = ck.addZone(d, fr.http, a[len("zone="):], "limit_req_zone", 0); z == nil {
				return
			}
		case strings.HasPrefix(a, "burst="):
			if n, ok := atoi(a[len("burst="):]); !ok || n <= 0 {
				ck.argErrf(d, i, `invalid burst value "%s"`, a)
				return
			}
		case strings.HasPrefix(a, "delay="):
			if n, ok := atoi(a[len("delay="):]); !ok || n <= 0 {
				ck.argErrf(d, i, `invalid delay value "%s"`, a)
				return
			}
		case a == "nodelay":
		default:
			ck.argErrf(d, i, `invalid parameter "%s"`, a)
			return
		}
	}
	if z == nil {
		ck.errf(d, `"%s" must have "zone" parameter`, d.Name)
		return
	}
	ck.limitOnce(d, fr, z)
}

// limitConn is limit_conn: a zone and a number of connections.
func (ck *checker) limitConn(d *Directive, fr *frame) {
	z := ck.addZone(d, fr.http, d.Arg(0), "limit_conn_zone", 0)
	if z == nil || !ck.limitOnce(d, fr, z) {
		return
	}
	n, ok := atoi(d.Arg(1))
	if !ok || n <= 0 {
		ck.argErrf(d, 1, `invalid number of connections "%s"`, d.Arg(1))
		return
	}
	if n > 65535 {
		ck.argErrf(d, 1, "connection limit must be less 65536")
	}
}

// limitOnce reports a zone a level limits twice.
func (ck *checker) limitOnce(d *Directive, fr *frame, z *shmZone) bool {
	if fr.limits == nil {
		fr.limits = map[*shmZone]bool{}
	}
	if fr.limits[z] {
		ck.errf(d, `"%s" directive is duplicate`, d.Name)
		return false
	}
	fr.limits[z] = true
	return true
}

// cachePathParams are the parameters of *_cache_path besides keys_zone=
// (their values are not checked).
var cachePathParams = []string{"levels=", "use_temp_path=", "inactive=", "max_size=", "min_free=",
	"loader_files=", "loader_sleep=", "loader_threshold=", "manager_files=", "manager_sleep=", "manager_threshold="}

// cachePath is proxy_cache_path and its uwsgi, fastcgi and scgi twins.
func (ck *checker) cachePath(d *Directive, fr *frame) {
	var name string
	var size int64
params:
	for i := 1; i < len(d.Args); i++ {
		a := d.Arg(i)
		if strings.HasPrefix(a, "keys_zone=") {
			n, s, ok := ck.zoneParam(d, i, "keys_zone=", "keys zone", keysZoneMinSize)
			if !ok {
				return
			}
			name, size = n, s
			continue
		}
		for _, p := range cachePathParams {
			if strings.HasPrefix(a, p) {
				continue params
			}
		}
		ck.argErrf(d, i, `invalid parameter "%s"`, a)
		return
	}
	if name == "" || size == 0 {
		ck.errf(d, `"%s" must have "keys_zone" parameter`, d.Name)
		return
	}
	z := ck.addZone(d, fr.http, name, cacheModule(d.Name), size)
	if z == nil {
		return
	}
	if z.cacheDeclared {
		ck.errf(d, `duplicate zone "%s"`, name)
		return
	}
	z.cacheDeclared = true
}

// cache is proxy_cache and its twins: "off", a zone name, or variables
// (a zone chosen per request, not checked).
func (ck *checker) cache(d *Directive, fr *frame) {
	if fr.seen[d.Name] {
		ck.errf(d, `"%s" directive is duplicate`, d.Name)
		return
	}
	fr.seen[d.Name] = true
	name := d.Arg(0)
	if name == "off" || strings.IndexByte(name, '$') >= 0 {
		return
	}
	if z := ck.addZone(d, fr.http, name, cacheModule(d.Name), 0); z != nil {
		fr.http.caches = append(fr.http.caches, cacheRef{d: d, zone: z})
	}
}

// cacheModule is the module whose zones a *_cache or *_cache_path
// directive names: "proxy_cache_path" and "proxy_cache" share one.
func cacheModule(directive string) string {
	return directive[:strings.Index(directive, "_cache")] + "_cache"
}

// unknownCaches reports the first *_cache zone no *_cache_path declared,
// as nginx does when it merges the http block.
func (ck *checker) unknownCaches(h *httpInfo) {
	for _, c := range h.caches {
		if !c.zone.cacheDeclared {
			ck.errf(c.d, `"%s" zone "%s" is unknown`, c.d.Name, c.zone.name)
			return
		}
	}
}

// zeroSizeZones reports the first zone named but never given a size
// (nginx -t says so once the whole config is read, without a file and
// line; ours points at the directive that named the zone first).
func (ck *checker) zeroSizeZones(h *httpInfo) {
	for _, z := range h.zoneOrder {
		if z.size == 0 {
			ck.errf(z.first, `zero size shared memory zone "%s"`, z.name)
			ck.diags[len(ck.diags)-1].AfterParse = true
			return
		}
	}
}

// upstreamZone is upstream's "zone name [size]".
func (ck *checker) upstreamZone(d *Directive, fr *frame) {
	if d.Arg(0) == "" {
		ck.argErrf(d, 0, `invalid zone name "%s"`, d.Arg(0))
		return
	}
	var size int64
	if len(d.Args) == 2 {
		s, err := ParseSize(d.Arg(1))
		if err != nil {
			ck.argErrf(d, 1, `invalid zone size "%s"`, d.Arg(1))
			return
		}
		if s < zoneMinSize {
			ck.argErrf(d, 1, `zone "%s" is too small`, d.Arg(0))
			return
		}
		size = s
	}
	ck.addZone(d, fr.http, d.Arg(0), "upstream", size)
}
