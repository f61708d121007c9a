package appserver

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// loopApp exercises what the uwsgi event loop relays: bodies both ways,
// streamed responses, slow requests and a worker that dies.
const loopApp = `
import os, time

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/len":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d %s %s" % (len(body), body[:3], body[-3:])]
    if path == "/big":
        n = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        def gen():
            for i in range(n):
                yield bytes([65 + i % 26]) * 65536
        return gen()
    if path == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
    if path == "/die":
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid=%d" % os.getpid()]
`

// startLoopServer serves loopApp on uwsgi sockets only (TCP and unix), so
// the event loops serve them and the core channels are outside the
// netpoller.
func startLoopServer(t *testing.T, mod func(*Config)) (*Server, *syncBuffer, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "loop.sock")
	cfg := Config{
		Sockets:   []Socket{{Proto: ProtoUWSGI}, {Proto: ProtoUWSGI, Addr: sock}},
		Chdir:     writeApp(t, map[string]string{"app.py": loopApp}),
		WSGIFile:  "app.py",
		Processes: 2,
		Threads:   1,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, log := startServer(t, cfg)
	waitReady(t, s)
	if uwsgiLoopSupported && (len(s.loops) != 2 || s.corePolled) {
		t.Fatalf("want 2 event loops and unpolled cores, got %d loops, corePolled %v", len(s.loops), s.corePolled)
	}
	return s, log, sock
}

func loopGet(t *testing.T, network, addr, path, query, body string) string {
	t.Helper()
	vars := pairs("REQUEST_METHOD", "POST", "PATH_INFO", path, "QUERY_STRING", query, "REQUEST_URI", path, "SERVER_PROTOCOL", "HTTP/1.1", "CONTENT_LENGTH", fmt.Sprint(len(body)))
	return rawExchange(t, network, addr, uwsgiPacket(t, vars, body))
}

// TestUWSGILoopConcurrent sends more requests at once than there are
// cores, on both sockets: they queue for cores and all get their answer.
func TestUWSGILoopConcurrent(t *testing.T) {
	s, log, sock := startLoopServer(t, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			network, addr := "tcp", s.Addrs()[0]
			if i%2 == 1 {
				network, addr = "unix", sock
			}
			body := strings.Repeat(string(rune('a'+i%26)), 1000+i)
			out := loopGet(t, network, addr, "/len", "", body)
			want := fmt.Sprintf("%d %s %s", len(body), body[:3], body[len(body)-3:])
			if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(out, want) {
				errs <- fmt.Sprintf("request %d: %q", i, out)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	waitLogCount(t, log, "POST /len => generated ", 40)
	if got := strings.Count(log.String(), "POST /len => generated "); got != 40 {
		t.Errorf("%d request log lines, want 40", got)
	}
	var served int64
	for _, w := range s.Snapshot().Workers {
		served += w.Requests
	}
	if served != 40 {
		t.Errorf("workers counted %d requests, want 40", served)
	}
}

// TestUWSGILoopBigBodies: a response much larger than the loop buffers
// for a client that does not read yet, and a request body over the
// first chunk, which goes to the blocking path.
func TestUWSGILoopBigBodies(t *testing.T) {
	s, _, _ := startLoopServer(t, nil)
	c, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	const chunks = 512 // 32 MiB: more than loopback TCP buffers hold
	c.Write(uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/big", "QUERY_STRING", fmt.Sprint(chunks), "SERVER_PROTOCOL", "HTTP/1.0"), ""))
	// While this client reads nothing, the loop stops reading its core; the
	// other worker keeps serving.
	if out := loopGet(t, "tcp", s.Addrs()[0], "/hello", "", ""); !strings.Contains(out, "pid=") {
		t.Errorf("a request beside the big response: %q", out)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(got, []byte("\r\n\r\n"))
	if !ok || !bytes.HasPrefix(head, []byte("HTTP/1.0 200 OK\r\n")) {
		t.Fatalf("big response head: %q", head)
	}
	if len(body) != chunks*65536 {
		t.Fatalf("big response: %d bytes, want %d", len(body), chunks*65536)
	}
	for i := 0; i < chunks; i++ {
		if want := byte(65 + i%26); body[i*65536] != want || body[i*65536+65535] != want {
			t.Fatalf("chunk %d corrupted", i)
		}
	}

	big := strings.Repeat("x", 300<<10) + "end"
	if out := loopGet(t, "tcp", s.Addrs()[0], "/len", "", big); !strings.HasSuffix(out, fmt.Sprintf("%d xxx end", len(big))) {
		t.Errorf("a body over the first chunk: %q", out[:min(len(out), 200)])
	}
}

// TestUWSGILoopWorkerTrouble: a worker that dies under a request gets the
// client a 502, harakiri a 504, and both workers come back.
func TestUWSGILoopWorkerTrouble(t *testing.T) {
	s, log, sock := startLoopServer(t, func(c *Config) { c.Harakiri = time.Second })
	if out := loopGet(t, "unix", sock, "/die", "", ""); !strings.HasPrefix(out, "HTTP/1.1 502 Bad Gateway\r\n") {
		t.Errorf("worker died: %q", out)
	}
	waitLog(t, log, "died")
	waitAccepting(t, s, 2)
	if out := loopGet(t, "tcp", s.Addrs()[0], "/sleep", "10", ""); !strings.HasPrefix(out, "HTTP/1.1 504 Gateway Timeout\r\n") {
		t.Errorf("harakiri: %q", out)
	}
	waitLog(t, log, "HARAKIRI ON WORKER")
	waitAccepting(t, s, 2)
	if out := loopGet(t, "tcp", s.Addrs()[0], "/hello", "", ""); !strings.Contains(out, "pid=") {
		t.Errorf("after the trouble: %q", out)
	}
}

// TestUWSGILoopStaticAndStop: static-map on a loop's socket (served by
// the blocking path), then a graceful stop that lets the request in flight
// finish and refuses new connections.
func TestUWSGILoopStaticAndStop(t *testing.T) {
	www := t.TempDir()
	if err := os.WriteFile(filepath.Join(www, "a.txt"), []byte("static file"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, log, sock := startLoopServer(t, func(c *Config) { c.StaticMaps = []StaticMap{{Mount: "/static", Dir: www}} })
	out := rawExchange(t, "tcp", s.Addrs()[0], uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/static/a.txt", "SERVER_PROTOCOL", "HTTP/1.1"), ""))
	if !strings.HasSuffix(out, "\r\n\r\nstatic file") {
		t.Errorf("static-map: %q", out)
	}
	if out := loopGet(t, "tcp", s.Addrs()[0], "/hello", "", ""); !strings.Contains(out, "pid=") {
		t.Errorf("app beside static-map: %q", out)
	}

	got := make(chan string, 1)
	go func() { got <- loopGet(t, "unix", sock, "/sleep", "0.5", "") }()
	waitBusy(t, s)
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	waitLog(t, log, "graceful shutdown triggered...")
	if out := <-got; !strings.Contains(out, "pid=") {
		t.Errorf("in-flight request during a graceful stop: %q", out)
	}
	<-stopped
	if c, err := net.DialTimeout("tcp", s.Addrs()[0], time.Second); err == nil {
		c.Close()
		t.Error("still accepting after Stop")
	}
	waitLog(t, log, "goodbye to uWSGI.")
}
