package proxy

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// TestUWSGIStreamFlushesWhenUpstreamWaits: an answer that trickles is
// passed on while the upstream is still sending, not held to its end. The
// upstream sends its head and a first part, then waits until the client
// has that part before it sends the rest: a proxy that held the data would
// leave both waiting until the test's deadline.
func TestUWSGIStreamFlushesWhenUpstreamWaits(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	clientHasFirst := make(chan struct{})
	upstreamDone := make(chan error, 1)
	go func() {
		c, err := up.Accept()
		if err != nil {
			upstreamDone <- err
			return
		}
		defer c.Close()
		if _, _, err := uwsgiproto.ReadRequest(c, uwsgiproto.MaxVarsSize); err != nil {
			upstreamDone <- err
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part\n")
		select {
		case <-clientHasFirst:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(c, "second part\n")
		upstreamDone <- nil
	}()

	dir := t.TempDir()
	addr := peertest.FreeAddr(t)
	cfg := compileText(t, dir, `events {}
http { access_log off; server { listen `+addr+`; location / { uwsgi_pass `+up.Addr().String()+`; } } }`)
	startServer(t, cfg, Options{})
	c := dialClient(t, addr)
	io.WriteString(c, "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(c)
	var got strings.Builder
	for !strings.Contains(got.String(), "first part\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the first part did not arrive while the upstream waited: %v, after %q", err, got.String())
		}
		got.WriteString(line)
	}
	close(clientHasFirst)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading the rest: %v", err)
	}
	if err := <-upstreamDone; err != nil {
		t.Fatalf("upstream: %v", err)
	}
	if !strings.Contains(string(rest), "second part\n") || !strings.HasSuffix(string(rest), "0\r\n\r\n") {
		t.Errorf("rest of the answer: %q", rest)
	}
}
