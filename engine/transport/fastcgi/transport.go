package fastcgi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
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

// Call is one request through a Transport without net/http's types, for a
// proxy that answers many requests: it fills in the Request, Starts the
// call, reads the body with Read and Closes it, then reuses the Call for
// the next request. A Call keeps its buffers, so from its second request on
// it allocates next to nothing. It is not safe for concurrent use.
type Call struct {
	Request

	// Logf, when set, receives this call's STDERR records and warnings
	// instead of the Transport's Logf.
	Logf Logf

	// Head is the answer's CGI head once Start succeeded; it stays valid
	// until the Call's next Start.
	Head *Head

	// KeepSocket keeps the TCP socket of an answer that ended cleanly for
	// the Call's next Start, which connects it again rather than open a
	// new one: the same packets, fewer system calls. It is for a Call
	// reused from request to request, as the proxy's are. A kept socket is
	// closed by a Start to another kind of address, by Discard, or when
	// the Call is garbage collected.
	KeepSocket bool

	x      upstream.Exchange
	params []byte
	packet []byte
	rest   []byte
	rr     recordReader
	body   responseBody
}

var _ io.ReadCloser = (*Call)(nil)

// Discard closes the socket KeepSocket kept, if any. The Call stays
// usable.
func (c *Call) Discard() { c.x.Conn.Discard() }

// Start sends c's request to the responder (t.Addr, which must not be
// empty) and reads the answer's head into c.Head. Upstream failures are
// *Error. Whatever happens, c is ready for Read and Close afterwards: after
// a failure Read fails and Close does nothing more.
func (t *Transport) Start(c *Call) error {
	return t.start(nil, c, t.Addr, t.callLogf(c))
}

// Read reads the body of the answer: the STDOUT content after the head, up
// to the responder's Content-Length if it sent one. The connection is
// closed as soon as the responder ends the request. A failure is an
// *Error.
func (c *Call) Read(p []byte) (int, error) { return c.body.Read(p) }

// Close closes the connection, if the body has not already ended.
func (c *Call) Close() error { return c.body.Close() }

// RoundTrip sends r as one FastCGI request and returns the responder's CGI
// answer. The params come from r's context (WithParams), the client headers
// from WithClientHeaders or r itself. Upstream failures are *Error; a
// failure reading the client's body wraps ErrClientBody; a cancelled request
// returns the context's error.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := upstream.ReadBody(r, t.BodyBufferSize, t.BodyTempDir)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	c := &Call{Request: upstream.Request{
		Method: r.Method, ContentLength: r.ContentLength,
		Params: upstream.ParamsFromContext(r.Context()), Header: upstream.ClientHeaders(r), Body: *body,
	}}
	addr := t.Addr
	if addr == "" && r.URL != nil {
		addr = r.URL.Host
	}
	if err := t.start(r.Context(), c, addr, t.logf(r.Context())); err != nil {
		return nil, err
	}
	resp := c.Head.Response(r)
	resp.Body = c
	return resp, nil
}

// start runs the exchange as ngx_http_upstream does for the fastcgi module:
// build the PARAMS content (refusing one nginx would not build before
// anything is dialled), connect, send, read the head.
func (t *Transport) start(ctx context.Context, c *Call, addr string, logf Logf) error {
	c.Head = nil
	c.x.Begin(ctx, upstream.NewTarget("fastcgi", addr), t.ReadTimeout, t.SendTimeout, c.OnWait)
	c.x.Conn.KeepSocket = c.KeepSocket
	c.body = responseBody{BodyEnd: upstream.BodyEnd{X: &c.x}, logf: logf}
	fail := func(err error) error {
		c.body.Finish(err)
		return err
	}
	if err := t.createRequest(c); err != nil {
		return fail(err)
	}
	if err := c.x.Connect(t.Dial, t.ConnectTimeout); err != nil {
		return fail(err)
	}
	if err := t.writeRequest(c, &c.x.Conn); err != nil {
		return fail(c.x.SendError(err))
	}
	if err := t.readResponse(c, &c.x.Conn, logf); err != nil {
		return fail(err)
	}
	return nil
}

// createRequest builds the PARAMS content as ngx_http_fastcgi_create_request
// does, into c.params: the params in order, then the client headers not
// hidden by a param. All of it must fit in one record.
func (t *Transport) createRequest(c *Call) error {
	p := c.params[:0]
	var name []byte
	c.EachVar(t.OmitRequestHeaders, func(key, value string, header bool) {
		if header {
			name = upstream.AppendHeaderVarName(name[:0], key)
			p = appendPairBytes(p, name, value)
			return
		}
		p = appendPair(p, key, value)
	})
	c.params = p
	if len(p) > maxContent {
		return &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("fastcgi request record is too big: %d", len(p)), Upstream: c.x.Target.Name()}
	}
	return nil
}

// readResponse reads the records of the answer from conn until its head is
// complete, into c.Head, and prepares c's body. The connection is released
// once the body is done or closed.
func (t *Transport) readResponse(c *Call, conn io.Reader, logf Logf) error {
	c.rr.reset(conn)
	h, rest, err := t.readHead(c, logf)
	if err != nil {
		return c.x.HeadError(err)
	}
	c.Head = h
	// nginx's input_filter_init: no body for 204 and 304, and none passed
	// on for HEAD; the records are still read to the end, so that STDERR
	// is logged and extra STDOUT is warned about.
	b := &c.body
	b.rr, b.remaining = &c.rr, h.ContentLength
	switch {
	case h.StatusCode == http.StatusNoContent || h.StatusCode == http.StatusNotModified:
		b.remaining = 0
	case c.Method == http.MethodHead:
		b.discard, b.remaining = true, -1
	}
	if b.remaining >= 0 && int64(len(rest)) > b.remaining {
		logf(moreDataThanLength)
		rest = rest[:b.remaining]
	}
	if !b.discard {
		b.pending = rest
	}
	return nil
}

// readTestResponse is readResponse for a test's reader: the answer to r
// from conn, logging to logf, with release called at the end of the body.
func (t *Transport) readTestResponse(conn io.Reader, r *http.Request, logf Logf, release func()) (*http.Response, error) {
	c := &Call{Request: upstream.Request{Method: r.Method}}
	c.x.Begin(nil, upstream.NewTarget("fastcgi", "test"), 0, 0, nil)
	c.x.OnRelease = release
	c.body = responseBody{BodyEnd: upstream.BodyEnd{X: &c.x}, logf: logf}
	if err := t.readResponse(c, conn, logf); err != nil {
		c.body.Finish(err)
		return nil, err
	}
	resp := c.Head.Response(r)
	resp.Body = c
	return resp, nil
}

// readHead reads records until the CGI head is complete, logging STDERR,
// within BufferSize bytes as nginx's single header buffer allows. It returns
// the head and the STDOUT bytes after it.
func (t *Transport) readHead(c *Call, logf Logf) (*upstream.Head, []byte, error) {
	limit := t.BufferSize
	if limit <= 0 {
		limit = DefaultBufferSize
	}
	rr := &c.rr
	p := &c.x.Parser
	p.Reset(false)
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
				c.rest = append(append(c.rest[:0], rest...), rec.content[len(part):]...)
				return h, c.rest, nil
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
func (t *Transport) writeRequest(c *Call, w io.Writer) error {
	params, body := c.params, &c.Body
	size := int64(0)
	if !t.OmitRequestBody {
		size = body.Size()
	}
	mem, inline := body.InMemory()
	buf := c.packet[:0]
	defer func() { c.packet = buf }()
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

// callLogf is where a Call's log lines go.
func (t *Transport) callLogf(c *Call) Logf {
	if c.Logf != nil {
		return c.Logf
	}
	if t.Logf != nil {
		return t.Logf
	}
	return discardLog
}

func discardLog(string, ...any) {}

func (t *Transport) logf(ctx context.Context) Logf {
	if l, ok := ctx.Value(logfKey{}).(Logf); ok && l != nil {
		return l
	}
	if t.Logf != nil {
		return t.Logf
	}
	return discardLog
}

// HiddenResponseHeaders are the upstream headers nginx's fastcgi module keeps
// from the client unless fastcgi_pass_header names them. The transport
// returns every header; leaving these out is the proxy's job, as it is with
// fastcgi_hide_header.
var HiddenResponseHeaders = upstream.HiddenResponseHeaders("Status")

// Head is an answer's status and headers.
type Head = upstream.Head

// Request is what a Call sends: the method, the evaluated params, the
// client's header lines and body.
type Request = upstream.Request

// Body is a client request body read to its end.
type Body = upstream.Body

// NewBody returns a body read by the caller: mem, then, when rest is not
// nil, the size-len(mem) bytes from the start of rest, which the caller
// keeps and closes.
func NewBody(mem []byte, rest *os.File, size int64) Body { return upstream.NewBody(mem, rest, size) }
