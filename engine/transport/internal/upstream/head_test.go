package upstream

import (
	"fmt"
	"testing"
)

// FuzzHeadParser checks that the head parser, in both its forms (a
// FastCGI responder's CGI head, a uwsgi app's answer), gives the same head,
// the same body start and the same error however the bytes are split (into
// FastCGI records, or reads).
func FuzzHeadParser(f *testing.F) {
	f.Add([]byte("Status: 404 Not Found\r\nX-A: 1\r\n\r\nbody"), uint(7))
	f.Add([]byte("Location: /x\n\n"), uint(1))
	f.Add([]byte("Bad Header: x\r\n\r\n"), uint(3))
	f.Add([]byte("X-A: a\rb\r\n\r\n"), uint(6))
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		feed := func(newParser func() *HeadParser, parts ...[]byte) string {
			p := newParser()
			for i, part := range parts {
				rest, done, err := p.Feed(part)
				if err != nil {
					return "error: " + err.Error()
				}
				if done {
					h, err := p.Finish()
					if err != nil {
						return "error: " + err.Error()
					}
					body := append([]byte(nil), rest...)
					for _, later := range parts[i+1:] {
						body = append(body, later...)
					}
					return fmt.Sprintf("%d %q %d.%d %q %d body %q", h.StatusCode, h.Status, h.ProtoMajor, h.ProtoMinor, h.Fields, h.ContentLength, body)
				}
			}
			return "incomplete"
		}
		at := int(cut % uint(len(data)+1))
		for _, newParser := range []func() *HeadParser{NewCGIHeadParser, NewHTTPHeadParser} {
			whole := feed(newParser, data)
			split := feed(newParser, data[:at], data[at:])
			if whole != split {
				t.Fatalf("whole: %s\nsplit at %d: %s", whole, at, split)
			}
		}
	})
}
