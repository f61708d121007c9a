package uwsgi

import (
	"errors"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// TestCallReuse runs one Call through answers, a failure and answers
// again, the way the proxy reuses it, and checks each request stands on
// its own: its head, its whole body, and a closed connection at the end.
func TestCallReuse(t *testing.T) {
	ok := &Transport{Addr: benchUpstream(t)}
	refused := &Transport{Addr: peertest.FreeAddr(t)}
	r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/reuse?x=1", nil))
	c := &Call{Request: Request{Method: "GET", Params: ParamsFromContext(r.Context()), Header: upstream.ClientHeaders(r)}}
	fetch := func() {
		t.Helper()
		if err := ok.Start(c); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if c.Head.StatusCode != 200 || len(c.Head.Fields) != 2 || c.Head.Fields[0] != (HeaderField{Name: "Content-Type", Value: "text/plain"}) {
			t.Fatalf("head: %d %q", c.Head.StatusCode, c.Head.Fields)
		}
		body, err := io.ReadAll(c)
		if err != nil || string(body) != "Hello, World!" {
			t.Fatalf("body %q, %v", body, err)
		}
		if c.x.Conn.Open() {
			t.Fatal("the connection is still open at the end of the body")
		}
		c.Close()
	}
	fetch()
	fetch()
	err := refused.Start(c)
	var e *Error
	if !errors.As(err, &e) || e.Status != 502 || e.Phase != Connecting {
		t.Fatalf("refused: %v", err)
	}
	if _, err := c.Read(make([]byte, 8)); err == nil {
		t.Fatal("Read after a failed Start succeeded")
	}
	c.Close()
	fetch()
	// a Call closed before its body was read
	if err := ok.Start(c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c.x.Conn.Open() {
		t.Fatal("Close left the connection open")
	}
	fetch()
}
