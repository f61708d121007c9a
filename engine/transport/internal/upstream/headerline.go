package upstream

import (
	"bytes"
	"math"
)

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

// parseStatusLine follows ngx_http_parse_status_line, for one line without
// its LF: "HTTP/", a major version of 1 to 99 without a leading zero, ".", a
// minor version up to 99, a space, optional spaces and exactly three
// digits, then the end of the line (a CR may precede it), a space or a dot
// (IIS's "403.1") and any text. It returns the status line as nginx keeps
// it: from the code to the end of the line, CR excluded, as the offsets
// text and end of l.
func parseStatusLine(l []byte) (major, minor, code, text, end int, ok bool) {
	if !bytes.HasPrefix(l, []byte("HTTP/")) {
		return
	}
	i := len("HTTP/")
	if i >= len(l) || l[i] < '1' || l[i] > '9' {
		return
	}
	for ; i < len(l) && isDigit(l[i]); i++ {
		if major = major*10 + int(l[i]-'0'); major > 99 {
			return
		}
	}
	if i >= len(l) || l[i] != '.' {
		return
	}
	i++
	if i >= len(l) || !isDigit(l[i]) {
		return
	}
	for ; i < len(l) && isDigit(l[i]); i++ {
		if minor = minor*10 + int(l[i]-'0'); minor > 99 {
			return
		}
	}
	if i >= len(l) || l[i] != ' ' {
		return
	}
	for i < len(l) && l[i] == ' ' {
		i++
	}
	text = i
	for n := 0; n < 3; n++ {
		if i >= len(l) || !isDigit(l[i]) {
			return
		}
		code = code*10 + int(l[i]-'0')
		i++
	}
	end = len(l)
	if cr := bytes.IndexByte(l[i:], '\r'); cr >= 0 {
		// A CR ends the line only right before the LF.
		if i+cr != len(l)-1 {
			return
		}
		end = len(l) - 1
	}
	if i < end && l[i] != ' ' && l[i] != '.' {
		return
	}
	return major, minor, code, text, end, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseContentLength reads a Content-Length value as ngx_atoof does: decimal
// digits only. It returns -1 for anything else, or a value past int64.
func parseContentLength(v []byte) int64 {
	if len(v) == 0 {
		return -1
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return -1
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return -1
		}
		n = n*10 + d
	}
	return n
}
