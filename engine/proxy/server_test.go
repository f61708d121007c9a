package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// compileText compiles a config given as text, with dir as prefix.
func compileText(t *testing.T, dir, text string) *Config {
	t.Helper()
	nc, err := nginxconf.LoadSource(filepath.Join(dir, "nginx.conf"), []byte(text), &nginxconf.Options{Prefix: dir})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg, err := Compile(nc, LoadOptions{Prefix: dir})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return cfg
}

// startServer starts a Server with opts on cfg, closed when the test
// ends.
func startServer(t *testing.T, cfg *Config, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dialClient opens a client connection to addr, with a deadline for the
// whole test's exchange, closed when the test ends.
func dialClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func get(t *testing.T, network, addr, path string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestDefaultIdentity: without Options.Identity the server names itself
// wsgideck, in the header and in stock pages; server_tokens off drops the
// version.
func TestDefaultIdentity(t *testing.T) {
	dir := t.TempDir()
	addr := peertest.FreeAddr(t)
	cfg := compileText(t, dir, `events {}
http { access_log off; server { listen `+addr+`; location /off/ { server_tokens off; return 404; } location / { return 404; } } }`)
	startServer(t, cfg, Options{})
	resp, body := get(t, "tcp", addr, "/")
	if got := resp.Header.Get("Server"); got != "wsgideck/"+Version {
		t.Errorf("Server: %q", got)
	}
	if !strings.Contains(body, "<hr><center>wsgideck/"+Version+"</center>") {
		t.Errorf("stock page: %q", body)
	}
	resp, body = get(t, "tcp", addr, "/off/")
	if got := resp.Header.Get("Server"); got != "wsgideck" || !strings.Contains(body, "<center>wsgideck</center>") {
		t.Errorf("server_tokens off: %q %q", got, body)
	}
}

// TestUnixListenAndReload: a unix socket listener, then a reload that moves
// the server to a TCP address; a reload that cannot bind changes nothing.
func TestUnixListenAndReload(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	cfg := compileText(t, dir, `events {}
http { access_log off; server { listen unix:`+sock+`; location / { return 200 "unix $server_addr\n"; } } }`)
	s := startServer(t, cfg, Options{})
	_, body := get(t, "unix", sock, "/")
	if body != "unix unix:"+sock+"\n" {
		t.Errorf("over the unix socket: %q", body)
	}
	addr := peertest.FreeAddr(t)
	next := compileText(t, dir, `events {}
http { access_log off; server { listen `+addr+`; location / { return 200 "tcp\n"; } } }`)
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, "tcp", addr, "/"); body != "tcp\n" {
		t.Errorf("after reload: %q", body)
	}
	if _, err := net.Dial("unix", sock); err == nil {
		t.Errorf("the unix socket is still served after the reload")
	}
	// a config whose address is taken is refused as a whole
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bad := compileText(t, dir, `events {}
http { access_log off; server { listen `+busy.Addr().String()+`; return 200 "never\n"; } server { listen `+addr+`; return 200 "never\n"; } }`)
	if err := s.Reload(bad); err == nil || !strings.Contains(err.Error(), "bind() to") {
		t.Fatalf("reload onto a busy address: %v", err)
	}
	if _, body := get(t, "tcp", addr, "/"); body != "tcp\n" {
		t.Errorf("after a refused reload: %q", body)
	}
}

// TestGracefulShutdown: Shutdown lets a request in progress finish and
// closes idle keep-alive connections.
func TestGracefulShutdown(t *testing.T) {
	be := startBackend(t, "slow")
	dir := t.TempDir()
	addr := peertest.FreeAddr(t)
	cfg := compileText(t, dir, `events {}
http { access_log off; server { listen `+addr+`; location / { proxy_pass http://`+be.addr()+`; } } }`)
	s := NewServer(Options{})
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	ir := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(ir, nil); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	fmt.Fprintf(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	// let the slow request reach the backend before shutting down
	time.Sleep(200 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatalf("the request in progress was cut: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "GET /slow") {
		t.Errorf("slow answer: %d %q", resp.StatusCode, b)
	}
	if !resp.Close {
		t.Errorf("a draining server should answer with Connection: close")
	}
	if _, err := ir.ReadByte(); err == nil {
		t.Errorf("the idle connection was not closed")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Errorf("still accepting after Shutdown")
	}
}

// TestReloadKeepsLogsOpen: the old config's log file closes, the new one
// is written to.
func TestAccessLogFileAndReopen(t *testing.T) {
	dir := t.TempDir()
	addr := peertest.FreeAddr(t)
	logPath := filepath.Join(dir, "a.log")
	cfg := compileText(t, dir, `events {}
http { log_format short '$request_method $uri $status'; server { listen `+addr+`; access_log `+logPath+` short; return 204; } }`)
	s := startServer(t, cfg, Options{})
	get(t, "tcp", addr, "/one")
	os.Rename(logPath, logPath+".1")
	if err := s.ReopenLogs(); err != nil {
		t.Fatal(err)
	}
	get(t, "tcp", addr, "/two")
	old, _ := os.ReadFile(logPath + ".1")
	cur, _ := os.ReadFile(logPath)
	if string(old) != "GET /one 204\n" || string(cur) != "GET /two 204\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}

// TestWildcardAndSpecificListen: like nginx, a port with a wildcard
// listen is bound once, and connections to an address that has its own
// listen go to that address's servers.
func TestWildcardAndSpecificListen(t *testing.T) {
	dir := t.TempDir()
	port := freeBothPort(t)
	cfg := compileText(t, dir, fmt.Sprintf(`events {}
http { access_log off;
  server { listen %d; return 200 "wildcard $server_addr\n"; }
  server { listen 127.0.0.2:%d; return 200 "specific\n"; }
}`, port, port))
	s := startServer(t, cfg, Options{})
	if n := len(s.Addrs()); n != 1 {
		t.Errorf("%d sockets bound, want the wildcard only", n)
	}
	if _, body := get(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "/"); body != "wildcard 127.0.0.1\n" {
		t.Errorf("127.0.0.1: %q", body)
	}
	if _, body := get(t, "tcp", fmt.Sprintf("127.0.0.2:%d", port), "/"); body != "specific\n" {
		t.Errorf("127.0.0.2: %q", body)
	}
}
