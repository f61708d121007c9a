package fastcgi

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestCallReuse runs one Call through several answers of Go's FastCGI
// responder, with a large one between small ones, as the proxy reuses it,
// and checks each stands on its own.
func TestCallReuse(t *testing.T) {
	tr := &Transport{Addr: goResponder(t)}
	var logged []string
	c := &Call{Logf: func(format string, args ...any) { logged = append(logged, format) }}
	fetch := func(path string, status int) []byte {
		t.Helper()
		c.Request = Request{Method: "GET", Params: Params{
			{Key: "REQUEST_METHOD", Value: "GET"}, {Key: "SCRIPT_NAME", Value: path},
			{Key: "REQUEST_URI", Value: path}, {Key: "SERVER_PROTOCOL", Value: "HTTP/1.1"},
		}}
		if err := tr.Start(c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if c.Head.StatusCode != status {
			t.Fatalf("%s: status %d, want %d", path, c.Head.StatusCode, status)
		}
		body, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c.Close()
		return body
	}
	for i := 0; i < 2; i++ {
		if body := fetch("/teapot", 418); string(body) != "short and stout" {
			t.Errorf("/teapot: %q", body)
		}
		if body := fetch("/large", 200); len(body) != 64*4*4096 || !bytes.HasPrefix(body, []byte("0000")) || !strings.HasSuffix(string(body), "0063") {
			t.Errorf("/large: %d bytes", len(body))
		}
		if body := fetch("/json", 200); string(body) != `{"json": true}` {
			t.Errorf("/json: %q", body)
		}
	}
	if len(logged) != 0 {
		t.Errorf("logged: %q", logged)
	}
}
