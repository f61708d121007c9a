package appserver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// requestPathApp shows what the app sees of a request (wsgi.input read in
// the ways the query string lists, the environ) and answers in the ways
// apps do (write() and an iterable, start_response twice).
const requestPathApp = `
import sys

def application(environ, start_response):
    p = environ["PATH_INFO"]
    inp = environ["wsgi.input"]
    if p == "/env":
        keys = sorted(k for k in environ if not k.startswith(("wsgi.", "uwsgi.")) and k != "REMOTE_PORT")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("\n".join("%s=%r" % (k, environ[k]) for k in keys)).encode("utf-8", "backslashreplace")]
    if p == "/read":
        res = []
        for op in environ["QUERY_STRING"].split(","):
            try:
                if op == "all":
                    r = inp.read()
                elif op == "rneg":
                    r = inp.read(-1)
                elif op == "rl":
                    r = inp.readline()
                elif op == "rls":
                    r = inp.readlines()
                elif op.startswith("rls"):
                    r = inp.readlines(int(op[3:]))
                elif op == "iter":
                    r = [line for line in inp]
                else:
                    r = inp.read(int(op[1:]))
            except Exception as e:
                r = "%s: %s" % (type(e).__name__, e)
            if isinstance(r, bytes) and len(r) > 100:
                r = "%d bytes, crc %d" % (len(r), __import__("zlib").crc32(r))
            elif isinstance(r, list) and sum(map(len, r)) > 200:
                r = "%d lines, %d bytes" % (len(r), sum(map(len, r)))
            res.append("%s -> %r" % (op, r))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["\n".join(res).encode()]
    if p == "/writemix":
        w = start_response("200 OK", [("Content-Type", "text/plain")])
        w(b"w1,")
        w(b"")
        def gen():
            w(b"w2-in-gen,")
            yield b"g1,"
            yield b"g2"
        return gen()
    if p == "/twice":
        start_response("200 OK", [("Content-Type", "text/plain")])
        start_response("201 Again", [("Content-Type", "text/plain"), ("X-Again", "1")])
        return [b"twice"]
    if p == "/twice-in-gen":
        start_response("200 OK", [("X-A", "1")])
        def gen():
            start_response("202 Later", [("X-B", "2")])
            yield b"later"
        return gen()
    if p == "/twice-after-body":
        w = start_response("200 OK", [("Content-Type", "text/plain")])
        w(b"first,")
        try:
            start_response("201 Again", [("Content-Type", "text/plain")])
            return [b"no error"]
        except Exception as e:
            return [("%s: %s" % (type(e).__name__, e)).encode()]
    if p == "/exc-info-after-body":
        w = start_response("200 OK", [("Content-Type", "text/plain")])
        w(b"sent")
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error page"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
`

// ourExtras strips what this engine adds to an http-socket response on
// purpose (see doc.go): a Content-Length when it has the whole body, and
// Connection: close to a 1.1 client; only when uWSGI's response has none.
func ourExtras(ours, theirs string) string {
	head, _, _ := strings.Cut(theirs, "\r\n\r\n")
	if !strings.Contains(head, "\r\nContent-Length:") {
		ours = regexp.MustCompile(`\r\nContent-Length: \d+`).ReplaceAllString(ours, "")
	}
	if !strings.Contains(head, "\r\nConnection:") {
		ours = strings.Replace(ours, "\r\nConnection: close", "", 1)
	}
	return ours
}

// halfClosedExchange sends req, closes the sending side (a client that
// sent less than its Content-Length and stopped) and reads the reply.
func halfClosedExchange(t *testing.T, addr string, req []byte) string {
	t.Helper()
	return rawExchangeOpts(t, "tcp", addr, req, true)
}

// TestRequestPathLikeUWSGI sends the same raw HTTP requests to one app on
// uWSGI's http-socket and on ours and compares the responses byte for byte
// (but for ourExtras): what wsgi.input gives in each way of reading it,
// bodies over 64 KiB, a body cut short by the client, write() mixed with
// an iterable, start_response called twice, and the environ.
func TestRequestPathLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": requestPathApp})
	theirs := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\n", dir, theirs))
	s, _ := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py"})
	waitReady(t, s)
	ours := s.Addrs()[0]

	post := func(ops, body string) string {
		return fmt.Sprintf("POST /read?%s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s", ops, len(body), body)
	}
	small := "line1\nline2\nline3 longer line\n\nlast-no-nl"
	var big strings.Builder
	for i := range 100_000 {
		big.WriteByte(byte(i))
	}
	big.WriteString("\ntail\n")
	cases := []struct {
		name, req  string
		halfClosed bool
	}{
		{name: "read()", req: post("all,all,r5", small)},
		{name: "read(n)", req: post("r5,r5,r100,r5", small)},
		{name: "read(-1)", req: post("rneg", small)},
		{name: "readline()", req: post("rl,rl,rl,rl,rl,rl", small)},
		{name: "readlines()", req: post("rls", small)},
		{name: "iteration", req: post("r3,iter", small)},
		{name: "no body", req: "GET /read?all,r5,rl HTTP/1.0\r\n\r\n"},
		{name: "big read()", req: post("all", big.String())},
		{name: "big read(n)", req: post("r70000,r70000,r5", big.String())},
		{name: "big readline()", req: post("rl,rl,rl", big.String())},
		{name: "big iteration", req: post("iter", big.String())},
		{name: "big read(65536) then lines", req: post("r65536,rls", big.String())},
		// The client promises 100 bytes, sends 9 and stops: uWSGI raises
		// OSError from every read that needs the missing bytes.
		{name: "short read()", req: "POST /read?all,all HTTP/1.0\r\nContent-Length: 100\r\n\r\nonly-this", halfClosed: true},
		{name: "short read(n)", req: "POST /read?r50,r5 HTTP/1.0\r\nContent-Length: 100\r\n\r\nonly-this", halfClosed: true},
		{name: "short readline()", req: "POST /read?rl,rl HTTP/1.0\r\nContent-Length: 100\r\n\r\nonly-this\nx", halfClosed: true},
		{name: "write() and an iterable", req: "GET /writemix HTTP/1.0\r\n\r\n"},
		{name: "start_response twice", req: "GET /twice HTTP/1.0\r\n\r\n"},
		{name: "start_response again in the iterable", req: "GET /twice-in-gen HTTP/1.0\r\n\r\n"},
		{name: "start_response after the body", req: "GET /twice-after-body HTTP/1.0\r\n\r\n"},
		{name: "exc_info after the body", req: "GET /exc-info-after-body HTTP/1.0\r\n\r\n"},
		{name: "fragment in the path", req: "GET /env#frag HTTP/1.0\r\n\r\n"},
		{name: "fragment in the query", req: "GET /env?a=1#frag HTTP/1.0\r\n\r\n"},
		{name: "fragment then query", req: "GET /e%6Ev#f?x=1 HTTP/1.0\r\n\r\n"},
		{name: "percent-encoding and dot segments", req: "GET /x/../e%6Ev/./a%20b//c?q=%20 HTTP/1.0\r\n\r\n"},
		{name: "Host with a port", req: "GET /env HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n"},
		{name: "no Host", req: "GET /env HTTP/1.0\r\n\r\n"},
		{name: "repeated header", req: "GET /env HTTP/1.0\r\nX-A: 1\r\nX-A: 2\r\n\r\n"},
		{name: "lowercase method", req: "get /env HTTP/1.0\r\n\r\n"},
		{name: "empty header value", req: "GET /env HTTP/1.0\r\nX-E:\r\n\r\n"},
		{name: "UTF-8 header value", req: "GET /env HTTP/1.0\r\nX-U: \xe2\x98\x83\r\n\r\n"},
		{name: "X-Forwarded-Proto", req: "GET /env HTTP/1.0\r\nX-Forwarded-Proto: https\r\n\r\n"},
	}
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	for _, c := range cases {
		var want, got string
		if c.halfClosed {
			want, got = halfClosedExchange(t, theirs, []byte(c.req)), halfClosedExchange(t, ours, []byte(c.req))
		} else {
			want, got = rawExchange(t, "tcp", theirs, []byte(c.req)), rawExchange(t, "tcp", ours, []byte(c.req))
		}
		want = strings.ReplaceAll(want, port(theirs), "PORT")
		got = strings.ReplaceAll(ourExtras(got, want), port(ours), "PORT")
		if !strings.HasPrefix(want, "HTTP/1.") {
			t.Errorf("%s: uWSGI answered %q", c.name, want)
		}
		if got != want {
			t.Errorf("%s differs\nuWSGI: %q\nours:  %q", c.name, clip(want), clip(got))
		}
	}
}

// closeApp streams lines from an iterable that notes, in a file, whether
// close() was called and how far it was advanced.
const closeApp = `
import os

class Lines:
    def __init__(self, path, total):
        self.path, self.total, self.n = path, total, 0
    def __iter__(self):
        return self
    def __next__(self):
        self.n += 1
        if self.n > self.total:
            raise StopIteration
        return b"x" * 1023 + b"\n"
    def close(self):
        with open(self.path, "w") as f:
            f.write("%d" % self.n)

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Lines(os.path.join(os.environ["NOTES"], environ["QUERY_STRING"]), 1000000)
`

// TestClientGoneStopsTheIterable: a client that goes away during a long
// response stops the app's iterable, whose close() is called, as on uWSGI
// (its write fails and it stops iterating); before, the master discarded
// the rest but the worker produced all of it. On http-socket and on the
// uwsgi socket (the event loop).
func TestClientGoneStopsTheIterable(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": closeApp})
	notes := t.TempDir()
	theirs := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nenv = NOTES=%s\n", dir, theirs, notes))
	s, _ := startServer(t, Config{
		Sockets: []Socket{{Proto: ProtoHTTP}, {Proto: ProtoUWSGI}},
		Chdir:   dir, WSGIFile: "app.py", Env: []string{"NOTES=" + notes},
	})
	waitReady(t, s)

	// leave reads the start of the response and closes the connection.
	leave := func(network, addr string, req []byte) {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		c.(interface{ SetLinger(int) error }).SetLinger(0) // a reset, at once
		c.Close()
	}
	// advanced waits for close() to be called and returns how far the
	// iterable went.
	advanced := func(name string) int {
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := os.ReadFile(filepath.Join(notes, name))
			if err == nil && len(b) > 0 {
				var n int
				fmt.Sscan(string(b), &n)
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: close() was not called", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	leave("tcp", theirs, []byte("GET /?theirs HTTP/1.0\r\n\r\n"))
	leave("tcp", s.Addrs()[0], []byte("GET /?http HTTP/1.0\r\n\r\n"))
	leave("tcp", s.Addrs()[1], uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/", "QUERY_STRING", "uwsgi", "SERVER_PROTOCOL", "HTTP/1.1"), ""))
	// uWSGI stops at its first failed write; here the master holds up to
	// a few hundred KiB for a client, so the worker is told a little later.
	// Either way far less than the million lines.
	for _, name := range []string{"theirs", "http", "uwsgi"} {
		if n := advanced(name); n >= 100_000 {
			t.Errorf("%s: the iterable was advanced %d times after the client left", name, n)
		}
	}
}
