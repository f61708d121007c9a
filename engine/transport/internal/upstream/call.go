package upstream

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"
)

// DefaultTimeout is nginx's default for the connect, send and read timers.
const DefaultTimeout = 60 * time.Second

// DefaultBufferSize is nginx's default uwsgi_buffer_size and
// fastcgi_buffer_size: one page, as on Debian amd64.
const DefaultBufferSize = 4096

// Request is a request as the transports send it, without net/http's
// types: what ngx_http_uwsgi_create_request and
// ngx_http_fastcgi_create_request read from nginx's request.
type Request struct {
	// Method is the client's method; no body is passed on for HEAD.
	Method string

	// ContentLength is the client body's declared length, or -1 when it
	// had none (a chunked request): an empty CONTENT_LENGTH param is then
	// filled with the buffered body's size, as nginx evaluates
	// $content_length after reading the whole body.
	ContentLength int64

	// Params are the evaluated uwsgi_param or fastcgi_param list.
	Params Params

	// Header are the client's header lines in wire order, hop-by-hop ones
	// and repeats included; each becomes an HTTP_* variable unless a param
	// hides it.
	Header []HeaderField

	// Body is the client's body, read to its end.
	Body Body

	// OnWait, when set, is called each time a read from the upstream finds
	// nothing to read, before it waits (see Conn.OnWait).
	OnWait func()
}

// Target is an upstream address as uwsgi_pass or fastcgi_pass names it.
type Target struct {
	Scheme  string // "uwsgi" or "fastcgi", for nginx's log
	Network string // "tcp" or "unix"
	Address string // "host:port" or the socket's path
}

// NewTarget splits addr, "host:port" or "unix:/path/to.sock".
func NewTarget(scheme, addr string) Target {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return Target{Scheme: scheme, Network: "unix", Address: path}
	}
	return Target{Scheme: scheme, Network: "tcp", Address: addr}
}

// Name is how nginx names the peer in its log: "uwsgi://127.0.0.1:3031",
// "fastcgi://unix:/run/app.sock:".
func (t Target) Name() string {
	if t.Network == "unix" {
		return t.Scheme + "://unix:" + t.Address + ":"
	}
	return t.Scheme + "://" + t.Address
}

// Exchange is the state of one request to an upstream, run the way
// ngx_http_upstream runs it for the uwsgi and fastcgi modules with
// keepalive off: connect, send, read the head, stream the body, and close
// at its end. Each transport's Call embeds one and adds its wire format, as
// each nginx module adds its create_request and process_header to the
// shared upstream code. An Exchange is reused from request to request.
type Exchange struct {
	Target Target
	Conn   Conn
	Parser HeadParser

	// OnRelease, when set, runs once the connection is released.
	OnRelease func()

	ctx      context.Context
	stop     func() bool
	released bool
}

// Begin prepares x for a request to t with the read and send timeouts; ctx,
// when it can end, cancels the request by closing the connection (it may be
// nil).
func (x *Exchange) Begin(ctx context.Context, t Target, readTimeout, sendTimeout time.Duration, onWait func()) {
	if x.stop != nil {
		x.stop()
	}
	// a previous request that was not closed: its connection goes now
	x.Conn.Close()
	x.Target = t
	x.ctx, x.stop, x.released = ctx, nil, false
	x.Conn.ReadTimeout, x.Conn.SendTimeout, x.Conn.OnWait = readTimeout, sendTimeout, onWait
}

// Connect opens the connection within the connect timeout. Its failure is
// an *Error in nginx's words, or the context's error.
func (x *Exchange) Connect(dial DialFunc, timeout time.Duration) error {
	t := x.Target
	err := x.Conn.dial(x.ctx, dial, t.Network, t.Address, orDefault(timeout))
	if err == nil {
		if x.ctx != nil && x.ctx.Done() != nil {
			closer := x.Conn.closer()
			x.stop = context.AfterFunc(x.ctx, func() { closer.Close() })
		}
		return nil
	}
	if x.ctx != nil && x.ctx.Err() != nil {
		return x.ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusGatewayTimeout, Phase: Connecting, Reason: timedOut, Upstream: t.Name(), Err: err}
	}
	return x.connectError(err)
}

// connectError words a failed connect: nginx's non-blocking TCP connect
// reports the failure later, as "connect() failed"; a unix socket fails at
// once and is named.
func (x *Exchange) connectError(err error) *Error {
	t := x.Target
	reason := "connect() failed (" + errnoText(err) + ")"
	if t.Network == "unix" {
		reason = "connect() to unix:" + t.Address + " failed (" + errnoText(err) + ")"
	}
	return &Error{Status: http.StatusBadGateway, Phase: Connecting, Reason: reason, Upstream: t.Name(), Err: err}
}

// SendError words a failed write of the request. A raw socket's connect is
// settled by the first write, so before the connection is known to be
// established the failure is the connect's.
func (x *Exchange) SendError(err error) error {
	if x.ctx != nil && x.ctx.Err() != nil {
		return x.ctx.Err()
	}
	if !x.Conn.Established() {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &Error{Status: http.StatusGatewayTimeout, Phase: Connecting, Reason: timedOut, Upstream: x.Target.Name(), Err: err}
		}
		return x.connectError(err)
	}
	return IOError(Sending, x.Target.Name(), "writev", err)
}

// HeadError words a failure reading the response head (see HeadError), or
// returns the context's error for a cancelled request.
func (x *Exchange) HeadError(err error) error {
	if x.ctx != nil && x.ctx.Err() != nil {
		return x.ctx.Err()
	}
	return HeadError(x.Target.Name(), err)
}

// BodyError turns a failed read of the response body into what the caller
// gets: the context's error for a cancelled request, else nginx's "recv()
// failed" (or its timeout).
func (x *Exchange) BodyError(err error) error {
	if x.ctx != nil && x.ctx.Err() != nil {
		return x.ctx.Err()
	}
	return IOError(ReadingBody, x.Target.Name(), "recv", err)
}

// Release closes the connection, once.
func (x *Exchange) Release() {
	if x.released {
		return
	}
	x.released = true
	if x.stop != nil {
		if !x.stop() {
			// the request was cancelled: the socket is closed
			x.Conn.failed = true
		}
		x.stop = nil
	}
	x.Conn.Close()
	if x.OnRelease != nil {
		x.OnRelease()
	}
}

// EachVar calls f for each variable nginx sends, in the order both
// ngx_http_uwsgi_create_request and ngx_http_fastcgi_create_request use:
// the params, then, unless omitHeaders, each client header not hidden by a
// param. For a header, key is the header's name and header is true: the
// variable's name is AppendHeaderVarName's.
func (r *Request) EachVar(omitHeaders bool, f func(key, value string, header bool)) {
	for _, p := range r.Params {
		if p.Key == "CONTENT_LENGTH" && p.Value == "" && r.ContentLength < 0 {
			p.Value, p.Skip = formatSize(r.Body.Size()), false
		}
		if !p.Skip {
			f(p.Key, p.Value, false)
		}
	}
	if omitHeaders {
		return
	}
	hiding := false
	for _, p := range r.Params {
		if isHTTPParam(p.Key) {
			hiding = true
			break
		}
	}
	for _, h := range r.Header {
		if hiding && hides(r.Params, h.Name) {
			continue
		}
		f(h.Name, h.Value, true)
	}
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}
