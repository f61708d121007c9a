package proxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// LoadOptions say where a configuration comes from, as nginx's command
// line does.
type LoadOptions struct {
	// Prefix is -p: the directory relative paths in the config (root html,
	// logs/access.log) are resolved against. Empty means the config file's
	// directory.
	Prefix string
	// Globals is -g: directives for the main context, read before the file.
	Globals string
	// LookupHost resolves the host names of listen, server and *_pass
	// addresses; nil means net.LookupHost. nginx resolves them once, when
	// it reads the config, and so does compile.
	LookupHost func(host string) ([]string, error)
}

// Load reads, checks and compiles a config file. The returned diagnostics
// include warnings even when the config is good; err is the first error,
// worded as nginx -t words it.
func Load(file string, opts LoadOptions) (*Config, nginxconf.Diagnostics, error) {
	abs, err := filepath.Abs(file)
	if err == nil {
		file = abs
	}
	ncfg, err := nginxconf.Load(file, &nginxconf.Options{Prefix: filepath.Dir(file)})
	var diags nginxconf.Diagnostics
	if ncfg != nil {
		diags = ncfg.Diagnostics
	}
	if err != nil {
		return nil, diags, err
	}
	cfg, err := CompileMain(ncfg, opts)
	if err != nil {
		return nil, diags, err
	}
	return cfg, diags, nil
}

// ErrNoEvents is CompileMain's error for a main config without an events
// block. nginx finds it after the syntax check has passed (in
// ngx_event_init_conf), so nginx -t says "syntax is ok" before it.
var ErrNoEvents = errors.New(`no "events" section in configuration`)

// CompileMain is Compile for a main config (what nginx -c reads), which
// must also have an events block, whatever the http block says. Compile
// alone takes a fragment, such as a site file.
func CompileMain(nc *nginxconf.Config, opts LoadOptions) (*Config, error) {
	cfg, err := Compile(nc, opts)
	if err != nil {
		return nil, err
	}
	if !hasEvents(nc) {
		return nil, ErrNoEvents
	}
	return cfg, nil
}

// hasEvents reports whether the main context has an events block.
func hasEvents(nc *nginxconf.Config) bool {
	for _, d := range nc.Main.Block.Expand() {
		if d.Name == "events" {
			return true
		}
	}
	return false
}

// Compile builds the runtime model from a loaded and checked config.
func Compile(nc *nginxconf.Config, opts LoadOptions) (cfg *Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfg, err = nil, fmt.Errorf("internal error compiling the config: %v", p)
		}
	}()
	prefix := opts.Prefix
	if prefix == "" {
		prefix = filepath.Dir(nc.Main.Path)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	cc := &compiler{
		cfg: &Config{
			File:      nc.Main.Path,
			Prefix:    prefix,
			upstreams: map[string]*upstream{},
			implicit:  map[string]*upstream{},
			vars:      newVarTable(),
			logs:      map[string]*logFile{},
			reqZones:  map[string]*reqZone{},
			connZones: map[string]*connZone{},
			ErrorLog:  "stderr",
			http:      &httpConf{},
			// nginx's default
			WorkerProcesses: 1,
		},
		formats: map[string]*logFormat{},
		lookup:  opts.LookupHost,
	}
	if cc.lookup == nil {
		cc.lookup = net.LookupHost
	}
	cc.cfg.ErrorLogLevel = levelError
	if err := cc.compile(nc, opts.Globals); err != nil {
		return nil, err
	}
	return cc.cfg, nil
}

type compiler struct {
	cfg     *Config
	formats map[string]*logFormat
	// upstreamDirs are the upstream blocks, compiled after the servers
	// have been read so that proxy_pass may name one defined later.
	pendingPass []func() error
	listens     map[string]*Listen
	lookup      func(string) ([]string, error)
	// srvDefaults are the server-level settings written at the http
	// level, which every server starts from (nginx merges them so)
	srvDefaults vserver
	// charsetMaps are the charset_map pairs, "from\x00to" in lower case,
	// both ways.
	charsetMaps map[string]bool
}

// checkCharsets is nginx's check, when it merges a server or location,
// that a source_charset other than the charset has a charset_map to
// recode with. wsgideck does not recode: where nginx would, it warns.
func (cc *compiler) checkCharsets(conf *locConf) error {
	src, dst := strings.ToLower(conf.sourceCharset), strings.ToLower(conf.charset)
	if conf == cc.cfg.http.conf || src == "" || dst == "" || src == dst ||
		strings.HasPrefix(src, "$") || strings.HasPrefix(dst, "$") {
		return nil
	}
	if !cc.charsetMaps[src+"\x00"+dst] {
		return fmt.Errorf("no \"charset_map\" between the charsets %q and %q (source_charset in %s: add a charset_map, or remove source_charset)",
			conf.sourceCharset, conf.charset, conf.sourceCharsetAt)
	}
	msg := fmt.Sprintf("source_charset %s in %s: wsgideck does not recode to %s; the body is sent as it is", conf.sourceCharset, conf.sourceCharsetAt, conf.charset)
	if !slices.Contains(cc.cfg.Warnings, msg) {
		cc.cfg.Warnings = append(cc.cfg.Warnings, msg)
	}
	return nil
}

// errAt formats an error with nginx's " in FILE:LINE" suffix.
func errAt(d *nginxconf.Directive, format string, args ...any) error {
	return fmt.Errorf("%s in %s", fmt.Sprintf(format, args...), d.Where())
}

func (cc *compiler) warnf(d *nginxconf.Directive, format string, args ...any) {
	cc.cfg.Warnings = append(cc.cfg.Warnings, fmt.Sprintf("%s in %s", fmt.Sprintf(format, args...), d.Where()))
}

// noEffect warns about a directive nginx knows that wsgideck accepts but
// does not act on. nginxconf's check already warns about the directives
// its table lists as not implemented; this covers the rest.
func (cc *compiler) noEffect(d *nginxconf.Directive) {
	if nginxconf.Implemented(d.Name) {
		cc.warnf(d, "%q directive has no effect in wsgideck", d.Name)
	}
}

func (cc *compiler) compile(nc *nginxconf.Config, globals string) error {
	var dirs []*nginxconf.Directive
	if strings.TrimSpace(globals) != "" {
		gf, err := nginxconf.Parse("command line", []byte(globals))
		if err != nil {
			return fmt.Errorf("%v", err)
		}
		dirs = append(dirs, gf.Block.Expand()...)
	}
	dirs = append(dirs, nc.Main.Block.Expand()...)
	var httpDir *nginxconf.Directive
	for _, d := range dirs {
		switch d.Name {
		case "http":
			if httpDir != nil {
				return errAt(d, "\"http\" directive is duplicate")
			}
			httpDir = d
		case "error_log":
			if err := cc.mainErrorLog(d); err != nil {
				return err
			}
		case "pid":
			cc.cfg.PIDFile = cc.path(d.Arg(0))
		case "worker_processes":
			if d.Arg(0) == "auto" {
				cc.cfg.WorkerProcesses = 0
			} else {
				n, err := intArg(d, 0)
				if err != nil {
					return err
				}
				// nginx starts no worker for 0; one thread is the least
				// wsgideck can serve with
				cc.cfg.WorkerProcesses = max(n, 1)
			}
		case "events", "daemon", "master_process", "user",
			"worker_rlimit_nofile", "env", "pcre_jit", "include", "worker_cpu_affinity",
			"worker_priority", "timer_resolution", "lock_file", "working_directory",
			"worker_shutdown_timeout", "thread_pool", "load_module", "debug_points",
			"worker_rlimit_core", "ssl_engine", "google_perftools_profiles", "error_log_level":
		default:
			cc.noEffect(d)
		}
	}
	if httpDir == nil || httpDir.Block == nil {
		return nil
	}
	if err := cc.compileHTTP(httpDir); err != nil {
		return err
	}
	for _, f := range cc.pendingPass {
		if err := f(); err != nil {
			return err
		}
	}
	return cc.cfg.vars.check()
}

func (cc *compiler) mainErrorLog(d *nginxconf.Directive) error {
	path, level, err := cc.errorLogArgs(d)
	if err != nil {
		return err
	}
	cc.cfg.ErrorLog = path
	cc.cfg.ErrorLogLevel = level
	cc.logFile(path)
	return nil
}

func (cc *compiler) errorLogArgs(d *nginxconf.Directive) (string, int, error) {
	if len(d.Args) == 0 {
		return "", 0, errAt(d, "invalid number of arguments in \"error_log\" directive")
	}
	path := d.Arg(0)
	level := levelError
	if len(d.Args) > 1 {
		l, ok := parseLevel(d.Arg(1))
		if !ok {
			return "", 0, errAt(d, "invalid log level %q", d.Arg(1))
		}
		level = l
	}
	if path != "stderr" {
		if strings.HasPrefix(path, "syslog:") || strings.HasPrefix(path, "memory:") {
			cc.warnf(d, "error_log %q is not supported by wsgideck; logging to stderr", path)
			path = "stderr"
		} else {
			path = cc.path(path)
		}
	}
	return path, level, nil
}

// path resolves a path against the prefix.
func (cc *compiler) path(p string) string {
	if p == "" || strings.HasPrefix(p, "/") {
		return p
	}
	return cc.cfg.Prefix + p
}

func (cc *compiler) logFile(path string) *logFile {
	if lf := cc.cfg.logs[path]; lf != nil {
		return lf
	}
	lf := &logFile{path: path}
	cc.cfg.logs[path] = lf
	return lf
}

// defaultLocConf is the http level before its directives: nginx's defaults.
func defaultLocConf() *locConf {
	return &locConf{
		index:             []*complexValue{literalValue("index.html")},
		autoindexSize:     true,
		autoindexFmt:      "html",
		types:             map[string]string{"html": "text/html", "gif": "image/gif", "jpg": "image/jpeg"},
		defaultType:       "text/plain",
		logNotFound:       true,
		clientMaxBodySize: 1 << 20,
		bodyTimeout:       60 * time.Second,
		sendTimeout:       60 * time.Second,
		keepaliveTimeout:  75 * time.Second,
		keepaliveRequests: 1000,
		absoluteRedirect:  true,
		chunkedTE:         true,
		portInRedirect:    true,
		ifModifiedSince:   imsExact,
		etag:              true,
		maxRanges:         -1,
		gzip: gzipConf{
			types:       map[string]bool{"text/html": true},
			minLength:   20,
			level:       1,
			httpVersion: 11,
		},
		proxyConf:   defaultPassConf("1.0"),
		uwsgiConf:   defaultPassConf(""),
		fastcgiConf: defaultPassConf(""),
		limits:      defaultLimitConf(),
		set:         map[string]bool{},
	}
}

// child copies a level's settings for a level below it: nginx's merge,
// done by inheriting everything and letting the child's directives
// replace. What nginx never inherits is cleared.
func (c *locConf) child() *locConf {
	n := *c
	n.set = map[string]bool{}
	n.loc = nil
	n.handler = handlerStatic
	n.proxy, n.uwsgi, n.fastcgi = nil, nil, nil
	n.tryFiles, n.hasTryFiles = nil, false
	n.tryFilesLast = tryFilesTarget{}
	n.script = nil
	n.internal = false
	n.limitExcept = nil
	return &n
}

// first reports whether name is met for the first time at this level,
// for the list directives that are inherited only when a level has none.
func (c *locConf) first(name string) bool {
	if c.set[name] {
		return false
	}
	c.set[name] = true
	return true
}

func (cc *compiler) compileHTTP(hd *nginxconf.Directive) error {
	conf := defaultLocConf()
	// nginx's default root is "html" under the prefix
	conf.root = literalValue("html")
	conf.rootPath = cc.path("html")
	cc.cfg.http.conf = conf
	cc.listens = map[string]*Listen{}
	dirs := hd.Block.Expand()
	// first the upstreams, maps and formats, which others refer to
	for _, d := range dirs {
		switch d.Name {
		case "upstream":
			if err := cc.compileUpstream(d); err != nil {
				return err
			}
		case "map":
			if err := cc.compileMap(d); err != nil {
				return err
			}
		case "log_format":
			if err := cc.compileLogFormatDir(d); err != nil {
				return err
			}
		case "limit_req_zone", "limit_conn_zone":
			if err := cc.limitZoneDir(d); err != nil {
				return err
			}
		case "charset_map":
			if cc.charsetMaps == nil {
				cc.charsetMaps = map[string]bool{}
			}
			a, b := strings.ToLower(d.Arg(0)), strings.ToLower(d.Arg(1))
			cc.charsetMaps[a+"\x00"+b] = true
			cc.charsetMaps[b+"\x00"+a] = true
		}
	}
	var servers []*nginxconf.Directive
	sc := &script{}
	cc.srvDefaults = vserver{mergeSlashes: true, ignoreInvalidHeaders: true, headerTimeout: defaultHeaderTimeout}
	for _, d := range dirs {
		switch d.Name {
		case "upstream", "map", "log_format", "limit_req_zone", "limit_conn_zone":
			continue
		case "server":
			servers = append(servers, d)
			continue
		}
		if ok, err := cc.serverSetting(&cc.srvDefaults, d); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if err := cc.locDirective(conf, sc, d, levelHTTP, nil); err != nil {
			return err
		}
	}
	if err := cc.finishLevel(conf, nil); err != nil {
		return err
	}
	if !conf.set["access_log"] {
		// nginx's default: logs/access.log in the combined format, when
		// the logs directory exists
		p := cc.path("logs/access.log")
		if st, err := os.Stat(filepath.Dir(p)); err == nil && st.IsDir() {
			conf.accessLogs = []*accessLog{{file: cc.logFile(p), format: cc.combined()}}
		}
	}
	for _, d := range servers {
		if err := cc.compileServer(conf, d); err != nil {
			return err
		}
	}
	return cc.finishListens()
}

func (cc *compiler) combined() *logFormat {
	if f := cc.formats["combined"]; f != nil {
		return f
	}
	f, _ := compileLogFormat("combined", "", combinedFormat, cc.cfg.vars)
	cc.formats["combined"] = f
	return f
}

func (cc *compiler) compileLogFormatDir(d *nginxconf.Directive) error {
	if len(d.Args) < 2 {
		return errAt(d, "invalid number of arguments in \"log_format\" directive")
	}
	name := d.Arg(0)
	if name == "combined" || cc.formats[name] != nil {
		return errAt(d, "duplicate \"log_format\" name %q", name)
	}
	args := d.Values()[1:]
	escape := ""
	if strings.HasPrefix(args[0], "escape=") {
		escape = strings.TrimPrefix(args[0], "escape=")
		args = args[1:]
	}
	f, err := compileLogFormat(name, escape, strings.Join(args, ""), cc.cfg.vars)
	if err != nil {
		return errAt(d, "%v", err)
	}
	cc.formats[name] = f
	return nil
}

// Levels of the location settings.
const (
	levelHTTP = iota
	levelServer
	levelLocation
	levelIf
	levelLimitExcept
)

// serverSetting applies a server-level setting that may also be written at
// the http level; ok is false for any other directive.
func (cc *compiler) serverSetting(srv *vserver, d *nginxconf.Directive) (ok bool, err error) {
	switch d.Name {
	case "merge_slashes", "underscores_in_headers", "ignore_invalid_headers":
		v, err := flagArg(d)
		if err != nil {
			return true, err
		}
		switch d.Name {
		case "merge_slashes":
			srv.mergeSlashes = v
		case "underscores_in_headers":
			srv.underscoresInHeaders = v
		default:
			srv.ignoreInvalidHeaders = v
		}
		return true, nil
	case "client_header_timeout":
		v, err := durationArg(d)
		if err != nil {
			return true, err
		}
		srv.headerTimeout = v
		return true, nil
	}
	return false, nil
}

func (cc *compiler) compileServer(httpConf *locConf, sd *nginxconf.Directive) error {
	srv := &vserver{
		mergeSlashes:         cc.srvDefaults.mergeSlashes,
		underscoresInHeaders: cc.srvDefaults.underscoresInHeaders,
		ignoreInvalidHeaders: cc.srvDefaults.ignoreInvalidHeaders,
		headerTimeout:        cc.srvDefaults.headerTimeout,
		named:                map[string]*location{},
		locations:            &locTree{},
		file:                 sd.File.Path,
		line:                 sd.Line,
	}
	conf := httpConf.child()
	sc := &script{}
	dirs := sd.Block.Expand()
	var listens []*nginxconf.Directive
	var deferred []*nginxconf.Directive
	for _, d := range dirs {
		switch d.Name {
		case "listen":
			listens = append(listens, d)
		case "server_name":
			// nginx compiles a regex name at the directive, so its
			// error names this line and comes before later ones; the
			// compiled form is kept for every address the server
			// listens on. A name with a capital letter anywhere is
			// matched caselessly, as nginx's NGX_REGEX_CASELESS.
			for _, a := range d.Args {
				n := a.Value
				var re *regexp.Regexp
				if strings.HasPrefix(n, "~") {
					pat := n[1:]
					var err error
					re, err = compileRegexFold(pat, strings.ContainsAny(pat, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
					if err != nil {
						return errAt(d, "%v", err)
					}
					cc.cfg.vars.defineCaptures(re)
				}
				srv.names = append(srv.names, n)
				srv.nameRegexps = append(srv.nameRegexps, re)
			}
		case "location":
			deferred = append(deferred, d)
		case "merge_slashes", "underscores_in_headers", "ignore_invalid_headers", "client_header_timeout":
			if _, err := cc.serverSetting(srv, d); err != nil {
				return err
			}
		case "client_header_buffer_size", "large_client_header_buffers", "server_names_hash_bucket_size", "server_names_hash_max_size":
		default:
			if err := cc.locDirective(conf, sc, d, levelServer, &deferred); err != nil {
				return err
			}
		}
	}
	if err := cc.finishLevel(conf, sc); err != nil {
		return err
	}
	srv.conf = conf
	if len(sc.ops) > 0 {
		srv.script = sc
	}
	if len(srv.names) > 0 {
		srv.name = srv.names[0]
	}
	if srv.name == "$hostname" {
		srv.name = hostname
	}
	// locations and ifs, with the server's settings complete
	for _, d := range deferred {
		if err := cc.deferredBlock(conf, srv, srv.locations, d, nil); err != nil {
			return err
		}
	}
	// listens
	if len(listens) == 0 {
		port := "80"
		if os.Getuid() != 0 {
			port = "8000"
		}
		if err := cc.addListen(srv, &listenSpec{network: "tcp", addr: "0.0.0.0:" + port, port: port, wildcard: true}, sd); err != nil {
			return err
		}
	}
	for _, d := range listens {
		ls, err := cc.parseListen(d)
		if err != nil {
			return err
		}
		if len(ls.plainOnly) > 0 {
			cc.warnf(d, "the %q parameter of \"listen\" has no effect in wsgideck: %s serves plain HTTP/1.x", strings.Join(ls.plainOnly, " "), ls.addr)
		}
		if err := cc.addListen(srv, ls, d); err != nil {
			return err
		}
	}
	return nil
}

// listenSpec is a parsed listen directive.
type listenSpec struct {
	network, addr, port string
	wildcard            bool
	defaultServer       bool
	ipv6only            bool
	// plainOnly are parameters asking for TLS, HTTP/2 or QUIC, which
	// wsgideck does not speak: the address serves plain HTTP/1.x.
	plainOnly []string
	// optsSet is nginx's lsopt.set: socket options (backlog, reuseport,
	// ipv6only, ...), which only one server of an address may give.
	optsSet bool
}

// parseListen parses a listen directive's address and parameters.
func (cc *compiler) parseListen(d *nginxconf.Directive) (*listenSpec, error) {
	if len(d.Args) == 0 {
		return nil, errAt(d, "invalid number of arguments in \"listen\" directive")
	}
	a := d.Arg(0)
	ls := &listenSpec{network: "tcp", ipv6only: true}
	switch {
	case strings.HasPrefix(a, "unix:"):
		ls.network = "unix"
		ls.addr = a[len("unix:"):]
		if ls.addr == "" {
			return nil, errAt(d, "no path in the unix domain socket in \"%s\" of the \"listen\" directive", a)
		}
	case strings.HasPrefix(a, "["):
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return nil, errAt(d, "invalid host in \"%s\" of the \"listen\" directive", a)
		}
		host := a[1:end]
		port := "80"
		if rest := a[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return nil, errAt(d, "invalid host in \"%s\" of the \"listen\" directive", a)
			}
			port = rest[1:]
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return nil, errAt(d, "invalid IPv6 address in \"%s\" of the \"listen\" directive", a)
		}
		if !validPort(port) {
			return nil, errAt(d, "invalid port in \"%s\" of the \"listen\" directive", a)
		}
		ls.addr = "[" + ip.String() + "]:" + port
		ls.port = port
		ls.wildcard = ip.IsUnspecified()
	default:
		host, port := a, "80"
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i+1:]
		} else if validPort(a) {
			host, port = "*", a
		}
		if !validPort(port) {
			return nil, errAt(d, "invalid port in \"%s\" of the \"listen\" directive", a)
		}
		ls.port = port
		switch host {
		case "*", "", "0.0.0.0":
			ls.addr = "0.0.0.0:" + port
			ls.wildcard = true
		default:
			ip := net.ParseIP(host)
			if ip == nil {
				addrs, err := cc.lookup(host)
				if err != nil || len(addrs) == 0 {
					return nil, errAt(d, "host not found in \"%s\" of the \"listen\" directive", a)
				}
				for _, x := range addrs {
					if p := net.ParseIP(x); p != nil && p.To4() != nil {
						ip = p
						break
					}
				}
				if ip == nil {
					ip = net.ParseIP(addrs[0])
				}
				if ip == nil {
					return nil, errAt(d, "host not found in \"%s\" of the \"listen\" directive", a)
				}
			}
			if ip.To4() != nil {
				ls.addr = ip.String() + ":" + port
			} else {
				ls.addr = "[" + ip.String() + "]:" + port
			}
			ls.wildcard = ip.IsUnspecified()
		}
	}
	for _, p := range d.Values()[1:] {
		switch {
		case p == "default_server" || p == "default":
			ls.defaultServer = true
		case p == "ipv6only=on":
			ls.ipv6only = true
			ls.optsSet = true
		case p == "ipv6only=off":
			ls.ipv6only = false
			ls.optsSet = true
		case p == "ssl" || p == "http2" || p == "quic":
			ls.plainOnly = append(ls.plainOnly, p)
		case p == "proxy_protocol":
		case strings.HasPrefix(p, "backlog="):
			if n, ok := atoiPort(p[len("backlog="):]); !ok || n == 0 {
				return nil, errAt(d, "invalid backlog \"%s\"", p)
			}
			ls.optsSet = true
		case strings.HasPrefix(p, "rcvbuf=") || strings.HasPrefix(p, "sndbuf="):
			k, v, _ := strings.Cut(p, "=")
			if _, err := nginxconf.ParseSize(v); err != nil {
				return nil, errAt(d, "invalid %s \"%s\"", k, p)
			}
			ls.optsSet = true
		case p == "reuseport" || p == "bind" || p == "deferred" ||
			strings.HasPrefix(p, "so_keepalive=") || strings.HasPrefix(p, "fastopen=") || strings.HasPrefix(p, "setfib=") ||
			strings.HasPrefix(p, "accept_filter="):
			ls.optsSet = true
		default:
			return nil, errAt(d, "invalid parameter %q", p)
		}
	}
	return ls, nil
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && s[0] != '+' && s[0] != '-'
}

func (cc *compiler) addListen(srv *vserver, ls *listenSpec, d *nginxconf.Directive) error {
	key := ls.network + " " + ls.addr
	l := cc.listens[key]
	if l == nil {
		l = &Listen{Network: ls.network, Addr: ls.addr, Port: ls.port, Wildcard: ls.wildcard, IPv6Only: ls.ipv6only}
		cc.listens[key] = l
		cc.cfg.Listens = append(cc.cfg.Listens, l)
	}
	if ls.optsSet {
		if l.optsSet {
			return errAt(d, "duplicate listen options for %s", ls.addr)
		}
		l.optsSet = true
		l.IPv6Only = ls.ipv6only
	}
	for _, s := range l.servers {
		if s == srv {
			return errAt(d, "a duplicate listen %s", ls.addr)
		}
	}
	l.servers = append(l.servers, srv)
	if ls.defaultServer {
		if l.defaultServer != nil && l.explicitDefault {
			return errAt(d, "a duplicate default server for %s", ls.addr)
		}
		l.defaultServer = srv
		l.explicitDefault = true
	} else if l.defaultServer == nil {
		l.defaultServer = srv
	}
	return nil
}

// finishListens builds each address's name lookup.
func (cc *compiler) finishListens() error {
	for _, l := range cc.cfg.Listens {
		l.names = &serverNames{}
		for _, srv := range l.servers {
			if len(srv.names) == 0 {
				l.names.addName("", srv, nil)
				continue
			}
			for i, n := range srv.names {
				if re := srv.nameRegexps[i]; re != nil {
					l.names.addName("", srv, re)
					continue
				}
				if n == "$hostname" {
					n = hostname
				}
				if !l.names.addName(n, srv, nil) {
					cc.cfg.Warnings = append(cc.cfg.Warnings, fmt.Sprintf("conflicting server name %q on %s, ignored", n, l.Addr))
				}
			}
		}
	}
	return nil
}

// compileRegex compiles a PCRE-style pattern with Go's RE2 engine. Named
// groups written (?<name>...) or (?P<name>...) both work; look-arounds and
// backreferences are refused with a message saying so.
func compileRegex(pat string) (*regexp.Regexp, error) {
	return compileRegexFold(pat, false)
}

// compileRegexFold is compileRegex, case-insensitive when fold is set
// (nginx's "~*", PCRE2_CASELESS); errors quote pat as it was written.
func compileRegexFold(pat string, fold bool) (*regexp.Regexp, error) {
	full := pat
	if fold {
		full = "(?i)" + pat
	}
	re, err := regexp.Compile(full)
	if err != nil && fold {
		// the error as for the pattern written, when it has one
		if _, err2 := regexp.Compile(pat); err2 != nil {
			err = err2
		}
	}
	if err != nil {
		var re2 *syntax.Error
		if errors.As(err, &re2) {
			if msg, ok := pcreError(pat, re2); ok {
				return nil, errors.New(msg)
			}
			return nil, fmt.Errorf("pcre2_compile() failed: %s in \"%s\" (wsgideck uses RE2 regular expressions: no look-arounds or backreferences)", re2.Code, pat)
		}
		return nil, err
	}
	return re, nil
}

// deferredBlock compiles a location or if block once its parent level is
// complete.
func (cc *compiler) deferredBlock(parent *locConf, srv *vserver, tree *locTree, d *nginxconf.Directive, parentLoc *location) error {
	switch d.Name {
	case "location":
		return cc.compileLocation(parent, srv, tree, d, parentLoc)
	}
	return nil
}

func (cc *compiler) compileLocation(parent *locConf, srv *vserver, tree *locTree, d *nginxconf.Directive, parentLoc *location) error {
	if d.Block == nil {
		return errAt(d, "directive \"location\" has no opening \"{\"")
	}
	spec, err := nginxconf.SplitLocation(d.Values())
	if err != nil {
		return errAt(d, "%v", err)
	}
	loc := &location{name: spec.Path}
	switch spec.Kind {
	case nginxconf.LocationExact:
		loc.kind = locExact
	case nginxconf.LocationPrefixNoRegex:
		loc.kind = locNoRegex
	case nginxconf.LocationPrefix:
		loc.kind = locPrefix
	case nginxconf.LocationRegex, nginxconf.LocationRegexCaseless:
		loc.kind = locRegex
		re, err := compileRegexFold(spec.Path, spec.Kind == nginxconf.LocationRegexCaseless)
		if err != nil {
			return errAt(d, "%v", err)
		}
		cc.cfg.vars.defineCaptures(re)
		loc.re = re
	case nginxconf.LocationNamed:
		loc.kind = locNamed
		loc.name = spec.Path[1:]
		if parentLoc != nil {
			return errAt(d, "named location %q can be on the server level only", spec.Path)
		}
	}
	if parentLoc != nil {
		if parentLoc.kind == locExact {
			return errAt(d, "location %q cannot be inside the exact location %q", spec.Path, parentLoc.name)
		}
		if parentLoc.kind == locNamed {
			return errAt(d, "location %q cannot be inside the named location %q", spec.Path, "@"+parentLoc.name)
		}
		if (loc.kind == locPrefix || loc.kind == locNoRegex || loc.kind == locExact) && (parentLoc.kind == locPrefix || parentLoc.kind == locNoRegex) && !strings.HasPrefix(loc.name, parentLoc.name) {
			return errAt(d, "location %q is outside location %q", loc.name, parentLoc.name)
		}
	}
	conf := parent.child()
	conf.loc = loc
	loc.conf = conf
	sc := &script{}
	var deferred []*nginxconf.Directive
	for _, sub := range d.Block.Expand() {
		if sub.Name == "location" {
			deferred = append(deferred, sub)
			continue
		}
		if err := cc.locDirective(conf, sc, sub, levelLocation, &deferred); err != nil {
			return err
		}
	}
	if err := cc.finishLevel(conf, sc); err != nil {
		return err
	}
	if len(sc.ops) > 0 {
		conf.script = sc
	}
	for _, sub := range deferred {
		if sub.Name != "location" {
			continue
		}
		if loc.nested == nil {
			loc.nested = &locTree{}
		}
		if err := cc.compileLocation(conf, srv, loc.nested, sub, loc); err != nil {
			return err
		}
	}
	if loc.kind == locNamed {
		// nginx accepts a named location twice and finds the first
		if srv.named[loc.name] == nil {
			srv.named[loc.name] = loc
		}
		return nil
	}
	if loc.kind == locExact && tree.exact[loc.name] != nil {
		return errAt(d, "duplicate location %q", loc.name)
	}
	if loc.kind == locPrefix || loc.kind == locNoRegex {
		for _, o := range tree.prefixes {
			if o.name == loc.name {
				return errAt(d, "duplicate location %q", loc.name)
			}
		}
	}
	tree.add(loc)
	return nil
}

// finishLevel completes a level after its directives: the if blocks get
// their settings from the now complete level.
func (cc *compiler) finishLevel(conf *locConf, sc *script) error {
	if err := cc.checkCharsets(conf); err != nil {
		return err
	}
	if le := conf.limitExcept; le != nil && le.directive != nil {
		lc := conf.child()
		lc.loc = conf.loc
		lc.handler, lc.proxy, lc.uwsgi, lc.fastcgi = conf.handler, conf.proxy, conf.uwsgi, conf.fastcgi
		if le.directive.Block != nil {
			for _, sub := range le.directive.Block.Expand() {
				if err := cc.locDirective(lc, nil, sub, levelLimitExcept, nil); err != nil {
					return err
				}
			}
		}
		le.conf = lc
		le.directive = nil
	}
	if sc == nil {
		return nil
	}
	for _, op := range sc.ops {
		if op.kind == opIf && op.ifDirective != nil {
			ic := conf.child()
			ic.loc = conf.loc
			// an if block keeps the enclosing content handler unless it
			// names its own (nginx inherits the upstream into if blocks)
			ic.handler, ic.proxy, ic.uwsgi, ic.fastcgi = conf.handler, conf.proxy, conf.uwsgi, conf.fastcgi
			for _, sub := range op.ifDirective.Block.Expand() {
				if isRewriteDirective(sub.Name) {
					continue
				}
				if err := cc.locDirective(ic, nil, sub, levelIf, nil); err != nil {
					return err
				}
			}
			op.ifConf = ic
			op.ifDirective = nil
		}
	}
	return nil
}

func isRewriteDirective(name string) bool {
	switch name {
	case "rewrite", "return", "set", "if", "break", "rewrite_log", "uninitialized_variable_warn":
		return true
	}
	return false
}

func flagArg(d *nginxconf.Directive) (bool, error) {
	if len(d.Args) != 1 {
		return false, errAt(d, "invalid number of arguments in %q directive", d.Name)
	}
	v, err := nginxconf.ParseFlag(d.Arg(0))
	if err != nil {
		return false, errAt(d, "invalid value %q in %q directive, it must be \"on\" or \"off\"", d.Arg(0), d.Name)
	}
	return v, nil
}

func durationArg(d *nginxconf.Directive) (time.Duration, error) {
	if len(d.Args) < 1 {
		return 0, errAt(d, "invalid number of arguments in %q directive", d.Name)
	}
	v, err := nginxconf.ParseDuration(d.Arg(0))
	if err != nil {
		return 0, errAt(d, "%q directive invalid value", d.Name)
	}
	return v, nil
}

func sizeArg(d *nginxconf.Directive, offset bool) (int64, error) {
	if len(d.Args) != 1 {
		return 0, errAt(d, "invalid number of arguments in %q directive", d.Name)
	}
	var v int64
	var err error
	if offset {
		v, err = nginxconf.ParseOffset(d.Arg(0))
	} else {
		v, err = nginxconf.ParseSize(d.Arg(0))
	}
	if err != nil {
		return 0, errAt(d, "%q directive invalid value", d.Name)
	}
	return v, nil
}

func intArg(d *nginxconf.Directive, i int) (int, error) {
	n, err := strconv.Atoi(d.Arg(i))
	if err != nil || n < 0 {
		return 0, errAt(d, "invalid value %q in %q directive", d.Arg(i), d.Name)
	}
	return n, nil
}
