package proxy

import "errors"

// errBadURI is a request target nginx answers with 400: a bad %-escape, a
// decoded NUL, or a ".." that climbs above the root.
var errBadURI = errors.New("client sent invalid request")

// uriState is the state of the URI normaliser, named after nginx's
// ngx_http_parse_complex_uri states.
type uriState uint8

const (
	uriUsual uriState = iota
	uriSlash
	uriDot
	uriDotDot
	uriQuoted
	uriQuotedSecond
)

// normalizeURI turns a raw request target path (it starts with "/" and may
// carry "?args" and "#fragment") into nginx's $uri and $args, the way
// ngx_http_parse_complex_uri does:
//
//   - %XX escapes are decoded, and the decoded byte is then treated as if it
//     had been written literally ("%2F" is a slash, "%2E%2E" is ".."),
//     except that a decoded "%", "#" or "?" stays a plain character;
//   - runs of slashes collapse into one when mergeSlashes is set;
//   - "." segments vanish and ".." removes the previous segment; climbing
//     above the root is an error;
//   - "?" starts the arguments, which stay raw; "#" ends the URI (and the
//     arguments).
//
// dst is reused for the result when it has room.
func normalizeURI(dst []byte, raw string, mergeSlashes bool) (uri []byte, args string, hasArgs bool, err error) {
	u := dst[:0]
	state := uriUsual
	quotedState := uriUsual
	var decoded byte
	i := 0
	n := len(raw)
	// ch is the byte being looked at; a decoded escape is fed back in
	// through it without advancing i, like nginx's "state = quoted_state;
	// break;".
	var ch byte
	haveCh := false
	for {
		if !haveCh {
			if i >= n {
				break
			}
			ch = raw[i]
			i++
		}
		haveCh = false
		switch state {
		case uriUsual:
			switch ch {
			case '/':
				state = uriSlash
				u = append(u, ch)
			case '%':
				quotedState = state
				state = uriQuoted
			case '?':
				return u, argsOf(raw[i:]), true, nil
			case '#':
				return u, "", false, nil
			default:
				u = append(u, ch)
			}
		case uriSlash:
			switch ch {
			case '/':
				if !mergeSlashes {
					u = append(u, ch)
				}
			case '.':
				state = uriDot
				u = append(u, ch)
			case '%':
				quotedState = state
				state = uriQuoted
			case '?':
				return u, argsOf(raw[i:]), true, nil
			case '#':
				return u, "", false, nil
			default:
				state = uriUsual
				u = append(u, ch)
			}
		case uriDot:
			switch ch {
			case '/':
				state = uriSlash
				u = u[:len(u)-1]
			case '.':
				state = uriDotDot
				u = append(u, ch)
			case '%':
				quotedState = state
				state = uriQuoted
			case '?':
				return u[:len(u)-1], argsOf(raw[i:]), true, nil
			case '#':
				return u[:len(u)-1], "", false, nil
			default:
				state = uriUsual
				u = append(u, ch)
			}
		case uriDotDot:
			switch ch {
			case '/', '?', '#':
				var ok bool
				if u, ok = climb(u); !ok {
					return nil, "", false, errBadURI
				}
				if ch == '?' {
					return u, argsOf(raw[i:]), true, nil
				}
				if ch == '#' {
					return u, "", false, nil
				}
				state = uriSlash
			case '%':
				quotedState = state
				state = uriQuoted
			default:
				state = uriUsual
				u = append(u, ch)
			}
		case uriQuoted:
			if h, ok := unhex(ch); ok {
				decoded = h
				state = uriQuotedSecond
				continue
			}
			return nil, "", false, errBadURI
		case uriQuotedSecond:
			h, ok := unhex(ch)
			if !ok {
				return nil, "", false, errBadURI
			}
			ch = decoded<<4 | h
			switch ch {
			case 0:
				return nil, "", false, errBadURI
			case '%', '#', '?':
				state = uriUsual
				u = append(u, ch)
				continue
			}
			state = quotedState
			haveCh = true
		}
	}
	switch state {
	case uriQuoted, uriQuotedSecond:
		return nil, "", false, errBadURI
	case uriDot:
		u = u[:len(u)-1]
	case uriDotDot:
		var ok bool
		if u, ok = climb(u); !ok {
			return nil, "", false, errBadURI
		}
	}
	return u, "", false, nil
}

// climb removes the last path segment and the ".." just written after it:
// u ends in "/..", and the result ends at the slash before the previous
// segment. It fails when that would leave the root.
func climb(u []byte) ([]byte, bool) {
	j := len(u) - 4
	for {
		if j < 0 {
			return nil, false
		}
		if u[j] == '/' {
			return u[:j+1], true
		}
		j--
	}
}

// argsOf returns the arguments after "?": everything up to a "#".
func argsOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			return s[:i]
		}
	}
	return s
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// extension returns the file name extension of uri the way nginx's
// ngx_http_set_exten finds it: the text after the last "." of the last
// segment, unless that dot starts the segment.
func extension(uri string) string {
	for i := len(uri) - 1; i > 1; i-- {
		if uri[i] == '.' && uri[i-1] != '/' {
			return uri[i+1:]
		}
		if uri[i] == '/' {
			return ""
		}
	}
	return ""
}
