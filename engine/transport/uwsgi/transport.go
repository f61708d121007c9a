package uwsgi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
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

// RoundTrip sends r as one uwsgi packet and returns the upstream's answer.
// The params come from r's context (WithParams), the client headers from
// WithClientHeaders or r itself. Upstream failures are *Error; a failure
// reading the client's body wraps ErrClientBody; a cancelled request returns
// the context's error.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	x := upstream.Exchange{
		Scheme: "uwsgi", Addr: t.Addr, Dial: t.Dial,
		ConnectTimeout: t.ConnectTimeout, SendTimeout: t.SendTimeout, ReadTimeout: t.ReadTimeout,
		BodyBufferSize: t.BodyBufferSize, BodyTempDir: t.BodyTempDir,
		CreateRequest: t.createRequest,
		ReadResponse:  t.readResponse,
	}
	return x.RoundTrip(r)
}

// createRequest builds the packet as ngx_http_uwsgi_create_request does:
// the header, the params in order, then the client headers not hidden by a
// param. A body held in memory goes out in the same write as the packet.
func (t *Transport) createRequest(r *http.Request, body *upstream.Body, name string) (func(io.Writer) error, error) {
	vars := make(uwsgiproto.Vars, 0, len(upstream.ParamsFromContext(r.Context()))+len(r.Header)+1)
	for key, value := range upstream.Vars(r, body, t.OmitRequestHeaders) {
		vars = append(vars, uwsgiproto.Var{Key: key, Value: value})
	}
	mem, inline := body.InMemory()
	inline = inline && !t.OmitRequestBody
	size := uwsgiproto.HeaderSize + vars.Size()
	if inline {
		size += len(mem)
	}
	packet, err := uwsgiproto.AppendRequest(make([]byte, 0, size), t.Modifier1, t.Modifier2, vars)
	if err != nil {
		return nil, &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("uwsgi request is too big: %d", vars.Size()), Upstream: name, Err: err}
	}
	if inline {
		packet = append(packet, mem...)
	}
	return func(w io.Writer) error {
		if _, err := w.Write(packet); err != nil {
			return err
		}
		if !inline && !t.OmitRequestBody {
			if _, err := body.WriteTo(w); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// readResponse reads the answer to r from conn: the head at once, the body
// as the caller reads it. closeConn ends the connection once the body is
// done or closed (at once when there is no body).
func (t *Transport) readResponse(conn io.Reader, r *http.Request, name string, closeConn func()) (*http.Response, error) {
	size := t.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	h, rest, err := upstream.ReadHead(conn, size)
	if err != nil {
		return nil, upstream.HeadError(name, err)
	}
	resp := h.Response(r)
	remaining := h.ContentLength
	// nginx's input_filter_init: no body for 204, 304 and HEAD.
	if h.StatusCode == http.StatusNoContent || h.StatusCode == http.StatusNotModified || r.Method == http.MethodHead {
		remaining = 0
	}
	if remaining == 0 {
		closeConn()
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = &responseBody{BodyEnd: upstream.BodyEnd{Release: closeConn}, buffered: rest, conn: conn, remaining: remaining, upstream: name, ctx: r.Context()}
	return resp, nil
}

// HiddenResponseHeaders are the upstream headers nginx's uwsgi module keeps
// from the client unless uwsgi_pass_header names them. The transport returns
// every header; leaving these out is the proxy's job, as it is with
// uwsgi_hide_header. (Unlike FastCGI's list, Status is not among them: nginx
// passes a uwsgi app's Status header on.)
var HiddenResponseHeaders = upstream.HiddenResponseHeaders()
