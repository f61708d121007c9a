package stats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logBuf collects log lines from concurrent goroutines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// serve starts srv on ln and stops it when the test ends, checking that
// Serve then returns ErrServerClosed.
func serve(t *testing.T, srv *Server, ln net.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// readAll connects like uwsgitop: send nothing (or req), read to EOF.
func readAll(t *testing.T, network, addr string, req []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if req != nil {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the document: %v (after %d bytes)", err, len(b))
	}
	return b
}

func TestServeTCP(t *testing.T) {
	var calls atomic.Int64
	snap := sampleSnapshot()
	var log logBuf
	srv := &Server{Addr: "127.0.0.1:0", Logf: log.logf, Snapshot: func() Snapshot {
		calls.Add(1)
		return snap
	}}
	ln := listen(t, srv.Addr)
	serve(t, srv, ln)

	want := AppendJSON(nil, &snap, Format{})
	for i := 1; i <= 3; i++ {
		if got := readAll(t, "tcp", ln.Addr().String(), nil); !bytes.Equal(got, want) {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		if n := calls.Load(); n != int64(i) {
			t.Fatalf("Snapshot called %d times for %d connections", n, i)
		}
	}

	m := regexp.MustCompile(`^\*\*\* Stats server enabled on (\S+) fd: (\d+) \*\*\*$`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("startup line: %q", log.String())
	}
	if m[1] != ln.Addr().String() {
		t.Errorf("startup line names %s, want the bound address %s", m[1], ln.Addr())
	}
	link, err := os.Readlink("/proc/self/fd/" + m[2])
	if err != nil || !strings.HasPrefix(link, "socket:") {
		t.Errorf("fd %s in the startup line is %q (%v), want the listening socket", m[2], link, err)
	}
}

func TestServeUnixAndAbstract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.sock")
	abstract := fmt.Sprintf("@wsgideck-stats-test-%d", os.Getpid())
	for _, addr := range []string{path, abstract} {
		snap := sampleSnapshot()
		var log logBuf
		srv := &Server{Addr: addr, Format: Format{Minified: true}, Logf: log.logf, Snapshot: func() Snapshot { return snap }}
		serve(t, srv, listen(t, addr))
		if got, want := readAll(t, "unix", addr, nil), AppendJSON(nil, &snap, Format{Minified: true}); !bytes.Equal(got, want) {
			t.Fatalf("%s: got\n%s\nwant\n%s", addr, got, want)
		}
		if !strings.HasPrefix(log.String(), "*** Stats server enabled on "+addr+" fd: ") {
			t.Errorf("startup line: %q", log.String())
		}
	}
}

func TestListenUnixPath(t *testing.T) {
	dir := t.TempDir()

	// A socket left behind by a dead process is replaced.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatal(err)
	}
	ln2, err := Listen(stale)
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}

	// A live one is not.
	if _, err := Listen(stale); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("live socket: err = %v", err)
	}
	ln2.Close()

	// Nor is a file that is not a socket.
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, []byte("keep me"), 0o644)
	if _, err := Listen(file); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("regular file: err = %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("the regular file was touched")
	}

	if _, err := Listen(""); err == nil {
		t.Error("empty address accepted")
	}
	busy := listen(t, "127.0.0.1:0")
	defer busy.Close()
	if _, err := Listen(busy.Addr().String()); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("port in use: err = %v", err)
	}
}

func TestServeHTTP(t *testing.T) {
	snap := sampleSnapshot()
	srv := &Server{HTTP: true, Timeout: 300 * time.Millisecond, Snapshot: func() Snapshot { return snap }}
	ln := listen(t, "127.0.0.1:0")
	serve(t, srv, ln)
	addr := ln.Addr().String()
	want := "HTTP/1.0 200 OK\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json\r\n\r\n" +
		string(AppendJSON(nil, &snap, Format{}))

	if got := readAll(t, "tcp", addr, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}

	// A request with a body the server never reads still gets the whole
	// document, not a reset.
	body := bytes.Repeat([]byte("x"), 32<<10)
	post := append([]byte(fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))), body...)
	if got := readAll(t, "tcp", addr, post); string(got) != want {
		t.Fatalf("POST: got %d bytes, want %d", len(got), len(want))
	}

	// A client that sends nothing within the timeout is dropped with no
	// answer, as uWSGI does.
	if got := readAll(t, "tcp", addr, nil); len(got) != 0 {
		t.Fatalf("silent client got %q", got)
	}
}

func TestSnapshotPanicKeepsServing(t *testing.T) {
	var calls atomic.Int64
	var log logBuf
	srv := &Server{Logf: log.logf, Snapshot: func() Snapshot {
		if calls.Add(1) == 1 {
			panic("no workers table yet")
		}
		return Snapshot{Version: "ok"}
	}}
	ln := listen(t, "127.0.0.1:0")
	serve(t, srv, ln)
	if got := readAll(t, "tcp", ln.Addr().String(), nil); len(got) != 0 {
		t.Fatalf("panicking Snapshot: got %q", got)
	}
	if got := readAll(t, "tcp", ln.Addr().String(), nil); !bytes.Contains(got, []byte(`"version":"ok"`)) {
		t.Fatalf("after the panic: %q", got)
	}
	if !strings.Contains(log.String(), "Snapshot panicked: no workers table yet") {
		t.Errorf("log: %q", log.String())
	}
}

func TestServeErrors(t *testing.T) {
	srv := &Server{}
	ln := listen(t, "127.0.0.1:0")
	if err := srv.Serve(ln); err == nil || !strings.Contains(err.Error(), "Snapshot is nil") {
		t.Errorf("Serve without Snapshot: %v", err)
	}
	srv = &Server{Snapshot: func() Snapshot { return Snapshot{} }}
	srv.Close()
	if err := srv.Serve(listen(t, "127.0.0.1:0")); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
	srv = &Server{Addr: "203.0.113.1:" + strconv.Itoa(1), Snapshot: func() Snapshot { return Snapshot{} }}
	if err := srv.ListenAndServe(); err == nil || !strings.Contains(err.Error(), "203.0.113.1:1") {
		t.Errorf("ListenAndServe on a foreign address: %v", err)
	}
}

// TestCloseEndsSlowClients checks that Close does not wait for a stats-http
// client that never sends its request.
func TestCloseEndsSlowClients(t *testing.T) {
	srv := &Server{HTTP: true, Timeout: time.Hour, Snapshot: func() Snapshot { return Snapshot{} }}
	ln := listen(t, "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HT")) // an incomplete head: the server keeps reading
	// Wait until the server holds the connection.
	for {
		srv.mu.Lock()
		n := len(srv.conns)
		srv.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a slow client")
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}
