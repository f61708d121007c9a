package fastcgi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// nginx's defaults for the upstream timers, the response header buffer and
// client_body_buffer_size.
const (
	DefaultTimeout        = upstream.DefaultTimeout
	DefaultBufferSize     = upstream.DefaultBufferSize
	DefaultBodyBufferSize = upstream.DefaultBodyBufferSize
)

// Logf receives what nginx would write to its error log while talking to
// the upstream: STDERR records and protocol warnings.
type Logf func(format string, args ...any)

type logfKey struct{}

// WithLogf returns a context whose requests log through logf instead of the
// Transport's Logf, so the proxy can add nginx's per-request suffix
// (", client: ..., server: ..., request: ...") to each line.
func WithLogf(ctx context.Context, logf Logf) context.Context {
	return context.WithValue(ctx, logfKey{}, logf)
}

// Transport sends requests to one FastCGI responder. The zero value follows
// nginx's defaults; a Transport is safe for concurrent use and holds no
// connections between requests (fastcgi_keep_conn off).
type Transport struct {
	// Addr is the upstream as fastcgi_pass names it: "host:port" or
	// "unix:/path/to.sock". Empty means the request URL's host, for use
	// with ProxyRequest.SetURL.
	Addr string

	// Dial opens connections; nil means a net.Dialer. It is given the
	// connect timeout through ctx.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// ConnectTimeout, SendTimeout and ReadTimeout are
	// fastcgi_connect_timeout, fastcgi_send_timeout and
	// fastcgi_read_timeout; 0 means nginx's 60s. Send and read timeouts
	// bound the wait between two successive writes or reads, not the whole
	// exchange.
	ConnectTimeout, SendTimeout, ReadTimeout time.Duration

	// BufferSize is fastcgi_buffer_size: the records carrying the response
	// headers must fit in it or nginx answers 502. 0 means 4096.
	BufferSize int

	// OmitRequestHeaders is "fastcgi_pass_request_headers off": only the
	// params are sent.
	OmitRequestHeaders bool

	// OmitRequestBody is "fastcgi_pass_request_body off": the body is read
	// from the client but not sent.
	OmitRequestBody bool

	// BodyBufferSize is client_body_buffer_size: request bodies larger
	// than this are buffered in a temporary file in BodyTempDir (""
	// means os.TempDir()). 0 means 16 KiB.
	BodyBufferSize int
	BodyTempDir    string

	// Logf receives STDERR records ("FastCGI sent in stderr: ...") and
	// warnings; nil discards them. WithLogf overrides it per request.
	Logf Logf
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends r as one FastCGI request and returns the responder's CGI
// answer. The params come from r's context (WithParams), the client headers
// from WithClientHeaders or r itself. Upstream failures are *Error; a
// failure reading the client's body wraps ErrClientBody; a cancelled request
// returns the context's error.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	x := upstream.Exchange{
		Scheme: "fastcgi", Addr: t.Addr, Dial: t.Dial,
		ConnectTimeout: t.ConnectTimeout, SendTimeout: t.SendTimeout, ReadTimeout: t.ReadTimeout,
		BodyBufferSize: t.BodyBufferSize, BodyTempDir: t.BodyTempDir,
		CreateRequest: t.createRequest,
		ReadResponse: func(conn io.Reader, r *http.Request, name string, release func()) (*http.Response, error) {
			return t.readResponse(conn, r, t.logf(r.Context()), name, release)
		},
	}
	return x.RoundTrip(r)
}

// createRequest builds the PARAMS content as ngx_http_fastcgi_create_request
// does: the params in order, then the client headers not hidden by a param.
// All of it must fit in one record.
func (t *Transport) createRequest(r *http.Request, body *upstream.Body, name string) (func(io.Writer) error, error) {
	params := make([]byte, 0, 1024)
	for key, value := range upstream.Vars(r, body, t.OmitRequestHeaders) {
		params = appendPair(params, key, value)
	}
	if len(params) > maxContent {
		return nil, &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("fastcgi request record is too big: %d", len(params)), Upstream: name}
	}
	return func(w io.Writer) error { return t.writeRequest(w, params, body) }, nil
}

// readResponse reads the records of the answer to r from conn: the head at
// once, the body as the caller reads it. closeConn ends the connection once
// the body is done or closed.
func (t *Transport) readResponse(conn io.Reader, r *http.Request, logf Logf, name string, closeConn func()) (*http.Response, error) {
	rr := newRecordReader(conn)
	h, rest, err := t.readHead(rr, logf)
	if err != nil {
		return nil, upstream.HeadError(name, err)
	}
	resp := h.Response(r)
	// nginx's input_filter_init: no body for 204 and 304, and none passed
	// on for HEAD; the records are still read to the end, so that STDERR
	// is logged and extra STDOUT is warned about.
	b := &responseBody{BodyEnd: upstream.BodyEnd{Release: closeConn}, rr: rr, remaining: h.ContentLength, logf: logf, upstream: name, ctx: r.Context()}
	switch {
	case h.StatusCode == http.StatusNoContent || h.StatusCode == http.StatusNotModified:
		b.remaining = 0
	case r.Method == http.MethodHead:
		b.discard, b.remaining = true, -1
	}
	if b.remaining >= 0 && int64(len(rest)) > b.remaining {
		logf(moreDataThanLength)
		rest = rest[:b.remaining]
	}
	if !b.discard {
		b.pending = rest
	}
	resp.Body = b
	return resp, nil
}

// readHead reads records until the CGI head is complete, logging STDERR,
// within BufferSize bytes as nginx's single header buffer allows. It returns
// the head and the STDOUT bytes after it.
func (t *Transport) readHead(rr *recordReader, logf Logf) (*upstream.Head, []byte, error) {
	limit := t.BufferSize
	if limit <= 0 {
		limit = DefaultBufferSize
	}
	p := upstream.NewCGIHeadParser()
	used := 0 // bytes of nginx's header buffer taken so far
	sawStdout := false
	for {
		rec, err := rr.next()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, upstream.ErrPrematureClose
		}
		if err != nil {
			return nil, nil, err
		}
		switch rec.typ {
		case typeStderr:
			logf(stderrMessage(rec.content, ReadingHeader))
			used += rec.size
			if !sawStdout {
				// nginx reuses the buffer for a run of stderr before
				// any stdout ("the large number of PHP warnings").
				used = 0
			}
		case typeEndRequest:
			return nil, nil, upstream.ProtocolError(fmt.Sprintf("upstream sent unexpected FastCGI record: %d", rec.typ))
		case typeStdout:
			sawStdout = true
			if len(rec.content) == 0 {
				return nil, nil, upstream.ProtocolError("upstream prematurely closed FastCGI stdout")
			}
			room := limit - used - headerSize
			if room <= 0 {
				return nil, nil, upstream.ErrTooBigHeader
			}
			part := rec.content
			if len(part) > room {
				part = part[:room]
			}
			rest, done, err := p.Feed(part)
			if err != nil {
				return nil, nil, err
			}
			if done {
				h, err := p.Finish()
				if err != nil {
					return nil, nil, err
				}
				// The body's first bytes: copied, since rec.content is
				// reused by the next read.
				return h, append(append([]byte(nil), rest...), rec.content[len(part):]...), nil
			}
			used += rec.size
			if len(part) < len(rec.content) || used >= limit {
				return nil, nil, upstream.ErrTooBigHeader
			}
		}
	}
}

// writeRequest sends BEGIN_REQUEST, the params in one PARAMS record, the
// empty PARAMS record, the body as STDIN records of at most 32 KiB and the
// empty STDIN record, laid out as nginx lays them out. A body held in memory
// goes out in the same write as the rest.
func (t *Transport) writeRequest(w io.Writer, params []byte, body *upstream.Body) error {
	size := int64(0)
	if !t.OmitRequestBody {
		size = body.Size()
	}
	mem, inline := body.InMemory()
	capacity := 4*headerSize + 8 + len(params) + 7
	if inline {
		capacity += len(mem) + (len(mem)/maxStdinChunk+1)*(headerSize+7)
	}
	buf := make([]byte, 0, capacity)
	buf = appendBeginRequest(buf)
	buf = appendRecord(buf, typeParams, params)
	buf = appendRecord(buf, typeParams, nil)
	switch {
	case size == 0:
	case inline:
		for len(mem) > 0 {
			chunk := mem[:min(len(mem), maxStdinChunk)]
			buf = appendRecord(buf, typeStdin, chunk)
			mem = mem[len(chunk):]
		}
	default:
		if _, err := w.Write(buf); err != nil {
			return err
		}
		src := body.Reader()
		chunk := make([]byte, maxStdinChunk)
		record := make([]byte, 0, headerSize+maxStdinChunk+7)
		for {
			n, err := io.ReadFull(src, chunk)
			if n > 0 {
				record = appendRecord(record[:0], typeStdin, chunk[:n])
				if _, werr := w.Write(record); werr != nil {
					return werr
				}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return fmt.Errorf("reading the buffered body: %w", err)
			}
		}
		buf = buf[:0]
	}
	buf = appendRecord(buf, typeStdin, nil)
	_, err := w.Write(buf)
	return err
}

func (t *Transport) logf(ctx context.Context) Logf {
	if l, ok := ctx.Value(logfKey{}).(Logf); ok && l != nil {
		return l
	}
	if t.Logf != nil {
		return t.Logf
	}
	return func(string, ...any) {}
}

// HiddenResponseHeaders are the upstream headers nginx's fastcgi module keeps
// from the client unless fastcgi_pass_header names them. The transport
// returns every header; leaving these out is the proxy's job, as it is with
// fastcgi_hide_header.
var HiddenResponseHeaders = upstream.HiddenResponseHeaders("Status")
