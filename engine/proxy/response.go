package proxy

import (
	"strconv"
	"strings"
	"time"
)

// response is the response being built for a request: nginx's headers_out.
type response struct {
	status int
	// statusText replaces the standard status line text ("200 OK"), as an
	// upstream's status line does in nginx.
	statusText string
	// statusLine is set when the status came with a status line from an
	// upstream (nginx's headers_out.status_line): the header filter then
	// leaves a 204's Content-Type and Last-Modified alone.
	statusLine bool

	contentType   string
	charset       string
	contentLength int64 // -1: unknown
	lastModified  int64 // Unix seconds; -1: none
	location      string
	hasLocation   bool
	etag          string
	// headers are the other headers, in the order nginx would list them.
	headers []header

	allowRanges bool
	// ranges are the byte ranges to send, set by the range filter.
	ranges   []byteRange
	boundary string
	partType string
	encoding string // Content-Encoding set by gzip
	vary     bool
	gz       *gzipWriter
	chunked  bool
	headOnly bool // send no body (HEAD, 204, 304)
	sent     bool
	notModOK bool // static responses may become 304
	// upstreamServer and upstreamDate are set when an upstream's Server
	// or Date header is passed on: nginx then sends no own one.
	upstreamServer bool
	upstreamDate   bool
}

type byteRange struct{ start, end int64 } // end exclusive

func (w *response) reset() {
	h := w.headers[:0]
	*w = response{headers: h, contentLength: -1, lastModified: -1}
}

// addHeader appends a header to the list.
func (w *response) addHeader(name, value string) {
	w.headers = append(w.headers, header{name: name, lower: strings.ToLower(name), value: value})
}

// delHeader removes every header with the lower-cased name.
func (w *response) delHeader(lower string) {
	out := w.headers[:0]
	for _, h := range w.headers {
		if h.lower != lower {
			out = append(out, h)
		}
	}
	w.headers = out
}

// headerValue returns the first header with the lower-cased name.
func (w *response) headerValue(lower string) (string, bool) {
	for _, h := range w.headers {
		if h.lower == lower {
			return h.value, true
		}
	}
	return "", false
}

// sendHeader runs nginx's header filters on the response and writes the
// header. It returns 0, or a status the caller must finalize the request
// with instead (416 from the range filter).
func (r *request) sendHeader() int {
	w := &r.resp
	if w.sent {
		return 0
	}
	if r.errStatus != 0 {
		w.status = r.errStatus
		w.statusText = ""
		w.statusLine = false
	}
	// not_modified filter
	if w.notModOK && w.status == 200 {
		if code := r.notModified(); code != 0 {
			if code == 412 {
				return 412
			}
			w.status = 304
			w.statusText = ""
			w.contentType = ""
			w.charset = ""
			w.contentLength = -1
			w.allowRanges = false
		}
	}
	// headers filter: expires and add_header
	r.headersFilter()
	// charset filter; not for a 301 or 302, whose charset old browsers
	// took for the next page's
	if r.conf != nil && r.conf.charset != "" && w.contentType != "" && w.charset == "" && r.conf.charsetApplies(w.contentType) &&
		w.status != 301 && w.status != 302 {
		w.charset = r.conf.charset
	}
	// gzip filter
	r.gzipFilter()
	// range filter
	if w.allowRanges {
		if code := r.rangeFilter(); code != 0 {
			return code
		}
	}
	r.writeHeader()
	return 0
}

// writeHeader is ngx_http_header_filter: the status line and the headers
// in nginx's order.
func (r *request) writeHeader() {
	w := &r.resp
	w.sent = true
	r.status = w.status
	c := r.c
	if r.http09 {
		w.chunked = false
		r.keepAlive = false
		return
	}
	if r.isHead() {
		w.headOnly = true
	}
	switch {
	case w.status == 204 && w.statusLine:
		w.headOnly = true
	case w.status == 204:
		w.headOnly = true
		w.contentType = ""
		w.charset = ""
		w.lastModified = -1
		w.contentLength = -1
	case w.status == 304:
		w.headOnly = true
	}
	if w.lastModified != -1 && w.status != 200 && w.status != 206 && w.status != 304 {
		w.lastModified = -1
	}
	// chunked filter
	if w.status >= 200 && w.status != 204 && w.status != 304 && !r.isHead() && w.contentLength == -1 {
		if (r.major > 1 || (r.major == 1 && r.minor >= 1)) && (r.conf == nil || r.conf.chunkedTE) {
			w.chunked = true
		} else {
			r.keepAlive = false
		}
	}
	if r.conf != nil && (r.conf.keepaliveTimeout == 0 || r.c.requests >= r.conf.keepaliveRequests) {
		r.keepAlive = false
	}
	if c.srv.draining.Load() {
		// shutting down: this answer is the connection's last
		r.keepAlive = false
	}
	b := c.bw
	start := b.Buffered()
	b.WriteString("HTTP/1.1 ")
	if w.statusText != "" {
		b.WriteString(w.statusText)
	} else {
		b.WriteString(statusLine(w.status))
	}
	b.WriteString("\r\n")
	if !w.upstreamServer {
		b.WriteString("Server: ")
		b.WriteString(r.serverToken())
		b.WriteString("\r\n")
	}
	if !w.upstreamDate {
		b.WriteString("Date: ")
		b.WriteString(c.srv.clock.httpDateAt(r.now))
		b.WriteString("\r\n")
	}
	if w.contentType != "" {
		b.WriteString("Content-Type: ")
		b.WriteString(w.contentType)
		if w.charset != "" {
			b.WriteString("; charset=")
			b.WriteString(w.charset)
		}
		b.WriteString("\r\n")
	}
	if w.contentLength >= 0 {
		b.WriteString("Content-Length: ")
		b.Write(strconv.AppendInt(c.scratch[:0], w.contentLength, 10))
		b.WriteString("\r\n")
	}
	if w.lastModified != -1 {
		b.WriteString("Last-Modified: ")
		b.Write(appendHTTPDate(c.scratch[:0], w.lastModified))
		b.WriteString("\r\n")
	}
	absLocation := false
	if w.hasLocation && strings.HasPrefix(w.location, "/") && (r.conf == nil || r.conf.absoluteRedirect) {
		absLocation = true
		b.WriteString("Location: ")
		b.WriteString(r.absoluteLocation(w.location))
		b.WriteString("\r\n")
	}
	if w.chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.status == 101 {
		b.WriteString("Connection: upgrade\r\n")
	} else if r.keepAlive {
		b.WriteString("Connection: keep-alive\r\n")
		if r.conf != nil && r.conf.keepaliveHeader > 0 {
			b.WriteString("Keep-Alive: timeout=")
			b.WriteString(strconv.FormatInt(int64(r.conf.keepaliveHeader/time.Second), 10))
			b.WriteString("\r\n")
		}
	} else {
		b.WriteString("Connection: close\r\n")
	}
	if w.vary {
		b.WriteString("Vary: Accept-Encoding\r\n")
	}
	if w.hasLocation && !absLocation {
		// nginx keeps a non-absolute Location in the headers list, in the
		// place it was added; we emit it first among the list.
		b.WriteString("Location: ")
		b.WriteString(w.location)
		b.WriteString("\r\n")
	}
	for _, h := range w.headers {
		b.WriteString(h.name)
		b.WriteString(": ")
		b.WriteString(h.value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	r.headerBytes = int64(b.Buffered() - start)
	r.bytesSent += r.headerBytes
}

const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

var (
	dayNames   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// appendHTTPDate appends an HTTP date (RFC 1123, GMT) without the
// allocations of time.Format.
func appendHTTPDate(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).UTC()
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	b = append(b, dayNames[t.Weekday()]...)
	b = append(b, ", "...)
	b = append2(b, d)
	b = append(b, ' ')
	b = append(b, monthNames[mo-1]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, ' ')
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mm)
	b = append(b, ':')
	b = append2(b, ss)
	return append(b, " GMT"...)
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// serverToken is the Server header value.
func (r *request) serverToken() string {
	id := r.c.srv.identity
	if r.conf != nil && r.conf.serverTokens == serverTokensOff {
		if i := strings.IndexByte(id, '/'); i > 0 {
			return id[:i]
		}
	}
	return id
}

// absoluteLocation makes a Location that starts with "/" absolute the way
// nginx's header filter does: the scheme, then server_name (with
// server_name_in_redirect), the request's host, or the local address, then
// the local port unless it is 80 (and port_in_redirect is on).
func (r *request) absoluteLocation(loc string) string {
	var sb strings.Builder
	sb.WriteString("http://")
	host := r.host
	if r.conf != nil && r.conf.serverNameInRedirect && r.srv != nil {
		host = r.srv.name
	} else if host == "" {
		host = r.c.localIP
	}
	sb.WriteString(host)
	if (r.conf == nil || r.conf.portInRedirect) && r.c.localPort != "80" && r.c.localPort != "" {
		sb.WriteByte(':')
		sb.WriteString(r.c.localPort)
	}
	sb.WriteString(loc)
	return sb.String()
}

// write sends body bytes through gzip and chunked framing.
func (r *request) write(p []byte) error {
	w := &r.resp
	if w.headOnly || len(p) == 0 {
		return nil
	}
	if w.gz != nil {
		return w.gz.write(r, p)
	}
	return r.writeRaw(p)
}

// writeRaw writes after gzip: chunk framing, then the connection.
func (r *request) writeRaw(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	b := r.c.bw
	if r.resp.chunked {
		b.Write(strconv.AppendInt(r.c.scratch[:0], int64(len(p)), 16))
		b.WriteString("\r\n")
		b.Write(p)
		b.WriteString("\r\n")
		r.bytesSent += int64(len(p)) + 4 + int64(hexLen(len(p)))
	} else {
		b.Write(p)
		r.bytesSent += int64(len(p))
	}
	r.bodyBytesSent += int64(len(p))
	if b.Buffered() == 0 {
		return nil
	}
	return r.c.writeErr()
}

// writeString is write for a string.
func (r *request) writeString(s string) error {
	if r.resp.headOnly || s == "" {
		return nil
	}
	if r.resp.gz != nil || r.resp.chunked {
		return r.write([]byte(s))
	}
	r.c.bw.WriteString(s)
	r.bytesSent += int64(len(s))
	r.bodyBytesSent += int64(len(s))
	return r.c.writeErr()
}

// finishBody ends the body: flushes gzip and writes the last chunk.
func (r *request) finishBody() error {
	w := &r.resp
	if w.headOnly {
		return nil
	}
	if w.gz != nil {
		if err := w.gz.close(r); err != nil {
			return err
		}
	}
	if w.chunked {
		r.c.bw.WriteString("0\r\n\r\n")
		r.bytesSent += 5
	}
	return r.c.writeErr()
}

func hexLen(n int) int {
	l := 1
	for n >= 16 {
		n >>= 4
		l++
	}
	return l
}

// charsetApplies reports whether charset_types names ct.
func (c *locConf) charsetApplies(ct string) bool {
	if c.charsetTypes != nil {
		return c.charsetTypes["*"] || c.charsetTypes[strings.ToLower(ct)]
	}
	switch ct {
	case "text/html", "text/xml", "text/plain", "text/vnd.wap.wml",
		"application/javascript", "application/rss+xml":
		return true
	}
	return false
}
