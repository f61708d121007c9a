// Package environ builds the CGI/WSGI environ of a request from what each
// frontend receives: an HTTP/1.x request head (ReadHTTP), a uwsgi vars block
// (FromVars) or FastCGI params (FromParams).
//
// The environ is built straight into the wire form the worker reads (see
// package workerproto): key\0value pairs, bytes kept as they arrived so the
// worker decodes them as Latin-1 (PEP 3333's "bytes as str"). A key or value
// holding a NUL byte cannot be represented and is dropped (no HTTP client or
// nginx sends one). Later pairs with the same key win, as in uWSGI.
//
// Next to the environ each builder returns an Info: the handful of fields the
// master needs for dispatch and the request log, in uWSGI's terms.
package environ

import "strings"

// Env is an environ under construction, in wire form. The zero value is
// empty and ready; Reset reuses its buffer for the next request.
type Env struct {
	buf     []byte
	pairs   int
	size    int // size as a uwsgi vars block, for the request log
	dropped int
}

// Reset empties e, keeping its buffer.
func (e *Env) Reset() {
	e.buf = e.buf[:0]
	e.pairs, e.size, e.dropped = 0, 0, 0
}

// Bytes returns the wire form: key\0value\0key\0value.
func (e *Env) Bytes() []byte { return e.buf }

// Pairs is the number of pairs added.
func (e *Env) Pairs() int { return e.pairs }

// Dropped is the number of pairs dropped for holding a NUL byte.
func (e *Env) Dropped() int { return e.dropped }

// VarsSize is the size the counted pairs would have as a uwsgi vars block
// (what uWSGI's request log calls "{N vars in B bytes}").
func (e *Env) VarsSize() int { return e.size }

// Add appends a CGI variable.
func (e *Env) Add(k, v string) {
	if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 || k == "" {
		e.dropped++
		return
	}
	e.sep()
	e.buf = append(e.buf, k...)
	e.buf = append(e.buf, 0)
	e.buf = append(e.buf, v...)
	e.count(len(k), len(v))
}

// AddBytes is Add with a byte-slice value.
func (e *Env) AddBytes(k string, v []byte) {
	if indexNUL(v) || k == "" {
		e.dropped++
		return
	}
	e.sep()
	e.buf = append(e.buf, k...)
	e.buf = append(e.buf, 0)
	e.buf = append(e.buf, v...)
	e.count(len(k), len(v))
}

// AddExtra appends a key the server adds itself (such as wsgi.url_scheme),
// not counted among the request's vars.
func (e *Env) AddExtra(k, v string) {
	e.sep()
	e.buf = append(e.buf, k...)
	e.buf = append(e.buf, 0)
	e.buf = append(e.buf, v...)
}

func (e *Env) sep() {
	if len(e.buf) > 0 {
		e.buf = append(e.buf, 0)
	}
}

func (e *Env) count(k, v int) {
	e.pairs++
	e.size += 4 + k + v
}

func indexNUL(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}

// Info is what the master needs to know about a request besides its environ.
type Info struct {
	Method        string
	URI           string // REQUEST_URI, with the query string
	PathInfo      string // decoded, for static-map
	Proto         string // SERVER_PROTOCOL
	RemoteAddr    string
	RemotePort    string // REMOTE_PORT: with RemoteAddr, which client connection
	RemoteUser    string
	ContentLength int64 // body bytes that follow; 0 when none
	Vars          int   // uWSGI's var_cnt: keys and values counted separately
	VarsBytes     int   // the vars block size
}

// Scheme is uWSGI's wsgi.url_scheme rule: UWSGI_SCHEME or
// X-Forwarded-Proto when present (the later one wins), else "https" when
// HTTPS is "on" or starts with "1", else "http".
func Scheme(scheme, https string) string {
	if scheme != "" {
		return scheme
	}
	if len(https) >= 2 && (https[0]|0x20) == 'o' && (https[1]|0x20) == 'n' || len(https) > 0 && https[0] == '1' {
		return "https"
	}
	return "http"
}

// Parse splits a wire-form environ back into pairs, for tests and tools.
func Parse(b []byte) [][2]string {
	if len(b) == 0 {
		return nil
	}
	parts := strings.Split(string(b), "\x00")
	out := make([][2]string, 0, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		out = append(out, [2]string{parts[i], parts[i+1]})
	}
	return out
}
