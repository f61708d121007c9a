package proxy

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
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

// setUpstreamResponse copies an upstream answer into the response as
// ngx_http_upstream_process_headers does.
func (r *request) setUpstreamResponse(resp *http.Response, mod upstreamModule, pc *passConf) {
	w := &r.resp
	w.status = resp.StatusCode
	w.statusText = resp.Status
	if w.statusText == strconv.Itoa(resp.StatusCode) || w.statusText == "" {
		w.statusText = ""
	}
	w.contentLength = resp.ContentLength
	if resp.StatusCode == 204 || resp.StatusCode == 304 {
		w.contentLength = -1
	}
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		lower := strings.ToLower(name)
		if hiddenByDefault(mod, lower) && !contains(pc.passHeaders, lower) {
			continue
		}
		if contains(pc.hideHeaders, lower) {
			continue
		}
		for _, v := range resp.Header[name] {
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
	}
	r.upstream.respHeader = resp.Header
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

// streamFlushDelay is how long upstream data may wait in the connection
// buffer for more to join it. nginx writes what it has whenever a read
// from the upstream would block; Go cannot ask that, so a short timer
// stands in for it: a small answer that ends at once goes out in one
// write, a trickling one (server-sent events, long polls) is still passed
// on without waiting for the end.
const streamFlushDelay = 2 * time.Millisecond

// sendUpstreamBody streams the upstream body to the client. It returns
// the bytes read and the upstream error, if the body broke off.
func (r *request) sendUpstreamBody(body io.Reader) (int64, error) {
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
			c.streamMu.Lock()
			werr := r.write(buf[:n])
			c.streamMu.Unlock()
			if werr != nil {
				return total, nil
			}
			if err == nil {
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
func (r *request) xAccelRedirect(resp *http.Response) (int, bool) {
	target := resp.Header.Get("X-Accel-Redirect")
	if target == "" {
		return 0, false
	}
	resp.Body.Close()
	if r.method != "HEAD" {
		r.method = "GET"
	}
	r.resp.reset()
	if strings.HasPrefix(target, "@") {
		return r.namedRedirect(target[1:]), true
	}
	u, a := splitArgs(target)
	return r.internalRedirect(u, a), true
}
