package appserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/environ"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// keepAliveTimeout is how long an idle HTTP connection may wait for its
// next request.
const keepAliveTimeout = 60 * time.Second

// minHTTPHead is the smallest request head limit for http-socket. uWSGI caps
// the head at buffer-size (4096 by default), which breaks on ordinary big
// cookies; here the limit is buffer-size or 16 KB, whichever is larger.
const minHTTPHead = 16 << 10

// firstChunkMax bounds the body bytes sent along with the environ.
const firstChunkMax = 64 << 10

// serveHTTP serves one http-socket connection: HTTP/1.0 and 1.1 with
// keep-alive and pipelining.
func (s *Server) serveHTTP(cc *clientConn) {
	defer s.untrackConn(cc)
	st := httpConnPool.Get().(*httpConnState)
	defer st.release()
	cfg := s.cfg()
	timeout := cfg.SocketTimeout
	br := st.br
	br.Reset(cc)
	st.dw = deadlineWriter{c: cc, d: writeTimeout(cfg)}
	bw := st.bw
	bw.Reset(&st.dw)
	rq := &st.rq
	rq.socket = cc.l.index
	resp := &st.resp
	resp.bw = bw
	ci := connInfo(cc, s.hostname)
	st.tr = timeoutReader{r: br, c: cc, d: timeout}
	body := &st.tr
	limit := max(cfg.BufferSize, minHTTPHead)
	hr := &st.hr
	sp := &st.sp
	for {
		if !cc.enterIdle() {
			return
		}
		cc.SetReadDeadline(s.now().Add(keepAliveTimeout))
		if _, err := br.Peek(1); err != nil {
			return
		}
		if !cc.leaveIdle() {
			return
		}
		cc.SetReadDeadline(s.now().Add(timeout))
		if err := hr.ReadHTTP(br, limit); err != nil {
			var he *environ.HTTPError
			if errors.As(err, &he) {
				if he.Status == 431 || he.Status == 414 {
					s.log.printf("invalid HTTP request size (max %d)...skip", limit)
				}
				writeHTTPError(bw, he.Status, false)
			}
			return
		}
		rq.reset()
		rq.proto = "HTTP/1.1"
		if hr.Minor == 0 {
			rq.proto = "HTTP/1.0"
		}
		isHead := string(hr.Method) == "HEAD"
		resp.reset(hr.Minor, isHead, hr.KeepAlive)

		// The body: streamed from the connection, or read first when it is
		// chunked (so CONTENT_LENGTH can be set, as nginx does) or when
		// post-buffering asks for it.
		bodyLen := int64(-1)
		expectPending := false
		switch {
		case hr.Chunked || (cfg.PostBuffering > 0 && hr.ContentLength > 0):
			var src io.Reader = environ.NewChunkedReader(br)
			if !hr.Chunked {
				src = io.LimitReader(br, hr.ContentLength)
			}
			if hr.Expect100 {
				bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
				bw.Flush()
			}
			cc.SetReadDeadline(time.Time{})
			if err := sp.fill(&timeoutReader{r: src, c: cc, d: timeout}, cfg.PostBuffering); err != nil {
				if errors.Is(err, environ.ErrChunked) {
					writeHTTPError(bw, 400, isHead)
				}
				return
			}
			bodyLen = sp.size
			rq.first = sp.first(rq.first, firstChunkMax)
			rq.body = bodySource{r: sp.rest(len(rq.first)), left: sp.size - int64(len(rq.first))}
		case hr.ContentLength > 0:
			n := int(min(int64(br.Buffered()), hr.ContentLength, firstChunkMax))
			b, _ := br.Peek(n)
			rq.first = append(rq.first, b...)
			br.Discard(n)
			rq.body = bodySource{r: body, left: hr.ContentLength - int64(n)}
			if hr.Expect100 && n == 0 {
				expectPending = true
				rq.body.beforeRead = func() {
					expectPending = false
					bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
					bw.Flush()
				}
			}
		}
		rq.info = hr.Environ(&rq.env, &ci, bodyLen)
		cc.SetReadDeadline(time.Time{})

		served := false
		if len(cfg.StaticMaps) > 0 {
			ims, _ := hr.Header("If-Modified-Since")
			served = s.serveStatic(cfg, rq, resp, string(ims))
		}
		if !served {
			s.handle(rq, resp)
		}
		if resp.aborted || !resp.keepAlive {
			bw.Flush()
			return
		}
		// Whatever body the app left unread must go before the next request.
		if rq.body.left > 0 {
			if expectPending || rq.body.left > 1<<20 {
				return
			}
			if _, err := io.CopyN(io.Discard, body, rq.body.left); err != nil {
				return
			}
		}
		if hr.Chunked || cfg.PostBuffering > 0 {
			sp.close()
		}
	}
}

func writeTimeout(cfg *Config) time.Duration {
	return max(cfg.SocketTimeout, 60*time.Second)
}

// connInfo describes cc for the environ.
func connInfo(cc *clientConn, hostname string) environ.ConnInfo {
	ci := environ.ConnInfo{ServerName: hostname, ServerPort: cc.l.serverPort}
	if ta, ok := cc.RemoteAddr().(*net.TCPAddr); ok {
		ci.RemoteAddr = ta.IP.String()
		ci.RemotePort = strconv.Itoa(ta.Port)
	}
	return ci
}

// writeHTTPError sends one of the server's own error responses, in the shape
// uWSGI's core/errors.c uses, and the connection then closes.
func writeHTTPError(bw *bufio.Writer, status int, head bool) {
	text := http.StatusText(status)
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(status))
	bw.WriteString(" ")
	bw.WriteString(text)
	bw.WriteString("\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(text)))
	bw.WriteString("\r\n\r\n")
	if !head {
		bw.WriteString(text)
	}
	bw.Flush()
}

// httpConnState is what serving one HTTP connection needs, pooled.
type httpConnState struct {
	br   *bufio.Reader
	bw   *bufio.Writer
	dw   deadlineWriter
	tr   timeoutReader
	hr   environ.HTTPRequest
	rq   request
	resp httpResponder
	sp   spool
}

var httpConnPool = sync.Pool{New: func() any {
	return &httpConnState{br: bufio.NewReaderSize(nil, 8<<10), bw: bufio.NewWriterSize(nil, 8<<10)}
}}

func (st *httpConnState) release() {
	st.sp.close()
	st.br.Reset(nil)
	st.bw.Reset(nil)
	st.dw, st.tr = deadlineWriter{}, timeoutReader{}
	st.rq.body = bodySource{}
	st.resp.bw = nil
	httpConnPool.Put(st)
}

// httpResponder writes a worker's response as HTTP/1.x, framing it with the
// app's Content-Length, the whole body's length when the worker produced it
// at once, chunked encoding (1.1), or the connection's end (1.0).
type httpResponder struct {
	bw        *bufio.Writer
	minor     int
	isHead    bool
	keepAlive bool
	noBody    bool
	chunked   bool
	declared  int64
	written   int64
	started   bool
	aborted   bool
	hbuf      []byte
}

var _ responder = (*httpResponder)(nil)

func (r *httpResponder) reset(minor int, isHead, keepAlive bool) {
	r.minor, r.isHead, r.keepAlive = minor, isHead, keepAlive
	r.noBody, r.chunked, r.started, r.aborted = false, false, false, false
	r.declared, r.written = -1, 0
}

func (r *httpResponder) start(head *workerproto.ResponseHead, size int64) error {
	r.started = true
	b := r.hbuf[:0]
	if r.minor == 0 {
		b = append(b, "HTTP/1.0 "...)
	} else {
		b = append(b, "HTTP/1.1 "...)
	}
	b = head.AppendStatus(b)
	b = append(b, "\r\n"...)
	b = append(b, head.Lines...)
	code := head.Code
	r.noBody = r.isHead || code < 200 || code == 204 || code == 304
	if head.Close {
		r.keepAlive = false
	}
	switch {
	case head.Chunked:
		// The app frames the body itself (PEP 3333 forbids it; pass it on
		// and end the connection after it to be safe).
		r.keepAlive = false
	case head.ContentLength >= 0:
		r.declared = head.ContentLength
	case code < 200 || code == 204 || code == 304:
	case size >= 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, size, 10)
		b = append(b, "\r\n"...)
		r.declared = size
	case r.isHead:
	case r.minor >= 1:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
		r.chunked = true
	default:
		r.keepAlive = false
	}
	if !r.keepAlive && r.minor >= 1 && !head.Close {
		b = append(b, "Connection: close\r\n"...)
	} else if r.keepAlive && r.minor == 0 {
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	r.hbuf = b
	_, err := r.bw.Write(b)
	return err
}

func (r *httpResponder) Write(p []byte) (int, error) {
	n := len(p)
	if r.noBody {
		return n, nil
	}
	if r.declared >= 0 && r.written+int64(len(p)) > r.declared {
		// More than the app's Content-Length: the client would read the
		// excess as the next response.
		p = p[:r.declared-r.written]
		r.keepAlive = false
	}
	if len(p) == 0 {
		return n, nil
	}
	r.written += int64(len(p))
	if r.chunked {
		var hex [20]byte
		r.bw.Write(strconv.AppendInt(hex[:0], int64(len(p)), 16))
		r.bw.WriteString("\r\n")
		r.bw.Write(p)
		_, err := r.bw.WriteString("\r\n")
		return n, err
	}
	_, err := r.bw.Write(p)
	return n, err
}

func (r *httpResponder) flush() error { return r.bw.Flush() }

func (r *httpResponder) finish() error {
	if r.chunked {
		r.bw.WriteString("0\r\n\r\n")
	} else if r.declared >= 0 && r.written < r.declared && !r.noBody {
		// Less than the app's Content-Length: the response cannot end
		// cleanly.
		r.abort()
		return io.ErrShortWrite
	}
	return r.bw.Flush()
}

func (r *httpResponder) abort() {
	r.aborted = true
	r.keepAlive = false
	r.bw.Flush()
}

func (r *httpResponder) fail(status int) {
	if r.started {
		r.abort()
		return
	}
	r.started = true
	r.keepAlive = false
	writeHTTPError(r.bw, status, r.isHead)
}

// deadlineWriter gives each write to a client a deadline, so a client that
// stops reading cannot hold a core forever.
type deadlineWriter struct {
	c net.Conn
	d time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.d))
	return w.c.Write(p)
}

// timeoutReader gives each body read a deadline (uWSGI's socket-timeout).
type timeoutReader struct {
	r io.Reader
	c net.Conn
	d time.Duration
}

func (t *timeoutReader) Read(p []byte) (int, error) {
	t.c.SetReadDeadline(time.Now().Add(t.d))
	return t.r.Read(p)
}
