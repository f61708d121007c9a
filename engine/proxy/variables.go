package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// varFunc computes a variable for a request.
type varFunc func(r *request) string

// varTable names the user variables of a config (set, map, and named
// regex captures) and gives each a slot in the request's vars.
type varTable struct {
	index   map[string]int
	names   []string
	defined []bool
	maps    map[int]*varMap
	// refs are the user variables referenced, with where, for the
	// "unknown variable" check.
	refs map[string]string
}

func newVarTable() *varTable {
	return &varTable{index: map[string]int{}, maps: map[int]*varMap{}, refs: map[string]string{}}
}

// slot returns the index of a user variable, creating it.
func (vt *varTable) slot(name string) int {
	if i, ok := vt.index[name]; ok {
		return i
	}
	i := len(vt.names)
	vt.index[name] = i
	vt.names = append(vt.names, name)
	vt.defined = append(vt.defined, false)
	return i
}

// define marks a user variable as defined by set, map or a capture.
func (vt *varTable) define(name string) int {
	i := vt.slot(name)
	vt.defined[i] = true
	return i
}

// defineCaptures defines the named groups of re as variables.
func (vt *varTable) defineCaptures(re *regexp.Regexp) {
	for _, n := range re.SubexpNames() {
		if n != "" {
			vt.define(n)
		}
	}
}

// check reports the first variable used but never defined, as nginx does
// when it finishes reading the config.
func (vt *varTable) check() error {
	for i, n := range vt.names {
		if !vt.defined[i] {
			return fmt.Errorf("unknown %q variable", n)
		}
	}
	return nil
}

// lookup resolves a variable name for a compiled value.
func (vt *varTable) lookup(name string) (varFunc, error) {
	if name == "" {
		return nil, fmt.Errorf("invalid variable name")
	}
	if f, ok := builtinVars[name]; ok {
		return f, nil
	}
	for _, p := range prefixVars {
		if strings.HasPrefix(name, p.prefix) {
			return p.make(name[len(p.prefix):]), nil
		}
	}
	i := vt.slot(name)
	return func(r *request) string { return r.userVar(i) }, nil
}

// userVar returns the value of user variable i: set by "set", computed
// by its map, or a capture.
func (r *request) userVar(i int) string {
	r.growVars()
	if r.varsSet[i] {
		return r.vars[i]
	}
	if m := r.cfg.vars.maps[i]; m != nil {
		v := m.eval(r)
		r.vars[i] = v
		r.varsSet[i] = true
		return v
	}
	return ""
}

func (r *request) setVar(i int, v string) {
	r.growVars()
	r.vars[i] = v
	r.varsSet[i] = true
}

func (r *request) growVars() {
	n := len(r.cfg.vars.names)
	if len(r.vars) < n {
		r.vars = append(r.vars[:cap(r.vars)], make([]string, n-cap(r.vars))...)[:n]
		r.varsSet = append(r.varsSet[:cap(r.varsSet)], make([]bool, n-cap(r.varsSet))...)[:n]
		for j := range r.vars {
			r.vars[j] = ""
			r.varsSet[j] = false
		}
	}
}

// complexValue is a compiled string with variables: nginx's complex value.
type complexValue struct {
	raw   string
	parts []cvPart
	// lit is the value when there are no variables.
	lit   string
	isLit bool
}

type cvPart struct {
	lit     string
	get     varFunc
	capture int // >0: $N capture; -1 for none
}

// compileValue compiles a string with $var, ${var} and $1..$9 references.
func compileValue(s string, vt *varTable) (*complexValue, error) {
	cv := &complexValue{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			cv.parts = append(cv.parts, cvPart{lit: lit.String(), capture: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			lit.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			return nil, fmt.Errorf("invalid variable name")
		}
		if s[i] >= '1' && s[i] <= '9' {
			flush()
			cv.parts = append(cv.parts, cvPart{capture: int(s[i] - '0')})
			i++
			continue
		}
		bracket := false
		if s[i] == '{' {
			bracket = true
			i++
			if i >= len(s) {
				return nil, fmt.Errorf("invalid variable name")
			}
		}
		start := i
		for i < len(s) {
			ch := s[i]
			if bracket && ch == '}' {
				break
			}
			if (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' {
				i++
				continue
			}
			break
		}
		name := s[start:i]
		if bracket {
			if i >= len(s) || s[i] != '}' {
				return nil, fmt.Errorf("the closing bracket in %q variable is missing", name)
			}
			i++
		}
		if name == "" {
			return nil, fmt.Errorf("invalid variable name")
		}
		f, err := vt.lookup(strings.ToLower(name))
		if err != nil {
			return nil, err
		}
		flush()
		cv.parts = append(cv.parts, cvPart{get: f, capture: -1})
	}
	flush()
	if len(cv.parts) == 0 {
		cv.isLit = true
	} else if len(cv.parts) == 1 && cv.parts[0].get == nil && cv.parts[0].capture < 0 {
		cv.isLit = true
		cv.lit = cv.parts[0].lit
	}
	return cv, nil
}

// literalValue is a complexValue for a fixed string.
func literalValue(s string) *complexValue { return &complexValue{raw: s, lit: s, isLit: true} }

// eval computes the value for r.
func (cv *complexValue) eval(r *request) string {
	if cv == nil {
		return ""
	}
	if cv.isLit {
		return cv.lit
	}
	if len(cv.parts) == 1 {
		return cv.parts[0].value(r)
	}
	var sb strings.Builder
	for i := range cv.parts {
		sb.WriteString(cv.parts[i].value(r))
	}
	return sb.String()
}

func (p *cvPart) value(r *request) string {
	switch {
	case p.get != nil:
		return p.get(r)
	case p.capture >= 0:
		return r.capture(p.capture)
	}
	return p.lit
}

// hasCaptures reports whether the value refers to $1..$9.
func (cv *complexValue) hasCaptures() bool {
	for _, p := range cv.parts {
		if p.capture >= 0 {
			return true
		}
	}
	return false
}

// capture returns $n of the last regex match.
func (r *request) capture(n int) string {
	if 2*n+1 >= len(r.caps) {
		return ""
	}
	a, b := r.caps[2*n], r.caps[2*n+1]
	if a < 0 || b < 0 {
		return ""
	}
	return r.capSrc[a:b]
}

// matchRegex runs re on s; on a match it records the captures for $1..$9
// and sets the named captures' variables.
func (r *request) matchRegex(re *regexp.Regexp, s string) bool {
	if re.NumSubexp() == 0 {
		if !re.MatchString(s) {
			return false
		}
		r.capSrc = s
		r.caps = append(r.caps[:0], 0, len(s))
		return true
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	r.capSrc = s
	r.caps = append(r.caps[:0], m...)
	for i, n := range re.SubexpNames() {
		if n == "" {
			continue
		}
		if idx, ok := r.cfg.vars.index[n]; ok {
			v := ""
			if m[2*i] >= 0 {
				v = s[m[2*i]:m[2*i+1]]
			}
			r.setVar(idx, v)
		}
	}
	return true
}

// prefixVars are the variable families: $http_*, $arg_* and the like.
var prefixVars = []struct {
	prefix string
	make   func(name string) varFunc
}{
	{"http_", func(name string) varFunc {
		switch name {
		case "cookie":
			return func(r *request) string { return r.joinedHeader("cookie", "; ") }
		case "x_forwarded_for":
			return func(r *request) string { return r.joinedHeader("x-forwarded-for", ", ") }
		}
		return func(r *request) string { return r.headerByVarName(name) }
	}},
	{"arg_", func(name string) varFunc {
		return func(r *request) string { v, _ := argValue(r.args, name); return v }
	}},
	{"cookie_", func(name string) varFunc {
		return func(r *request) string { return r.cookie(name) }
	}},
	{"sent_http_", func(name string) varFunc {
		return func(r *request) string { return r.sentHeader(name) }
	}},
	{"upstream_http_", func(name string) varFunc {
		return func(r *request) string { return r.upstream.header(name) }
	}},
	{"upstream_cookie_", func(name string) varFunc {
		return func(r *request) string { return r.upstream.cookie(name) }
	}},
}

// headerByVarName finds the first request header whose name, lower-cased
// with "-" as "_", is name (nginx 1.22's $http_ lookup).
func (r *request) headerByVarName(name string) string {
	for i := range r.headers {
		if varNameEqual(r.headers[i].lower, name) {
			return r.headers[i].value
		}
	}
	return ""
}

func varNameEqual(lowerHeader, name string) bool {
	if len(lowerHeader) != len(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := lowerHeader[i]
		if c == '-' {
			c = '_'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

func (r *request) joinedHeader(lower, sep string) string {
	out := ""
	found := false
	for i := range r.headers {
		if r.headers[i].lower != lower {
			continue
		}
		if found {
			out += sep
		}
		out += r.headers[i].value
		found = true
	}
	return out
}

// argValue finds name=value in an argument string (ngx_http_arg): the
// name is compared without case and must be followed by "=".
func argValue(args, name string) (string, bool) {
	for p := 0; p+len(name) < len(args); {
		i := indexFold(args[p:], name)
		if i < 0 {
			return "", false
		}
		i += p
		if (i == 0 || args[i-1] == '&') && i+len(name) < len(args) && args[i+len(name)] == '=' {
			v := args[i+len(name)+1:]
			if j := strings.IndexByte(v, '&'); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
		p = i + 1
	}
	return "", false
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// cookie finds a cookie by name in the Cookie headers.
func (r *request) cookie(name string) string {
	for i := range r.headers {
		if r.headers[i].lower != "cookie" {
			continue
		}
		v := r.headers[i].value
		for v != "" {
			var part string
			if j := strings.IndexByte(v, ';'); j >= 0 {
				part, v = v[:j], v[j+1:]
			} else {
				part, v = v, ""
			}
			part = strings.TrimLeft(part, " \t")
			if len(part) > len(name) && part[len(name)] == '=' && strings.EqualFold(part[:len(name)], name) {
				return part[len(name)+1:]
			}
		}
	}
	return ""
}

// sentHeader is $sent_http_NAME.
func (r *request) sentHeader(name string) string {
	w := &r.resp
	switch name {
	case "content_type":
		if w.charset != "" {
			return w.contentType + "; charset=" + w.charset
		}
		return w.contentType
	case "content_length":
		if w.contentLength >= 0 {
			return strconv.FormatInt(w.contentLength, 10)
		}
		return ""
	case "location":
		return w.location
	case "last_modified":
		if w.lastModified >= 0 {
			return time.Unix(w.lastModified, 0).UTC().Format(httpTimeFormat)
		}
		return ""
	case "connection":
		if r.keepAlive {
			return "keep-alive"
		}
		return "close"
	case "transfer_encoding":
		if w.chunked {
			return "chunked"
		}
		return ""
	}
	for _, h := range w.headers {
		if varNameEqual(h.lower, name) {
			return h.value
		}
	}
	return ""
}

var hostname = func() string {
	h, _ := os.Hostname()
	return h
}()

// builtinVars are nginx's named variables.
var builtinVars map[string]varFunc

func init() {
	builtinVars = map[string]varFunc{
		"uri":          func(r *request) string { return r.uri },
		"document_uri": func(r *request) string { return r.uri },
		"args":         func(r *request) string { return r.args },
		"query_string": func(r *request) string { return r.args },
		"is_args": func(r *request) string {
			if r.args != "" {
				return "?"
			}
			return ""
		},
		"request_uri":     func(r *request) string { return r.rawTarget },
		"request":         func(r *request) string { return r.line },
		"request_method":  func(r *request) string { return r.method },
		"server_protocol": func(r *request) string { return r.proto },
		"scheme":          func(r *request) string { return "http" },
		"https":           func(r *request) string { return "" },
		"host": func(r *request) string {
			if r.host != "" {
				return r.host
			}
			if r.srv != nil {
				return r.srv.name
			}
			return ""
		},
		"hostname":    func(r *request) string { return hostname },
		"server_name": func(r *request) string { return r.srv.name },
		"server_addr": func(r *request) string { return r.c.localIP },
		"server_port": func(r *request) string { return r.c.localPort },
		"remote_addr": func(r *request) string { return r.c.remoteIP },
		"remote_port": func(r *request) string { return r.c.remotePort },
		"binary_remote_addr": func(r *request) string {
			return binaryAddr(r.c.remoteIP)
		},
		"remote_user":    func(r *request) string { return "" },
		"content_type":   func(r *request) string { return r.hdr(hContentType) },
		"content_length": func(r *request) string { return r.contentLengthVar() },
		"http_host":      func(r *request) string { return r.hdr(hHost) },
		"http_user_agent": func(r *request) string {
			return r.hdr(hUserAgent)
		},
		"document_root":       func(r *request) string { return r.documentRoot() },
		"realpath_root":       func(r *request) string { return r.realpathRoot() },
		"request_filename":    func(r *request) string { p, _ := r.mapURIToPath(); return p },
		"request_id":          func(r *request) string { return r.id() },
		"status":              func(r *request) string { return r.statusVar() },
		"body_bytes_sent":     func(r *request) string { return strconv.FormatInt(r.bodyBytesSent, 10) },
		"bytes_sent":          func(r *request) string { return strconv.FormatInt(r.bytesSent, 10) },
		"request_length":      func(r *request) string { return strconv.FormatInt(r.requestLengthVar(), 10) },
		"request_time":        func(r *request) string { return msecText(r.c.srv.clock.now().Sub(r.start)) },
		"msec":                func(r *request) string { return unixMsec(r.c.srv.clock.now()) },
		"time_local":          func(r *request) string { return r.c.srv.clock.now().Format("02/Jan/2006:15:04:05 -0700") },
		"time_iso8601":        func(r *request) string { return r.c.srv.clock.now().Format("2006-01-02T15:04:05-07:00") },
		"nginx_version":       func(r *request) string { return "1.22.1" },
		"pid":                 func(r *request) string { return strconv.Itoa(os.Getpid()) },
		"connection":          func(r *request) string { return strconv.FormatUint(r.c.id, 10) },
		"connection_requests": func(r *request) string { return strconv.Itoa(r.c.requests) },
		"pipe": func(r *request) string {
			return "."
		},
		"request_completion": func(r *request) string {
			if r.status != 0 && r.resp.sent {
				return "OK"
			}
			return ""
		},
		"limit_rate": func(r *request) string { return "0" },
		"limit_req_status": func(r *request) string {
			return limitReqStatusNames[r.limitReqStatus]
		},
		"limit_conn_status": func(r *request) string {
			return limitConnStatusNames[r.limitConnStatus]
		},
		"request_body": func(r *request) string { return r.upstream.requestBody },
		"proxy_host":   func(r *request) string { return r.upstream.proxyHost },
		"proxy_port":   func(r *request) string { return r.upstream.proxyPort },
		"proxy_add_x_forwarded_for": func(r *request) string {
			if xff := r.joinedHeader("x-forwarded-for", ", "); xff != "" {
				return xff + ", " + r.c.remoteIP
			}
			return r.c.remoteIP
		},
		"fastcgi_script_name": func(r *request) string { s, _ := r.fastcgiSplit(); return s },
		"fastcgi_path_info":   func(r *request) string { _, p := r.fastcgiSplit(); return p },
		"gzip_ratio":          func(r *request) string { return r.gzipRatio() },
		"upstream_addr":       func(r *request) string { return r.upstream.addrs() },
		"upstream_status":     func(r *request) string { return r.upstream.statuses() },
		"upstream_response_time": func(r *request) string {
			return r.upstream.times(func(t *upstreamTry) time.Duration { return t.response })
		},
		"upstream_connect_time": func(r *request) string {
			return r.upstream.times(func(t *upstreamTry) time.Duration { return t.connect })
		},
		"upstream_header_time": func(r *request) string {
			return r.upstream.times(func(t *upstreamTry) time.Duration { return t.header })
		},
		"upstream_response_length": func(r *request) string { return r.upstream.lengths() },
		"upstream_bytes_received":  func(r *request) string { return r.upstream.lengths() },
	}
}

func (r *request) contentLengthVar() string {
	if r.has(hContentLength) {
		return r.hdr(hContentLength)
	}
	if r.chunked {
		// what was read so far: the whole body once an upstream module
		// buffered it
		return strconv.FormatInt(r.body.read, 10)
	}
	return ""
}

func (r *request) requestLengthVar() int64 {
	return int64(r.headerLen) + r.body.read
}

func (r *request) statusVar() string {
	// ngx_http_variable_status: the sent status, else the error status
	// an error_page keeps, else the status set so far
	s := r.status
	if s == 0 {
		s = r.errStatus
	}
	if s == 0 {
		s = r.resp.status
	}
	if s == 0 {
		return "000"
	}
	return strconv.Itoa(s)
}

// id is $request_id: 16 random bytes in hex, fixed for the request.
func (r *request) id() string {
	if r.requestID == "" {
		var b [16]byte
		rand.Read(b[:])
		r.requestID = hex.EncodeToString(b[:])
	}
	return r.requestID
}

// msecText formats a duration as nginx's "%T.%03M" seconds.
func msecText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000)
}

func unixMsec(t time.Time) string {
	ms := t.UnixMilli()
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000)
}

func binaryAddr(ip string) string {
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return ip
	}
	b := make([]byte, 4)
	for i, p := range parts {
		n, _ := strconv.Atoi(p)
		b[i] = byte(n)
	}
	return string(b)
}

// documentRoot is $document_root: the root or alias value.
func (r *request) documentRoot() string {
	if r.conf == nil || r.conf.root == nil {
		return ""
	}
	return r.rootValue()
}

func (r *request) realpathRoot() string {
	root := r.documentRoot()
	if p, err := filepath.EvalSymlinks(root); err == nil {
		return p
	}
	return root
}
