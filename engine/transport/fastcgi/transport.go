package fastcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// nginx's defaults for the upstream timers and the response header buffer.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultBufferSize = 4096 // one page, as on Debian amd64
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
	ctx := r.Context()
	network, address := t.target(r)
	upstream := upstreamName(network, address)
	logf := t.logf(ctx)

	body, err := t.readBody(r)
	if err != nil {
		return nil, err
	}
	defer body.Close()

	params := t.params(r, body)
	if len(params) > maxContent {
		return nil, &Error{Status: http.StatusInternalServerError, Phase: Encoding,
			Reason: fmt.Sprintf("fastcgi request record is too big: %d", len(params)), Upstream: upstream}
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

	if err := t.writeRequest(conn, params, body); err != nil {
		return fail(ioError(Sending, upstream, "writev", err))
	}
	body.Close()

	resp, err := t.readResponse(conn, r, logf, upstream, func() { stop(); raw.Close() })
	if err != nil {
		return fail(err)
	}
	return resp, nil
}

// readResponse reads the records of the answer to r from conn: the head at
// once, the body as the caller reads it. closeConn ends the connection once
// the body is done or closed.
func (t *Transport) readResponse(conn io.Reader, r *http.Request, logf Logf, upstream string, closeConn func()) (*http.Response, error) {
	rr := newRecordReader(conn)
	h, rest, err := t.readHead(rr, logf)
	if err != nil {
		return nil, headError(upstream, err)
	}
	resp := &http.Response{
		Status:        h.statusLine,
		StatusCode:    h.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h.header,
		ContentLength: h.contentLength,
		Close:         true,
		Request:       r,
	}
	if !strings.Contains(resp.Status, " ") {
		// A bare "404" from a Status header: add the reason as net/http does.
		resp.Status += " " + http.StatusText(resp.StatusCode)
	}
	// nginx's input_filter_init: no body for 204 and 304, and none passed
	// on for HEAD; the records are still read to the end, so that STDERR
	// is logged and extra STDOUT is warned about.
	b := &responseBody{rr: rr, remaining: h.contentLength, logf: logf, upstream: upstream, ctx: r.Context(), closeConn: closeConn}
	switch {
	case h.status == http.StatusNoContent || h.status == http.StatusNotModified:
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
func (t *Transport) readHead(rr *recordReader, logf Logf) (*head, []byte, error) {
	limit := t.BufferSize
	if limit <= 0 {
		limit = DefaultBufferSize
	}
	p := newHeadParser()
	used := 0 // bytes of nginx's header buffer taken so far
	sawStdout := false
	for {
		rec, err := rr.next()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, errPrematureClose
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
			return nil, nil, &recordError{fmt.Sprintf("upstream sent unexpected FastCGI record: %d", rec.typ)}
		case typeStdout:
			sawStdout = true
			if len(rec.content) == 0 {
				return nil, nil, &recordError{"upstream prematurely closed FastCGI stdout"}
			}
			room := limit - used - headerSize
			if room <= 0 {
				return nil, nil, errTooBigHeader
			}
			part := rec.content
			if len(part) > room {
				part = part[:room]
			}
			rest, done, err := p.feed(part)
			if err != nil {
				return nil, nil, err
			}
			if done {
				h, err := p.finish()
				if err != nil {
					return nil, nil, err
				}
				// The body's first bytes: copied, since rec.content is
				// reused by the next read.
				return h, append(append([]byte(nil), rest...), rec.content[len(part):]...), nil
			}
			used += rec.size
			if len(part) < len(rec.content) || used >= limit {
				return nil, nil, errTooBigHeader
			}
		}
	}
}

// writeRequest sends BEGIN_REQUEST, the params in one PARAMS record, the
// empty PARAMS record, the body as STDIN records of at most 32 KiB and the
// empty STDIN record, laid out as nginx lays them out. A body held in memory
// goes out in the same write as the rest.
func (t *Transport) writeRequest(w io.Writer, params []byte, body *requestBody) error {
	size := int64(0)
	if !t.OmitRequestBody {
		size = body.size
	}
	inline := body.file == nil
	capacity := 4*headerSize + 8 + len(params) + 7
	if inline {
		capacity += len(body.mem) + (len(body.mem)/maxStdinChunk+1)*(headerSize+7)
	}
	buf := make([]byte, 0, capacity)
	buf = appendBeginRequest(buf)
	buf = appendRecord(buf, typeParams, params)
	buf = appendRecord(buf, typeParams, nil)
	switch {
	case size == 0:
	case inline:
		for mem := body.mem; len(mem) > 0; {
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

// params builds the PARAMS content as ngx_http_fastcgi_create_request does:
// the params in order, then the client headers not hidden by a param.
func (t *Transport) params(r *http.Request, body *requestBody) []byte {
	params := ParamsFromContext(r.Context())
	bodyLength := int64(-1)
	if r.ContentLength < 0 {
		bodyLength = body.size
	}
	out := appendParamPairs(make([]byte, 0, 1024), params, bodyLength)
	if t.OmitRequestHeaders {
		return out
	}
	hidden := hiddenBy(params)
	for _, f := range clientHeaders(r) {
		if !hidden.hides(f.Name) {
			out = appendPair(out, headerVarName(f.Name), f.Value)
		}
	}
	return out
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
		return "fastcgi://unix:" + address + ":"
	}
	return "fastcgi://" + address
}

func (t *Transport) readBody(r *http.Request) (*requestBody, error) {
	limit := t.BodyBufferSize
	if limit <= 0 {
		limit = DefaultBodyBufferSize
	}
	return readRequestBody(r, limit, t.BodyTempDir)
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
	var re *recordError
	switch {
	case errors.As(err, &re), errors.Is(err, errPrematureClose), errors.Is(err, errTooBigHeader), errors.Is(err, errInvalidHeader):
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

// HiddenResponseHeaders are the upstream headers nginx's fastcgi module keeps
// from the client unless fastcgi_pass_header names them. The transport
// returns every header; leaving these out is the proxy's job, as it is with
// fastcgi_hide_header.
var HiddenResponseHeaders = []string{
	"Status",
	"X-Accel-Expires",
	"X-Accel-Redirect",
	"X-Accel-Limit-Rate",
	"X-Accel-Buffering",
	"X-Accel-Charset",
}
