package proxy

// requestLine is a parsed HTTP request line.
type requestLine struct {
	method string
	// target is the request target from its path on: "/path?args#frag",
	// or "" for an absolute-form target with no path (nginx then uses "/").
	target string
	// host is the host of an absolute-form target ("GET http://h/ ..."),
	// which takes precedence over the Host header.
	host         string
	major, minor int
	// http09 is set for a request line without a version.
	http09 bool
}

// Errors of the request line, as the status nginx answers them with.
const (
	parseOK            = 0
	parseInvalid       = 400
	parseInvalidVerion = 505
)

// parseRequestLine parses one request line (without its line ending) with
// the rules of ngx_http_parse_request_line in nginx 1.22: the method is
// upper-case letters, "_" and "-"; any number of spaces separate the parts;
// the target is origin-form or absolute-form; control characters and a
// version other than HTTP/1.x are refused.
func parseRequestLine(line string) (requestLine, int) {
	var rl requestLine
	i := 0
	n := len(line)
	for i < n && isMethodChar(line[i]) {
		i++
	}
	if i == 0 || i >= n || line[i] != ' ' {
		return rl, parseInvalid
	}
	rl.method = line[:i]
	for i < n && line[i] == ' ' {
		i++
	}
	if i >= n {
		return rl, parseInvalid
	}
	start := i
	if line[i] != '/' {
		// absolute-form: scheme "://" host [":" port] [path]
		c := line[i] | 0x20
		if c < 'a' || c > 'z' {
			return rl, parseInvalid
		}
		for i < n {
			c := line[i]
			lc := c | 0x20
			if (lc >= 'a' && lc <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' {
				i++
				continue
			}
			break
		}
		if i+3 > n || line[i] != ':' || line[i+1] != '/' || line[i+2] != '/' {
			return rl, parseInvalid
		}
		i += 3
		hostStart := i
		if i < n && line[i] == '[' {
			i++
			for i < n && line[i] != ']' {
				if !isIPLiteralChar(line[i]) {
					return rl, parseInvalid
				}
				i++
			}
			if i >= n {
				return rl, parseInvalid
			}
			i++
		} else {
			for i < n {
				c := line[i]
				lc := c | 0x20
				if (lc >= 'a' && lc <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' {
					i++
					continue
				}
				break
			}
		}
		hostEnd := i
		if i < n && line[i] == ':' {
			i++
			for i < n && line[i] >= '0' && line[i] <= '9' {
				i++
			}
			hostEnd = i
		}
		rl.host = line[hostStart:hostEnd]
		if i >= n {
			return rl, parseInvalid
		}
		switch line[i] {
		case '/', '?':
			start = i
		case ' ':
			start = i
		default:
			return rl, parseInvalid
		}
	}
	// the target runs to the next space; control characters are refused
	end := start
	for end < n && line[end] != ' ' {
		c := line[end]
		if c < 0x20 || c == 0x7f {
			return rl, parseInvalid
		}
		end++
	}
	rl.target = line[start:end]
	i = end
	for i < n && line[i] == ' ' {
		i++
	}
	if i >= n {
		rl.http09 = true
		rl.minor = 9
		if rl.method != "GET" {
			return rl, parseInvalid
		}
		return rl, parseOK
	}
	if n-i < 6 || line[i:i+5] != "HTTP/" {
		return rl, parseInvalid
	}
	i += 5
	if line[i] < '1' || line[i] > '9' {
		return rl, parseInvalid
	}
	major := 0
	for i < n && line[i] >= '0' && line[i] <= '9' {
		major = major*10 + int(line[i]-'0')
		if major > 1 {
			return rl, parseInvalidVerion
		}
		i++
	}
	if i >= n || line[i] != '.' {
		return rl, parseInvalid
	}
	i++
	if i >= n || line[i] < '0' || line[i] > '9' {
		return rl, parseInvalid
	}
	minor := 0
	for i < n && line[i] >= '0' && line[i] <= '9' {
		if minor > 99 {
			return rl, parseInvalid
		}
		minor = minor*10 + int(line[i]-'0')
		i++
	}
	for i < n && line[i] == ' ' {
		i++
	}
	if i != n {
		return rl, parseInvalid
	}
	rl.major, rl.minor = major, minor
	return rl, parseOK
}

func isMethodChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || c == '_' || c == '-'
}

func isIPLiteralChar(c byte) bool {
	lc := c | 0x20
	if (c >= '0' && c <= '9') || (lc >= 'a' && lc <= 'z') {
		return true
	}
	switch c {
	case ':', '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

// validateHost checks and normalises a Host value the way
// ngx_http_validate_host does: the port is dropped, a trailing dot is
// dropped, the name is lower-cased; "..", "/", NUL and control characters
// make it invalid.
func validateHost(h string) (string, bool) {
	dotPos := -2
	hostLen := len(h)
	const (
		usual = iota
		literal
		rest
	)
	state := usual
	upper := false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch c {
		case '.':
			if dotPos == i-1 {
				return "", false
			}
			dotPos = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		case 0, '/':
			return "", false
		default:
			if c <= 0x20 || c == 0x7f {
				return "", false
			}
			if c >= 'A' && c <= 'Z' {
				upper = true
			}
		}
	}
	if dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return "", false
	}
	h = h[:hostLen]
	if upper {
		h = lowerASCII(h)
	}
	return h, true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
