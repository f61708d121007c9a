package upstream

import (
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Response returns the head as the response to r, without a body yet. The
// connection carries one request only, so the response says Close.
func (h *Head) Response(r *http.Request) *http.Response {
	return &http.Response{
		Status:        h.FullStatus(),
		StatusCode:    h.StatusCode,
		Proto:         "HTTP/" + strconv.Itoa(h.ProtoMajor) + "." + strconv.Itoa(h.ProtoMinor),
		ProtoMajor:    h.ProtoMajor,
		ProtoMinor:    h.ProtoMinor,
		Header:        h.Header(),
		ContentLength: h.ContentLength,
		Close:         true,
		Request:       r,
	}
}

// FullStatus is Status with a reason phrase: a bare "404" from a Status
// header gets net/http's, as an http.Response's Status would.
func (h *Head) FullStatus() string {
	if strings.IndexByte(h.Status, ' ') < 0 {
		return h.Status + " " + http.StatusText(h.StatusCode)
	}
	return h.Status
}

// Header returns the fields as a net/http header map: canonical names,
// the values of a repeated name in order.
func (h *Head) Header() http.Header {
	m := make(http.Header, len(h.Fields))
	for _, f := range h.Fields {
		key := textproto.CanonicalMIMEHeaderKey(f.Name)
		m[key] = append(m[key], f.Value)
	}
	return m
}

// BodyEnd is the end of a response body, which both transports' bodies
// embed: a sticky error, and the exchange's connection released once, at
// the first of the body's end, its failure, or Close, without waiting for
// the others.
type BodyEnd struct {
	// X is the exchange whose connection the end releases.
	X *Exchange
	// Err is the error every later Read returns, once there is one.
	Err error
}

// Finish records a terminal error (io.EOF at the end) and releases the
// connection at once.
func (e *BodyEnd) Finish(err error) {
	e.Err = err
	e.X.Release()
}

// Close releases the connection; reads after it fail with net.ErrClosed
// unless the body had already ended.
func (e *BodyEnd) Close() error {
	if e.Err == nil {
		e.Err = net.ErrClosed
	}
	e.X.Release()
	return nil
}

// xAccelHeaders are the upstream headers both modules keep from the client
// unless *_pass_header names them: nginx's own controls.
var xAccelHeaders = []string{
	"X-Accel-Expires",
	"X-Accel-Redirect",
	"X-Accel-Limit-Rate",
	"X-Accel-Buffering",
	"X-Accel-Charset",
}

// HiddenResponseHeaders returns a new list of the upstream headers a module
// hides by default: extra (FastCGI's Status) then nginx's X-Accel-* headers.
func HiddenResponseHeaders(extra ...string) []string {
	return append(extra[:len(extra):len(extra)], xAccelHeaders...)
}
