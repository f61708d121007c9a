package workerproto

import (
	"bytes"
	"fmt"
	"net/http"
)

// ResponseHead is a decoded HEADERS payload. Its slices point into the
// payload, so it is valid until the next frame is read.
type ResponseHead struct {
	Status        []byte // as the app wrote it: "200 OK", or a bare "200"
	Code          int
	Lines         []byte // the header lines, each "Name: value\r\n"
	Count         int    // number of header lines
	ContentLength int64  // -1 when the app set no Content-Length
	Close         bool   // the app sent "Connection: close"
	Chunked       bool   // the app sent "Transfer-Encoding: chunked" itself
}

// AppendStatus appends the status as it goes on the wire: the app's status,
// with the standard reason phrase added to a bare code as uWSGI does.
func (h *ResponseHead) AppendStatus(dst []byte) []byte {
	dst = append(dst, h.Status...)
	if len(h.Status) == 3 {
		dst = append(dst, ' ')
		dst = append(dst, http.StatusText(h.Code)...)
	}
	return dst
}

// ParseHeaders decodes and validates a HEADERS payload: a status line then
// header lines, each ending in CRLF. Bytes that would let an app split the
// response (CR, LF or NUL inside a line) are rejected, as are malformed
// statuses and Content-Length values.
func ParseHeaders(p []byte) (ResponseHead, error) {
	h := ResponseHead{ContentLength: -1}
	i := bytes.Index(p, crlf)
	if i < 0 {
		return h, fmt.Errorf("workerproto: status line is not terminated")
	}
	status := p[:i]
	if len(status) < 3 || !isDigit(status[0]) || !isDigit(status[1]) || !isDigit(status[2]) || (len(status) > 3 && status[3] != ' ') {
		return h, fmt.Errorf("workerproto: invalid status %q (want a 3-digit code and a reason, like \"200 OK\")", status)
	}
	if bad := bytes.IndexFunc(status, isCtl); bad >= 0 {
		return h, fmt.Errorf("workerproto: control character in status %q", status)
	}
	h.Status = status
	h.Code = int(status[0]-'0')*100 + int(status[1]-'0')*10 + int(status[2]-'0')
	if h.Code < 100 {
		return h, fmt.Errorf("workerproto: invalid status code %d", h.Code)
	}
	rest := p[i+2:]
	h.Lines = rest
	for len(rest) > 0 {
		j := bytes.Index(rest, crlf)
		if j < 0 {
			return h, fmt.Errorf("workerproto: header line %q is not terminated", rest)
		}
		line := rest[:j]
		rest = rest[j+2:]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, fmt.Errorf("workerproto: header line %q has no name", line)
		}
		name, value := line[:colon], bytes.TrimLeft(line[colon+1:], " \t")
		for _, c := range name {
			if !isTokenChar(c) {
				return h, fmt.Errorf("workerproto: invalid header name %q", name)
			}
		}
		if bytes.IndexFunc(value, isCtl) >= 0 {
			return h, fmt.Errorf("workerproto: control character in header %s", name)
		}
		h.Count++
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := parseDecimal(bytes.TrimRight(value, " \t"))
			if !ok || (h.ContentLength >= 0 && h.ContentLength != n) {
				return h, fmt.Errorf("workerproto: invalid Content-Length %q", value)
			}
			h.ContentLength = n
		case asciiEqualFold(name, "Connection"):
			if containsTokenFold(value, "close") {
				h.Close = true
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			if containsTokenFold(value, "chunked") {
				h.Chunked = true
			}
		}
	}
	return h, nil
}

var crlf = []byte("\r\n")

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isCtl reports the bytes a header value may not contain. Tab is allowed;
// bytes >= 0x80 are Latin-1 text.
func isCtl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x|0x20 != y|0x20 {
			return false
		}
		if x != y && (x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

// containsTokenFold reports whether a comma-separated header value contains
// token, ignoring case.
func containsTokenFold(v []byte, token string) bool {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		if asciiEqualFold(bytes.Trim(part, " \t"), token) {
			return true
		}
	}
	return false
}

// parseDecimal parses a non-negative decimal of at most 18 digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
