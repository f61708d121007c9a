package appserver

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// testPython runs the workers in tests: Debian's interpreter has Flask and
// Django.
const testPython = "/usr/bin/python3"

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog polls the log until it contains want.
func waitLog(t *testing.T, log interface{ String() string }, want string) {
	t.Helper()
	waitLogCount(t, log, want, 1)
}

// waitLogCount waits until the log holds want n times: a request's log
// line may come just after its client got the response.
func waitLogCount(t *testing.T, log interface{ String() string }, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(log.String(), want) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("log showed %q %d times, not %d:\n%s", want, strings.Count(log.String(), want), n, log.String())
}

// writeApp writes files (name -> content) into a new temp dir.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startServer starts cfg (Python defaults to testPython, sockets with an
// empty Addr get a free loopback port) and stops it when the test ends.
func startServer(t *testing.T, cfg Config) (*Server, *syncBuffer) {
	t.Helper()
	if cfg.Python == "" {
		cfg.Python = testPython
	}
	for i := range cfg.Sockets {
		if cfg.Sockets[i].Addr == "" {
			cfg.Sockets[i].Addr = "127.0.0.1:0"
		}
		if cfg.Sockets[i].Option == "" {
			cfg.Sockets[i].Option = map[Protocol]string{ProtoHTTP: "http-socket", ProtoUWSGI: "socket", ProtoFastCGI: "fastcgi-socket"}[cfg.Sockets[i].Proto]
		}
	}
	log := &syncBuffer{}
	s := &Server{Config: cfg, Log: log}
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v\nlog:\n%s", err, log.String())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() || os.Getenv("WSGIDECK_TEST_LOG") != "" {
			t.Logf("server log:\n%s", log.String())
		}
	})
	return s, log
}

// waitReady waits until every worker's cores are idle in the pool, so tests
// see the app loaded.
func waitReady(t *testing.T, s *Server) {
	t.Helper()
	want := s.cfg().Processes * s.cfg().Threads
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if idle, _ := s.Queue(); idle >= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("workers not ready")
}

// rawExchange sends raw bytes and returns everything the server sends
// back until it closes the connection.
func rawExchange(t *testing.T, network, addr string, req []byte) string {
	t.Helper()
	return rawExchangeOpts(t, network, addr, req, false)
}

// rawExchangeOpts is rawExchange that, with closeWrite, also shuts the sending
// side once req is written (TCP only).
func rawExchangeOpts(t *testing.T, network, addr string, req []byte, closeWrite bool) string {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	var out bytes.Buffer
	out.ReadFrom(c)
	return out.String()
}

// pairs builds uwsgi vars from alternating keys and values.
func pairs(kv ...string) uwsgiproto.Vars {
	v := make(uwsgiproto.Vars, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v = append(v, uwsgiproto.Var{Key: kv[i], Value: kv[i+1]})
	}
	return v
}

// configFromINI is FromINI of a file read by uwsgiini (Load or Parse's
// results), failing the test on an error from either.
func configFromINI(t *testing.T, parsed *uwsgiini.Config, err error) Config {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := FromINI(parsed)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
