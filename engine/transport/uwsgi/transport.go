package uwsgi

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// nginx's defaults for the upstream timers, the response header buffer and
// client_body_buffer_size.
const (
	DefaultTimeout        = upstream.DefaultTimeout
	DefaultBufferSize     = upstream.DefaultBufferSize
	DefaultBodyBufferSize = upstream.DefaultBodyBufferSize
)

// Transport sends requests to one uwsgi upstream. The zero value follows
// nginx's defaults; a Transport is safe for concurrent use and holds no
// connections between requests.
type Transport struct {
	// Addr is the upstream as uwsgi_pass names it: "host:port" or
	// "unix:/path/to.sock". Empty means the request URL's host, for use
	// with ProxyRequest.SetURL.
	Addr string

	// Dial opens connections; nil means a net.Dialer. It is given the
	// connect timeout through ctx.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// ConnectTimeout, SendTimeout and ReadTimeout are uwsgi_connect_timeout,
	// uwsgi_send_timeout and uwsgi_read_timeout; 0 means nginx's 60s.
	// Send and read timeouts bound the wait between two successive writes
	// or reads, not the whole exchange.
	ConnectTimeout, SendTimeout, ReadTimeout time.Duration

	// BufferSize is uwsgi_buffer_size: the status line and headers must fit
	// in it or nginx answers 502. 0 means 4096.
	BufferSize int

	// Modifier1 and Modifier2 are uwsgi_modifier1 and uwsgi_modifier2.
	Modifier1, Modifier2 uint8

	// OmitRequestHeaders is "uwsgi_pass_request_headers off": only the
	// params are sent.
	OmitRequestHeaders bool

	// OmitRequestBody is "uwsgi_pass_request_body off": the body is read
	// from the client but not sent.
	OmitRequestBody bool

	// BodyBufferSize is client_body_buffer_size: request bodies larger
	// than this are buffered in a temporary file in BodyTempDir (""
	// means os.TempDir()). 0 means 16 KiB.
	BodyBufferSize int
	BodyTempDir    string
}

var _ http.RoundTripper = (*Transport)(nil)

// Call is one request through a Transport without net/http's types, for a
// proxy that answers many requests: it fills in the Request, Starts the
// call, reads the body with Read and Closes it, then reuses the Call for
// the next request. A Call keeps its buffers, so from its second request on
// it allocates next to nothing. It is not safe for concurrent use.
type Call struct {
	Request

	// Head is the answer's status line and headers once Start succeeded;
	// it stays valid until the Call's next Start.
	Head *Head

	// KeepSocket keeps the TCP socket of an answer that ended cleanly for
	// the Call's next Start, which connects it again rather than open a
	// new one: the same packets, fewer system calls. It is for a Call
	// reused from request to request, as the proxy's are. A kept socket is
	// closed by a Start to another kind of address, by Discard, or when
	// the Call is garbage collected.
	KeepSocket bool

	x       upstream.Exchange
	packet  []byte
	headBuf []byte
	body    responseBody
}

var _ io.ReadCloser = (*Call)(nil)

// Discard closes the socket KeepSocket kept, if any. The Call stays
// usable.
func (c *Call) Discard() { c.x.Conn.Discard() }

// Start sends c's request to the upstream (t.Addr, which must not be empty)
// and reads the answer's head into c.Head. Upstream failures are *Error.
// Whatever happens, c is ready for Read and Close afterwards: after a
// failure Read fails and Close does nothing more.
func (t *Transport) Start(c *Call) error {
	return t.start(nil, c, t.Addr)
}

// Read reads the body of the answer: the upstream's bytes up to its
// Content-Length or to the end of the connection. The connection is closed
// as soon as the body ends. A failure is an *Error.
func (c *Call) Read(p []byte) (int, error) { return c.body.Read(p) }

// Close closes the connection, if the body has not already ended.
func (c *Call) Close() error { return c.body.Close() }

// RoundTrip sends r as one uwsgi packet and returns the upstream's answer.
// The params come from r's context (WithParams), the client headers from
// WithClientHeaders or r itself. Upstream failures are *Error; a failure
// reading the client's body wraps ErrClientBody; a cancelled request returns
// the context's error.
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
	if err := t.start(r.Context(), c, addr); err != nil {
		return nil, err
	}
	resp := c.Head.Response(r)
	resp.Body = c
	if c.body.remaining == 0 {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// start runs the exchange as ngx_http_upstream does for the uwsgi module:
// build the packet (refusing one nginx would not build before anything is
// dialled), connect, send, read the head.
func (t *Transport) start(ctx context.Context, c *Call, addr string) error {
	c.Head = nil
	c.x.Begin(ctx, upstream.NewTarget("uwsgi", addr), t.ReadTimeout, t.SendTimeout, c.OnWait)
	c.x.Conn.KeepSocket = c.KeepSocket
	c.body = responseBody{BodyEnd: upstream.BodyEnd{X: &c.x}}
	fail := func(err error) error {
		c.body.Finish(err)
		return err
	}
	inline, err := t.createRequest(c)
	if err != nil {
		return fail(err)
	}
	if err := c.x.Connect(t.Dial, t.ConnectTimeout); err != nil {
		return fail(err)
	}
	if _, err := c.x.Conn.Write(c.packet); err != nil {
		return fail(c.x.SendError(err))
	}
	if !inline && !t.OmitRequestBody {
		if _, err := c.Body.WriteTo(&c.x.Conn); err != nil {
			return fail(c.x.SendError(err))
		}
	}
	if err := t.readResponse(c, &c.x.Conn); err != nil {
		return fail(err)
	}
	return nil
}

// createRequest builds the packet as ngx_http_uwsgi_create_request does,
// into c.packet: the header, the params in order, then the client headers
// not hidden by a param. A body held in memory goes in the same packet, so
// that one write sends it all; inline says so.
func (t *Transport) createRequest(c *Call) (inline bool, err error) {
	p := append(c.packet[:0], 0, 0, 0, 0)
	tooLong := false
	c.EachVar(t.OmitRequestHeaders, func(key, value string, header bool) {
		n := len(key)
		if header {
			n = upstream.HeaderVarNameLen(key)
		}
		if n > 0xffff || len(value) > 0xffff {
			tooLong = true
		}
		p = binary.LittleEndian.AppendUint16(p, uint16(n))
		if header {
			p = upstream.AppendHeaderVarName(p, key)
		} else {
			p = append(p, key...)
		}
		p = binary.LittleEndian.AppendUint16(p, uint16(len(value)))
		p = append(p, value...)
	})
	c.packet = p
	size := len(p) - uwsgiproto.HeaderSize
	if size > uwsgiproto.MaxVarsSize || tooLong {
		return false, &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("uwsgi request is too big: %d", size), Upstream: c.x.Target.Name(), Err: uwsgiproto.ErrTooBig}
	}
	h := uwsgiproto.Header{Modifier1: t.Modifier1, Size: uint16(size), Modifier2: t.Modifier2}.Encode()
	copy(p, h[:])
	mem, whole := c.Body.InMemory()
	if whole && !t.OmitRequestBody {
		c.packet = append(c.packet, mem...)
		return true, nil
	}
	return false, nil
}

// readResponse reads the answer's head from conn into c.Head, and prepares
// c's body: the rest of the answer up to the upstream's Content-Length or
// to EOF. The connection is released at once when there is no body.
func (t *Transport) readResponse(c *Call, conn io.Reader) error {
	size := t.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	if cap(c.headBuf) != size {
		c.headBuf = make([]byte, 0, size)
	}
	h, rest, err := upstream.ReadHeadInto(conn, c.headBuf, &c.x.Parser)
	if err != nil {
		return c.x.HeadError(err)
	}
	c.Head = h
	remaining := h.ContentLength
	// nginx's input_filter_init: no body for 204, 304 and HEAD.
	if h.StatusCode == http.StatusNoContent || h.StatusCode == http.StatusNotModified || c.Method == http.MethodHead {
		remaining = 0
	}
	c.body.buffered, c.body.conn, c.body.remaining = rest, conn, remaining
	if remaining == 0 {
		c.body.Finish(io.EOF)
	}
	return nil
}

// readTestResponse is readResponse for a test's reader: the answer to r
// from conn, with release called at the end of the body.
func (t *Transport) readTestResponse(conn io.Reader, r *http.Request, release func()) (*http.Response, error) {
	c := &Call{Request: upstream.Request{Method: r.Method}}
	c.x.Begin(nil, upstream.NewTarget("uwsgi", "test"), 0, 0, nil)
	c.x.OnRelease = release
	c.body = responseBody{BodyEnd: upstream.BodyEnd{X: &c.x}}
	if err := t.readResponse(c, conn); err != nil {
		c.body.Finish(err)
		return nil, err
	}
	resp := c.Head.Response(r)
	resp.Body = c
	return resp, nil
}

// Head is an answer's status line and headers.
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

// HiddenResponseHeaders are the upstream headers nginx's uwsgi module keeps
// from the client unless uwsgi_pass_header names them. The transport returns
// every header; leaving these out is the proxy's job, as it is with
// uwsgi_hide_header. (Unlike FastCGI's list, Status is not among them: nginx
// passes a uwsgi app's Status header on.)
var HiddenResponseHeaders = upstream.HiddenResponseHeaders()
