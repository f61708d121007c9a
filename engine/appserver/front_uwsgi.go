package appserver

import (
	"bufio"
	"errors"
	"io"
	"sync"

	"github.com/wsgideck/wsgideck/engine/environ"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// serveUWSGI serves one uwsgi-protocol connection: one request, exactly as
// nginx's uwsgi_pass sends it (header, vars, CONTENT_LENGTH bytes of body),
// answered with raw HTTP and the connection's close.
func (s *Server) serveUWSGI(cc *clientConn) { s.serveUWSGIFrom(cc, nil) }

// serveUWSGIFrom is serveUWSGI for a connection whose first bytes (pre)
// were already read, by the event loop that handed it over.
func (s *Server) serveUWSGIFrom(cc *clientConn, pre []byte) {
	defer s.untrackConn(cc)
	st := uwsgiConnPool.Get().(*uwsgiConnState)
	defer st.release()
	cfg := s.cfg()
	cc.leaveIdle()
	cc.SetReadDeadline(s.now().Add(cfg.SocketTimeout))
	br := st.br
	if len(pre) > 0 {
		br.Reset(&prefixReader{pre: pre, r: cc})
	} else {
		br.Reset(cc)
	}
	h, vars, err := uwsgiproto.ReadRequest(br, cfg.BufferSize)
	if err != nil {
		var bse *uwsgiproto.BlockSizeError
		switch {
		case errors.As(err, &bse):
			s.log.printf("%s", bse.Error())
			if hint := bse.Hint(); hint != "" {
				s.log.printf("hint (%s from %s): %s", cc.l.addr, cc.RemoteAddr(), hint)
			}
		case errors.Is(err, uwsgiproto.ErrNullKey):
			s.log.printf("uwsgi key cannot be null. skip this var.")
		case isTimeout(err):
			s.log.printf("uwsgi request from %s on %s: no complete request within socket-timeout (%v)", cc.RemoteAddr(), cc.l.addr, cfg.SocketTimeout)
		}
		return
	}
	if h.Modifier1 != 0 {
		s.log.printf("-- unavailable modifier requested: %d --", h.Modifier1)
		return
	}
	rq := &st.rq
	rq.fromUWSGI(cc.l.index, vars, h)
	if n := int(min(int64(br.Buffered()), rq.info.ContentLength, firstChunkMax)); n > 0 {
		b, _ := br.Peek(n)
		rq.first = append(rq.first, b...)
		br.Discard(n)
	}
	st.tr = timeoutReader{r: br, c: cc, d: cfg.SocketTimeout}
	rq.body = bodySource{r: &st.tr, left: rq.info.ContentLength - int64(len(rq.first))}
	cc.SetReadDeadline(timeZero)

	st.dw = deadlineWriter{c: cc, d: writeTimeout(cfg)}
	st.bw.Reset(&st.dw)
	resp := &st.resp
	*resp = rawResponder{bw: st.bw, proto: rq.proto, hbuf: resp.hbuf}
	if len(cfg.StaticMaps) > 0 {
		ims, _ := vars.Get("HTTP_IF_MODIFIED_SINCE")
		if s.serveStatic(cfg, rq, resp, ims) {
			return
		}
	}
	s.handle(rq, resp)
}

// prefixReader reads pre, then r.
type prefixReader struct {
	pre []byte
	r   io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// fromUWSGI resets rq for a request read from uwsgi socket number socket:
// its environ from the vars block, and SERVER_PROTOCOL (HTTP/1.0 when
// nginx sent none) for the status line.
func (rq *request) fromUWSGI(socket int, vars uwsgiproto.Vars, h uwsgiproto.Header) {
	rq.reset()
	rq.socket = socket
	rq.info = environ.FromVars(&rq.env, vars, int(h.Size))
	rq.proto = rq.info.Proto
	if rq.proto == "" {
		rq.proto = "HTTP/1.0"
	}
}

// uwsgiConnState is what serving one uwsgi connection needs, pooled:
// nginx opens a connection per request, so allocating these each time
// would show.
type uwsgiConnState struct {
	br   *bufio.Reader
	bw   *bufio.Writer
	dw   deadlineWriter
	tr   timeoutReader
	rq   request
	resp rawResponder
}

var uwsgiConnPool = sync.Pool{New: func() any {
	return &uwsgiConnState{br: bufio.NewReaderSize(nil, 8<<10), bw: bufio.NewWriterSize(nil, 8<<10)}
}}

func (st *uwsgiConnState) release() {
	st.br.Reset(nil)
	st.bw.Reset(nil)
	st.dw, st.tr = deadlineWriter{}, timeoutReader{}
	st.rq.body = bodySource{}
	st.resp.bw = nil
	uwsgiConnPool.Put(st)
}

// rawResponder writes the response as uWSGI does on a uwsgi socket: the
// status line with the request's SERVER_PROTOCOL, the app's headers as they
// are (no Content-Length or Connection added), the body; the connection's
// close ends it.
type rawResponder struct {
	bw      *bufio.Writer
	proto   string
	started bool
	hbuf    []byte
}

var _ responder = (*rawResponder)(nil)

func (r *rawResponder) start(head *workerproto.ResponseHead, size int64) error {
	r.started = true
	b := append(r.hbuf[:0], r.proto...)
	b = append(b, ' ')
	b = head.AppendStatus(b)
	b = append(b, "\r\n"...)
	b = append(b, head.Lines...)
	b = append(b, "\r\n"...)
	r.hbuf = b
	_, err := r.bw.Write(b)
	return err
}

func (r *rawResponder) Write(p []byte) (int, error) { return r.bw.Write(p) }
func (r *rawResponder) flush() error                { return r.bw.Flush() }
func (r *rawResponder) finish() error               { return r.bw.Flush() }
func (r *rawResponder) abort()                      { r.bw.Flush() }

// fail answers with uWSGI's own error shape. (On an app exception uWSGI
// itself writes nothing, which nginx turns into a 502; a 500 says what
// happened.)
func (r *rawResponder) fail(status int) {
	if r.started {
		r.abort()
		return
	}
	r.started = true
	writeHTTPError(r.bw, status, false)
}
