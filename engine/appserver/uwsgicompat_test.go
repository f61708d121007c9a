package appserver

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// TestChmodSocketLikeUWSGI: chmod-socket = 664 (and the bare -C flag,
// 666) set the unix socket's mode as on uWSGI, so a web server running as
// another user can connect; values uWSGI exits on are errors.
func TestChmodSocketLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": "def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n"})
	ini := func(sock string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nsocket = %s\nchmod-socket = 664\n", dir, sock)
	}
	theirs := filepath.Join(dir, "theirs.sock")
	peertest.StartUWSGI(t, ini(theirs))
	fi, err := os.Stat(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o664 {
		t.Fatalf("uWSGI's socket mode is %v", fi.Mode())
	}

	ours := filepath.Join(dir, "ours.sock")
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini(ours)), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range parsed.Warnings {
		if w.Key == "chmod-socket" {
			t.Errorf("warning: %v", w)
		}
	}
	cfg, err := FromINI(parsed)
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, cfg)
	if fi, err := os.Stat(ours); err != nil || fi.Mode().Perm() != 0o664 {
		t.Fatalf("our socket: %v, %v; want mode 664 as uWSGI", fi, err)
	}

	for _, c := range []struct {
		args []string
		want string // ChmodSocket, or "error:" + a part of the message
	}{
		{[]string{"-C"}, "666"},
		{[]string{"--chmod-socket"}, "666"},
		{[]string{"--chmod-socket=1"}, "666"},
		{[]string{"--chmod-socket=660"}, "660"},
		{[]string{"--chmod-socket=0660"}, "error:write 660"},
		{[]string{"--chmod-socket=true"}, "error:three octal digits"},
		{[]string{"--chmod-socket=668"}, "error:three octal digits"},
	} {
		parsed, err := uwsgiini.FromArgs(append([]string{"--wsgi-file", "app.py", "--socket", "x.sock"}, c.args...))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := FromINI(parsed)
		got := cfg.ChmodSocket
		if err != nil {
			got = "error:" + err.Error()
		}
		if !strings.HasPrefix(c.want, "error:") && got != c.want || strings.HasPrefix(c.want, "error:") && !strings.Contains(got, strings.TrimPrefix(c.want, "error:")) {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// TestSizeSuffixesWarn: uWSGI 2.0.21 reads "limit-post = 1k" as 1 byte
// (a 10-byte body is refused); wsgideck reads 1024, as the writer meant,
// and the loader's warning names the line and the number to write so the
// file means the same on both.
func TestSizeSuffixesWarn(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": "def application(e, s):\n    s('200 OK', [])\n    return [e['wsgi.input'].read()]\n"})
	addr := peertest.FreeAddr(t)
	text := fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nlimit-post = 1k\n", dir, addr)
	u := peertest.StartUWSGI(t, text)
	got := rawExchange(t, "tcp", addr, []byte("POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n0123456789"))
	if got != "" || !strings.Contains(u.LogText(), "Invalid (too big) CONTENT_LENGTH") {
		t.Fatalf("uWSGI took a 10-byte body under limit-post = 1k: %q", got)
	}
	parsed, err := uwsgiini.Parse("/srv/u.ini", []byte(text), "")
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, w := range parsed.Warnings {
		if w.Line == 6 && strings.Contains(w.Msg, "write limit-post = 1024") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning on line 6 naming limit-post = 1024: %v", parsed.Warnings)
	}
	cfg, err := FromINI(parsed)
	if err != nil {
		t.Fatalf("FromINI: %v", err)
	}
	if cfg.LimitPost != 1024 {
		t.Errorf("LimitPost = %d, want 1024", cfg.LimitPost)
	}
}

// TestAppReturningBytesLikeUWSGI: an app that returns a bytes object
// instead of a list gets it sent as the body, as on uWSGI; a str is an
// error with a hint (uWSGI sends the headers and no body).
func TestAppReturningBytesLikeUWSGI(t *testing.T) {
	app := `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/ba":
        return [bytearray(b"one bytearray")]
    return b"plain bytes"
`
	dir := writeApp(t, map[string]string{"app.py": app})
	addr := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\n", dir, addr))
	s, _ := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py"})
	waitReady(t, s)
	req := []byte("GET / HTTP/1.0\r\n\r\n")
	want := rawExchange(t, "tcp", addr, req)
	got := rawExchange(t, "tcp", s.Addrs()[0], req)
	if !strings.HasSuffix(want, "\r\n\r\nplain bytes") || !strings.HasPrefix(want, "HTTP/1.0 200 OK\r\n") {
		t.Fatalf("uWSGI: %q", want)
	}
	if !strings.HasSuffix(got, "\r\n\r\nplain bytes") || !strings.HasPrefix(got, "HTTP/1.0 200 OK\r\n") {
		t.Fatalf("ours: %q, uWSGI: %q", got, want)
	}
	// A one-item list of a bytearray goes the same way as a longer list.
	if got := rawExchange(t, "tcp", s.Addrs()[0], []byte("GET /ba HTTP/1.0\r\n\r\n")); !strings.HasSuffix(got, "\r\n\r\none bytearray") {
		t.Fatalf("[bytearray]: %q", got)
	}
}

// TestManageScriptNameLikeUWSGI: manage-script-name moves a mountpoint
// into SCRIPT_NAME only on a whole path segment, ignores a trailing slash
// of the mountpoint when matching, and never matches "/", as uWSGI 2.0.21
// does (core/protocol.c).
func TestManageScriptNameLikeUWSGI(t *testing.T) {
	app := `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s|%s|%s" % (environ.get("APP"), environ.get("SCRIPT_NAME"), environ["PATH_INFO"])).encode()]
`
	dir := writeApp(t, map[string]string{
		"blog.py": strings.Replace(app, `environ.get("APP")`, `"blog"`, 1),
		"shop.py": strings.Replace(app, `environ.get("APP")`, `"shop"`, 1),
		"root.py": strings.Replace(app, `environ.get("APP")`, `"root"`, 1),
		"v1.py":   strings.Replace(app, `environ.get("APP")`, `"v1"`, 1),
	})
	ini := func(addr string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nhttp-socket = %s\nmount = /blog=blog.py\nmount = /shop/=shop.py\n"+
			"mount = /=root.py\nmount = /blog/v1=v1.py\nmanage-script-name = true\n", dir, addr)
	}
	theirs := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, ini(theirs))
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, _ := startServer(t, cfg)
	waitReady(t, s)
	// Not "/shop": uWSGI reads past the end of PATH_INFO there. Not "/":
	// uWSGI's environ then has no SCRIPT_NAME at all, which PEP 3333
	// requires (ours has "").
	for _, path := range []string{"/blog/env", "/blog", "/blogx/env", "/blog/v1/x", "/blog/v1x", "/shop/env", "/shopx/env", "/env", "/BLOG/x"} {
		req := []byte("GET " + path + " HTTP/1.0\r\n\r\n")
		want := rawExchange(t, "tcp", theirs, req)
		got := rawExchange(t, "tcp", s.Addrs()[0], req)
		body := func(r string) string { _, b, _ := strings.Cut(r, "\r\n\r\n"); return b }
		if body(got) != body(want) || body(want) == "" {
			t.Errorf("%s: ours %q, uWSGI %q", path, body(got), body(want))
		}
	}
}

// TestModuleFileNameIsAnError: uWSGI imports module = app.py as a module
// named "app.py" and fails; the worker would load the file, so the config
// would work here and not on uWSGI. It is an error saying what to write.
func TestModuleFileNameIsAnError(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": "def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n"})
	addr := peertest.FreeAddr(t)
	u := peertest.StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nmodule = app.py\nhttp-socket = %s\n", dir, addr))
	if got := rawExchange(t, "tcp", addr, []byte("GET / HTTP/1.0\r\n\r\n")); !strings.Contains(got, " 500 Internal Server Error") || !strings.Contains(u.LogText(), "No module named 'app.py'") {
		t.Fatalf("uWSGI loaded module = app.py: %q", got)
	}
	for value, want := range map[string]string{"app.py": "module = app, or wsgi-file = app.py", "src/app.py:make": "module = src.app, or wsgi-file = src/app.py"} {
		parsed, err := uwsgiini.Parse("/srv/u.ini", []byte("[uwsgi]\nhttp-socket = :1\nmodule = "+value+"\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FromINI(parsed); err == nil || !strings.Contains(err.Error(), "/srv/u.ini:3") || !strings.Contains(err.Error(), want) {
			t.Errorf("module = %s: %v", value, err)
		}
	}
}

// TestRelativeHomeIsFromChdir: uWSGI starts Python after changing to
// chdir, so home = ../venv with chdir = DIR/site is DIR/venv; the same ini
// picks the same interpreter here.
func TestRelativeHomeIsFromChdir(t *testing.T) {
	dir := writeApp(t, map[string]string{"site/app.py": `
import sys
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [sys.prefix.encode()]
`})
	venv := filepath.Join(dir, "venv")
	if out, err := exec.Command(peertest.Python, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, out)
	}
	ini := func(addr string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nhttp-socket = %s\nchdir = %s/site\nhome = ../venv\nwsgi-file = app.py\n", addr, dir)
	}
	theirs := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, ini(theirs))
	req := []byte("GET / HTTP/1.0\r\n\r\n")
	if got := rawExchange(t, "tcp", theirs, req); !strings.HasSuffix(got, "\r\n\r\n"+venv) {
		t.Fatalf("uWSGI: %q, want sys.prefix %s", got, venv)
	}

	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	// No Config.Python: the interpreter is home's, as in uWSGI.
	s := &Server{Config: cfg, Log: io.Discard}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if got := rawExchange(t, "tcp", s.Addrs()[0], req); !strings.HasSuffix(got, "\r\n\r\n"+venv) {
		t.Fatalf("ours: %q, want sys.prefix %s", got, venv)
	}
}

// TestUWSGICoreWithThreads: with threads, uWSGI's environ names the core
// serving the request (uwsgi.core, an int); without threads it has none.
func TestUWSGICoreWithThreads(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    c = environ.get("uwsgi.core")
    return [b"none" if c is None else (type(c).__name__ + str(c in (0, 1))).encode()]
`})
	for _, threads := range []int{1, 2} {
		addr := peertest.FreeAddr(t)
		peertest.StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nthreads = %d\n", dir, addr, threads))
		s, _ := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", Threads: threads})
		waitReady(t, s)
		req := []byte("GET / HTTP/1.0\r\n\r\n")
		body := func(r string) string { _, b, _ := strings.Cut(r, "\r\n\r\n"); return b }
		want, got := body(rawExchange(t, "tcp", addr, req)), body(rawExchange(t, "tcp", s.Addrs()[0], req))
		if got != want || want == "" {
			t.Errorf("threads = %d: ours %q, uWSGI %q", threads, got, want)
		}
	}
}
