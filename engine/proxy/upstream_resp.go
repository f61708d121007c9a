package proxy

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/uwsgi"
)

// upstreamModule says which module an upstream answer came through; the
// headers nginx hides differ.
type upstreamModule uint8

const (
	modProxy upstreamModule = iota
	modUWSGI
	modFastCGI
)

// hiddenByDefault are the upstream headers nginx never passes, per module
// (ngx_http_proxy_hide_headers and its uwsgi/fastcgi twins), besides the
// connection-level ones.
func hiddenByDefault(mod upstreamModule, lower string) bool {
	switch lower {
	case "connection", "keep-alive", "transfer-encoding", "content-length",
		"x-accel-expires", "x-accel-redirect", "x-accel-limit-rate", "x-accel-buffering", "x-accel-charset":
		return true
	case "status":
		return mod != modProxy
	case "date", "server", "x-pad":
		return mod == modProxy
	}
	return false
}

// upstreamAnswer is an upstream's response head as the proxy passes it
// on, and its body.
type upstreamAnswer struct {
	status int
	// statusText is the status line's text ("200 OK", "404 Gone"), or a
	// bare code.
	statusText string
	length     int64 // Content-Length, -1 if none
	// fields are the headers: in the upstream's order with the names it
	// sent for uwsgi and fastcgi, by canonical name for proxy_pass (whose
	// answer net/http reads).
	fields []uwsgi.HeaderField
	body   io.ReadCloser
}

// header returns the first value of the named header (any case).
func (a *upstreamAnswer) header(name string) string {
	for _, f := range a.fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// answerFromHTTP is a proxy_pass answer read by net/http; fields are
// appended to buf.
func answerFromHTTP(resp *http.Response, buf []uwsgi.HeaderField) upstreamAnswer {
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	fields := buf[:0]
	for _, name := range names {
		for _, v := range resp.Header[name] {
			fields = append(fields, uwsgi.HeaderField{Name: name, Value: v})
		}
	}
	return upstreamAnswer{status: resp.StatusCode, statusText: resp.Status, length: resp.ContentLength, fields: fields, body: resp.Body}
}

// isBareStatus reports whether text is the code alone, in decimal.
func isBareStatus(text string, code int) bool {
	return len(text) == 3 && code >= 100 && code <= 999 &&
		int(text[0]-'0') == code/100 && int(text[1]-'0') == code/10%10 && int(text[2]-'0') == code%10
}

// setUpstreamResponse copies an upstream answer into the response as
// ngx_http_upstream_process_headers does.
func (r *request) setUpstreamResponse(a *upstreamAnswer, mod upstreamModule, pc *passConf) {
	w := &r.resp
	w.status = a.status
	w.statusText = a.statusText
	w.statusLine = a.statusText != ""
	if w.statusText == "" || isBareStatus(w.statusText, a.status) {
		w.statusText = ""
	}
	w.contentLength = a.length
	if a.status == 204 || a.status == 304 {
		w.contentLength = -1
	}
	for _, f := range a.fields {
		name, v := f.Name, f.Value
		lower := lowerHeaderName(name)
		if hiddenByDefault(mod, lower) && !contains(pc.passHeaders, lower) {
			continue
		}
		if contains(pc.hideHeaders, lower) {
			continue
		}
		switch lower {
		case "content-type":
			w.contentType = v
			continue
		case "location":
			// only a Location that proxy_redirect rewrote becomes the
			// response's own (made absolute by the header filter); any
			// other is passed as it came (ngx_http_upstream_rewrite_location)
			if mod == modProxy {
				if nv, ok := r.rewriteRedirect(v, pc); ok {
					w.hasLocation = true
					w.location = nv
					continue
				}
			}
		case "refresh":
			if mod == modProxy {
				v = r.rewriteRefresh(v, pc)
			}
		case "content-encoding":
			w.encoding = v
		case "server":
			w.upstreamServer = true
		case "date":
			w.upstreamDate = true
		case "etag":
			w.etag = v
		}
		w.headers = append(w.headers, header{name: name, lower: lower, value: v})
	}
	r.upstream.respFields = append(r.upstream.respFields[:0], a.fields...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// interceptStatus reports whether an upstream status is to be answered by
// an error_page instead (*_intercept_errors on).
func (r *request) interceptStatus(status int, pc *passConf) bool {
	if !pc.interceptErrors || status < 300 {
		return false
	}
	for _, ep := range r.conf.errorPages {
		if ep.status == status {
			return true
		}
	}
	return false
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// streamFlushDelay is how long proxy_pass data may wait in the connection
// buffer for more to join it. nginx writes what it has whenever a read
// from the upstream would block; proxy_pass reads through net/http, which
// cannot tell, so a short timer stands in for it there: a small answer that
// ends at once goes out in one write, a trickling one (server-sent events,
// long polls) is still passed on without waiting for the end. (uwsgi_pass
// and fastcgi_pass flush as nginx does, through the transports' OnWait.)
const streamFlushDelay = 2 * time.Millisecond

// sendUpstreamBody streams the upstream body to the client. It returns
// the bytes read and the upstream error, if the body broke off. With
// flushTimer, data that waits streamFlushDelay for more is flushed;
// without, the body's reader flushes when it would wait (OnWait).
func (r *request) sendUpstreamBody(body io.Reader, flushTimer bool) (int64, error) {
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	buf := *bp
	c := r.c
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
			// wait for a flush that may be running
			c.streamMu.Lock()
			c.streamMu.Unlock()
		}
	}()
	var total int64
	for {
		n, err := body.Read(buf)
		if n > 0 {
			total += int64(n)
			if flushTimer {
				c.streamMu.Lock()
			}
			werr := r.write(buf[:n])
			if flushTimer {
				c.streamMu.Unlock()
			}
			if werr != nil {
				return total, nil
			}
			if err == nil && flushTimer {
				if timer == nil {
					timer = time.AfterFunc(streamFlushDelay, func() {
						c.streamMu.Lock()
						c.flush()
						c.streamMu.Unlock()
					})
				} else {
					timer.Reset(streamFlushDelay)
				}
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// xAccelRedirect handles an upstream's X-Accel-Redirect: the answer is
// dropped and the request continues internally at the given URI.
func (r *request) xAccelRedirect(a *upstreamAnswer, pc *passConf) (int, bool) {
	if pc.ignoreAccelRedirect {
		return 0, false
	}
	target := a.header("X-Accel-Redirect")
	if target == "" {
		return 0, false
	}
	a.body.Close()
	if r.method != "HEAD" {
		r.method = "GET"
	}
	r.resp.reset()
	// the headers nginx's upstream table marks "redirect" go with the
	// request to the new URI (and its Content-Type stays unless the
	// new handler sets its own)
	carry := r.accelCarry[:0]
	for _, f := range a.fields {
		switch lower := lowerHeaderName(f.Name); lower {
		case "content-type", "set-cookie", "content-disposition", "cache-control", "expires":
			carry = append(carry, header{name: f.Name, lower: lower, value: f.Value})
		}
	}
	r.accelCarry = carry
	r.hasAccelCarry = true
	if strings.HasPrefix(target, "@") {
		return r.namedRedirect(target[1:]), true
	}
	u, a2 := splitArgs(target)
	return r.internalRedirect(u, a2), true
}
