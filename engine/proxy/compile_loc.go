package proxy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// locDirective applies one directive of the http, server, location, if or
// limit_except level to conf; rewrite module directives become ops of sc.
// deferred receives the blocks that must wait for the level to be
// complete.
func (cc *compiler) locDirective(c *locConf, sc *script, d *nginxconf.Directive, level int, deferred *[]*nginxconf.Directive) error {
	vt := cc.cfg.vars
	switch d.Name {
	// rewrite module
	case "rewrite", "return", "set", "break", "if":
		if sc == nil {
			return errAt(d, "%q directive is not allowed here", d.Name)
		}
		op, err := cc.compileScriptOp(d, level)
		if err != nil {
			return err
		}
		sc.ops = append(sc.ops, op)
		return nil
	case "rewrite_log", "uninitialized_variable_warn":
		return nil

	// files
	case "root", "alias":
		if len(d.Args) != 1 {
			return errAt(d, "invalid number of arguments in %q directive", d.Name)
		}
		if c.set["root"] || c.set["alias"] {
			if c.set[d.Name] {
				return errAt(d, "%q directive is duplicate", d.Name)
			}
			other := "root"
			if d.Name == "root" {
				other = "alias"
			}
			return errAt(d, "%q directive is duplicate, %q directive was specified earlier", d.Name, other)
		}
		if d.Name == "alias" && level != levelLocation {
			return errAt(d, "\"alias\" directive is not allowed here")
		}
		c.set[d.Name] = true
		v := d.Arg(0)
		cv, err := compileValue(v, vt)
		if err != nil {
			return errAt(d, "%v", err)
		}
		c.root = cv
		c.alias = d.Name == "alias"
		c.rootPath = ""
		if cv.isLit {
			p := cv.lit
			if d.Name == "root" {
				p = strings.TrimSuffix(p, "/")
			}
			c.rootPath = cc.path(p)
			if c.rootPath == "" && d.Name == "root" {
				c.rootPath = "/"
				if p == "" {
					c.rootPath = cc.cfg.Prefix
				}
			}
		}
		if c.alias && c.loc != nil && c.loc.kind == locRegex && !cv.hasCaptures() && cv.isLit {
			// nginx: an alias in a regex location is the whole path
		}
	case "index":
		if len(d.Args) == 0 {
			return errAt(d, "invalid number of arguments in \"index\" directive")
		}
		if c.first("index") {
			c.index = nil
		}
		for _, a := range d.Args {
			if a.Value == "" {
				return errAt(d, "index %q in \"index\" directive is invalid", a.Value)
			}
			cv, err := compileValue(a.Value, vt)
			if err != nil {
				return errAt(d, "%v", err)
			}
			c.index = append(c.index, cv)
		}
	case "autoindex":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		c.autoindex = v
	case "autoindex_exact_size":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		c.autoindexSize = v
	case "autoindex_localtime":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		c.autoindexLT = v
	case "autoindex_format":
		switch d.Arg(0) {
		case "html", "json":
			c.autoindexFmt = d.Arg(0)
		case "xml", "jsonp":
			cc.warnf(d, "autoindex_format %s is not supported by wsgideck; html is used", d.Arg(0))
			c.autoindexFmt = "html"
		default:
			return errAt(d, "invalid value %q in \"autoindex_format\" directive", d.Arg(0))
		}
	case "try_files":
		if len(d.Args) < 2 {
			return errAt(d, "invalid number of arguments in \"try_files\" directive")
		}
		if c.hasTryFiles {
			return errAt(d, "\"try_files\" directive is duplicate")
		}
		c.hasTryFiles = true
		args := d.Values()
		for _, a := range args[:len(args)-1] {
			// a trailing "/" asks for a directory and is not part of
			// the name: "$uri/" finds the directory $uri and makes it
			// the URI, so that the static module redirects to "$uri/"
			testDir := strings.HasSuffix(a, "/")
			if testDir {
				a = a[:len(a)-1]
			}
			cv, err := compileValue(a, vt)
			if err != nil {
				return errAt(d, "%v", err)
			}
			c.tryFiles = append(c.tryFiles, tryFile{name: cv, testDir: testDir})
		}
		last := args[len(args)-1]
		if strings.HasPrefix(last, "=") {
			code, ok := atoiPort(last[1:])
			if !ok || code > 999 {
				return errAt(d, "invalid code %q", last)
			}
			c.tryFilesLast = tryFilesTarget{code: code}
		}
		if c.tryFilesLast.code == 0 {
			cv, err := compileValue(last, vt)
			if err != nil {
				return errAt(d, "%v", err)
			}
			c.tryFilesLast = tryFilesTarget{uri: cv}
		}
	case "error_page":
		if err := cc.errorPageDir(c, d); err != nil {
			return err
		}
	case "recursive_error_pages":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		c.recursiveError = v
	case "resolver":
		// only whether there is one: names are looked up with the
		// system's resolver (see varUpstream)
		c.resolver = true
	case "internal":
		if level != levelLocation {
			return errAt(d, "\"internal\" directive is not allowed here")
		}
		c.internal = true
	case "default_type":
		c.defaultType = d.Arg(0)
	case "types":
		if d.Block == nil {
			return errAt(d, "directive \"types\" has no opening \"{\"")
		}
		if c.first("types") {
			c.types = map[string]string{}
		}
		for _, e := range d.Block.Expand() {
			for _, ext := range e.Args {
				c.types[strings.ToLower(ext.Value)] = e.Name
			}
		}
	case "charset":
		switch v := d.Arg(0); v {
		case "off":
			c.charset = ""
		default:
			c.charset = v
		}
	case "charset_types":
		// text/html is always in the list
		c.charsetTypes = map[string]bool{"text/html": true}
		for _, t := range d.Values() {
			c.charsetTypes[strings.ToLower(t)] = true
		}
	case "source_charset":
		c.sourceCharset, c.sourceCharsetAt = d.Arg(0), d.Where()
		if c.sourceCharset == "off" {
			c.sourceCharset = ""
		}
	case "override_charset":
	case "log_not_found":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		c.logNotFound = v

	// limits and connection settings
	case "client_max_body_size":
		v, err := sizeArg(d, true)
		if err != nil {
			return err
		}
		c.clientMaxBodySize = v
	case "client_body_timeout":
		v, err := durationArg(d)
		if err != nil {
			return err
		}
		c.bodyTimeout = v
	case "send_timeout":
		v, err := durationArg(d)
		if err != nil {
			return err
		}
		c.sendTimeout = v
	case "keepalive_timeout":
		v, err := durationArg(d)
		if err != nil {
			return err
		}
		c.keepaliveTimeout = v
		c.keepaliveHeader = 0
		if len(d.Args) > 1 {
			s, err := nginxconf.ParseTime(d.Arg(1), true)
			if err != nil {
				return errAt(d, "invalid value")
			}
			c.keepaliveHeader = time.Duration(s) * time.Second
		}
	case "keepalive_requests":
		n, err := intArg(d, 0)
		if err != nil {
			return err
		}
		c.keepaliveRequests = n
	case "absolute_redirect", "server_name_in_redirect", "port_in_redirect", "etag", "msie_padding", "msie_refresh",
		"gzip", "gzip_vary", "proxy_intercept_errors", "uwsgi_intercept_errors", "fastcgi_intercept_errors",
		"proxy_pass_request_headers", "proxy_pass_request_body", "uwsgi_pass_request_headers", "uwsgi_pass_request_body",
		"fastcgi_pass_request_headers", "fastcgi_pass_request_body", "chunked_transfer_encoding":
		v, err := flagArg(d)
		if err != nil {
			return err
		}
		cc.setFlag(c, d.Name, v)
	case "server_tokens":
		switch d.Arg(0) {
		case "on":
			c.serverTokens = serverTokensOn
		case "off":
			c.serverTokens = serverTokensOff
		case "build":
			c.serverTokens = serverTokensBuild
		default:
			return errAt(d, "invalid value %q in \"server_tokens\" directive, it must be \"on\", \"off\" or \"build\"", d.Arg(0))
		}
	case "if_modified_since":
		switch d.Arg(0) {
		case "off":
			c.ifModifiedSince = imsOff
		case "exact":
			c.ifModifiedSince = imsExact
		case "before":
			c.ifModifiedSince = imsBefore
		default:
			return errAt(d, "invalid value %q in \"if_modified_since\" directive", d.Arg(0))
		}
	case "max_ranges":
		n, err := intArg(d, 0)
		if err != nil {
			return err
		}
		c.maxRanges = n

	// access
	case "allow", "deny":
		if c.first("access") {
			c.access = nil
		}
		rule, err := parseAccessRule(d)
		if err != nil {
			return err
		}
		c.access = append(c.access, rule)
	case "limit_except":
		if level != levelLocation {
			return errAt(d, "\"limit_except\" directive is not allowed here")
		}
		le := &limitExcept{methods: map[string]bool{}, directive: d}
		for _, m := range d.Values() {
			m = strings.ToUpper(m)
			le.methods[m] = true
			if m == "GET" {
				le.methods["HEAD"] = true
			}
		}
		c.limitExcept = le

	// headers
	case "add_header":
		if len(d.Args) < 2 || len(d.Args) > 3 {
			return errAt(d, "invalid number of arguments in \"add_header\" directive")
		}
		if c.first("add_header") {
			c.addHeaders = nil
		}
		cv, err := compileValue(d.Arg(1), vt)
		if err != nil {
			return errAt(d, "%v", err)
		}
		h := &addHeader{name: d.Arg(0), value: cv}
		if len(d.Args) == 3 {
			if d.Arg(2) != "always" {
				return errAt(d, "invalid parameter %q", d.Arg(2))
			}
			h.always = true
		}
		c.addHeaders = append(c.addHeaders, h)
	case "expires":
		e, err := cc.expiresDir(d)
		if err != nil {
			return err
		}
		c.expires = e

	// gzip
	case "gzip_types":
		c.gzip.types = map[string]bool{"text/html": true}
		c.gzip.anyType = false
		for _, t := range d.Values() {
			if t == "*" {
				c.gzip.anyType = true
			}
			c.gzip.types[strings.ToLower(t)] = true
		}
	case "gzip_min_length":
		v, err := sizeArg(d, false)
		if err != nil {
			return err
		}
		c.gzip.minLength = v
	case "gzip_comp_level":
		n, err := intArg(d, 0)
		if err != nil || n < 1 || n > 9 {
			return errAt(d, "the \"gzip_comp_level\" directive must be between 1 and 9")
		}
		c.gzip.level = n
	case "gzip_http_version":
		switch d.Arg(0) {
		case "1.0":
			c.gzip.httpVersion = 10
		case "1.1":
			c.gzip.httpVersion = 11
		default:
			return errAt(d, "invalid value %q in \"gzip_http_version\" directive", d.Arg(0))
		}
	case "gzip_proxied":
		c.gzip.proxied = 0
		for _, v := range d.Values() {
			if v == "any" {
				c.gzip.proxied |= gzipProxiedAny
			}
		}
	case "gzip_disable":
		c.gzip.disable = nil
		c.gzip.disableMSIE = false
		for _, v := range d.Values() {
			if v == "msie6" {
				c.gzip.disableMSIE = true
				continue
			}
			re, err := compileRegexFold(v, true)
			if err != nil {
				return errAt(d, "%v", err)
			}
			c.gzip.disable = append(c.gzip.disable, re)
		}
	case "gzip_buffers", "gzip_window", "gzip_hash", "gzip_memlevel", "gzip_static", "gunzip":

	// logs
	case "access_log":
		if err := cc.accessLogDir(c, d); err != nil {
			return err
		}
	case "error_log":
		// one error log for the server: the main one, or the http one
		if level == levelHTTP {
			path, lvl, err := cc.errorLogArgs(d)
			if err != nil {
				return err
			}
			cc.cfg.ErrorLog = path
			cc.cfg.ErrorLogLevel = lvl
			cc.logFile(path)
		} else {
			if _, _, err := cc.errorLogArgs(d); err != nil {
				return err
			}
			cc.warnf(d, "error_log below the http level is merged into the main error log in wsgideck")
		}
	case "open_log_file_cache":

	default:
		if handled, err := cc.limitDirective(c, d); handled || err != nil {
			return err
		}
		if handled, err := cc.passDirective(c, d, level); handled || err != nil {
			return err
		}
		if nginxconf.Lookup(d.Name) == nil {
			return errAt(d, "unknown directive %q", d.Name)
		}
		cc.noEffect(d)
	}
	return nil
}

func (cc *compiler) setFlag(c *locConf, name string, v bool) {
	switch name {
	case "absolute_redirect":
		c.absoluteRedirect = v
	case "chunked_transfer_encoding":
		c.chunkedTE = v
	case "server_name_in_redirect":
		c.serverNameInRedirect = v
	case "port_in_redirect":
		c.portInRedirect = v
	case "etag":
		c.etag = v
	case "gzip":
		c.gzip.on = v
	case "gzip_vary":
		c.gzip.vary = v
	case "proxy_intercept_errors":
		c.proxyConf.interceptErrors = v
	case "uwsgi_intercept_errors":
		c.uwsgiConf.interceptErrors = v
	case "fastcgi_intercept_errors":
		c.fastcgiConf.interceptErrors = v
	case "proxy_pass_request_headers":
		c.proxyConf.passRequestHeaders = v
	case "proxy_pass_request_body":
		c.proxyConf.passRequestBody = v
	case "uwsgi_pass_request_headers":
		c.uwsgiConf.passRequestHeaders = v
	case "uwsgi_pass_request_body":
		c.uwsgiConf.passRequestBody = v
	case "fastcgi_pass_request_headers":
		c.fastcgiConf.passRequestHeaders = v
	case "fastcgi_pass_request_body":
		c.fastcgiConf.passRequestBody = v
	}
}

func parseAccessRule(d *nginxconf.Directive) (accessRule, error) {
	rule := accessRule{deny: d.Name == "deny"}
	if len(d.Args) != 1 {
		return rule, errAt(d, "invalid number of arguments in %q directive", d.Name)
	}
	v := d.Arg(0)
	switch {
	case v == "all":
		rule.all = true
	case v == "unix:":
		rule.unix = true
	case strings.Contains(v, "/"):
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return rule, errAt(d, "invalid parameter %q", v)
		}
		if p.Masked() != p {
			// nginx warns "low address bits are meaningless" and masks
			p = p.Masked()
		}
		rule.prefix = p
	default:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return rule, errAt(d, "invalid parameter %q", v)
		}
		rule.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
	}
	return rule, nil
}

// errorPageDir is error_page codes... [=[code]] uri.
func (cc *compiler) errorPageDir(c *locConf, d *nginxconf.Directive) error {
	args := d.Values()
	if len(args) < 2 {
		return errAt(d, "invalid number of arguments in \"error_page\" directive")
	}
	if c.first("error_page") {
		c.errorPages = nil
	}
	target := args[len(args)-1]
	codes := args[:len(args)-1]
	overwrite := -1
	if last := codes[len(codes)-1]; strings.HasPrefix(last, "=") {
		codes = codes[:len(codes)-1]
		if last == "=" {
			overwrite = 0
		} else {
			n, err := strconv.Atoi(last[1:])
			if err != nil || n < 0 {
				return errAt(d, "invalid value %q", last)
			}
			overwrite = n
		}
	}
	if len(codes) == 0 {
		return errAt(d, "invalid number of arguments in \"error_page\" directive")
	}
	cv, err := compileValue(target, cc.cfg.vars)
	if err != nil {
		return errAt(d, "%v", err)
	}
	for _, s := range codes {
		n, err := strconv.Atoi(s)
		if err != nil || n == 499 {
			return errAt(d, "invalid value %q", s)
		}
		if n < 300 || n > 599 {
			return errAt(d, "value %q must be between 300 and 599", s)
		}
		ep := &errorPage{status: n, overwrite: overwrite, value: cv}
		if overwrite == -1 {
			switch n {
			case 494, 495, 496, 497:
				ep.overwrite = 400
			}
		}
		c.errorPages = append(c.errorPages, ep)
	}
	return nil
}

// expiresDir is expires [modified] time | epoch | max | off.
func (cc *compiler) expiresDir(d *nginxconf.Directive) (expires, error) {
	args := d.Values()
	if len(args) < 1 || len(args) > 2 {
		return expires{}, errAt(d, "invalid number of arguments in \"expires\" directive")
	}
	if len(args) == 1 && strings.Contains(args[0], "$") {
		cv, err := compileValue(args[0], cc.cfg.vars)
		if err != nil {
			return expires{}, errAt(d, "%v", err)
		}
		return expires{mode: expiresAccess, value: cv}, nil
	}
	modified := false
	v := args[0]
	if len(args) == 2 {
		if args[0] != "modified" {
			return expires{}, errAt(d, "\"expires\" directive invalid value")
		}
		modified = true
		v = args[1]
	}
	mode, off, err := parseExpires(v)
	if err != nil {
		return expires{}, errAt(d, "\"expires\" directive invalid value")
	}
	if modified && mode == expiresAccess {
		mode = expiresModified
	}
	return expires{mode: mode, offset: off}, nil
}

// parseExpires parses one expires value.
func parseExpires(v string) (int, time.Duration, error) {
	switch v {
	case "epoch":
		return expiresEpoch, 0, nil
	case "max":
		return expiresMax, 0, nil
	case "off":
		return expiresOff, 0, nil
	}
	mode := expiresAccess
	if strings.HasPrefix(v, "@") {
		mode = expiresDaily
		v = v[1:]
	}
	neg := false
	if strings.HasPrefix(v, "-") {
		neg = true
		v = v[1:]
	} else if strings.HasPrefix(v, "+") {
		v = v[1:]
	}
	s, err := nginxconf.ParseTime(v, true)
	if err != nil {
		return 0, 0, err
	}
	d := time.Duration(s) * time.Second
	if neg {
		d = -d
	}
	return mode, d, nil
}

// accessLogDir is access_log path [format [buffer=] [gzip] [flush=] [if=]] | off.
func (cc *compiler) accessLogDir(c *locConf, d *nginxconf.Directive) error {
	args := d.Values()
	if len(args) == 0 {
		return errAt(d, "invalid number of arguments in \"access_log\" directive")
	}
	if c.first("access_log") {
		c.accessLogs = nil
		c.accessLogOff = false
	}
	if args[0] == "off" {
		c.accessLogOff = true
		return nil
	}
	path := args[0]
	if strings.HasPrefix(path, "syslog:") {
		cc.warnf(d, "access_log to syslog is not supported by wsgideck")
		return nil
	}
	al := &accessLog{format: cc.combined()}
	if path == "/dev/stdout" || path == "stdout" {
		path = "/dev/stdout"
	}
	al.file = cc.logFile(cc.path(path))
	if len(args) > 1 {
		f := cc.formats[args[1]]
		if f == nil && args[1] != "combined" {
			return errAt(d, "unknown log format %q", args[1])
		}
		if f != nil {
			al.format = f
		}
		for _, p := range args[2:] {
			switch {
			case strings.HasPrefix(p, "if="):
				cv, err := compileValue(p[3:], cc.cfg.vars)
				if err != nil {
					return errAt(d, "%v", err)
				}
				al.cond = cv
			case strings.HasPrefix(p, "buffer="):
				if n, err := nginxconf.ParseSize(p[len("buffer="):]); err != nil || n == 0 {
					return errAt(d, "invalid buffer size \"%s\"", p[len("buffer="):])
				}
			case strings.HasPrefix(p, "flush="):
				if n, err := nginxconf.ParseTime(p[len("flush="):], false); err != nil || n == 0 {
					return errAt(d, "invalid flush time \"%s\"", p[len("flush="):])
				}
			case p == "gzip":
			case strings.HasPrefix(p, "gzip="):
				if n, ok := atoiPort(p[len("gzip="):]); !ok || n < 1 || n > 9 {
					return errAt(d, "invalid compression level \"%s\"", p[len("gzip="):])
				}
			default:
				return errAt(d, "invalid parameter %q", p)
			}
		}
	}
	c.accessLogs = append(c.accessLogs, al)
	return nil
}

// compileScriptOp compiles rewrite, return, set, break and if.
func (cc *compiler) compileScriptOp(d *nginxconf.Directive, level int) (*scriptOp, error) {
	vt := cc.cfg.vars
	args := d.Values()
	switch d.Name {
	case "break":
		return &scriptOp{kind: opBreak}, nil
	case "set":
		if len(args) != 2 {
			return nil, errAt(d, "invalid number of arguments in \"set\" directive")
		}
		name := args[0]
		if !strings.HasPrefix(name, "$") || len(name) < 2 {
			return nil, errAt(d, "invalid variable name %q", name)
		}
		name = strings.ToLower(name[1:])
		op := &scriptOp{kind: opSet}
		if name == "args" {
			op.setArgs = true
		} else if _, builtin := builtinVars[name]; builtin {
			return nil, errAt(d, "the duplicate %q variable", name)
		} else {
			op.varIndex = vt.define(name)
		}
		cv, err := compileValue(args[1], vt)
		if err != nil {
			return nil, errAt(d, "%v", err)
		}
		op.value = cv
		return op, nil
	case "return":
		if len(args) < 1 || len(args) > 2 {
			return nil, errAt(d, "invalid number of arguments in \"return\" directive")
		}
		op := &scriptOp{kind: opReturn}
		code, err := strconv.Atoi(args[0])
		if err != nil {
			if len(args) == 2 {
				return nil, errAt(d, "invalid return code %q", args[0])
			}
			// return URL
			if !strings.HasPrefix(args[0], "http://") && !strings.HasPrefix(args[0], "https://") && !strings.HasPrefix(args[0], "$scheme") {
				return nil, errAt(d, "invalid return code %q", args[0])
			}
			op.code = 302
			cv, err := compileValue(args[0], vt)
			if err != nil {
				return nil, errAt(d, "%v", err)
			}
			op.text = cv
			return op, nil
		}
		if code < 0 || code > 999 {
			return nil, errAt(d, "invalid return code %q", args[0])
		}
		op.code = code
		if len(args) == 2 {
			cv, err := compileValue(args[1], vt)
			if err != nil {
				return nil, errAt(d, "%v", err)
			}
			op.text = cv
		}
		return op, nil
	case "rewrite":
		if len(args) < 2 || len(args) > 3 {
			return nil, errAt(d, "invalid number of arguments in \"rewrite\" directive")
		}
		re, err := compileRegex(args[0])
		if err != nil {
			return nil, errAt(d, "%v", err)
		}
		vt.defineCaptures(re)
		op := &scriptOp{kind: opRewrite, re: re, addArgs: true}
		repl := args[1]
		if strings.HasPrefix(repl, "http://") || strings.HasPrefix(repl, "https://") || strings.HasPrefix(repl, "$scheme") {
			op.redirect = true
			op.status = 302
		}
		if len(args) == 3 {
			switch args[2] {
			case "last":
				op.flag = flagLast
			case "break":
				op.flag = flagBreak
			case "redirect":
				op.flag = flagRedirect
				op.redirect = true
				op.status = 302
			case "permanent":
				op.flag = flagPermanent
				op.redirect = true
				op.status = 301
			default:
				return nil, errAt(d, "invalid parameter %q", args[2])
			}
		}
		if strings.HasSuffix(repl, "?") {
			repl = repl[:len(repl)-1]
			op.addArgs = false
		}
		cv, err := compileValue(repl, vt)
		if err != nil {
			return nil, errAt(d, "%v", err)
		}
		op.repl = cv
		return op, nil
	case "if":
		if d.Block == nil {
			return nil, errAt(d, "directive \"if\" has no opening \"{\"")
		}
		if level == levelIf {
			return nil, errAt(d, "\"if\" directive is not allowed here")
		}
		cond, err := cc.compileCondition(d)
		if err != nil {
			return nil, err
		}
		op := &scriptOp{kind: opIf, cond: cond, body: &script{}, ifDirective: d}
		for _, sub := range d.Block.Expand() {
			if !isRewriteDirective(sub.Name) {
				continue
			}
			if sub.Name == "rewrite_log" || sub.Name == "uninitialized_variable_warn" {
				continue
			}
			bop, err := cc.compileScriptOp(sub, levelIf)
			if err != nil {
				return nil, err
			}
			op.body.ops = append(op.body.ops, bop)
		}
		return op, nil
	}
	return nil, errAt(d, "unknown directive %q", d.Name)
}

// compileCondition parses an if condition as ngx_http_rewrite_if_condition.
func (cc *compiler) compileCondition(d *nginxconf.Directive) (*condition, error) {
	vt := cc.cfg.vars
	args := d.Values()
	invalid := func() error { return errAt(d, "invalid condition %q", strings.Join(args, " ")) }
	if len(args) == 0 || !strings.HasPrefix(args[0], "(") {
		return nil, invalid()
	}
	last := len(args) - 1
	if !strings.HasSuffix(args[last], ")") {
		return nil, invalid()
	}
	a := append([]string(nil), args...)
	cur := 0
	if a[0] == "(" {
		cur = 1
	} else {
		a[0] = a[0][1:]
	}
	if a[last] == ")" {
		last--
	} else {
		a[last] = a[last][:len(a[last])-1]
	}
	if cur > last {
		return nil, invalid()
	}
	first := a[cur]
	if len(first) > 1 && first[0] == '$' {
		if cur != last && cur+2 != last {
			return nil, invalid()
		}
		v, err := compileValue(first, vt)
		if err != nil {
			return nil, errAt(d, "%v", err)
		}
		c := &condition{kind: condVar, v: v}
		if cur == last {
			return c, nil
		}
		op := a[cur+1]
		operand := a[last]
		switch op {
		case "=", "!=":
			cmp, err := compileValue(operand, vt)
			if err != nil {
				return nil, errAt(d, "%v", err)
			}
			c.kind = condEqual
			c.cmp = cmp
			c.negate = op == "!="
		case "~", "~*", "!~", "!~*":
			re, err := compileRegexFold(operand, strings.HasSuffix(op, "*"))
			if err != nil {
				return nil, errAt(d, "%v", err)
			}
			vt.defineCaptures(re)
			c.kind = condRegex
			c.re = re
			c.negate = strings.HasPrefix(op, "!")
		default:
			return nil, errAt(d, "unexpected %q in condition", op)
		}
		return c, nil
	}
	if (len(first) == 2 && first[0] == '-') || (len(first) == 3 && first[0] == '!' && first[1] == '-') {
		if cur+1 != last {
			return nil, invalid()
		}
		v, err := compileValue(a[last], vt)
		if err != nil {
			return nil, errAt(d, "%v", err)
		}
		c := &condition{v: v, negate: first[0] == '!'}
		switch first[len(first)-1] {
		case 'f':
			c.kind = condFile
		case 'd':
			c.kind = condDir
		case 'e':
			c.kind = condExists
		case 'x':
			c.kind = condExec
		default:
			return nil, errAt(d, "invalid condition %q", first)
		}
		return c, nil
	}
	return nil, invalid()
}
