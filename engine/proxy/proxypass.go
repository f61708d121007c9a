package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proxyPass is proxy_pass: the request goes to an HTTP upstream, by
// default as HTTP/1.0 with "Connection: close" and Host set to
// $proxy_host, as nginx sends it.
func (r *request) proxyPass() int {
	pp := r.conf.proxy
	pc := &r.conf.proxyConf
	up, uri, rc := r.resolveProxy(pp)
	if rc != 0 {
		return rc
	}
	body, rc := r.bufferBody()
	if rc != 0 {
		return rc
	}
	defer body.close()
	head := r.proxyRequestHead(pc, uri, body)

	sel := up.newSelection(r)
	r.upstream.tries = r.c.tryBuf[:0]
	defer func() {
		r.c.triedBuf = sel.tried[:0]
		r.c.tryBuf = r.upstream.tries[:0]
	}()
	maxTries := up.tries()
	if pc.nextTries > 0 && pc.nextTries < maxTries {
		maxTries = pc.nextTries
	}
	status := 502
	for try := 0; try < maxTries; try++ {
		now := r.c.srv.clock.now()
		p := sel.next(r, now)
		if p == nil {
			// 502 whatever the tries before it got, as nginx's
			// NGX_HTTP_UPSTREAM_FT_NOLIVE; the log names the group
			r.upstream.curScheme, r.upstream.curPeer, r.upstream.curURI = "http://", &peer{name: up.name}, uri
			r.errorf(levelError, "no live upstreams while connecting to upstream")
			r.upstream.tries = append(r.upstream.tries, upstreamTry{addr: up.name, status: 502})
			return 502
		}
		r.upstream.curScheme, r.upstream.curPeer, r.upstream.curURI = "http://", p, uri
		start := now
		resp, uc, perr := r.proxyTry(up, p, pc, head, body)
		r.now = r.c.srv.clock.now()
		elapsed := r.now.Sub(start)
		if perr != nil {
			sel.done(p, true, r.c.srv.clock.now())
			r.errorf(levelError, "%s", perr.msg)
			status = perr.status
			r.upstream.tries = append(r.upstream.tries, upstreamTry{addr: p.name, status: perr.status, connect: -1, header: -1, response: elapsed})
			if !r.mayRetry(pc, perr.timeout, perr.connecting) {
				return status
			}
			continue
		}
		t := upstreamTry{addr: p.name, status: resp.StatusCode, header: elapsed}
		if r.retryStatus(pc, resp.StatusCode) && try+1 < maxTries {
			resp.Body.Close()
			uc.close()
			sel.done(p, failedBy(resp.StatusCode), r.c.srv.clock.now())
			r.upstream.tries = append(r.upstream.tries, t)
			status = resp.StatusCode
			continue
		}
		sel.done(p, false, r.c.srv.clock.now())
		resp.Body = &upstreamBody{ReadCloser: resp.Body, uc: uc, up: up, p: p, reusable: !resp.Close}
		a := answerFromHTTP(resp, r.c.answerBuf)
		r.c.answerBuf = a.fields[:0]
		rc := r.forwardResponse(&a, modProxy, pc, &t, start)
		r.upstream.tries = append(r.upstream.tries, t)
		return rc
	}
	return status
}

// resolveProxy finds the upstream and the URI to send.
func (r *request) resolveProxy(pp *proxyPass) (*upstream, string, int) {
	up := pp.up
	hasURI, puri := pp.hasURI, pp.uri
	host, port := pp.host, pp.port
	if pp.url != nil {
		u := pp.url.eval(r)
		rest, ok := cutPrefixFold(u, "http://")
		if !ok || rest == "" {
			r.errorf(levelError, "invalid URL prefix in %q", u)
			return nil, "", 500
		}
		hostport := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			hostport, puri, hasURI = rest[:i], rest[i:], true
		}
		if hostport == "" {
			// ngx_parse_url's "no host": nginx answers 500, not 502
			r.errorf(levelError, "no host in upstream %q", rest)
			return nil, "", 500
		}
		g, p, rc := r.varUpstream(hostport, "80")
		if rc != 0 {
			return nil, "", rc
		}
		up, host, port = g, hostport, p
		if p == "80" {
			// $proxy_host leaves out the default port
			host = strings.TrimSuffix(hostport, ":80")
		}
		// $proxy_host (the default Host header) is set whether or not
		// the URL has a URI part
		r.upstream.proxyHost, r.upstream.proxyPort = host, port
		if port == "" {
			r.upstream.proxyPort = "80"
		}
		// with variables the URI is used as given (or the request's)
		if !hasURI {
			return up, r.requestURIForProxy(false, "", ""), 0
		}
		return up, puri, 0
	}
	r.upstream.proxyHost, r.upstream.proxyPort = host, port
	if up == nil {
		return nil, "", 500
	}
	if port == "" {
		r.upstream.proxyPort = "80"
	}
	return up, r.requestURIForProxy(hasURI, puri, pp.location), 0
}

// requestURIForProxy is the URI nginx sends: the client's own when the
// location's proxy_pass has no URI and nothing rewrote it; otherwise the
// (escaped) current URI, with the location's prefix replaced by the
// proxy_pass URI.
func (r *request) requestURIForProxy(hasURI bool, puri, location string) string {
	if !hasURI && !r.uriReplaced {
		return r.rawTarget
	}
	if hasURI && !r.validLocation {
		// "rewrite ... break" changed the URI: the proxy_pass URI part
		// is ignored and the whole new URI is sent
		hasURI = false
	}
	locLen := 0
	if hasURI && strings.HasPrefix(r.uri, location) {
		locLen = len(location)
	}
	rest := r.uri[locLen:]
	if r.quotedURI || r.internal {
		rest = escapeURI(rest)
	}
	u := puri + rest
	if !hasURI {
		u = rest
	}
	if r.args != "" {
		u += "?" + r.args
	}
	return u
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// defaultProxyHeaders are ngx_http_proxy_headers: sent unless
// proxy_set_header names them.
var defaultProxyHeaders = []string{"Host", "Connection", "Content-Length", "Transfer-Encoding", "TE", "Keep-Alive", "Expect", "Upgrade"}

// proxyRequestHead builds the request line and headers
// (ngx_http_proxy_create_request).
func (r *request) proxyRequestHead(pc *passConf, uri string, body *bufferedBody) []byte {
	var b []byte
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, " HTTP/"...)
	b = append(b, pc.httpVersion...)
	b = append(b, "\r\n"...)
	set := map[string]bool{}
	for _, h := range pc.setHeaders {
		set[strings.ToLower(h.key)] = true
		if v := h.value.eval(r); v != "" {
			b = appendHeader(b, h.key, v)
		}
	}
	for _, name := range defaultProxyHeaders {
		l := strings.ToLower(name)
		if set[l] {
			continue
		}
		set[l] = true
		switch name {
		case "Host":
			b = appendHeader(b, name, r.upstream.proxyHost)
		case "Connection":
			b = appendHeader(b, name, "close")
		case "Content-Length":
			if pc.passRequestBody && (body.size > 0 || r.has(hContentLength) || r.chunked) {
				b = appendHeader(b, name, strconv.FormatInt(body.size, 10))
			}
		}
	}
	if pc.passRequestHeaders {
		for _, h := range r.headers {
			if set[h.lower] {
				continue
			}
			b = appendHeader(b, h.name, h.value)
		}
	}
	return append(b, "\r\n"...)
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// proxyError is a failed proxy_pass try.
type proxyError struct {
	status     int
	msg        string
	connecting bool
	timeout    bool
}

// proxyTry sends the request to one peer and reads the answer's head.
func (r *request) proxyTry(up *upstream, p *peer, pc *passConf, head []byte, body *bufferedBody) (*http.Response, *upstreamConn, *proxyError) {
	uc := up.getIdle(p, r.c.srv.clock.now())
	reused := uc != nil
	if uc == nil {
		d := net.Dialer{Timeout: pc.connectTimeout, KeepAlive: -1}
		nc, err := d.Dial(p.network, p.addr)
		if err != nil {
			return nil, nil, connectError(err, p)
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		uc = &upstreamConn{nc: nc}
	}
	tc := &deadlineConn{Conn: uc.nc, read: pc.readTimeout, send: pc.sendTimeout}
	uc.br = bufio.NewReaderSize(tc, 8192)
	fail := func(err error, phase string) (*http.Response, *upstreamConn, *proxyError) {
		uc.nc.Close()
		if isTimeout(err) {
			return nil, nil, &proxyError{status: 504, timeout: true, msg: "upstream timed out (110: Connection timed out) while " + phase}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, &proxyError{status: 502, msg: "upstream prematurely closed connection while " + phase}
		}
		return nil, nil, &proxyError{status: 502, msg: syscallText(err) + " while " + phase}
	}
	if _, err := tc.Write(head); err != nil {
		return fail(err, "sending request to upstream")
	}
	if pc.passRequestBody && body.size > 0 {
		if _, err := io.Copy(tc, body.reader()); err != nil {
			return fail(err, "sending request to upstream")
		}
	}
	req := &http.Request{Method: r.method}
	resp, err := http.ReadResponse(uc.br, req)
	if err != nil {
		if reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			// a kept-alive connection the upstream had closed: try a new one
			uc.nc.Close()
			return r.proxyTry(up, p, pc, head, body)
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isTimeout(err) && !isNetErr(err) {
			uc.nc.Close()
			return nil, nil, &proxyError{status: 502, msg: "upstream sent invalid header while reading response header from upstream"}
		}
		return fail(err, "reading response header from upstream")
	}
	uc.requests++
	return resp, uc, nil
}

func isNetErr(err error) bool {
	var ne net.Error
	var se *os.SyscallError
	return errors.As(err, &ne) || errors.As(err, &se)
}

// connectError words a dial failure as nginx does.
func connectError(err error, p *peer) *proxyError {
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return &proxyError{status: 504, connecting: true, timeout: true, msg: "upstream timed out (110: Connection timed out) while connecting to upstream"}
	}
	return &proxyError{status: 502, connecting: true, msg: "connect() failed (" + syscallText(err) + ") while connecting to upstream"}
}

// syscallText is "111: Connection refused".
func syscallText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		if t != "" && t[0] >= 'a' && t[0] <= 'z' {
			t = string(t[0]-'a'+'A') + t[1:]
		}
		return strconv.Itoa(int(errno)) + ": " + t
	}
	return err.Error()
}

// deadlineConn gives every read and write its own deadline: nginx's
// proxy_read_timeout and proxy_send_timeout are between two operations.
type deadlineConn struct {
	net.Conn
	read, send time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.read > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.read))
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if c.send > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(c.send))
	}
	return c.Conn.Write(p)
}

var (
	_ net.Conn      = (*deadlineConn)(nil)
	_ io.ReadCloser = (*upstreamBody)(nil)
)

// upstreamBody returns the connection to the keepalive cache when the
// body was read to its end and the upstream allows reuse.
type upstreamBody struct {
	io.ReadCloser
	uc       *upstreamConn
	up       *upstream
	p        *peer
	reusable bool
	eof      bool
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *upstreamBody) Close() error {
	b.ReadCloser.Close()
	if b.uc == nil {
		return nil
	}
	if b.eof && b.reusable && b.up.keepalive > 0 && b.uc.br.Buffered() == 0 {
		b.up.putIdle(b.p, b.uc)
	} else {
		b.uc.close()
	}
	b.uc = nil
	return nil
}

// getIdle takes a kept-alive connection to p, if there is a fresh one.
func (u *upstream) getIdle(p *peer, now time.Time) *upstreamConn {
	if u.keepalive == 0 {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(p.idle) > 0 {
		uc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(uc.idleAt) < u.keepaliveTimeout && uc.requests < u.keepaliveRequests {
			return uc
		}
		uc.nc.Close()
	}
	return nil
}

// putIdle caches a connection, keeping at most keepalive per upstream.
func (u *upstream) putIdle(p *peer, uc *upstreamConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, q := range append(append([]*peer(nil), u.peers...), u.backups...) {
		n += len(q.idle)
	}
	if n >= u.keepalive {
		uc.nc.Close()
		return
	}
	uc.idleAt = time.Now()
	p.idle = append(p.idle, uc)
}

func (uc *upstreamConn) close() {
	if uc != nil && uc.nc != nil {
		uc.nc.Close()
	}
}

// rewriteRedirect is proxy_redirect on a Location header.
func (r *request) rewriteRedirect(v string, pc *passConf) (string, bool) {
	if pc.redirectOff {
		return v, false
	}
	rules := pc.redirects
	if len(rules) == 0 {
		rules = []proxyRedirect{{isDefault: true}}
	}
	for _, pr := range rules {
		if pr.isDefault {
			pp := r.conf.proxy
			if pp == nil || pp.url != nil {
				continue
			}
			from := "http://" + pp.host
			if pp.port != "" && pp.port != "80" && !strings.Contains(pp.host, ":") {
				from += ":" + pp.port
			}
			to := pp.location
			if pp.hasURI {
				from += pp.uri
			} else {
				from += "/"
				to = "/"
			}
			if strings.HasPrefix(v, from) {
				return to + v[len(from):], true
			}
			continue
		}
		if pr.re != nil {
			if r.matchRegex(pr.re, v) {
				return pr.toCV.eval(r), true
			}
			continue
		}
		if strings.HasPrefix(v, pr.from) {
			return pr.toCV.eval(r) + v[len(pr.from):], true
		}
	}
	return v, false
}

// rewriteRefresh applies proxy_redirect to the URL in a Refresh header.
func (r *request) rewriteRefresh(v string, pc *passConf) string {
	i := strings.Index(strings.ToLower(v), "url=")
	if i < 0 {
		return v
	}
	nv, _ := r.rewriteRedirect(v[i+4:], pc)
	return v[:i+4] + nv
}
