package environ

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// HTTPError is a request the HTTP frontend must refuse, with the status to
// answer (400, 414, 431, 501 or 505).
type HTTPError struct {
	Status int
	Reason string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Reason) }

func httpErr(status int, format string, args ...any) error {
	return &HTTPError{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// HTTPRequest is one parsed HTTP/1.x request head. It is reused for every
// request of a connection: Read overwrites it.
type HTTPRequest struct {
	Method, Target, Proto []byte
	Minor                 int   // HTTP/1.<Minor>
	ContentLength         int64 // -1 when absent
	Chunked               bool  // Transfer-Encoding: chunked (Content-Length is then ignored)
	KeepAlive             bool  // the connection may serve another request after this one
	Expect100             bool  // the client waits for "100 Continue" before the body

	buf    []byte // the head's bytes; the slices above point into it
	fields []field
}

type field struct {
	name, value []byte
}

// Head limits.
const (
	MaxHeaderLines = 128
)

// ReadHTTP reads one request head from br into r. It returns io.EOF when the
// connection closed cleanly before a request started, and an *HTTPError for
// a request that must be refused. limit bounds the whole head in bytes.
func (r *HTTPRequest) ReadHTTP(br *bufio.Reader, limit int) error {
	r.buf = r.buf[:0]
	r.fields = r.fields[:0]
	r.Method, r.Target, r.Proto = nil, nil, nil
	r.ContentLength, r.Chunked, r.KeepAlive, r.Expect100 = -1, false, false, false

	// RFC 9112 2.2: ignore empty lines before the request line.
	var line []byte
	var err error
	for i := 0; ; i++ {
		start := len(r.buf)
		if err = r.readLine(br, limit); err != nil {
			if err == io.EOF && len(r.buf) == 0 && i == 0 {
				return io.EOF
			}
			return err
		}
		line = r.buf[start:]
		if len(line) > 0 {
			break
		}
		if i > 4 {
			return httpErr(400, "empty lines instead of a request line")
		}
	}
	if err := r.parseRequestLine(line); err != nil {
		return err
	}
	for {
		start := len(r.buf)
		if err := r.readLine(br, limit); err != nil {
			if err == io.EOF {
				return httpErr(400, "connection closed inside the request head")
			}
			return err
		}
		line := r.buf[start:]
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return httpErr(400, "obsolete header line folding")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return httpErr(400, "header line without a name: %q", clip(line))
		}
		name := line[:colon]
		for _, c := range name {
			if !isToken(c) {
				return httpErr(400, "invalid header name %q", clip(name))
			}
		}
		value := bytes.Trim(line[colon+1:], " \t")
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return httpErr(400, "control character in header %s", name)
			}
		}
		if len(r.fields) >= MaxHeaderLines {
			return httpErr(431, "more than %d header lines", MaxHeaderLines)
		}
		r.fields = append(r.fields, field{name, value})
	}
	return r.interpretHeaders()
}

// readLine appends one line, without its CRLF or LF, to r.buf.
func (r *HTTPRequest) readLine(br *bufio.Reader, limit int) error {
	start := len(r.buf)
	for {
		frag, err := br.ReadSlice('\n')
		if len(r.buf)+len(frag) > limit {
			if start == 0 && r.Method == nil {
				return httpErr(414, "request line longer than %d bytes", limit)
			}
			return httpErr(431, "request head larger than %d bytes", limit)
		}
		r.buf = append(r.buf, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(r.buf) > start {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	r.buf = r.buf[:len(r.buf)-1]
	if n := len(r.buf); n > start && r.buf[n-1] == '\r' {
		r.buf = r.buf[:n-1]
	}
	return nil
}

func (r *HTTPRequest) parseRequestLine(line []byte) error {
	r.Method, r.Target, r.Proto = nil, nil, nil
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return httpErr(400, "malformed request line %q", clip(line))
	}
	method, target, proto := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	for _, c := range method {
		if !isToken(c) {
			return httpErr(400, "invalid method %q", clip(method))
		}
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return httpErr(400, "invalid request target %q", clip(target))
		}
	}
	if len(proto) != 8 || string(proto[:7]) != "HTTP/1." || proto[7] < '0' || proto[7] > '9' {
		if len(proto) >= 5 && string(proto[:5]) == "HTTP/" {
			return httpErr(505, "unsupported protocol %q", clip(proto))
		}
		return httpErr(400, "malformed request line %q", clip(line))
	}
	r.Method, r.Target, r.Proto, r.Minor = method, target, proto, int(proto[7]-'0')
	return nil
}

func (r *HTTPRequest) interpretHeaders() error {
	r.KeepAlive = r.Minor >= 1
	var te []byte
	for _, f := range r.fields {
		switch {
		case equalFold(f.name, "Content-Length"):
			n, ok := parseLength(f.value)
			if !ok || (r.ContentLength >= 0 && r.ContentLength != n) {
				return httpErr(400, "invalid Content-Length %q", clip(f.value))
			}
			r.ContentLength = n
		case equalFold(f.name, "Transfer-Encoding"):
			te = f.value
		case equalFold(f.name, "Connection"):
			if hasToken(f.value, "close") {
				r.KeepAlive = false
			} else if hasToken(f.value, "keep-alive") && r.Minor == 0 {
				r.KeepAlive = true
			}
		case equalFold(f.name, "Expect"):
			if equalFold(bytes.TrimSpace(f.value), "100-continue") && r.Minor >= 1 {
				r.Expect100 = true
			}
		}
	}
	if te != nil {
		// RFC 9112 6.1: chunked must be the final (here: only) coding, and
		// Transfer-Encoding overrides Content-Length; a request carrying
		// both is answered and then the connection is closed.
		if !equalFold(bytes.TrimSpace(te), "chunked") {
			return httpErr(501, "unsupported Transfer-Encoding %q", clip(te))
		}
		if r.Minor == 0 {
			return httpErr(400, "Transfer-Encoding in an HTTP/1.0 request")
		}
		if r.ContentLength >= 0 {
			r.KeepAlive = false
		}
		r.Chunked = true
		r.ContentLength = -1
	}
	return nil
}

// ConnInfo describes the connection a request arrived on.
type ConnInfo struct {
	ServerName string // uWSGI uses the host name
	ServerPort string // the listening socket's port ("80" for unix sockets)
	RemoteAddr string
	RemotePort string
	HTTPS      bool
}

// Environ appends r's CGI variables to e, the way uWSGI's http-socket does:
// REQUEST_METHOD, REQUEST_URI, PATH_INFO (percent-decoded), QUERY_STRING,
// SERVER_PROTOCOL, SCRIPT_NAME, SERVER_NAME, SERVER_PORT, REMOTE_ADDR,
// REMOTE_PORT, then each header as HTTP_NAME (CONTENT_TYPE and
// CONTENT_LENGTH without the prefix), then wsgi.url_scheme.
//
// Unlike uWSGI, repeated headers are joined with ", " ("; " for Cookie)
// instead of the last one hiding the others, and header names holding "_"
// are dropped (as nginx does by default) so "X_Forwarded_For" cannot pose
// as X-Forwarded-For. A chunked body is de-chunked by the caller, which then
// passes its length as bodyLength (-1 keeps the request's own).
func (r *HTTPRequest) Environ(e *Env, c *ConnInfo, bodyLength int64) Info {
	path, query := r.Target, []byte(nil)
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	// A fragment (clients should not send one) is not part of the path,
	// as on uWSGI and nginx; in the query string both keep it.
	if i := bytes.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	// Absolute form (a request to a proxy): keep only the path.
	if bytes.HasPrefix(path, []byte("http://")) || bytes.HasPrefix(path, []byte("https://")) {
		rest := path[bytes.IndexByte(path, ':')+3:]
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:]
		} else {
			path = []byte("/")
		}
	}
	// uWSGI removes "." and ".." segments from the raw path, then decodes
	// it (so an encoded %2e%2e stays a literal "..").
	path = RemoveDotSegments(path)
	e.AddBytes("REQUEST_METHOD", r.Method)
	e.AddBytes("REQUEST_URI", r.Target)
	pathInfo := string(e.addDecoded("PATH_INFO", path))
	e.AddBytes("QUERY_STRING", query)
	e.AddBytes("SERVER_PROTOCOL", r.Proto)
	e.Add("SCRIPT_NAME", "")
	e.Add("SERVER_NAME", c.ServerName)
	e.Add("SERVER_PORT", c.ServerPort)
	e.Add("REMOTE_ADDR", c.RemoteAddr)
	e.Add("REMOTE_PORT", c.RemotePort)
	if c.HTTPS {
		e.Add("HTTPS", "on")
	}

	var scheme []byte
	for i, f := range r.fields {
		if bytes.IndexByte(f.name, '_') >= 0 || r.seenBefore(i) {
			continue
		}
		isLength := equalFold(f.name, "Content-Length")
		if isLength && bodyLength >= 0 || equalFold(f.name, "Transfer-Encoding") && bodyLength >= 0 {
			continue // replaced by the de-chunked length below
		}
		value := r.joined(i)
		e.addHeader(f.name, value)
		if equalFold(f.name, "X-Forwarded-Proto") {
			scheme = value
		}
	}
	length := r.ContentLength
	if bodyLength >= 0 {
		length = bodyLength
		e.Add("CONTENT_LENGTH", strconv.FormatInt(bodyLength, 10))
	}
	https := ""
	if c.HTTPS {
		https = "on"
	}
	e.AddExtra("wsgi.url_scheme", Scheme(string(scheme), https))

	if length < 0 {
		length = 0
	}
	return Info{
		Method:        string(r.Method),
		URI:           string(r.Target),
		PathInfo:      pathInfo,
		Proto:         string(r.Proto),
		RemoteAddr:    c.RemoteAddr,
		RemotePort:    c.RemotePort,
		ContentLength: length,
		Vars:          2 * e.pairs,
		VarsBytes:     e.size,
	}
}

// RemoveDotSegments applies RFC 3986 5.2.4 to a path. It returns p itself
// when there is nothing to remove.
func RemoveDotSegments(p []byte) []byte {
	if !hasDotSegment(p) {
		return p
	}
	in := p
	out := make([]byte, 0, len(p))
	for len(in) > 0 {
		switch {
		case bytes.HasPrefix(in, []byte("../")):
			in = in[3:]
		case bytes.HasPrefix(in, []byte("./")):
			in = in[2:]
		case bytes.HasPrefix(in, []byte("/./")):
			in = in[2:]
		case string(in) == "/.":
			in = []byte("/")
		case bytes.HasPrefix(in, []byte("/../")) || string(in) == "/..":
			if len(in) == 3 {
				in = []byte("/")
			} else {
				in = in[3:]
			}
			if i := bytes.LastIndexByte(out, '/'); i >= 0 {
				out = out[:i]
			} else {
				out = out[:0]
			}
		case string(in) == "." || string(in) == "..":
			in = nil
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := len(in)
			if i := bytes.IndexByte(in[start:], '/'); i >= 0 {
				end = start + i
			}
			out = append(out, in[:end]...)
			in = in[end:]
		}
	}
	return out
}

func hasDotSegment(p []byte) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '.' || (i > 0 && p[i-1] != '/') {
			continue
		}
		j := i + 1
		if j < len(p) && p[j] == '.' {
			j++
		}
		if j == len(p) || p[j] == '/' {
			return true
		}
	}
	return false
}

// seenBefore reports whether header i repeats an earlier header's name.
func (r *HTTPRequest) seenBefore(i int) bool {
	for _, f := range r.fields[:i] {
		if equalFoldBytes(f.name, r.fields[i].name) {
			return true
		}
	}
	return false
}

// joined returns header i's value joined with the values of later headers of
// the same name. It only allocates when the header repeats.
func (r *HTTPRequest) joined(i int) []byte {
	name := r.fields[i].name
	v := r.fields[i].value
	sep := ", "
	if equalFold(name, "Cookie") {
		sep = "; "
	}
	copied := false
	for _, f := range r.fields[i+1:] {
		if equalFoldBytes(f.name, name) {
			if !copied {
				v = append([]byte(nil), v...)
				copied = true
			}
			v = append(append(v, sep...), f.value...)
		}
	}
	return v
}

// Header returns the first value of the named header.
func (r *HTTPRequest) Header(name string) ([]byte, bool) {
	for _, f := range r.fields {
		if equalFold(f.name, name) {
			return f.value, true
		}
	}
	return nil, false
}

// addHeader appends HTTP_<NAME> (or CONTENT_TYPE / CONTENT_LENGTH).
func (e *Env) addHeader(name, value []byte) {
	if indexNUL(value) {
		e.dropped++
		return
	}
	e.sep()
	k := len(e.buf)
	if !equalFold(name, "Content-Type") && !equalFold(name, "Content-Length") {
		e.buf = append(e.buf, "HTTP_"...)
	}
	for _, c := range name {
		switch {
		case c == '-':
			c = '_'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		e.buf = append(e.buf, c)
	}
	klen := len(e.buf) - k
	e.buf = append(e.buf, 0)
	e.buf = append(e.buf, value...)
	e.count(klen, len(value))
}

// addDecoded appends k with the percent-decoded value of raw, as uWSGI's
// http_url_decode does: %XX becomes the byte, anything else stays as is. It
// returns the decoded value (valid until e grows).
func (e *Env) addDecoded(k string, raw []byte) []byte {
	e.sep()
	e.buf = append(e.buf, k...)
	e.buf = append(e.buf, 0)
	start := len(e.buf)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]) {
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		e.buf = append(e.buf, c)
	}
	if indexNUL(e.buf[start:]) {
		// %00 in the path: keep the pair (PATH_INFO must exist) but drop the NULs.
		e.buf = append(e.buf[:start], bytes.ReplaceAll(e.buf[start:], []byte{0}, nil)...)
	}
	e.count(len(k), len(e.buf)-start)
	return e.buf[start:]
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isToken(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		if equalFold(bytes.Trim(part, " \t"), token) {
			return true
		}
	}
	return false
}

func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
