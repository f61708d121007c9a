package upstream

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Response returns the head as the response to r, without a body yet. The
// connection carries one request only, so the response says Close.
func (h *Head) Response(r *http.Request) *http.Response {
	resp := &http.Response{
		Status:        h.Status,
		StatusCode:    h.StatusCode,
		Proto:         "HTTP/" + strconv.Itoa(h.ProtoMajor) + "." + strconv.Itoa(h.ProtoMinor),
		ProtoMajor:    h.ProtoMajor,
		ProtoMinor:    h.ProtoMinor,
		Header:        h.Header,
		ContentLength: h.ContentLength,
		Close:         true,
		Request:       r,
	}
	if !strings.Contains(resp.Status, " ") {
		// A bare "404" from a Status header: add the reason as net/http does.
		resp.Status += " " + http.StatusText(resp.StatusCode)
	}
	return resp
}

// BodyEnd is the end of a response body, which both transports' bodies
// embed: a sticky error, and the connection released once, at the first of
// the body's end, its failure, or Close, without waiting for the others.
type BodyEnd struct {
	// Release closes the connection; BodyEnd calls it once.
	Release func()
	// Err is the error every later Read returns, once there is one.
	Err  error
	once sync.Once
}

// Finish records a terminal error (io.EOF at the end) and releases the
// connection at once.
func (e *BodyEnd) Finish(err error) {
	e.Err = err
	e.once.Do(e.Release)
}

// Close releases the connection; reads after it fail with net.ErrClosed
// unless the body had already ended.
func (e *BodyEnd) Close() error {
	if e.Err == nil {
		e.Err = net.ErrClosed
	}
	e.once.Do(e.Release)
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
