package proxy

import (
	"compress/gzip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// safeStatus are the statuses add_header (without "always") and expires
// apply to.
func safeStatus(code int) bool {
	switch code {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// headersFilter is ngx_http_headers_filter_module: expires, then the
// add_header lines.
func (r *request) headersFilter() {
	c := r.conf
	if c == nil {
		return
	}
	w := &r.resp
	safe := safeStatus(w.status)
	if c.expires.mode != expiresUnset && c.expires.mode != expiresOff && safe {
		r.setExpires(c.expires)
	}
	for _, h := range c.addHeaders {
		if !safe && !h.always {
			continue
		}
		v := h.value.eval(r)
		switch strings.ToLower(h.name) {
		case "last-modified":
			// replaces the file's time
			w.lastModified = -1
			if v != "" {
				w.addHeader(h.name, v)
			}
			continue
		case "etag":
			w.delHeader("etag")
			w.etag = v
		}
		if v == "" {
			continue
		}
		w.addHeader(h.name, v)
	}
}

// setExpires is ngx_http_set_expires: Expires and Cache-Control.
func (r *request) setExpires(e expires) {
	w := &r.resp
	mode, offset := e.mode, e.offset
	if e.value != nil {
		m, off, err := parseExpires(e.value.eval(r))
		if err != nil || m == expiresOff {
			return
		}
		mode, offset = m, off
	}
	w.delHeader("expires")
	w.delHeader("cache-control")
	switch mode {
	case expiresEpoch:
		w.addHeader("Expires", "Thu, 01 Jan 1970 00:00:01 GMT")
		w.addHeader("Cache-Control", "no-cache")
		return
	case expiresMax:
		w.addHeader("Expires", "Thu, 31 Dec 2037 23:55:55 GMT")
		w.addHeader("Cache-Control", "max-age=315360000")
		return
	}
	now := r.c.srv.clock.now()
	var at time.Time
	var maxAge time.Duration
	switch {
	case mode == expiresDaily:
		at = nextDailyTime(now, offset)
		maxAge = at.Sub(now)
	case mode == expiresAccess || w.lastModified == -1:
		at = now.Add(offset)
		maxAge = offset
	default:
		at = time.Unix(w.lastModified, 0).Add(offset)
		maxAge = at.Sub(now)
	}
	w.addHeader("Expires", at.UTC().Format(httpTimeFormat))
	if offset < 0 || maxAge < 0 {
		w.addHeader("Cache-Control", "no-cache")
		return
	}
	w.addHeader("Cache-Control", "max-age="+strconv.FormatInt(int64(maxAge/time.Second), 10))
}

// nextDailyTime is ngx_next_time: the next moment the local clock shows
// the time of day offset.
func nextDailyTime(now time.Time, offset time.Duration) time.Time {
	y, m, d := now.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).Add(offset)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// gzipFilter is ngx_http_gzip_filter_module's header part.
func (r *request) gzipFilter() {
	c := r.conf
	w := &r.resp
	// HEAD is not excluded: nginx decides header_only after this filter,
	// so a HEAD answer carries "Content-Encoding: gzip" and no length
	if c == nil || !c.gzip.on || w.headOnly {
		return
	}
	if w.status != 200 && w.status != 403 && w.status != 404 {
		return
	}
	if w.encoding != "" {
		return
	}
	if _, ok := w.headerValue("content-encoding"); ok {
		return
	}
	if w.contentLength != -1 && w.contentLength < c.gzip.minLength {
		return
	}
	if !c.gzip.anyType {
		ct := strings.ToLower(w.contentType)
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = strings.TrimSpace(ct[:i])
		}
		if !c.gzip.types[ct] {
			return
		}
	}
	w.vary = c.gzip.vary
	if !r.gzipOK() {
		return
	}
	w.encoding = "gzip"
	w.addHeader("Content-Encoding", "gzip")
	w.contentLength = -1
	w.allowRanges = false
	w.delHeader("accept-ranges")
	if w.etag != "" {
		old := w.etag
		if !strings.HasPrefix(old, "W/") {
			if strings.HasPrefix(old, "\"") {
				w.etag = "W/" + old
			} else {
				w.etag = ""
			}
			for i := range w.headers {
				if w.headers[i].lower == "etag" {
					w.headers[i].value = w.etag
				}
			}
			if w.etag == "" {
				w.delHeader("etag")
			}
		}
	}
	w.gz = newGzipWriter(c.gzip.level)
}

// gzipOK is ngx_http_gzip_ok: does the client take gzip?
func (r *request) gzipOK() bool {
	ae := r.hdr(hAcceptEncoding)
	if len(ae) < 4 {
		return false
	}
	if !strings.HasPrefix(ae, "gzip,") && !acceptsGzip(ae) {
		return false
	}
	g := &r.conf.gzip
	if g.httpVersion == 11 && !(r.major > 1 || r.minor >= 1) {
		return false
	}
	if r.has(hVia) && g.proxied&gzipProxiedAny == 0 {
		return false
	}
	if ua := r.hdr(hUserAgent); ua != "" {
		if g.disableMSIE && strings.Contains(ua, "MSIE 6") && !strings.Contains(ua, "SV1") {
			return false
		}
		for _, re := range g.disable {
			if re.MatchString(ua) {
				return false
			}
		}
	}
	return true
}

const gzipProxiedAny = 1

// acceptsGzip is ngx_http_gzip_accept_encoding: a "gzip" token with no
// q=0.
func acceptsGzip(ae string) bool {
	start := 0
	var p int
	for {
		i := indexFold(ae[start:], "gzip")
		if i < 0 {
			return false
		}
		p = start + i
		if p == 0 || ae[p-1] == ',' || ae[p-1] == ' ' {
			break
		}
		start = p + 4
	}
	p += 4
	for p < len(ae) {
		c := ae[p]
		p++
		switch c {
		case ',':
			return true
		case ';':
			for p < len(ae) {
				c := ae[p]
				p++
				switch c {
				case 'q', 'Q':
					if p+1 > len(ae) || ae[p] != '=' {
						return false
					}
					return gzipQuantity(ae[p+1:]) != 0
				case ' ':
					continue
				default:
					return false
				}
			}
			return true
		case ' ':
			continue
		default:
			return false
		}
	}
	return true
}

// gzipQuantity parses a q-value as nginx does: 0, 0.x..., or 1.
func gzipQuantity(s string) int {
	if s == "" {
		return 0
	}
	n := 0
	i := 0
	if s[0] != '0' && s[0] != '1' {
		return 0
	}
	n = int(s[0]-'0') * 100
	i = 1
	if i < len(s) && s[i] == '.' {
		i++
		scale := 10
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && scale > 0 {
			n += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	if n > 100 {
		return 0
	}
	return n
}

// gzipWriter compresses a response body.
type gzipWriter struct {
	level int
	zw    *gzip.Writer
	out   gzipSink
	in    int64
}

type gzipSink struct{ r *request }

func (s *gzipSink) Write(p []byte) (int, error) {
	if err := s.r.writeRaw(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

var gzipPools [10]sync.Pool

func newGzipWriter(level int) *gzipWriter {
	if level < 1 || level > 9 {
		level = 1
	}
	g := &gzipWriter{level: level}
	if v := gzipPools[level].Get(); v != nil {
		g.zw = v.(*gzip.Writer)
	} else {
		g.zw, _ = gzip.NewWriterLevel(nil, level)
	}
	g.zw.Reset(&g.out)
	return g
}

func (g *gzipWriter) write(r *request, p []byte) error {
	g.out.r = r
	g.in += int64(len(p))
	_, err := g.zw.Write(p)
	return err
}

func (g *gzipWriter) close(r *request) error {
	g.out.r = r
	err := g.zw.Close()
	gzipPools[g.level].Put(g.zw)
	r.gzipIn = g.in
	r.resp.gz = nil
	return err
}

// gzipRatio is $gzip_ratio.
func (r *request) gzipRatio() string {
	if r.gzipIn == 0 || r.bodyBytesSent == 0 {
		return ""
	}
	ratio := float64(r.gzipIn) / float64(r.bodyBytesSent)
	return strconv.FormatFloat(ratio, 'f', 2, 64)
}
