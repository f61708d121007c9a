package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultTimeout is nginx's default for the connect, send and read timers.
const DefaultTimeout = 60 * time.Second

// DefaultBufferSize is nginx's default uwsgi_buffer_size and
// fastcgi_buffer_size: one page, as on Debian amd64.
const DefaultBufferSize = 4096

// Exchange is one request to an upstream over a connection of its own, run
// the way ngx_http_upstream runs it for the uwsgi and fastcgi modules with
// keepalive off: read the client's body to the end, build the request,
// connect, send, read the response head, and hand back a response whose
// body streams the rest and closes the connection at its end. A transport
// fills in its settings and the two protocol steps, and calls RoundTrip.
type Exchange struct {
	// Scheme names the protocol in nginx's log: "uwsgi" or "fastcgi".
	Scheme string

	// Addr is the upstream as uwsgi_pass or fastcgi_pass names it:
	// "host:port" or "unix:/path/to.sock". Empty means the request URL's
	// host.
	Addr string

	// Dial opens connections; nil means a net.Dialer. It is given the
	// connect timeout through ctx.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// ConnectTimeout, SendTimeout and ReadTimeout are nginx's upstream
	// timers; 0 means DefaultTimeout. Send and read timeouts bound the wait
	// between two successive writes or reads, not the whole exchange.
	ConnectTimeout, SendTimeout, ReadTimeout time.Duration

	// BodyBufferSize and BodyTempDir say where the client's body is
	// buffered; see ReadBody.
	BodyBufferSize int
	BodyTempDir    string

	// CreateRequest builds the request for r and its buffered body, before
	// anything is dialled, and returns the function that writes it. Its
	// error is returned as it is: an *Error in phase Encoding for a request
	// nginx would refuse to build. upstream is the peer's name for errors.
	CreateRequest func(r *http.Request, body *Body, upstream string) (send func(w io.Writer) error, err error)

	// ReadResponse reads the answer to r from conn: the head at once, the
	// body as the caller reads it. release closes the connection; it must
	// be called once the body is done or closed (at once when there is no
	// body). Its error is returned as it is, so a failure reading the head
	// should come out of HeadError, in nginx's words.
	ReadResponse func(conn io.Reader, r *http.Request, upstream string, release func()) (*http.Response, error)
}

// RoundTrip runs the exchange for r. Upstream failures are *Error; a failure
// reading the client's body wraps ErrClientBody; a cancelled request returns
// the context's error.
func (x *Exchange) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	network, address := x.target(r)
	upstream := peerName(x.Scheme, network, address)

	body, err := ReadBody(r, x.BodyBufferSize, x.BodyTempDir)
	if err != nil {
		return nil, err
	}
	defer body.Close()

	send, err := x.CreateRequest(r, body, upstream)
	if err != nil {
		return nil, err
	}

	raw, err := x.dial(ctx, network, address, upstream)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	release := func() { stop(); raw.Close() }
	fail := func(err error) (*http.Response, error) {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	conn := &timedConn{Conn: raw, readTimeout: orDefault(x.ReadTimeout), sendTimeout: orDefault(x.SendTimeout)}

	if err := send(conn); err != nil {
		return fail(IOError(Sending, upstream, "writev", err))
	}
	body.Close()

	resp, err := x.ReadResponse(conn, r, upstream, release)
	if err != nil {
		return fail(err)
	}
	return resp, nil
}

// target splits the upstream address into a network and an address.
func (x *Exchange) target(r *http.Request) (network, address string) {
	addr := x.Addr
	if addr == "" && r.URL != nil {
		addr = r.URL.Host
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", addr
}

// peerName is how nginx names the peer in its log.
func peerName(scheme, network, address string) string {
	if network == "unix" {
		return scheme + "://unix:" + address + ":"
	}
	return scheme + "://" + address
}

func (x *Exchange) dial(ctx context.Context, network, address, upstream string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, orDefault(x.ConnectTimeout))
	defer cancel()
	dial := x.Dial
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

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}
