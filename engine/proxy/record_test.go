package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// recordSink collects the records of the OnRequest hook.
type recordSink struct {
	mu   sync.Mutex
	recs []RequestRecord
	more chan struct{}
}

func newRecordSink() *recordSink { return &recordSink{more: make(chan struct{}, 100)} }

func (s *recordSink) add(rec RequestRecord) {
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	s.more <- struct{}{}
}

// wait returns the first n records, failing the test when they do not
// come.
func (s *recordSink) wait(t *testing.T, n int) []RequestRecord {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if len(s.recs) >= n {
			out := append([]RequestRecord(nil), s.recs[:n]...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-timeout:
			t.Fatalf("%d records, want %d", len(s.recs), n)
		}
	}
}

// rawExchange sends req on a new connection and returns all the server
// wrote until it closed.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c := dialClient(t, addr)
	io.WriteString(c, req)
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

// TestOnRequest runs requests of every kind through a server with the
// hook: to real uWSGI with uwsgi_pass, to a dead upstream, a static file,
// a level with "access_log off", and a bad request line. Each gives one
// record, with the values the access log writes: the combined line of
// each record is the line the proxy wrote.
func TestOnRequest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte(`
def application(environ, start_response):
    body = b"app " + environ["PATH_INFO"].encode()
    start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`), 0o644)
	appAddr := peertest.FreeAddr(t)
	uw := peertest.StartUWSGI(t, fmt.Sprintf(`[uwsgi]
plugins = python3
socket = %s
chdir = %s
wsgi-file = app.py
master = true
processes = 1
disable-logging = true
`, appAddr, dir))
	dead := peertest.FreeAddr(t) // nothing listens there
	addr := peertest.FreeAddr(t)
	logPath := filepath.Join(dir, "access.log")
	cfg := compileText(t, dir, `events {}
http {
    access_log `+logPath+`;
    server {
        listen `+addr+`;
        server_name example.test;
        root `+dir+`;
        location /app/ { include /etc/nginx/uwsgi_params; uwsgi_pass `+appAddr+`; }
        location /dead/ { include /etc/nginx/uwsgi_params; uwsgi_pass `+dead+`; }
        location /quiet/ { access_log off; return 204; }
    }
}`)
	sink := newRecordSink()
	// a clock that stands still, ahead of the real one so that the
	// deadlines it sets are in the future
	fixed := time.Now().Add(time.Hour).Truncate(time.Second).In(time.FixedZone("", 3600))
	startServer(t, cfg, Options{OnRequest: sink.add, Now: func() time.Time { return fixed }, Logf: t.Logf})

	resp, body := get(t, "tcp", addr, "/app/x?y=1")
	if resp.StatusCode != 201 || body != "app /app/x" {
		t.Fatalf("uwsgi_pass: %d %q (uWSGI log:\n%s)", resp.StatusCode, body, uw.LogText())
	}
	if resp, _ := get(t, "tcp", addr, "/dead/"); resp.StatusCode != 502 {
		t.Fatalf("dead upstream: %d", resp.StatusCode)
	}
	rawExchange(t, addr, "GET /a.txt HTTP/1.1\r\nHost: Example.TEST\r\nUser-Agent: agent \"q\"\r\nReferer: http://ref/\r\nConnection: close\r\n\r\n")
	if resp, _ := get(t, "tcp", addr, "/quiet/"); resp.StatusCode != 204 {
		t.Fatalf("quiet: %d", resp.StatusCode)
	}
	if out := rawExchange(t, addr, "GARBAGE\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 400 ") {
		t.Fatalf("bad request: %q", out)
	}

	recs := sink.wait(t, 5)
	up, deadRec, static, quiet, bad := recs[0], recs[1], recs[2], recs[3], recs[4]
	if up.Method != "GET" || up.URI != "/app/x?y=1" || up.Request != "GET /app/x?y=1 HTTP/1.1" ||
		up.Status != 201 || up.BodyBytesSent != int64(len("app /app/x")) || up.BytesSent <= up.BodyBytesSent ||
		up.Upstream != appAddr || up.Server != "example.test" || up.Host != "localhost" ||
		up.RemoteAddr != "127.0.0.1" || !up.Time.Equal(fixed) || up.Duration != 0 {
		t.Errorf("uwsgi_pass record: %+v", up)
	}
	if deadRec.Status != 502 || deadRec.Upstream != dead {
		t.Errorf("dead upstream record: %+v", deadRec)
	}
	if static.Status != 200 || static.BodyBytesSent != 6 || static.Upstream != "" || static.Host != "example.test" ||
		static.UserAgent != `agent "q"` || static.Referer != "http://ref/" {
		t.Errorf("static record: %+v", static)
	}
	if quiet.Status != 204 || quiet.URI != "/quiet/" {
		t.Errorf("a level with access_log off: %+v", quiet)
	}
	if bad.Status != 400 || bad.Method != "" || bad.Request != "GARBAGE" {
		t.Errorf("bad request record: %+v", bad)
	}

	// The log has every request but the quiet one, each written as the
	// record's combined line.
	var lines []string
	deadline := time.Now().Add(5 * time.Second)
	for len(lines) < 4 && time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) < 4 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	want := []string{up.Combined(), deadRec.Combined(), static.Combined(), bad.Combined()}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("access log:\n%s\nrecords' combined lines:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestOnRequestKeepAlive: requests on one kept-alive connection, pipelined
// ones included, give one record each, in order.
func TestOnRequestKeepAlive(t *testing.T) {
	dir := t.TempDir()
	addr := peertest.FreeAddr(t)
	cfg := compileText(t, dir, `events {}
http { access_log off; server { listen `+addr+`; location / { return 200 "$uri"; } } }`)
	sink := newRecordSink()
	startServer(t, cfg, Options{OnRequest: sink.add})
	c := dialClient(t, addr)
	io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
	br := bufio.NewReader(c)
	for i := 1; i <= 3; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	recs := sink.wait(t, 3)
	for i, rec := range recs {
		if rec.URI != fmt.Sprintf("/%d", i+1) || rec.Status != 200 || rec.BodyBytesSent != 2 {
			t.Errorf("record %d: %+v", i, rec)
		}
	}
	if recs[2].Method != "POST" {
		t.Errorf("method %q", recs[2].Method)
	}
}

func TestRequestRecordCombined(t *testing.T) {
	rec := RequestRecord{
		Time:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		RemoteAddr: "::1",
		Request:    "GET /\"x\" HTTP/1.1",
		UserAgent:  "é",
	}
	want := `::1 - - [02/Jan/2026:03:04:05 +0000] "GET /\x22x\x22 HTTP/1.1" 000 0 "-" "\xC3\xA9"`
	if got := rec.Combined(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
