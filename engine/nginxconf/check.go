package nginxconf

import (
	"fmt"
	"sort"
	"strings"
)

// Check checks the whole config in the order nginx reads it: the main file
// from the top, each included file where its include directive stands. It
// stores the result in c.Diagnostics and returns it. The first error is the
// one nginx -t reports; later ones are what nginx would report once the
// earlier ones were fixed, as far as they can be told without fixing them.
//
// Besides ngx_conf_handler's checks (unknown directive, context, ";" or "{",
// argument count) it reproduces the checks of the generic value handlers
// (on/off, sizes, times, numbers, enums, "is duplicate") and of the handlers
// of the directives wsgideck implements: location modifiers and nesting,
// duplicate locations, root/alias, try_files, return codes, rewrite flags,
// set, if conditions, error_page codes, log_format/access_log, map and
// types entries, upstream server parameters, proxy_pass URLs. Checks that
// need the network or the file system (host names, log files, regex
// compilation by PCRE, variable names) are left to nginx.
func (c *Config) Check() Diagnostics {
	ck := &checker{}
	top := &frame{ctx: c.Context, seen: map[string]bool{}}
	if c.Context&(CtxHTTP|CtxServer|CtxLocation|CtxIfInServer|CtxIfInLocation|CtxUpstream|CtxLimitExcept) != 0 {
		top.http = newHTTPInfo()
		top.http.standalone = true
	}
	ck.file(c.Main, top)
	for _, h := range ck.https {
		ck.zeroSizeZones(h)
	}
	c.Diagnostics = ck.diags
	return ck.diags
}

// CheckFile checks one parsed file on its own, its top level read in ctx,
// without following includes.
func CheckFile(f *File, ctx Context) Diagnostics {
	c := &Config{Main: f, Files: []*File{f}, Context: ctx}
	return c.Check()
}

type checker struct {
	diags Diagnostics
	// https are the http blocks read, for the checks made once the
	// whole config is read.
	https []*httpInfo
}

// frame is one configuration level: what nginx keeps in one set of module
// confs (the main conf, events, http, each server, location, if and
// limit_except). Duplicates are counted per frame.
type frame struct {
	ctx    Context
	parent *frame
	seen   map[string]bool // directives set at this level
	root   string          // "root" or "alias" once one of them is set
	http   *httpInfo       // the enclosing http block
	loc    *locInfo        // the location this frame is the body of
	locs   []*locInfo      // locations directly inside
	// map {} bodies
	mapHostnames, mapDefault bool
	mapKeys                  map[string]bool
	// types {} bodies and the *_types directives, per level
	exts      map[string]string
	mimeTypes map[string]map[string]bool
	// upstream {} bodies
	upstreamFlags upstreamFlags
	balancer      bool
	// limits are the zones limit_req and limit_conn use at this level
	limits map[*shmZone]bool
}

func (fr *frame) child(ctx Context) *frame {
	return &frame{ctx: ctx, parent: fr, seen: map[string]bool{}, http: fr.http}
}

// httpInfo is what lives in the http block's main conf.
type httpInfo struct {
	standalone bool // checking a file meant to be included into http {}
	logFormats map[string]bool
	upstreams  map[string]bool
	servers    []*frame
	// the shared memory zones (zones.go)
	zones     map[string]*shmZone
	zoneOrder []*shmZone
	caches    []cacheRef
}

func newHTTPInfo() *httpInfo {
	return &httpInfo{logFormats: map[string]bool{"combined": true}, upstreams: map[string]bool{}}
}

// locInfo is a location as ngx_http_core_location records it.
type locInfo struct {
	d        *Directive
	name     string
	exact    bool
	noregex  bool
	regex    bool
	named    bool
	children []*locInfo
}

func (ck *checker) add(d *Diagnostic) { ck.diags = append(ck.diags, d) }

// errf reports an error about directive d at the line nginx reports.
func (ck *checker) errf(d *Directive, format string, args ...any) {
	ck.add(&Diagnostic{
		Severity: SeverityError, Msg: fmt.Sprintf(format, args...),
		File: d.File.Path, Line: d.EndLine, Col: d.Col, Offset: d.Start, Directive: d,
	})
}

// argErrf reports an error about argument i of d (i = -1 for the name).
func (ck *checker) argErrf(d *Directive, i int, format string, args ...any) {
	ck.errf(d, format, args...)
	if i >= 0 && i < len(d.Args) {
		last := ck.diags[len(ck.diags)-1]
		last.Col, last.Offset = d.Args[i].Col, d.Args[i].Start
	}
}

func (ck *checker) warnf(d *Directive, format string, args ...any) {
	ck.errf(d, format, args...)
	ck.diags[len(ck.diags)-1].Severity = SeverityWarning
}

func (ck *checker) file(f *File, fr *frame) {
	for _, d := range f.Block.Directives {
		ck.directive(d, fr)
	}
	if f.Err != nil {
		ck.add(f.Err)
	}
}

func (ck *checker) body(d *Directive, fr *frame) {
	for _, c := range d.Block.Directives {
		ck.directive(c, fr)
	}
}

func (ck *checker) include(d *Directive, fr *frame) {
	if d.IncludeErr != nil {
		ck.add(d.IncludeErr)
		return
	}
	for _, f := range d.Included {
		ck.file(f, fr)
	}
}

// directive is ngx_conf_handler followed by the directive's own handler.
func (ck *checker) directive(d *Directive, fr *frame) {
	if fr.ctx&ctxEntries != 0 {
		ck.entry(d, fr)
		return
	}
	defs := specs[d.Name]
	if defs == nil {
		// even after load_module: wsgideck has no module to load, so a
		// directive its table does not know is one it cannot serve
		ck.errf(d, `unknown directive "%s"`, d.Name)
		return
	}
	var spec *Spec
	for i := range defs {
		if defs[i].Contexts&fr.ctx != 0 {
			spec = &defs[i]
			break
		}
	}
	if spec == nil {
		ck.errf(d, `"%s" directive is not allowed here`, d.Name)
		return
	}
	if !spec.Block && d.Block != nil {
		ck.errf(d, `directive "%s" is not terminated by ";"`, d.Name)
		return
	}
	if spec.Block && d.Block == nil {
		ck.errf(d, `directive "%s" has no opening "{"`, d.Name)
		return
	}
	if !spec.Args.Allows(len(d.Args)) {
		ck.errf(d, `invalid number of arguments in "%s" directive`, d.Name)
		return
	}
	if !spec.Implemented {
		ck.warnf(d, `"%s" directive has no effect in wsgideck`, d.Name)
	}
	if !ck.value(d, spec, fr) {
		return
	}
	ck.handler(d, spec, fr)
}

// dup marks d's directive as set in fr and reports "is duplicate" when it
// already was.
func (ck *checker) dup(d *Directive, fr *frame) bool {
	if fr.seen[d.Name] {
		ck.errf(d, `"%s" directive is duplicate`, d.Name)
		return false
	}
	fr.seen[d.Name] = true
	return true
}

// value reproduces the generic ngx_conf_set_*_slot handlers.
func (ck *checker) value(d *Directive, spec *Spec, fr *frame) bool {
	switch spec.Value {
	case ValueCustom, ValueStringArray, ValueKeyValue:
		return true
	case ValueBitmask:
		seen := map[string]bool{}
		for i, a := range d.Args {
			v := strings.ToLower(a.Value)
			if !containsFold(spec.Values, a.Value) {
				ck.argErrf(d, i, `invalid value "%s"`, a.Value)
				return false
			}
			if seen[v] {
				ck.warnf(d, `duplicate value "%s"`, a.Value)
			}
			seen[v] = true
		}
		return true
	}
	if !ck.dup(d, fr) {
		return false
	}
	v := d.Arg(0)
	var bad bool
	switch spec.Value {
	case ValueFlag:
		if _, err := ParseFlag(v); err != nil {
			ck.argErrf(d, 0, `invalid value "%s" in "%s" directive, it must be "on" or "off"`, v, d.Name)
			return false
		}
	case ValueNumber:
		if _, ok := atoi(v); !ok {
			ck.argErrf(d, 0, `"%s" directive invalid number`, d.Name)
			return false
		}
	case ValueSize:
		_, err := ParseSize(v)
		bad = err != nil
	case ValueOffset:
		_, err := ParseOffset(v)
		bad = err != nil
	case ValueMsec:
		_, err := ParseTime(v, false)
		bad = err != nil
	case ValueSec:
		_, err := ParseTime(v, true)
		bad = err != nil
	case ValueEnum:
		if !containsFold(spec.Values, v) {
			ck.argErrf(d, 0, `invalid value "%s"`, v)
			return false
		}
	case ValueBufs:
		n, ok := atoi(v)
		size, err := ParseSize(d.Arg(1))
		bad = !ok || n == 0 || err != nil || size == 0
	}
	if bad {
		ck.argErrf(d, 0, `"%s" directive invalid value`, d.Name)
		return false
	}
	return true
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if asciiEqualFold(s, v) {
			return true
		}
	}
	return false
}

// handler runs the checks of a directive's own handler, and reads the
// body of a block directive in its context.
func (ck *checker) handler(d *Directive, spec *Spec, fr *frame) {
	switch d.Name {
	case "include":
		ck.include(d, fr)
	case "events":
		if ck.dup(d, fr) {
			ck.body(d, fr.child(CtxEvents))
		}
	case "http":
		if !ck.dup(d, fr) {
			return
		}
		h := fr.child(CtxHTTP)
		h.http = newHTTPInfo()
		ck.body(d, h)
		if d.Block.Close >= 0 {
			ck.duplicateLocations(h.http)
			ck.unknownCaches(h.http)
			ck.https = append(ck.https, h.http)
		}
	case "server":
		if fr.ctx == CtxUpstream {
			ck.upstreamServer(d, fr)
			return
		}
		s := fr.child(CtxServer)
		fr.http.servers = append(fr.http.servers, s)
		ck.body(d, s)
	case "location":
		ck.location(d, fr)
	case "if":
		if !ck.ifCondition(d) {
			return
		}
		ctx := CtxIfInLocation
		if fr.ctx == CtxServer {
			ctx = CtxIfInServer
		}
		ck.body(d, fr.child(ctx))
	case "limit_except":
		ck.limitExcept(d, fr)
	case "upstream":
		ck.upstream(d, fr)
	case "map":
		if !strings.HasPrefix(d.Arg(1), "$") {
			ck.argErrf(d, 1, `invalid variable name "%s"`, d.Arg(1))
			return
		}
		m := fr.child(CtxMap)
		m.mapKeys = map[string]bool{}
		ck.body(d, m)
	case "types":
		t := fr.child(CtxTypes)
		if fr.exts == nil {
			fr.exts = map[string]string{}
		}
		t.exts = fr.exts // types {} blocks of one level add to one table
		ck.body(d, t)
	case "geo":
		ck.body(d, fr.child(CtxGeo))
	case "split_clients":
		ck.body(d, fr.child(CtxSplitClients))
	case "charset_map":
		ck.body(d, fr.child(CtxCharsetMap))
	case "worker_processes":
		if ck.dup(d, fr) && d.Arg(0) != "auto" {
			if _, ok := atoi(d.Arg(0)); !ok {
				ck.argErrf(d, 0, `"%s" directive invalid value`, d.Name)
			}
		}
	case "worker_connections":
		if ck.dup(d, fr) {
			if _, ok := atoi(d.Arg(0)); !ok {
				ck.argErrf(d, 0, `invalid number "%s"`, d.Arg(0))
			}
		}
	case "keepalive_timeout":
		if fr.ctx == CtxUpstream || !ck.dup(d, fr) {
			return
		}
		if _, err := ParseTime(d.Arg(0), false); err != nil {
			ck.argErrf(d, 0, `"%s" directive invalid value`, d.Name)
		} else if len(d.Args) == 2 {
			if _, err := ParseTime(d.Arg(1), true); err != nil {
				ck.argErrf(d, 1, `"%s" directive invalid value`, d.Name)
			}
		}
	case "root", "alias":
		ck.rootAlias(d, fr)
	case "try_files", "uwsgi_pass", "fastcgi_pass":
		ck.dup(d, fr)
	case "proxy_pass":
		ck.proxyPass(d, fr)
	case "return":
		ck.returnCode(d)
	case "rewrite":
		if d.Arg(1) == "" {
			ck.errf(d, "empty replacement")
		} else if len(d.Args) == 3 {
			switch d.Arg(2) {
			case "last", "break", "redirect", "permanent":
			default:
				ck.argErrf(d, 2, `invalid parameter "%s"`, d.Arg(2))
			}
		}
	case "set":
		if !strings.HasPrefix(d.Arg(0), "$") {
			ck.argErrf(d, 0, `invalid variable name "%s"`, d.Arg(0))
		}
	case "error_page":
		ck.errorPage(d)
	case "add_header":
		if len(d.Args) == 3 && d.Arg(2) != "always" {
			ck.argErrf(d, 2, `invalid parameter "%s"`, d.Arg(2))
		}
	case "log_format":
		name := d.Arg(0)
		if fr.http.logFormats[name] {
			ck.argErrf(d, 0, `duplicate "log_format" name "%s"`, name)
			return
		}
		fr.http.logFormats[name] = true
	case "access_log":
		ck.accessLog(d, fr)
	case "keepalive":
		if fr.seen[d.Name] {
			ck.errf(d, `"%s" directive is duplicate`, d.Name)
			return
		}
		fr.seen[d.Name] = true
		if n, ok := atoi(d.Arg(0)); !ok || n == 0 {
			ck.argErrf(d, 0, `invalid value "%s" in "%s" directive`, d.Arg(0), d.Name)
		}
	case "least_conn", "ip_hash":
		if fr.balancer {
			ck.warnf(d, "load balancing method redefined")
		}
		fr.balancer = true
		fr.upstreamFlags = upsWeight | upsMaxConns | upsMaxFails | upsFailTimeout | upsDown
		if d.Name == "least_conn" {
			fr.upstreamFlags |= upsBackup
		}
	case "gzip_types", "ssi_types", "charset_types", "sub_filter_types", "addition_types":
		ck.mimeTypes(d, fr)
	case "limit_req_zone", "limit_conn_zone":
		ck.limitZone(d, fr)
	case "limit_req":
		ck.limitReq(d, fr)
	case "limit_conn":
		ck.limitConn(d, fr)
	case "proxy_cache_path", "uwsgi_cache_path", "fastcgi_cache_path", "scgi_cache_path":
		ck.cachePath(d, fr)
	case "proxy_cache", "uwsgi_cache", "fastcgi_cache", "scgi_cache":
		ck.cache(d, fr)
	case "zone":
		ck.upstreamZone(d, fr)
	}
}

func (ck *checker) rootAlias(d *Directive, fr *frame) {
	if fr.root != "" {
		if fr.root == d.Name {
			ck.errf(d, `"%s" directive is duplicate`, d.Name)
		} else {
			ck.errf(d, `"%s" directive is duplicate, "%s" directive was specified earlier`, d.Name, fr.root)
		}
		return
	}
	if d.Name == "alias" && fr.loc != nil && fr.loc.named {
		ck.errf(d, `the "alias" directive cannot be used inside the named location`)
		return
	}
	fr.root = d.Name
}

// location is ngx_http_core_location.
func (ck *checker) location(d *Directive, fr *frame) {
	loc, err := d.Location()
	if err != nil {
		ck.argErrf(d, 0, "%s", err.Error())
		return
	}
	li := &locInfo{
		d: d, name: loc.Path,
		exact:   loc.Kind == LocationExact,
		noregex: loc.Kind == LocationPrefixNoRegex,
		regex:   loc.Kind.IsRegex(),
		named:   loc.Kind == LocationNamed,
	}
	if p := fr.loc; p != nil && fr.ctx == CtxLocation {
		switch {
		case p.exact:
			ck.errf(d, `location "%s" cannot be inside the exact location "%s"`, li.name, p.name)
			return
		case p.named:
			ck.errf(d, `location "%s" cannot be inside the named location "%s"`, li.name, p.name)
			return
		case li.named:
			ck.errf(d, `named location "%s" can be on the server level only`, li.name)
			return
		case !li.regex && !strings.HasPrefix(li.name, p.name):
			ck.errf(d, `location "%s" is outside location "%s"`, li.name, p.name)
			return
		}
	}
	fr.locs = append(fr.locs, li)
	if fr.loc != nil {
		fr.loc.children = append(fr.loc.children, li)
	}
	l := fr.child(CtxLocation)
	l.loc = li
	ck.body(d, l)
}

// duplicateLocations reproduces the "duplicate location" check nginx makes
// once the http block is read (ngx_http_init_static_location_trees): per
// server, exact and prefix locations are sorted by name, exact ones first,
// and two exact or two prefix locations with one name are an error. Nested
// levels are checked before the level that holds them; regex and named
// locations, and locations inside them, are not checked.
func (ck *checker) duplicateLocations(h *httpInfo) {
	for _, s := range h.servers {
		if !ck.joinLocations(s.locs) {
			return
		}
	}
}

func (ck *checker) joinLocations(locs []*locInfo) bool {
	var static []*locInfo
	for _, l := range locs {
		if !l.regex && !l.named {
			static = append(static, l)
		}
	}
	sort.SliceStable(static, func(i, j int) bool {
		a, b := static[i], static[j]
		if a.name != b.name {
			return a.name < b.name
		}
		return a.exact && !b.exact
	})
	for _, l := range static {
		if !ck.joinLocations(l.children) {
			return false
		}
	}
	for i := 0; i < len(static); {
		exact, inclusive := static[i].exact, !static[i].exact
		j := i + 1
		for ; j < len(static) && static[j].name == static[i].name; j++ {
			x := static[j]
			if x.exact && exact || !x.exact && inclusive {
				ck.add(&Diagnostic{
					Msg:  fmt.Sprintf(`duplicate location "%s"`, x.name),
					File: x.d.File.Path, Line: x.d.EndLine, Col: x.d.Col, Offset: x.d.Start, Directive: x.d,
				})
				return false
			}
			exact = exact || x.exact
			inclusive = inclusive || !x.exact
		}
		i = j
	}
	return true
}

// ifCondition is ngx_http_rewrite_if_condition's syntax checks.
func (ck *checker) ifCondition(d *Directive) bool {
	v := d.Values()
	cur, last := 0, len(v)-1
	if v[0] == "" || v[0][0] != '(' {
		ck.argErrf(d, 0, `invalid condition "%s"`, v[0])
		return false
	}
	if len(v[0]) == 1 {
		cur = 1
	} else {
		v[0] = v[0][1:]
	}
	if v[last] == "" || v[last][len(v[last])-1] != ')' {
		ck.argErrf(d, last, `invalid condition "%s"`, v[last])
		return false
	}
	if len(v[last]) == 1 {
		last--
	} else {
		v[last] = v[last][:len(v[last])-1]
	}
	p := v[cur]
	switch {
	case len(p) > 1 && p[0] == '$':
		if cur != last && cur+2 != last {
			ck.argErrf(d, cur, `invalid condition "%s"`, p)
			return false
		}
		if cur == last {
			return true
		}
		switch op := v[cur+1]; op {
		case "=", "!=", "~", "~*", "!~", "!~*":
			return true
		default:
			ck.argErrf(d, cur+1, `unexpected "%s" in condition`, op)
			return false
		}
	case len(p) == 2 && p[0] == '-' || len(p) == 3 && p[0] == '!' && p[1] == '-':
		if cur+1 != last {
			ck.argErrf(d, cur, `invalid condition "%s"`, p)
			return false
		}
		if strings.IndexByte("fdex", p[len(p)-1]) >= 0 {
			return true // -f -d -e -x and their negations
		}
	}
	ck.argErrf(d, cur, `invalid condition "%s"`, p)
	return false
}

var limitExceptMethods = []string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "MKCOL", "COPY", "MOVE",
	"OPTIONS", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH",
}

func (ck *checker) limitExcept(d *Directive, fr *frame) {
	if !ck.dup(d, fr) {
		return
	}
	for i, a := range d.Args {
		if !containsFold(limitExceptMethods, a.Value) {
			ck.argErrf(d, i, `invalid method "%s"`, a.Value)
			return
		}
	}
	ck.body(d, fr.child(CtxLimitExcept))
}

type upstreamFlags uint8

const (
	upsWeight upstreamFlags = 1 << iota
	upsMaxConns
	upsMaxFails
	upsFailTimeout
	upsDown
	upsBackup
)

func (ck *checker) upstream(d *Directive, fr *frame) {
	name := d.Arg(0)
	if fr.http.upstreams[strings.ToLower(name)] {
		ck.argErrf(d, 0, `duplicate upstream "%s"`, name)
		return
	}
	fr.http.upstreams[strings.ToLower(name)] = true
	u := fr.child(CtxUpstream)
	u.upstreamFlags = upsWeight | upsMaxConns | upsMaxFails | upsFailTimeout | upsDown | upsBackup
	n := len(ck.diags)
	ck.body(d, u)
	if d.Block.Close < 0 || ck.diags[n:].First() != nil {
		return
	}
	for _, c := range d.Block.Expand() {
		if c.Name == "server" {
			return
		}
	}
	line, col := d.File.Position(d.Block.Close)
	ck.add(&Diagnostic{Msg: "no servers are inside upstream", File: d.File.Path,
		Line: line, Col: col, Offset: d.Block.Close, Directive: d})
}

// upstreamServer is ngx_http_upstream_server's parameter checks.
func (ck *checker) upstreamServer(d *Directive, fr *frame) {
	for i := 1; i < len(d.Args); i++ {
		v := d.Args[i].Value
		var need upstreamFlags
		ok := true
		switch {
		case strings.HasPrefix(v, "weight="):
			need = upsWeight
			n, good := atoi(v[7:])
			ok = good && n != 0
		case strings.HasPrefix(v, "max_conns="):
			need = upsMaxConns
			_, ok = atoi(v[10:])
		case strings.HasPrefix(v, "max_fails="):
			need = upsMaxFails
			_, ok = atoi(v[10:])
		case strings.HasPrefix(v, "fail_timeout="):
			need = upsFailTimeout
			_, err := ParseTime(v[13:], true)
			ok = err == nil
		case v == "backup":
			need = upsBackup
		case v == "down":
			need = upsDown
		default:
			ok = false
		}
		if need != 0 && fr.upstreamFlags&need == 0 {
			ck.argErrf(d, i, `balancing method does not support parameter "%s"`, v)
			return
		}
		if !ok {
			ck.argErrf(d, i, `invalid parameter "%s"`, v)
			return
		}
	}
}

// proxyPass is ngx_http_proxy_pass's checks.
func (ck *checker) proxyPass(d *Directive, fr *frame) {
	if !ck.dup(d, fr) {
		return
	}
	url := d.Arg(0)
	if strings.Contains(url, "$") {
		return // compiled as a script; checked at run time
	}
	var rest string
	switch {
	case len(url) >= 7 && asciiEqualFold(url[:7], "http://"):
		rest = url[7:]
	case len(url) >= 8 && asciiEqualFold(url[:8], "https://"):
		rest = url[8:]
	default:
		ck.argErrf(d, 0, "invalid URL prefix")
		return
	}
	var hasURI bool
	if path, ok := strings.CutPrefix(rest, "unix:"); ok {
		i := strings.IndexByte(path, ':')
		hasURI = i >= 0 && i+1 < len(path)
	} else {
		hasURI = strings.ContainsAny(rest, "/?")
	}
	noname := fr.ctx == CtxIfInLocation || fr.ctx == CtxLimitExcept
	inRegexOrNamed := fr.loc != nil && (fr.loc.regex || fr.loc.named)
	if hasURI && (noname || inRegexOrNamed) {
		ck.errf(d, `"proxy_pass" cannot have URI part in location given by regular expression, `+
			`or inside named location, or inside "if" statement, or inside "limit_except" block`)
	}
}

// returnCode is ngx_http_rewrite_return's checks.
func (ck *checker) returnCode(d *Directive) {
	v := d.Arg(0)
	code, ok := atoi(v)
	if !ok {
		if len(d.Args) == 1 && (strings.HasPrefix(v, "http://") ||
			strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "$scheme")) {
			return
		}
		ck.argErrf(d, 0, `invalid return code "%s"`, v)
		return
	}
	if code > 999 {
		ck.argErrf(d, 0, `invalid return code "%s"`, v)
	}
}

// errorPage is ngx_http_core_error_page's checks.
func (ck *checker) errorPage(d *Directive) {
	v := d.Values()
	i := len(v) - 2
	n := 1
	if strings.HasPrefix(v[i], "=") {
		if i == 0 {
			ck.argErrf(d, i, `invalid value "%s"`, v[i])
			return
		}
		if len(v[i]) > 1 {
			if _, ok := atoi(v[i][1:]); !ok {
				ck.argErrf(d, i, `invalid value "%s"`, v[i])
				return
			}
		}
		n = 2
	}
	for j := 0; j < len(v)-n; j++ {
		code, ok := atoi(v[j])
		if !ok || code == 499 {
			ck.argErrf(d, j, `invalid value "%s"`, v[j])
			return
		}
		if code < 300 || code > 599 {
			ck.argErrf(d, j, `value "%s" must be between 300 and 599`, v[j])
			return
		}
	}
}

// accessLog is ngx_http_log_set_log's checks.
func (ck *checker) accessLog(d *Directive, fr *frame) {
	if d.Arg(0) == "off" {
		if len(d.Args) > 1 {
			ck.argErrf(d, 1, `invalid parameter "%s"`, d.Arg(1))
		}
		return
	}
	name := "combined"
	if len(d.Args) >= 2 {
		name = d.Arg(1)
	}
	if fr.http.standalone {
		return // the formats may be defined in a file that includes this one
	}
	for f := range fr.http.logFormats {
		if asciiEqualFold(f, name) {
			return
		}
	}
	ck.argErrf(d, 1, `unknown log format "%s"`, name)
}

// defaultMimeTypes are what ngx_http_types_slot starts each list with:
// text/html for all of them (charset_types' wider default list applies only
// when the directive is absent, so "charset_types text/plain" is no
// duplicate; checked with nginx -t).
var defaultMimeTypes = map[string][]string{
	"gzip_types": {"text/html"}, "ssi_types": {"text/html"},
	"sub_filter_types": {"text/html"}, "addition_types": {"text/html"},
	"charset_types": {"text/html"},
}

func (ck *checker) mimeTypes(d *Directive, fr *frame) {
	if fr.mimeTypes == nil {
		fr.mimeTypes = map[string]map[string]bool{}
	}
	set := fr.mimeTypes[d.Name]
	if set == nil {
		set = map[string]bool{}
		for _, t := range defaultMimeTypes[d.Name] {
			set[t] = true
		}
		fr.mimeTypes[d.Name] = set
	}
	for _, a := range d.Args {
		if a.Value == "*" {
			return
		}
		t := strings.ToLower(a.Value)
		if set[t] {
			ck.warnf(d, `duplicate MIME type "%s"`, t)
			continue
		}
		set[t] = true
	}
}

// entry checks one entry of a map, types, geo, split_clients or
// charset_map body, which nginx hands to the block's own handler.
func (ck *checker) entry(d *Directive, fr *frame) {
	if d.Block != nil {
		ck.errf(d, `unexpected "{"`)
		return
	}
	n := 1 + len(d.Args) // nginx counts the name
	if fr.mapKeys == nil {
		fr.mapKeys = map[string]bool{}
	}
	if fr.exts == nil {
		fr.exts = map[string]string{}
	}
	switch fr.ctx {
	case CtxTypes:
		if d.Name == "include" {
			if n != 2 {
				ck.errf(d, `invalid number of arguments in "include" directive`)
				return
			}
			ck.include(d, fr)
			return
		}
		for _, a := range d.Args {
			ext := strings.ToLower(a.Value)
			if prev, ok := fr.exts[ext]; ok {
				ck.warnf(d, `duplicate extension "%s", content type: "%s", previous content type: "%s"`, ext, d.Name, prev)
			}
			fr.exts[ext] = d.Name
		}
	case CtxMap:
		if n == 1 && (d.Name == "hostnames" || d.Name == "volatile") {
			fr.mapHostnames = fr.mapHostnames || d.Name == "hostnames"
			return
		}
		if n != 2 {
			ck.errf(d, "invalid number of the map parameters")
			return
		}
		if d.Name == "include" {
			ck.include(d, fr)
			return
		}
		key := d.Name
		switch {
		case key == "default":
			if fr.mapDefault {
				ck.errf(d, "duplicate default map parameter")
				return
			}
			fr.mapDefault = true
			return
		case strings.HasPrefix(key, "~"):
			return // a regex: compiled by PCRE, not checked here
		case strings.HasPrefix(key, `\`):
			key = key[1:]
		}
		if fr.mapHostnames && (strings.HasPrefix(key, "*") || strings.HasPrefix(key, ".") || strings.HasSuffix(key, "*")) {
			return // wildcards: ngx_hash_add_key's rules are not reproduced
		}
		key = strings.ToLower(key)
		if fr.mapKeys[key] {
			ck.errf(d, `conflicting parameter "%s"`, key)
			return
		}
		fr.mapKeys[key] = true
	case CtxGeo:
		if d.Name == "include" && n == 2 {
			ck.include(d, fr)
		}
	}
}
