package appserver

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

const compareApp = `
import os, sys
import helper  # from the pythonpath entry

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/env":
        keys = ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "SCRIPT_NAME",
                "SERVER_PROTOCOL", "HTTP_X_CUSTOM", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_COOKIE",
                "wsgi.url_scheme", "wsgi.multiprocess", "wsgi.multithread", "wsgi.run_once", "wsgi.version"]
        lines = ["%s=%r" % (k, environ.get(k)) for k in keys]
        lines.append("uwsgi.version is bytes: %r" % isinstance(environ.get("uwsgi.version"), bytes))
        lines.append("FOO=%r" % os.environ.get("FOO"))
        lines.append("helper=%s" % helper.NAME)
        lines.append("cwd=%s" % os.path.basename(os.getcwd()))
        body = "\n".join(lines).encode("latin-1")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("201 Created", [("Content-Type", "application/octet-stream"), ("X-Len", str(len(body)))])
        return [body]
    if path == "/cookies":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Latin", "caf\u00e9")])
        return [b"cookies"]
    if path == "/stream":
        def gen():
            yield b"one "
            yield b""
            yield b"two"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/write":
        w = start_response("202 Accepted", [("Content-Type", "text/plain")])
        w(b"written ")
        return [b"returned"]
    if path == "/bare":
        start_response("404", [("Content-Type", "text/plain")])
        return [b"bare status"]
    if path == "/custom":
        start_response("299 Very Custom", [("Content-Type", "text/plain")])
        return [b"custom"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route"]
`

// TestSameIniAsRealUWSGI runs one uwsgi.ini on real uWSGI and on this
// engine (only the port differs) and compares what a client sees: status,
// body and the headers that matter.
func TestSameIniAsRealUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"site/app.py":        compareApp,
		"site/lib/helper.py": "NAME = 'from-pythonpath'\n",
		"site/static/a.txt":  "static text\n",
		"site/static/b.css":  "b { }\n",
		"site/static/c.zzz":  "unknown type\n",
		"theirs/app.ini":     "",
		"ours/app.ini":       "",
	})
	ini := func(addr string) string {
		return fmt.Sprintf(`[uwsgi]
plugins = python3
http-socket = %s
chdir = %%d../site
wsgi-file = app.py
pythonpath = %%d../site/lib
env = FOO=bar-%%n
processes = 2
master = true
static-map = /static=%%d../site/static
`, addr)
	}
	theirs := peertest.FreeAddr(t)
	// Two copies of one file, in sibling directories so %d and %n agree.
	theirsPath := filepath.Join(dir, "theirs", "app.ini")
	oursPath := filepath.Join(dir, "ours", "app.ini")
	if err := os.WriteFile(theirsPath, []byte(ini(theirs)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oursPath, []byte(ini("127.0.0.1:0")), 0o644); err != nil {
		t.Fatal(err)
	}
	peertest.StartUWSGIFile(t, theirsPath)

	parsed, err := uwsgiini.Load(oursPath)
	cfg := configFromINI(t, parsed, err)
	s, _ := startServer(t, cfg)
	waitReady(t, s)
	ours := s.Addrs()[0]

	type exchange struct {
		method, path, body string
		header             map[string]string
	}
	cases := []exchange{
		{method: "GET", path: "/env?a=1&b=%20", header: map[string]string{"X-Custom": "caf\xe9", "Cookie": "k=v"}},
		{method: "POST", path: "/env", body: "a=1", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{method: "POST", path: "/echo", body: strings.Repeat("body bytes ", 5000)},
		{method: "GET", path: "/cookies"},
		{method: "GET", path: "/stream"},
		{method: "GET", path: "/write"},
		{method: "GET", path: "/bare"},
		{method: "GET", path: "/custom"},
		{method: "GET", path: "/nowhere"},
		{method: "GET", path: "/a%20b/../env"},
		{method: "GET", path: "/a/./b/../../env/."},
		{method: "GET", path: "/static/c.zzz"},
		{method: "GET", path: "/static/a.txt"},
		{method: "GET", path: "/static/b.css"},
		{method: "GET", path: "/static/missing.txt"},
	}
	// Content-Length is left out: uWSGI's http-socket sends none unless the
	// app does, while this engine adds one when it has the whole body. The
	// bodies themselves are compared byte for byte.
	matter := []string{"Content-Type", "Set-Cookie", "X-Latin", "X-Len", "Last-Modified"}
	fetch := func(addr string, c exchange) string {
		req, err := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s on %s: %v", c.method, c.path, addr, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s on %s: %v", c.method, c.path, addr, err)
		}
		out := fmt.Sprintf("%s\n", resp.Status)
		for _, h := range matter {
			vs := resp.Header.Values(h)
			sort.Strings(vs)
			out += fmt.Sprintf("%s: %q\n", h, vs)
		}
		return out + string(b)
	}
	for _, c := range cases {
		want := fetch(theirs, c)
		got := fetch(ours, c)
		if got != want {
			t.Errorf("%s %s differs\nuWSGI:\n%s\n\nours:\n%s", c.method, c.path, clip(want), clip(got))
		}
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSameIniBehindNginx serves one ini with a uwsgi socket on real uWSGI
// and on this engine, each behind the same nginx config (uwsgi_pass with
// Debian's uwsgi_params), and compares the responses.
func TestSameIniBehindNginx(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"site/app.py":        compareApp,
		"site/lib/helper.py": "NAME = 'from-pythonpath'\n",
		"theirs/app.ini":     "",
		"ours/app.ini":       "",
	})
	const ini = `[uwsgi]
plugins = python3
socket = %dapp.sock
chdir = %d../site
wsgi-file = app.py
pythonpath = %d../site/lib
env = FOO=bar-%n
processes = 2
master = true
vacuum = true
`
	for _, side := range []string{"theirs", "ours"} {
		if err := os.WriteFile(filepath.Join(dir, side, "app.ini"), []byte(ini), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	peertest.StartUWSGIFile(t, filepath.Join(dir, "theirs", "app.ini"))
	parsed, err := uwsgiini.Load(filepath.Join(dir, "ours", "app.ini"))
	cfg := configFromINI(t, parsed, err)
	s, _ := startServer(t, cfg)
	waitReady(t, s)
	theirsPort, oursPort := peertest.FreePort(t), peertest.FreePort(t)
	server := func(port int, side string) string {
		return fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:%s;
        }
    }`, port, filepath.Join(dir, side, "app.sock"))
	}
	peertest.StartNginx(t, server(theirsPort, "theirs")+server(oursPort, "ours"))

	fetch := func(port int, method, path, body string) string {
		req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), strings.NewReader(body))
		req.Header.Set("X-Custom", "v")
		req.Header.Add("Cookie", "a=1")
		req.Header.Add("Cookie", "b=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out := resp.Status + "\n"
		for _, h := range []string{"Content-Type", "Set-Cookie", "X-Latin", "X-Len", "Transfer-Encoding", "Content-Length"} {
			vs := resp.Header.Values(h)
			sort.Strings(vs)
			out += fmt.Sprintf("%s: %q\n", h, vs)
		}
		out += fmt.Sprintf("TE: %q\n", resp.TransferEncoding)
		return out + string(b)
	}
	for _, c := range [][3]string{
		{"GET", "/env?x=%20y", ""},
		{"POST", "/env", "k=v"},
		{"POST", "/echo", strings.Repeat("0123456789", 20000)},
		{"GET", "/cookies", ""},
		{"GET", "/stream", ""},
		{"GET", "/write", ""},
		{"GET", "/bare", ""},
		{"GET", "/custom", ""},
		{"HEAD", "/cookies", ""},
		{"GET", "/a%20b/../env", ""},
	} {
		want := fetch(theirsPort, c[0], c[1], c[2])
		got := fetch(oursPort, c[0], c[1], c[2])
		// FOO differs by design only if %n differed; both files are app.ini.
		if got != want {
			t.Errorf("%s %s differs behind nginx\nnginx -> uWSGI:\n%s\n\nnginx -> ours:\n%s", c[0], c[1], clip(want), clip(got))
		}
	}
}
