package appserver

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/wsgideck/wsgideck/engine/environ"
	"github.com/wsgideck/wsgideck/engine/fastcgi"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// serveFastCGI serves one fastcgi-socket connection: requests one after the
// other, the connection kept open when the client asks (FCGI_KEEP_CONN).
func (s *Server) serveFastCGI(cc *clientConn) {
	defer s.untrackConn(cc)
	cfg := s.cfg()
	br := bufio.NewReaderSize(cc, 16<<10)
	bw := bufio.NewWriterSize(&deadlineWriter{c: cc, d: writeTimeout(cfg)}, 16<<10)
	fr := fastcgi.NewReader(br)
	fw := fastcgi.NewWriter(bw)
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
		cc.SetReadDeadline(s.now().Add(cfg.SocketTimeout))
		req, err := fr.ReadRequest(fw, cfg.BufferSize)
		if err != nil {
			var big *fastcgi.ParamsTooLarge
			if errors.As(err, &big) {
				s.log.printf("invalid request block size: %d (max %d)...skip", big.Size, big.Max)
			} else if errors.Is(err, fastcgi.ErrProtocol) {
				s.log.printf("fastcgi request from %s on %s: %v", cc.RemoteAddr(), cc.l.addr, err)
			}
			return
		}
		if req.Role != fastcgi.RoleResponder {
			fw.EndRequest(req.ID, 0, fastcgi.StatusUnknownRole)
			fw.Flush()
			if !req.KeepConn {
				return
			}
			continue
		}
		rq := &request{socket: cc.l.index}
		rq.info = environ.FromParams(&rq.env, req.Params)
		rq.proto = rq.info.Proto
		if rq.proto == "" {
			rq.proto = "HTTP/1.0"
		}
		stdin := fr.NewStdin(req.ID)
		rq.body = bodySource{r: &timeoutReader{r: stdin, c: cc, d: cfg.SocketTimeout}, left: rq.info.ContentLength}
		cc.SetReadDeadline(timeZero)
		resp := &fcgiResponder{w: fw, id: req.ID}
		served := false
		if len(cfg.StaticMaps) > 0 {
			ims, _ := req.Params.Get("HTTP_IF_MODIFIED_SINCE")
			served = s.serveStatic(cfg, rq, resp, ims)
		}
		if !served {
			s.handle(rq, resp)
		}
		if resp.aborted || !req.KeepConn {
			return
		}
		// The STDIN stream must be read to its end before the next request.
		cc.SetReadDeadline(s.now().Add(cfg.SocketTimeout))
		if _, err := io.CopyN(io.Discard, stdin, 1<<20); err != io.EOF {
			return
		}
	}
}

// fcgiResponder writes the response CGI-style (a Status header, the app's
// headers, the body) in FCGI_STDOUT records, then FCGI_END_REQUEST.
type fcgiResponder struct {
	w       *fastcgi.Writer
	id      uint16
	started bool
	aborted bool
	hbuf    []byte
}

var _ responder = (*fcgiResponder)(nil)

func (r *fcgiResponder) start(head *workerproto.ResponseHead, size int64) error {
	r.started = true
	b := append(r.hbuf[:0], "Status: "...)
	b = head.AppendStatus(b)
	b = append(b, "\r\n"...)
	b = append(b, head.Lines...)
	b = append(b, "\r\n"...)
	r.hbuf = b
	return r.w.Stream(fastcgi.TypeStdout, r.id, b)
}

func (r *fcgiResponder) Write(p []byte) (int, error) {
	if err := r.w.Stream(fastcgi.TypeStdout, r.id, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (r *fcgiResponder) flush() error { return r.w.Flush() }

func (r *fcgiResponder) finish() error {
	if err := r.w.EndRequest(r.id, 0, fastcgi.StatusRequestComplete); err != nil {
		return err
	}
	return r.w.Flush()
}

func (r *fcgiResponder) abort() {
	r.aborted = true
	r.w.Flush()
}

func (r *fcgiResponder) fail(status int) {
	if r.started {
		r.abort()
		return
	}
	r.started = true
	text := http.StatusText(status)
	b := append(r.hbuf[:0], "Status: "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\nContent-Type: text/plain\r\n\r\n"...)
	b = append(b, text...)
	r.hbuf = b
	r.w.Stream(fastcgi.TypeStdout, r.id, b)
	r.finish()
}
