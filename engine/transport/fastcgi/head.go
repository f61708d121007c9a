package fastcgi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
)

// head is a parsed CGI response head.
type head struct {
	status     int
	statusLine string // "200 OK", as nginx keeps it for the client
	header     http.Header
	// contentLength is the upstream's Content-Length, or -1 when it sent
	// none (the body then ends at EOF).
	contentLength int64
}

// Errors reading a response head, in nginx's words. All of them make nginx
// answer 502.
var (
	errPrematureClose = errors.New("upstream prematurely closed connection")
	errTooBigHeader   = errors.New("upstream sent too big header")
	errInvalidHeader  = errors.New("upstream sent invalid header")
)

// invalidHeaderError is a header line nginx refuses. Like nginx 1.22 it
// quotes the line up to the offending byte and shows that byte in hex.
type invalidHeaderError struct {
	prefix string
	bad    byte
}

func (e *invalidHeaderError) Error() string {
	return fmt.Sprintf(`upstream sent invalid header: "%s\x%02x..."`, e.prefix, e.bad)
}

func (e *invalidHeaderError) Is(target error) bool { return target == errInvalidHeader }

// invalidStatusError is a Status header that does not start with three
// digits.
type invalidStatusError struct{ value string }

func (e *invalidStatusError) Error() string {
	return fmt.Sprintf(`upstream sent invalid status "%s"`, e.value)
}

func (e *invalidStatusError) Is(target error) bool { return target == errInvalidHeader }

// headParser follows ngx_http_fastcgi_process_header: CGI header lines up
// to an empty line, with no status line (a leading "HTTP/1.1 200 OK" is
// ignored like any repeated status line). It is fed STDOUT content as it
// arrives, so that a malformed line fails as soon as its bad byte arrives,
// as in nginx.
type headParser struct {
	h          head
	pending    []byte // the unfinished last line
	statusHdr  string // the first Status header's value
	hasStatus  bool
	hasLocator bool // a Location header was seen
}

func newHeadParser() *headParser {
	return &headParser{h: head{header: make(http.Header), contentLength: -1}}
}

// feed parses STDOUT bytes. Once the empty line has been seen it reports
// done, and rest is what follows it: the start of the body.
func (p *headParser) feed(data []byte) (rest []byte, done bool, err error) {
	for {
		lf := bytes.IndexByte(data, '\n')
		if lf < 0 {
			p.pending = append(p.pending, data...)
			// A bad byte fails now, not when its line is complete.
			if len(p.pending) > 0 {
				if _, _, _, err := parseHeaderLine(p.pending); err != nil {
					return nil, false, err
				}
			}
			return nil, false, nil
		}
		l := data[:lf]
		if len(p.pending) > 0 {
			l = append(p.pending, l...)
			p.pending = nil
		}
		data = data[lf+1:]
		end, err := p.line(l)
		if err != nil {
			return nil, false, err
		}
		if end {
			return data, true, nil
		}
	}
}

// line consumes one line, without its LF. It reports true at the empty line
// that ends the head.
func (p *headParser) line(l []byte) (bool, error) {
	name, value, kind, err := parseHeaderLine(l)
	switch {
	case err != nil:
		return false, err
	case kind == endOfHead:
		return true, nil
	case kind == ignoredLine:
		return false, nil
	}
	key := textproto.CanonicalMIMEHeaderKey(string(name))
	p.h.header[key] = append(p.h.header[key], string(value))
	switch key {
	case "Status":
		if !p.hasStatus {
			p.hasStatus, p.statusHdr = true, string(value)
		}
	case "Location":
		p.hasLocator = true
	case "Content-Length":
		// nginx 1.22 keeps the last one; a value that is not a number
		// leaves the length unknown, so the body runs to EOF.
		p.h.contentLength = parseContentLength(value)
	}
	return false, nil
}

// finish settles the status once the head is complete: the Status header,
// else 302 for a Location, else 200.
func (p *headParser) finish() (*head, error) {
	switch {
	case p.hasStatus:
		v := p.statusHdr
		if len(v) < 3 || !isDigit(v[0]) || !isDigit(v[1]) || !isDigit(v[2]) {
			return nil, &invalidStatusError{value: v}
		}
		code := int(v[0]-'0')*100 + int(v[1]-'0')*10 + int(v[2]-'0')
		if code < 100 {
			// nginx would pass it on; net/http cannot send it.
			return nil, &invalidStatusError{value: v}
		}
		p.h.status, p.h.statusLine = code, string(v)
	case p.hasLocator:
		p.h.status, p.h.statusLine = http.StatusFound, "302 Moved Temporarily"
	default:
		p.h.status, p.h.statusLine = http.StatusOK, "200 OK"
	}
	return &p.h, nil
}

// lineKind is what parseHeaderLine found.
type lineKind int

const (
	headerField lineKind = iota
	endOfHead            // the empty line
	ignoredLine          // a repeated status line
)

// parseHeaderLine is ngx_http_parse_header_line as nginx 1.22 runs it on
// upstream responses (underscores allowed), for one line without its LF:
// the first byte of a name may not be a control, space or colon, later
// bytes may not be controls or spaces; a line with no colon is a header with
// an empty value; spaces around the value are dropped; NUL is refused
// anywhere; a CR must be followed by the end of the line; and a repeated
// status line ("HTTP/1.1 200 OK", which IIS sends) is ignored.
func parseHeaderLine(l []byte) (name, value []byte, kind lineKind, err error) {
	const (
		start = iota
		inName
		spaceBeforeValue
		inValue
		spaceAfterValue
		ignoreLine
		almostDone
		headAlmostDone
	)
	state := start
	nameEnd, valueStart, valueEnd, headerEnd := 0, 0, 0, 0
	invalid := func(at int) error {
		bad := byte('\n')
		if at < len(l) {
			bad = l[at]
		}
		return &invalidHeaderError{prefix: string(l[:at]), bad: bad}
	}
	for p := 0; p <= len(l); p++ {
		ch := byte('\n') // the LF that ended the line
		if p < len(l) {
			ch = l[p]
		}
		switch state {
		case start:
			switch {
			case ch == '\r':
				headerEnd, state = p, headAlmostDone
			case ch == '\n':
				return nil, nil, endOfHead, nil
			case !isTokenByte(ch) && (ch <= ' ' || ch == 0x7f || ch == ':'):
				return nil, nil, 0, invalid(p)
			default:
				state = inName
			}
		case inName:
			switch {
			case isTokenByte(ch):
			case ch == ':':
				nameEnd, state = p, spaceBeforeValue
			case ch == '\r':
				nameEnd, valueStart, valueEnd, headerEnd, state = p, p, p, p, almostDone
			case ch == '\n':
				return l[:p], nil, headerField, nil
			case ch == '/' && p == 4 && string(l[:4]) == "HTTP":
				state = ignoreLine
			case ch <= ' ' || ch == 0x7f:
				return nil, nil, 0, invalid(p)
			}
		case spaceBeforeValue:
			switch ch {
			case ' ':
			case '\r':
				valueStart, valueEnd, headerEnd, state = p, p, p, almostDone
			case '\n':
				return l[:nameEnd], nil, headerField, nil
			case 0:
				return nil, nil, 0, invalid(p)
			default:
				valueStart, state = p, inValue
			}
		case inValue:
			switch ch {
			case ' ':
				valueEnd, headerEnd, state = p, p, spaceAfterValue
			case '\r':
				valueEnd, headerEnd, state = p, p, almostDone
			case '\n':
				return l[:nameEnd], l[valueStart:p], headerField, nil
			case 0:
				return nil, nil, 0, invalid(p)
			}
		case spaceAfterValue:
			switch ch {
			case ' ':
			case '\r':
				state = almostDone
			case '\n':
				return l[:nameEnd], l[valueStart:valueEnd], headerField, nil
			case 0:
				return nil, nil, 0, invalid(p)
			default:
				state = inValue
			}
		case ignoreLine:
			if ch == '\n' {
				return nil, nil, ignoredLine, nil
			}
		case almostDone:
			switch ch {
			case '\n':
				return l[:nameEnd], l[valueStart:valueEnd], headerField, nil
			case '\r':
			default:
				return nil, nil, 0, invalid(headerEnd)
			}
		case headAlmostDone:
			if ch == '\n' {
				return nil, nil, endOfHead, nil
			}
			return nil, nil, 0, invalid(headerEnd)
		}
	}
	panic("unreachable: the virtual LF ends every line")
}

// isTokenByte reports whether nginx's header parser takes c as a plain name
// byte: a letter, a digit, '-' or '_'.
func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseContentLength reads a Content-Length value as ngx_atoof does: decimal
// digits only. It returns -1 for anything else.
func parseContentLength(v []byte) int64 {
	if len(v) == 0 {
		return -1
	}
	for _, c := range v {
		if !isDigit(c) {
			return -1
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
