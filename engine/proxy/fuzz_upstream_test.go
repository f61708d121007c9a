package proxy

import (
	"regexp/syntax"
	"strings"
	"testing"
)

// FuzzParseUpstreamURL: an address either gets one of nginx's reasons or
// splits into parts that put together give the address back.
func FuzzParseUpstreamURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8000", "app", "unix:/tmp/app.sock", "unix:/s:/uri", "[::1]:9", "[::1", "h:99999", "h:", ":80", "/x", "h:80/a/b", "http://h:1", "unix:", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	reasons := map[string]bool{"invalid host": true, "invalid port": true, "no host": true, "no path in the unix domain socket": true}
	f.Fuzz(func(t *testing.T, addr string, uriPart bool) {
		u, reason := parseUpstreamURL(addr, uriPart)
		if reason != "" {
			if !reasons[reason] {
				t.Fatalf("%q: unknown reason %q", addr, reason)
			}
			return
		}
		if u.host == "" || u.hostLen > len(addr) {
			t.Fatalf("%q: bad split %+v", addr, u)
		}
		if u.hasURI && !uriPart {
			t.Fatalf("%q: a URI where none is allowed", addr)
		}
		if u.unix {
			if !strings.HasPrefix(u.host, "unix:") {
				t.Fatalf("%q: unix host %q", addr, u.host)
			}
			return
		}
		hp := u.host
		if u.port != "" {
			hp += ":" + u.port
		}
		if addr[:u.hostLen] != hp || addr[u.hostLen:] != u.uri {
			t.Fatalf("%q: parts %q + %q do not give it back", addr, hp, u.uri)
		}
	})
}

// FuzzRegexError: a pattern RE2 refuses gets a pcre2_compile() message
// that quotes it as it is, and one it accepts compiles.
func FuzzRegexError(f *testing.F) {
	for _, s := range []string{"(", "a)", "[a", "[z-a]", "*", "a**", "a{2,1}", "a{99999}", `a\`, "(?<n", "(?=x)", `(a)\1`, "x++", "[[:foo:]]", "^/(a|b))/x$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pat string) {
		_, err := compileRegex(pat)
		if _, perr := syntax.Parse(pat, syntax.Perl); perr == nil {
			return
		}
		if err == nil {
			t.Fatalf("%q: RE2 refuses it, compileRegex does not", pat)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "pcre2_compile() failed: ") || !strings.Contains(msg, ` in "`+pat+`"`) {
			t.Fatalf("%q: %s", pat, msg)
		}
	})
}
