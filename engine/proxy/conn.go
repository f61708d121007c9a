package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wsgideck/wsgideck/engine/transport/fastcgi"
	"github.com/wsgideck/wsgideck/engine/transport/uwsgi"
)

// conn is one client connection. It reads requests one after the other
// (pipelined ones included) and answers each before reading the next.
type conn struct {
	srv *Server
	nc  net.Conn
	// io reads and writes nc; br and bw buffer it
	io  sockIO
	br  *bufio.Reader
	bw  *bufio.Writer
	req request

	id       uint64
	requests int

	// the listen group of the connection in listenCfg
	listenCfg   *Config
	listenGroup *Listen

	localIP, localPort   string
	remoteIP, remotePort string
	unix                 bool

	// state is connIdle between requests and connActive while one is
	// processed; Shutdown closes idle connections only.
	state atomic.Int32

	headBuf []byte
	pathBuf []byte
	// buffers reused by the upstream modules from request to request
	triedBuf  []*peer
	tryBuf    []upstreamTry
	fieldBuf  []uwsgi.HeaderField
	paramBuf  uwsgi.Params
	answerBuf []uwsgi.HeaderField
	// flushBuffered and logUpstream, bound once for the transports
	flushBuffered func()
	logUpstream   fastcgi.Logf
	// streamMu guards the writer while a proxy_pass answer is streamed
	// and a flush timer may run.
	streamMu sync.Mutex
	scratch  [64]byte
	werr     error
	closed   bool
	// lingering asks for a lingering close (unread request body).
	lingering bool
	// abandoned is set when Server.Close ended the request's wait: it
	// ends with no answer and no log line, as a request does when an
	// nginx worker exits on SIGTERM.
	abandoned bool
}

const (
	connNew int32 = iota
	connIdle
	connActive
)

// Defaults of nginx's header reading.
const (
	defaultHeaderTimeout = 60 * time.Second
	largeHeaderBufSize   = 8192
	largeHeaderBufCount  = 4
)

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{srv: s, nc: nc, id: id}
	c.io.init(c, nc)
	c.br = s.readers.get(&c.io)
	c.bw = s.writers.get(&c.io)
	c.req.c = c
	c.flushBuffered = c.flushIfBuffered
	c.logUpstream = c.logUpstreamError
	if la, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		c.localIP = la.IP.String()
		c.localPort = strconv.Itoa(la.Port)
		if ra, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
			c.remoteIP = ra.IP.String()
			c.remotePort = strconv.Itoa(ra.Port)
		}
	} else {
		c.unix = true
		c.remoteIP = "unix:"
		if ua, ok := nc.LocalAddr().(*net.UnixAddr); ok {
			c.localIP = "unix:" + ua.Name
		}
	}
	return c
}

// writeErr reports the first write error of the connection.
func (c *conn) writeErr() error {
	if c.werr != nil {
		return c.werr
	}
	if c.bw.Available() == 0 {
		// bufio reports write errors on the next write or flush
		if err := c.bw.Flush(); err != nil {
			c.werr = err
		}
	}
	return c.werr
}

func (c *conn) flush() error {
	if c.werr != nil {
		return c.werr
	}
	if err := c.bw.Flush(); err != nil {
		c.werr = err
	}
	return c.werr
}

// listen returns the listen group the connection arrived on in cfg,
// looked up once per configuration.
func (c *conn) listen(cfg *Config) *Listen {
	if cfg != c.listenCfg {
		c.listenCfg, c.listenGroup = cfg, cfg.listenFor(c)
	}
	return c.listenGroup
}

// setReadDeadline sets the client read deadline now, replacing one
// deferred by deferReadDeadline.
func (c *conn) setReadDeadline(t time.Time) {
	c.io.pendingDeadline = time.Time{}
	c.nc.SetReadDeadline(t)
}

// flushIfBuffered writes what the connection holds for the client: nginx
// does so whenever a read from an upstream would block.
func (c *conn) flushIfBuffered() {
	if c.bw.Buffered() > 0 {
		c.flush()
	}
}

// logUpstreamError writes a transport's log line with the request's
// context.
func (c *conn) logUpstreamError(format string, args ...any) {
	c.req.errorf(levelError, format, args...)
}

// serve runs the connection until the client or the server ends it.
func (c *conn) serve() {
	defer c.close()
	for {
		cfg := c.srv.config()
		if cfg == nil {
			return
		}
		lis := c.listen(cfg)
		if lis == nil {
			return
		}
		def := lis.defaultServer
		// wait for the first byte: client_header_timeout for the first
		// request, keepalive_timeout afterwards
		wait := def.headerTimeout
		if c.requests > 0 {
			wait = def.conf.keepaliveTimeout
		}
		if c.br.Buffered() == 0 {
			c.state.Store(connIdle)
			if c.srv.draining.Load() {
				return
			}
			c.setReadDeadline(c.srv.clock.now().Add(wait))
			if _, err := c.br.Peek(1); err != nil {
				return
			}
		}
		c.state.Store(connActive)
		// a reload while the connection waited applies to this request
		if cfg = c.srv.config(); cfg == nil {
			return
		}
		if lis = c.listen(cfg); lis == nil {
			return
		}
		def = lis.defaultServer
		c.requests++
		r := &c.req
		r.reset()
		r.cfg = cfg
		r.lis = lis
		r.srv = def
		r.conf = def.conf
		r.start = c.srv.clock.now()
		r.now = r.start
		// the rest of the head is usually in the buffer already: the
		// deadline is only set if the socket has to be read again
		c.io.deferReadDeadline(r.start.Add(def.headerTimeout))
		code := c.readHead(r)
		switch {
		case code == -1:
			// the client went away or timed out while sending the header:
			// nginx closes without an answer
			return
		case code != 0:
			r.keepAlive = false
			c.srv.finalizeEarly(r, code)
		default:
			c.srv.handle(r)
		}
		if c.abandoned {
			if len(r.heldConns) > 0 {
				r.releaseConns()
			}
			return
		}
		c.endRequest(r)
		if c.werr != nil || !r.keepAlive || c.closed {
			if r.body.remaining() {
				c.lingering = true
			}
			return
		}
		if r.c.requests >= r.conf.keepaliveRequests {
			return
		}
		if c.srv.draining.Load() && c.br.Buffered() == 0 {
			return
		}
	}
}

// endRequest finishes a request: the unread body is discarded so that the
// next request can be read, the response is flushed and the request
// logged.
func (c *conn) endRequest(r *request) {
	if r.keepAlive && r.body.remaining() {
		if r.body.expectPending(r) {
			// the client waits for "100 Continue" and will not send the
			// body: the connection cannot be reused
			r.keepAlive = false
		} else {
			c.setReadDeadline(c.srv.clock.now().Add(r.conf.bodyTimeout))
			if err := r.body.discard(); err != nil {
				r.keepAlive = false
			}
		}
	}
	// logged before the answer is flushed, so that a client that sends
	// its next request as soon as it has this answer finds the log line
	// already written, as with nginx
	c.srv.logRequest(r)
	if c.srv.onRequest != nil {
		c.srv.report(r)
	}
	// freed: its limit_conn counts go, before the client can see the
	// answer end and send another request
	if len(r.heldConns) > 0 {
		r.releaseConns()
	}
	if c.br.Buffered() == 0 || !r.keepAlive {
		c.flush()
	}
}

// close closes the connection, lingering when the client may still be
// sending a body nginx did not read, so that it sees the response rather
// than a reset.
func (c *conn) close() {
	c.flush()
	if c.lingering {
		if tc, ok := c.nc.(*net.TCPConn); ok {
			tc.CloseWrite()
			deadline := c.srv.clock.now().Add(5 * time.Second)
			c.setReadDeadline(deadline)
			io.Copy(io.Discard, io.LimitReader(c.br, 1<<20))
		}
	}
	c.nc.Close()
	c.srv.readers.put(c.br)
	c.srv.writers.put(c.bw)
	c.srv.forget(c)
}

var errHeaderTooLarge = errors.New("header too large")

// readLine reads one line of the request head, without its line ending.
// The line is valid until the next read.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errHeaderTooLarge
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readHead reads and parses the request line and headers. It returns 0, a
// status to answer with (400, 414, 494, 501, 505), or -1 when the
// connection must be closed without an answer.
//
// The head is gathered into one buffer and turned into one string, so that
// the request line, the names and the values are substrings of it rather
// than an allocation each.
func (c *conn) readHead(r *request) int {
	buf := c.headBuf[:0]
	var line []byte
	var err error
	// nginx skips empty lines before the request line
	for {
		line, err = c.readLine()
		if err != nil {
			if err == errHeaderTooLarge {
				return 414
			}
			return -1
		}
		if len(line) > 0 {
			break
		}
	}
	if bytesContainCR(line) {
		r.line = string(line)
		return 400
	}
	buf = append(buf, line...)
	buf = append(buf, '\n')
	// the request line is parsed before the headers are read: a bad one is
	// answered at once, as nginx does
	// a view of the line, not a copy: nothing of this parse is kept
	rl, code := parseRequestLine(unsafe.String(&line[0], len(line)))
	if code != parseOK {
		// nginx knows neither the method nor the URI of such a request,
		// and counts none of it in $request_length
		r.line = string(line)
		return code
	}
	http09 := rl.http09
	total := 0
	if !http09 {
		for {
			line, err = c.readLine()
			if err != nil {
				c.headBuf = buf
				if err == errHeaderTooLarge {
					r.line = string(buf[:bytesIndexByte(buf, '\n')])
					return 494
				}
				return -1
			}
			total += len(line) + 2
			if total > largeHeaderBufSize*largeHeaderBufCount {
				c.headBuf = buf
				r.line = string(buf[:bytesIndexByte(buf, '\n')])
				return 494
			}
			if len(line) == 0 {
				break
			}
			buf = append(buf, line...)
			buf = append(buf, '\n')
		}
	}
	c.headBuf = buf
	head := string(buf)
	nl := strings.IndexByte(head, '\n')
	reqLine := head[:nl]
	rest := head[nl+1:]
	rl, _ = parseRequestLine(reqLine)
	r.line = reqLine
	r.headerLen = len(reqLine) + 2 + total
	r.method = rl.method
	r.major, r.minor = rl.major, rl.minor
	r.http09 = rl.http09
	switch {
	case rl.http09:
		r.proto = ""
	case rl.major == 1 && rl.minor == 1:
		r.proto = "HTTP/1.1"
	case rl.major == 1 && rl.minor == 0:
		r.proto = "HTTP/1.0"
	default:
		r.proto = "HTTP/" + strconv.Itoa(rl.major) + "." + strconv.Itoa(rl.minor)
	}
	r.rawTarget = rl.target
	if rl.host != "" {
		h, ok := validateHost(rl.host)
		if !ok {
			return 400
		}
		r.host = h
	}
	if r.rawTarget == "" {
		r.rawTarget = "/"
	}
	// normalise the URI
	target := r.rawTarget
	if target[0] != '/' {
		target = "/" + target
	}
	uri, args, _, uerr := normalizeURI(r.uriBuf, target, r.srv.mergeSlashes)
	if uerr != nil {
		r.uri = ""
		return 400
	}
	r.uriBuf = uri
	r.quotedURI = strings.IndexByte(target, '%') >= 0 || strings.IndexByte(target, '+') >= 0
	if len(uri) <= len(target) && string(uri) == target[:len(uri)] {
		// unchanged by normalisation: share the head's memory
		r.setURI(target[:len(uri)])
	} else {
		r.setURI(string(uri))
	}
	r.args = args
	if r.http09 {
		r.keepAlive = false
		return 0
	}
	for rest != "" {
		nl := strings.IndexByte(rest, '\n')
		hl := rest[:nl]
		rest = rest[nl+1:]
		if code := r.addHeaderLine(hl); code != 0 {
			return code
		}
	}
	return r.processHeaders()
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return len(b)
}

func bytesContainCR(b []byte) bool {
	for _, c := range b {
		if c == '\r' {
			return true
		}
	}
	return false
}

// addHeaderLine parses one header line with the rules of
// ngx_http_parse_header_line.
func (r *request) addHeaderLine(line string) int {
	srv := r.srv
	invalid := false
	i := 0
	n := len(line)
	// name
	for ; i < n; i++ {
		c := line[i]
		if c == ':' {
			if i == 0 {
				return 400
			}
			break
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		case c == '_':
			if !srv.underscoresInHeaders {
				invalid = true
			}
		case c <= 0x20 || c == 0x7f:
			return 400
		default:
			invalid = true
		}
	}
	nameEnd := i
	value := ""
	if i < n {
		i++
		for i < n && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		end := n
		for end > i && (line[end-1] == ' ' || line[end-1] == '\t') {
			end--
		}
		for j := i; j < end; j++ {
			if line[j] == 0 {
				return 400
			}
			if line[j] == '\r' {
				return 400
			}
		}
		value = line[i:end]
	}
	if invalid && srv.ignoreInvalidHeaders {
		return 0
	}
	name := line[:nameEnd]
	lower := lowerHeaderName(name)
	r.headers = append(r.headers, header{name: name, lower: lower, value: value})
	if k, ok := knownHeaderIndex[lower]; ok {
		if r.known[k] != 0 {
			switch k {
			case hHost, hContentLength, hTransferEncoding:
				// ngx_http_process_unique_header_line
				return 400
			}
			return 0
		}
		r.known[k] = len(r.headers)
	}
	return 0
}

// commonHeaderNames maps header names as browsers and tools send them to
// their lower-case form without allocating.
var commonHeaderNames = map[string]string{}

func init() {
	for _, n := range []string{
		"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Connection", "Content-Length", "Content-Type", "Cookie", "Referer",
		"If-Modified-Since", "If-None-Match", "Range", "If-Range", "Cache-Control",
		"Upgrade-Insecure-Requests", "Pragma", "Origin", "Authorization",
		"Transfer-Encoding", "Expect", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Real-IP", "Keep-Alive", "TE", "Upgrade", "Via", "If-Match",
		"If-Unmodified-Since", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest",
		"DNT",
	} {
		commonHeaderNames[n] = strings.ToLower(n)
		commonHeaderNames[strings.ToLower(n)] = strings.ToLower(n)
	}
}

func lowerHeaderName(name string) string {
	if l, ok := commonHeaderNames[name]; ok {
		return l
	}
	return lowerASCII(name)
}

// processHeaders is ngx_http_process_request_header: the checks made once
// the header is complete.
func (r *request) processHeaders() int {
	if hv := r.hdr(hHost); r.has(hHost) && r.host == "" {
		h, ok := validateHost(hv)
		if !ok {
			return 400
		}
		r.host = h
	} else if r.has(hHost) {
		if _, ok := validateHost(hv); !ok {
			return 400
		}
	}
	// choose the virtual server now: the answers below use its settings
	r.srv = r.findServer(r.host)
	r.conf = r.srv.conf
	if !r.has(hHost) && (r.major > 1 || r.minor > 0) {
		return 400
	}
	if r.has(hContentLength) {
		n, ok := parseContentLength(r.hdr(hContentLength))
		if !ok {
			return 400
		}
		r.contentLength = n
	}
	if r.has(hTransferEncoding) {
		if r.major == 1 && r.minor == 0 {
			return 400
		}
		if !strings.EqualFold(r.hdr(hTransferEncoding), "chunked") {
			return 501
		}
		if r.has(hContentLength) {
			return 400
		}
		r.chunked = true
	}
	conn := r.hdr(hConnection)
	switch {
	case containsFold(conn, "close"):
		r.keepAlive = false
	case containsFold(conn, "keep-alive"):
		r.keepAlive = true
	default:
		r.keepAlive = r.major > 1 || (r.major == 1 && r.minor >= 1)
	}
	r.body.init(r)
	if r.method == "TRACE" {
		return 405
	}
	return 0
}

func parseContentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring case (ngx_strcasestrn).
func containsFold(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		ok := true
		for j := 0; j < len(sub); j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// isTimeout reports a deadline error.
func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, os.ErrDeadlineExceeded)
}
