package proxy

import "strings"

// nginx's ngx_escape_uri tables, as in 1.22: one bit per byte, set when
// the byte is written as %XX. Each is given as nginx gives it, eight
// 32-bit words for bytes 0x00-0xff.
var (
	// escURI (NGX_ESCAPE_URI): a URI nginx sends on, in proxy_pass with
	// a changed URI and the Location of a redirect to a directory. Since
	// 1.21.1 it also escapes ", <, >, \, ^, `, {, | and }.
	escURI = escapeTable([8]uint32{0xffffffff, 0xd000002d, 0x50000000, 0xb8000001, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff})
	// escArgs (NGX_ESCAPE_ARGS): a capture copied into arguments.
	escArgs = escapeTable([8]uint32{0xffffffff, 0x88000869, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff})
	// escURIComponent (NGX_ESCAPE_URI_COMPONENT): all but A-Z, a-z,
	// 0-9, "-", ".", "_" and "~"; autoindex links.
	escURIComponent = escapeTable([8]uint32{0xffffffff, 0xfc009fff, 0x78000001, 0xb8000001, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff})
)

func escapeTable(words [8]uint32) *[256]bool {
	var t [256]bool
	for i := range t {
		t[i] = words[i>>5]&(1<<(uint(i)&31)) != 0
	}
	return &t
}

// escapeWith is ngx_escape_uri: the bytes t marks become %XX.
func escapeWith(t *[256]bool, s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if t[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if t[c] {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// escapeURI is ngx_escape_uri with NGX_ESCAPE_URI.
func escapeURI(s string) string { return escapeWith(escURI, s) }

// escapeArgs is ngx_escape_uri with NGX_ESCAPE_ARGS.
func escapeArgs(s string) string { return escapeWith(escArgs, s) }

// escapeURIComponent is ngx_escape_uri with NGX_ESCAPE_URI_COMPONENT.
func escapeURIComponent(s string) string { return escapeWith(escURIComponent, s) }

// unescapeRedirect is ngx_unescape_uri with NGX_UNESCAPE_REDIRECT, which
// nginx runs over a rewrite's redirect before it appends the request's
// arguments: %XX of a byte above "%" and below DEL is decoded, others are
// kept, a malformed escape is dropped, and decoding stops after the first
// "?" (written or decoded from %3F), the rest being copied as it is.
func unescapeRedirect(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	const (
		usual = iota
		quoted
		quotedSecond
	)
	state := usual
	var decoded byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch state {
		case usual:
			if ch == '?' {
				return string(b) + s[i:]
			}
			if ch == '%' {
				state = quoted
				continue
			}
			b = append(b, ch)
		case quoted:
			if d, ok := unhex(ch); ok {
				decoded = d
				state = quotedSecond
				continue
			}
			// a malformed escape loses its "%"
			state = usual
			b = append(b, ch)
		case quotedSecond:
			state = usual
			d, ok := unhex(ch)
			if !ok {
				// and this one loses all three bytes
				continue
			}
			c := decoded<<4 + d
			if c == '?' {
				return string(b) + "?" + s[i+1:]
			}
			if c > '%' && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, s[i-2:i+1]...)
			}
		}
	}
	return string(b)
}
