package appserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const plainApp = `
import sys

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/hello":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello World"]
    if path == "/env":
        start_response("200 OK", [("Content-Type", "text/plain; charset=latin-1")])
        keys = ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "SERVER_PROTOCOL",
                "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_HOST", "HTTP_X_CUSTOM", "wsgi.url_scheme",
                "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.version",
                "uwsgi.version", "SCRIPT_NAME"]
        out = "".join("%s=%r\n" % (k, environ.get(k)) for k in keys)
        return [out.encode("latin-1")]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/lines":
        inp = environ["wsgi.input"]
        first = inp.readline()
        limited = inp.readline(3)
        rest = list(inp)
        more = inp.read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"first=%r limited=%r rest=%r more=%r" % (first, limited, rest, more)]
    if path == "/readlines":
        lines = environ["wsgi.input"].readlines()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d" % len(lines), b":", b"|".join(lines)]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"and ", b"returned"]
    if path == "/stream":
        import time
        def gen():
            for i in range(3):
                if i:
                    time.sleep(0.02)
                yield b"chunk%d;" % i
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    if path == "/boom":
        raise RuntimeError("boom before start_response")
    if path == "/late-boom":
        def gen():
            yield b"partial"
            raise RuntimeError("boom after headers")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/errors":
        environ["wsgi.errors"].write("message to wsgi.errors\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"logged"]
    if path == "/exc-info":
        try:
            raise ValueError("handled")
        except ValueError:
            start_response("200 OK", [("Content-Type", "text/plain")])
            start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]
    if path == "/closing":
        class Body:
            def __iter__(self):
                return iter([b"closing-body"])
            def close(self):
                sys.stderr.write("close() was called\n")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()
    if path == "/file":
        import io
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 100000), 8192)
    if path == "/bare-status":
        start_response("404", [("Content-Type", "text/plain")])
        return [b"nope"]
    if path == "/bad-header":
        start_response("200 OK", [("X-Bad", "a\r\nInjected: 1")])
        return [b"no"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
`

func startPlain(t *testing.T, mod func(*Config)) (*Server, *syncBuffer) {
	t.Helper()
	dir := writeApp(t, map[string]string{"app.py": plainApp})
	cfg := Config{
		Sockets:  []Socket{{Proto: ProtoHTTP}},
		Chdir:    dir,
		WSGIFile: "app.py",
	}
	if mod != nil {
		mod(&cfg)
	}
	s, log := startServer(t, cfg)
	waitReady(t, s)
	return s, log
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading body: %v", url, err)
	}
	return resp, string(b)
}

func TestHTTPPlainApp(t *testing.T) {
	s, log := startPlain(t, nil)
	base := "http://" + s.Addrs()[0]

	resp, body := get(t, base+"/hello")
	if resp.StatusCode != 200 || body != "Hello World" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// The worker sent the whole response at once: framed with Content-Length.
	if resp.ContentLength != 11 || len(resp.TransferEncoding) != 0 {
		t.Errorf("framing: length %d, TE %v", resp.ContentLength, resp.TransferEncoding)
	}
	waitLog(t, log, "GET /hello => generated 11 bytes in ")
	if !strings.Contains(log.String(), "(HTTP/1.1 200) 1 headers in 45 bytes (1 switches on core 0)") {
		t.Errorf("request log line differs from uWSGI's:\n%s", log)
	}
	if !strings.Contains(log.String(), "WSGI app 0 (mountpoint='') ready in 0 seconds") {
		t.Errorf("no app-ready line:\n%s", log)
	}
}

func TestHTTPEnvironAndLatin1(t *testing.T) {
	s, _ := startPlain(t, nil)
	addr := s.Addrs()[0]
	out := rawExchange(t, "tcp", addr, []byte("GET /env?q=caf%C3%A9 HTTP/1.1\r\nHost: example.org\r\nX-Custom: caf\xe9\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"))
	for _, want := range []string{
		"REQUEST_METHOD='GET'",
		"PATH_INFO='/env'",
		"QUERY_STRING='q=caf%C3%A9'",
		"REQUEST_URI='/env?q=caf%C3%A9'",
		"SERVER_PROTOCOL='HTTP/1.1'",
		"HTTP_HOST='example.org'",
		"HTTP_X_CUSTOM='caf\xe9'", // Latin-1 byte 0xe9 became U+00E9, encoded back as 0xe9
		"wsgi.url_scheme='https'",
		"wsgi.multithread=False",
		"wsgi.multiprocess=False",
		"wsgi.run_once=False",
		"wsgi.version=(1, 0)",
		"uwsgi.version=b'" + Version + "'",
		"SCRIPT_NAME=''",
		"CONTENT_LENGTH=None",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("environ lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "Connection: close\r\n") {
		t.Errorf("response head: %q", out)
	}
}

func TestHTTPBodies(t *testing.T) {
	s, _ := startPlain(t, nil)
	base := "http://" + s.Addrs()[0]
	big := strings.Repeat("0123456789abcdef", 40000) // 640 KB: several READ frames
	resp, err := http.Post(base+"/echo", "application/octet-stream", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != big {
		t.Fatalf("echo of %d bytes came back as %d bytes", len(big), len(got))
	}

	// A chunked request body (no Content-Length): de-chunked by the master,
	// the app sees CONTENT_LENGTH.
	out := rawExchange(t, "tcp", s.Addrs()[0], []byte("POST /env HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
	if !strings.Contains(out, "CONTENT_LENGTH='11'") {
		t.Errorf("chunked body: %s", out)
	}
	out = rawExchange(t, "tcp", s.Addrs()[0], []byte("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
	if !strings.HasSuffix(out, "\r\n\r\nhello world") {
		t.Errorf("chunked echo: %q", out)
	}

	// readline, readline(size), iteration and read() after EOF; never past
	// CONTENT_LENGTH even though more bytes follow on the connection.
	body := "line one\nline two\nthree\nfour"
	out = rawExchange(t, "tcp", s.Addrs()[0], []byte(fmt.Sprintf("POST /lines HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%sGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", len(body), body)))
	if !strings.Contains(out, `first=b'line one\n' limited=b'lin' rest=[b'e two\n', b'three\n', b'four'] more=b''`) {
		t.Errorf("readline/iteration: %s", out)
	}
	if !strings.HasSuffix(out, "Hello World") {
		t.Errorf("the pipelined request after the body was not served: %q", out)
	}

	resp, err = http.Post(base+"/readlines", "text/plain", strings.NewReader("a\nb\nc"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "3:a\n|b\n|c" {
		t.Errorf("readlines: %q", got)
	}

	// Expect: 100-continue: the client waits for the interim response.
	c, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("expected 100 Continue, got %q", line)
	}
	br.ReadString('\n')
	c.Write([]byte("ping"))
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	if string(got) != "ping" {
		t.Errorf("after 100-continue: %q", got)
	}
}

func TestHTTPResponses(t *testing.T) {
	s, log := startPlain(t, nil)
	base := "http://" + s.Addrs()[0]

	_, body := get(t, base+"/write")
	if body != "written and returned" {
		t.Errorf("write(): %q", body)
	}
	resp, body := get(t, base+"/stream")
	if body != "chunk0;chunk1;chunk2;" {
		t.Errorf("stream: %q", body)
	}
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("a streamed response should go chunked to HTTP/1.1: length %d TE %v", resp.ContentLength, resp.TransferEncoding)
	}
	// HTTP/1.0 gets the stream delimited by the connection's close.
	out := rawExchange(t, "tcp", s.Addrs()[0], []byte("GET /stream HTTP/1.0\r\n\r\n"))
	if !strings.HasPrefix(out, "HTTP/1.0 200 OK\r\n") || strings.Contains(out, "chunked") || !strings.HasSuffix(out, "\r\n\r\nchunk0;chunk1;chunk2;") {
		t.Errorf("HTTP/1.0 stream: %q", out)
	}
	// HEAD: headers only.
	out = rawExchange(t, "tcp", s.Addrs()[0], []byte("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "Content-Length: 11\r\n") || !strings.HasSuffix(out, "\r\n\r\n") {
		t.Errorf("HEAD: %q", out)
	}
	resp, body = get(t, base+"/empty")
	if resp.StatusCode != 204 || body != "" {
		t.Errorf("204: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, base+"/bare-status")
	if resp.Status != "404 Not Found" || body != "nope" {
		t.Errorf("bare status: %q %q", resp.Status, body)
	}
	resp, body = get(t, base+"/exc-info")
	if resp.Status != "500 Oops" || body != "replaced" {
		t.Errorf("exc_info replacing headers: %q %q", resp.Status, body)
	}
	_, body = get(t, base+"/closing")
	if body != "closing-body" {
		t.Errorf("closing: %q", body)
	}
	waitLog(t, log, "close() was called")
	_, body = get(t, base+"/file")
	if body != strings.Repeat("x", 100000) {
		t.Errorf("file_wrapper: %d bytes", len(body))
	}
	_, body = get(t, base+"/errors")
	if body != "logged" {
		t.Errorf("errors: %q", body)
	}
	waitLog(t, log, "message to wsgi.errors")

	// Exception before start_response: 500, traceback in the log.
	resp, body = get(t, base+"/boom")
	if resp.StatusCode != 500 || body != "Internal Server Error" {
		t.Errorf("boom: %d %q", resp.StatusCode, body)
	}
	waitLog(t, log, "RuntimeError: boom before start_response")
	waitLog(t, log, "GET /boom => generated 0 bytes in ")
	if !strings.Contains(log.String(), "(HTTP/1.1 500) 0 headers in 0 bytes (0 switches on core 0)") {
		t.Errorf("log line for the exception:\n%s", log)
	}
	// Exception after headers: the connection is cut, the chunked body
	// never terminates.
	r2, err := http.Get(base + "/late-boom")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r2.Body)
	r2.Body.Close()
	if err == nil {
		t.Errorf("late exception: the body %q ended cleanly", b)
	}
	waitLog(t, log, "RuntimeError: boom after headers")
	// A header smuggling a newline is refused by the worker: 500.
	resp, _ = get(t, base+"/bad-header")
	if resp.StatusCode != 500 || resp.Header.Get("Injected") != "" {
		t.Errorf("bad header: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHTTPKeepAliveAndThreads(t *testing.T) {
	app := `
import threading, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(0.3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s" % (threading.current_thread().name, environ["wsgi.multithread"])).encode()]
`
	dir := writeApp(t, map[string]string{"app.py": app})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", Threads: 4, Processes: 2})
	waitReady(t, s)
	if !strings.Contains(log.String(), "*** Operational MODE: preforking+threaded ***") {
		t.Errorf("mode line:\n%s", log)
	}
	base := "http://" + s.Addrs()[0]
	// 8 slow requests at once on 2x4 cores: all run concurrently.
	start := time.Now()
	errs := make(chan error, 8)
	names := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			resp, err := http.Get(base + "/sleep")
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			names <- string(b)
			errs <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(names)
	seen := map[string]bool{}
	for n := range names {
		seen[n] = true
		if !strings.HasSuffix(n, " True") {
			t.Errorf("wsgi.multithread should be True with threads: %q", n)
		}
	}
	if len(seen) < 2 {
		t.Errorf("requests all ran on one thread name: %v", seen)
	}
	// Eight 0.3 s requests on eight cores: well under the 2.4 s they would
	// take one after the other (a loose bound, not a timing assertion on
	// speed: it proves concurrency).
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("8 concurrent requests took %v: cores did not run in parallel", el)
	}

	// Keep-alive: many requests on one connection.
	c, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 5; i++ {
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on a kept-alive connection: %v", i, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	// HTTP/1.0 with keep-alive asked for.
	fmt.Fprintf(c, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("HTTP/1.0 keep-alive: %v %v", err, resp)
	}
}

func TestHTTPBadRequest(t *testing.T) {
	s, _ := startPlain(t, nil)
	out := rawExchange(t, "tcp", s.Addrs()[0], []byte("GARBAGE\r\n\r\n"))
	if !strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\n") {
		t.Errorf("garbage: %q", out)
	}
	out = rawExchange(t, "tcp", s.Addrs()[0], []byte("GET /"+strings.Repeat("a", 20000)+" HTTP/1.1\r\n\r\n"))
	if !strings.HasPrefix(out, "HTTP/1.1 414 ") {
		t.Errorf("long URI: %q", out)
	}
}
