package uwsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// nginx's defaults for the upstream timers and the response header buffer.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultBufferSize = 4096 // one page, as on Debian amd64
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
	ctx := r.Context()
	network, address := t.target(r)
	upstream := upstreamName(network, address)

	body, err := t.readBody(r)
	if err != nil {
		return nil, err
	}
	defer body.Close()

	vars := t.vars(r, body)
	// A body held in memory goes out in the same write as the packet.
	inline := !t.OmitRequestBody && body.file == nil
	size := uwsgiproto.HeaderSize + vars.Size()
	if inline {
		size += len(body.mem)
	}
	packet, err := uwsgiproto.AppendRequest(make([]byte, 0, size), t.Modifier1, t.Modifier2, vars)
	if err != nil {
		return nil, &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("uwsgi request is too big: %d", vars.Size()), Upstream: upstream, Err: err}
	}

	raw, err := t.dial(ctx, network, address, upstream)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	conn := &timedConn{Conn: raw, readTimeout: orDefault(t.ReadTimeout), sendTimeout: orDefault(t.SendTimeout)}
	fail := func(err error) (*http.Response, error) {
		stop()
		raw.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	if inline {
		packet = append(packet, body.mem...)
	}
	if _, err := conn.Write(packet); err != nil {
		return fail(ioError(Sending, upstream, "writev", err))
	}
	if !inline && !t.OmitRequestBody {
		if _, err := body.WriteTo(conn); err != nil {
			return fail(ioError(Sending, upstream, "writev", err))
		}
	}
	body.Close()

	resp, err := t.readResponse(conn, r, upstream, func() { stop(); raw.Close() })
	if err != nil {
		return fail(err)
	}
	return resp, nil
}

// readResponse reads the answer to r from conn: the head at once, the body
// as the caller reads it. closeConn ends the connection once the body is
// done or closed (at once when there is no body).
func (t *Transport) readResponse(conn io.Reader, r *http.Request, upstream string, closeConn func()) (*http.Response, error) {
	size := t.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	h, rest, err := readHead(conn, size)
	if err != nil {
		return nil, headError(upstream, err)
	}
	resp := &http.Response{
		Status:        h.statusLine,
		StatusCode:    h.status,
		Proto:         "HTTP/" + strconv.Itoa(h.protoMajor) + "." + strconv.Itoa(h.protoMinor),
		ProtoMajor:    h.protoMajor,
		ProtoMinor:    h.protoMinor,
		Header:        h.header,
		ContentLength: h.contentLength,
		Close:         true,
		Request:       r,
	}
	if !strings.Contains(resp.Status, " ") {
		// A bare "404" from a Status header: add the reason as net/http does.
		resp.Status += " " + http.StatusText(resp.StatusCode)
	}
	remaining := h.contentLength
	// nginx's input_filter_init: no body for 204, 304 and HEAD.
	if h.status == http.StatusNoContent || h.status == http.StatusNotModified || r.Method == http.MethodHead {
		remaining = 0
	}
	if remaining == 0 {
		closeConn()
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = &responseBody{buffered: rest, conn: conn, remaining: remaining, upstream: upstream, ctx: r.Context(), closeConn: closeConn}
	return resp, nil
}

// target splits the upstream address into a network and an address.
func (t *Transport) target(r *http.Request) (network, address string) {
	addr := t.Addr
	if addr == "" && r.URL != nil {
		addr = r.URL.Host
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", addr
}

// upstreamName is how nginx names the peer in its log.
func upstreamName(network, address string) string {
	if network == "unix" {
		return "uwsgi://unix:" + address + ":"
	}
	return "uwsgi://" + address
}

func (t *Transport) readBody(r *http.Request) (*requestBody, error) {
	limit := t.BodyBufferSize
	if limit <= 0 {
		limit = DefaultBodyBufferSize
	}
	return readRequestBody(r, limit, t.BodyTempDir)
}

// vars builds the vars block as ngx_http_uwsgi_create_request does: the
// params in order, then the client headers not hidden by a param.
func (t *Transport) vars(r *http.Request, body *requestBody) uwsgiproto.Vars {
	params := ParamsFromContext(r.Context())
	var fields []HeaderField
	if !t.OmitRequestHeaders {
		fields = clientHeaders(r)
	}
	vars := make(uwsgiproto.Vars, 0, len(params)+len(fields))
	bodyLength := int64(-1)
	if r.ContentLength < 0 {
		bodyLength = body.size
	}
	vars = appendParamVars(vars, params, bodyLength)
	hidden := hiddenBy(params)
	for _, f := range fields {
		if !hidden.hides(f.Name) {
			vars = append(vars, uwsgiproto.Var{Key: headerVarName(f.Name), Value: f.Value})
		}
	}
	return vars
}

func (t *Transport) dial(ctx context.Context, network, address, upstream string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, orDefault(t.ConnectTimeout))
	defer cancel()
	dial := t.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(dctx, network, address)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if dctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return nil, &Error{Status: http.StatusGatewayTimeout, Phase: Connecting, Reason: timedOut, Upstream: upstream, Err: err}
	}
	// nginx's non-blocking TCP connect reports the failure later, as
	// "connect() failed"; a unix socket fails at once and is named.
	reason := "connect() failed (" + errnoText(err) + ")"
	if network == "unix" {
		reason = "connect() to unix:" + address + " failed (" + errnoText(err) + ")"
	}
	return nil, &Error{Status: http.StatusBadGateway, Phase: Connecting, Reason: reason, Upstream: upstream, Err: err}
}

// headError maps a readHead failure to nginx's answer.
func headError(upstream string, err error) *Error {
	switch {
	case errors.Is(err, errPrematureClose), errors.Is(err, errTooBigHeader), errors.Is(err, errInvalidHeader):
		return &Error{Status: http.StatusBadGateway, Phase: ReadingHeader, Reason: err.Error(), Upstream: upstream, Err: err}
	}
	return ioError(ReadingHeader, upstream, "recv", err)
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// HiddenResponseHeaders are the upstream headers nginx's uwsgi module keeps
// from the client unless uwsgi_pass_header names them. The transport returns
// every header; leaving these out is the proxy's job, as it is with
// uwsgi_hide_header. (Unlike FastCGI's list, Status is not among them: nginx
// passes a uwsgi app's Status header on.)
var HiddenResponseHeaders = []string{
	"X-Accel-Expires",
	"X-Accel-Redirect",
	"X-Accel-Limit-Rate",
	"X-Accel-Buffering",
	"X-Accel-Charset",
}
