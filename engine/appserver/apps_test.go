package appserver

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlaskApp(t *testing.T) {
	dir := writeApp(t, map[string]string{"flaskapp.py": `
from flask import Flask, Response, request, jsonify
app = Flask(__name__)

@app.route("/hello")
def hello():
    return "Hello " + request.args.get("name", "nobody")

@app.route("/echo", methods=["POST"])
def echo():
    return request.get_data()

@app.route("/form", methods=["POST"])
def form():
    return jsonify(sorted(request.form.items()))

@app.route("/stream")
def stream():
    def gen():
        for i in range(3):
            yield "part%d " % i
    return Response(gen(), mimetype="text/plain")
`})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, Module: "flaskapp:app", Processes: 2})
	base := "http://" + s.Addrs()[0]
	resp, body := get(t, base+"/hello?name=flask")
	if resp.StatusCode != 200 || body != "Hello flask" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("hello: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = get(t, base+"/missing")
	if resp.StatusCode != 404 || !strings.Contains(body, "Not Found") {
		t.Errorf("404: %d %q", resp.StatusCode, body)
	}
	r, err := http.PostForm(base+"/form", url.Values{"a": {"1"}, "b": {"caf\u00e9"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if strings.TrimSpace(string(b)) != `[["a","1"],["b","caf\u00e9"]]` {
		t.Errorf("form: %s", b)
	}
	// A chunked upload reaches Flask whole.
	r, err = http.Post(base+"/echo", "application/octet-stream", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("upload")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if string(b) != "chunked upload" {
		t.Errorf("chunked echo: %q", b)
	}
	_, body = get(t, base+"/stream")
	if body != "part0 part1 part2 " {
		t.Errorf("stream: %q", body)
	}
	waitLog(t, log, "GET /hello?name=flask => generated 11 bytes")
}

func TestDjangoApp(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"mysite/__init__.py": "",
		"mysite/settings.py": `
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
`,
		"mysite/urls.py": `
from django.http import HttpResponse, JsonResponse
from django.urls import path

def hello(request):
    return HttpResponse("Hello from Django, " + request.GET.get("name", "?"), content_type="text/plain")

def echo(request):
    return JsonResponse({"method": request.method, "body": request.body.decode(), "post": request.POST.dict(),
                         "path": request.path, "host": request.get_host(), "secure": request.is_secure()})

urlpatterns = [path("hello/", hello), path("echo/", echo)]
`,
		"mysite/wsgi.py": `
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
`,
	})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, Module: "mysite.wsgi", Threads: 2})
	base := "http://" + s.Addrs()[0]
	resp, body := get(t, base+"/hello/?name=dj")
	if resp.StatusCode != 200 || body != "Hello from Django, dj" {
		t.Errorf("hello: %d %q", resp.StatusCode, body)
	}
	// CommonMiddleware's APPEND_SLASH redirect.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Get(base + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 301 || r.Header.Get("Location") != "/hello/" {
		t.Errorf("APPEND_SLASH: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, err = http.PostForm(base+"/echo/", url.Values{"x": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"post": {"x": "1"}`) || !strings.Contains(string(b), `"method": "POST"`) {
		t.Errorf("form post: %s", b)
	}
	// Chunked upload: Django needs CONTENT_LENGTH, which the master sets.
	req, _ := http.NewRequest("POST", base+"/echo/", io.MultiReader(strings.NewReader("raw "), strings.NewReader("chunked")))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Forwarded-Proto", "https")
	r, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"body": "raw chunked"`) {
		t.Errorf("chunked post: %s", b)
	}
	resp, _ = get(t, base+"/nope/")
	if resp.StatusCode != 404 {
		t.Errorf("404: %d", resp.StatusCode)
	}
	waitLog(t, log, "GET /hello/?name=dj => generated 21 bytes")
}

func TestValidatedApp(t *testing.T) {
	dir := writeApp(t, map[string]string{"validated.py": `
import warnings, sys
from wsgiref.validate import validator
warnings.simplefilter("always")

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/post":
        inp = environ["wsgi.input"]
        first = inp.readline()
        rest = inp.read(int(environ.get("CONTENT_LENGTH") or 0))
        body = b"first=" + first + b" rest=" + rest
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"via write ")
        return iter([b"then iter"])
    if path == "/file":
        import io
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"wrapped file"))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"validated ", environ["REQUEST_METHOD"].encode()]

application = validator(app)
`})
	sock := filepath.Join(t.TempDir(), "v.sock")
	s, log := startServer(t, Config{
		Sockets: []Socket{{Proto: ProtoHTTP}, {Proto: ProtoUWSGI, Addr: sock}},
		Chdir:   dir, WSGIFile: "validated.py", Threads: 2,
	})
	base := "http://" + s.Addrs()[0]
	_, body := get(t, base+"/")
	if body != "validated GET" {
		t.Errorf("GET: %q", body)
	}
	r, err := http.Post(base+"/post", "text/plain", strings.NewReader("line1\nline2 and more"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if string(b) != "first=line1\n rest=line2 and more" {
		t.Errorf("post: %q", b)
	}
	for path, want := range map[string]string{"/write": "via write then iter", "/file": "wrapped file"} {
		if _, body := get(t, base+path); body != want {
			t.Errorf("%s: %q", path, body)
		}
	}
	r, err = http.Head(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	out := rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/", "QUERY_STRING", "", "SERVER_NAME", "x", "SERVER_PORT", "80", "SERVER_PROTOCOL", "HTTP/1.1", "SCRIPT_NAME", ""), ""))
	if !strings.HasSuffix(out, "validated GET") {
		t.Errorf("over uwsgi: %q", out)
	}
	waitLog(t, log, "GET /file => generated 12 bytes")
	for _, bad := range []string{"AssertionError", "WSGIWarning", "Traceback"} {
		if strings.Contains(log.String(), bad) {
			t.Errorf("the validator complained (%s):\n%s", bad, log)
		}
	}
}

func TestStaticMap(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"app.py":           plainApp,
		"static/site.css":  "body { color: red }",
		"static/sub/a.txt": "in a subdir",
		"other/b.js":       "var b;",
		"secret.txt":       "outside",
	})
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(dir, "static", "link.txt"))
	sock := filepath.Join(t.TempDir(), "s.sock")
	s, log := startServer(t, Config{
		Sockets:    []Socket{{Proto: ProtoHTTP}, {Proto: ProtoUWSGI, Addr: sock}},
		Chdir:      dir,
		WSGIFile:   "app.py",
		StaticMaps: []StaticMap{{Mount: "/static", Dir: "static"}, {Mount: "/static", Dir: filepath.Join(dir, "other")}},
	})
	base := "http://" + s.Addrs()[0]
	resp, body := get(t, base+"/static/site.css")
	if resp.StatusCode != 200 || body != "body { color: red }" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("css: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// The second directory of the same mount is tried next.
	if _, body := get(t, base+"/static/b.js"); body != "var b;" {
		t.Errorf("second dir: %q", body)
	}
	if _, body := get(t, base+"/static/sub/a.txt"); body != "in a subdir" {
		t.Errorf("subdir: %q", body)
	}
	// No such file, a directory, an escape and a symlink out: the app answers.
	for _, p := range []string{"/static/missing.css", "/static/sub", "/static/../secret.txt", "/static/link.txt", "/static/%2e%2e/secret.txt"} {
		resp, body := get(t, base+p)
		if resp.StatusCode != 404 || body != "not found" {
			t.Errorf("%s: %d %q (want the app's 404)", p, resp.StatusCode, body)
		}
	}
	// Conditional GET and HEAD.
	req, _ := http.NewRequest("GET", base+"/static/site.css", nil)
	req.Header.Set("If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %d", r.StatusCode)
	}
	r, err = http.Head(base + "/static/site.css")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || len(b) != 0 || r.ContentLength != 19 {
		t.Errorf("HEAD: %d %q %d", r.StatusCode, b, r.ContentLength)
	}
	// POST goes to the app.
	r, err = http.Post(base+"/static/site.css", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("POST to a static path: %d", r.StatusCode)
	}
	// Over the uwsgi protocol too.
	out := rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/static/site.css", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_URI", "/static/site.css"), ""))
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(out, "body { color: red }") {
		t.Errorf("static over uwsgi: %q", out)
	}
	waitLog(t, log, fmt.Sprintf("[pid: %d|app: -1|req: -1/", s.PID()))
	waitLog(t, log, "GET /static/site.css => generated 19 bytes in ")
	if !strings.Contains(log.String(), "via sendfile() (HTTP/1.1 200) 3 headers in ") {
		t.Errorf("static log line:\n%s", log)
	}
}

func TestHomeChoosesTheInterpreter(t *testing.T) {
	venv := t.TempDir()
	os.MkdirAll(filepath.Join(venv, "bin"), 0o755)
	if err := os.Symlink(testPython, filepath.Join(venv, "bin", "python3")); err != nil {
		t.Fatal(err)
	}
	dir := writeApp(t, map[string]string{"app.py": `
import sys, os
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [sys.executable.encode() + b" " + os.environ.get("FROM_ENV", "").encode()]
`})
	log := &syncBuffer{}
	s := &Server{Config: Config{
		Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}},
		Chdir:   dir, WSGIFile: "app.py", Home: venv, Env: []string{"FROM_ENV=set by env"},
	}, Log: log}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	_, body := get(t, "http://"+s.Addrs()[0]+"/")
	if want := filepath.Join(venv, "bin", "python3") + " set by env"; body != want {
		t.Errorf("got %q, want %q", body, want)
	}
	bad := &Server{Config: Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, WSGIFile: "app.py", Home: t.TempDir()}, Log: io.Discard}
	if err := bad.Start(); err == nil || !strings.Contains(err.Error(), "has no bin/python3") {
		t.Errorf("home without python: %v", err)
	}
}

// static-map2 appends the whole path; static-index serves a directory's
// index file; limit-post refuses big bodies with 413.
func TestStaticMap2IndexAndLimitPost(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"app.py":               plainApp,
		"www/media/a.txt":      "media file",
		"www/docs/index.html":  "<p>docs</p>",
		"www/docs/other.html":  "other",
		"www/empty/nothing.md": "x",
	})
	s, log := startServer(t, Config{
		Sockets:     []Socket{{Proto: ProtoHTTP}},
		Chdir:       dir,
		WSGIFile:    "app.py",
		StaticMaps:  []StaticMap{{Mount: "/media", Dir: "www", Full: true}, {Mount: "/docs", Dir: "www/docs"}, {Mount: "/empty", Dir: "www/empty"}},
		StaticIndex: []string{"missing.html", "index.html"},
		LimitPost:   10,
	})
	base := "http://" + s.Addrs()[0]
	if _, body := get(t, base+"/media/a.txt"); body != "media file" {
		t.Errorf("static-map2: %q", body)
	}
	if resp, body := get(t, base+"/docs/"); resp.StatusCode != 200 || body != "<p>docs</p>" {
		t.Errorf("static-index: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/empty/"); resp.StatusCode != 404 || body != "not found" {
		t.Errorf("a directory without an index file: %d %q (want the app's 404)", resp.StatusCode, body)
	}
	r, err := http.Post(base+"/echo", "text/plain", strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != "0123456789" {
		t.Errorf("a body at limit-post: %d %q", r.StatusCode, b)
	}
	r, err = http.Post(base+"/echo", "text/plain", strings.NewReader("0123456789A"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 413 {
		t.Errorf("a body over limit-post: %d", r.StatusCode)
	}
	waitLog(t, log, "Invalid (too big) CONTENT_LENGTH. skip.")
}

// mount loads more apps at mountpoints; SCRIPT_NAME picks the app, and
// manage-script-name takes the mountpoint from PATH_INFO. Stats and the
// log show which app served.
func TestMountAndManageScriptName(t *testing.T) {
	app := func(name string) string {
		return `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("` + name + ` script=%s path=%s" % (environ["SCRIPT_NAME"], environ["PATH_INFO"])).encode()]
`
	}
	dir := writeApp(t, map[string]string{"main.py": app("main"), "blog.py": app("blog"), "shop/wsgi.py": app("shop")})
	sock := filepath.Join(t.TempDir(), "u.sock")
	s, log := startServer(t, Config{
		Sockets:          []Socket{{Proto: ProtoHTTP}, {Proto: ProtoUWSGI, Addr: sock}},
		Chdir:            dir,
		WSGIFile:         "main.py",
		Mounts:           []Mount{{Mountpoint: "/blog", App: "blog.py"}, {Mountpoint: "/blog/shop", App: "shop/wsgi.py"}, {Mountpoint: "/missing", App: "nope.py"}},
		ManageScriptName: true,
		Stats:            "127.0.0.1:0",
	})
	waitReady(t, s)
	base := "http://" + s.Addrs()[0]
	for path, want := range map[string]string{
		"/blog/post/1":    "blog script=/blog path=/post/1",
		"/blog/shop/cart": "shop script=/blog/shop path=/cart",
		"/other":          "main script= path=/other",
	} {
		if _, body := get(t, base+path); body != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
	}
	// Over the uwsgi protocol nginx's SCRIPT_NAME picks the app too.
	out := rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "SCRIPT_NAME", "/blog", "PATH_INFO", "/x", "REQUEST_URI", "/blog/x", "SERVER_PROTOCOL", "HTTP/1.1"), ""))
	if !strings.HasSuffix(out, "blog script=/blog path=/x") {
		t.Errorf("uwsgi with SCRIPT_NAME: %q", out)
	}
	for _, want := range []string{
		"WSGI app 0 (mountpoint='') ready in 0 seconds on interpreter ",
		"WSGI app 1 (mountpoint='/blog') ready in ",
		"WSGI app 2 (mountpoint='/blog/shop') ready in ",
		"unable to load app 3 (mountpoint='/missing') (callable not found or import error)",
		"|app: 1|req: 2/",
		"|app: 2|req: 1/",
	} {
		waitLog(t, log, want)
	}
	doc := readStats(t, "tcp", s.StatsAddr())
	apps := statsWorkers(doc)[0]["apps"].([]any)
	if len(apps) != 3 {
		t.Fatalf("stats apps: %v", apps)
	}
	if a := apps[1].(map[string]any); a["mountpoint"] != "/blog" || num(a["requests"]) != 2 {
		t.Errorf("stats app 1: %v", a)
	}
}

// The smaller options: log-4xx/5xx/slow/big and log-x-forwarded-for with
// disable-logging, unenv, pyargv, optimize, check-static with
// static-skip-ext, reload-mercy and exit-on-reload.
func TestSmallOptions(t *testing.T) {
	t.Setenv("WSGIDECK_TEST_UNENV", "present")
	dir := writeApp(t, map[string]string{
		"app.py": `
import os, sys, time
def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/sleep":
        time.sleep(float(environ.get("QUERY_STRING") or "0.3"))
    status = "404 Not Found" if path == "/missing" else "200 OK"
    start_response(status, [("Content-Type", "text/plain")])
    if path == "/big":
        return [b"x" * 1000]
    return [("unenv=%s argv=%s optimize=%d" % (os.environ.get("WSGIDECK_TEST_UNENV"), sys.argv, sys.flags.optimize)).encode()]
`,
		"www/a.txt": "static a",
		"www/b.php": "<?php",
	})
	s, log := startServer(t, Config{
		Sockets:  []Socket{{Proto: ProtoHTTP}},
		Chdir:    dir,
		WSGIFile: "app.py",
		// Logging off, but for 5xx, slow and big requests.
		DisableLogging: true, Log5xx: true, LogSlow: 200 * time.Millisecond, LogBig: 500, LogXForwardedFor: true,
		Unenv: []string{"WSGIDECK_TEST_UNENV"}, PyArgv: "one two", Optimize: 1,
		StaticMaps:        []StaticMap{{Mount: "/", Dir: "www", Full: true}},
		StaticSkipExt:     []string{".php"},
		WorkerReloadMercy: time.Minute, ReloadMercy: time.Second, ExitOnReload: true,
	})
	waitReady(t, s)
	base := "http://" + s.Addrs()[0]
	if _, body := get(t, base+"/x"); body != "unenv=None argv=['uwsgi', 'one', 'two'] optimize=1" {
		t.Errorf("worker environment: %q", body)
	}
	if _, body := get(t, base+"/a.txt"); body != "static a" {
		t.Errorf("check-static: %q", body)
	}
	if _, body := get(t, base+"/b.php"); strings.HasPrefix(body, "<?php") {
		t.Errorf("static-skip-ext served %q", body)
	}
	for _, p := range []string{"/missing", "/boom", "/sleep?0.3", "/big"} {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitLog(t, log, "] 203.0.113.9 () {")
	waitLog(t, log, "GET /boom => generated 0 bytes")
	waitLog(t, log, "GET /sleep?0.3 => generated ")
	waitLog(t, log, "GET /big => generated 1000 bytes")
	for _, quiet := range []string{"GET /x =>", "GET /missing =>", "GET /b.php =>"} {
		if strings.Contains(log.String(), quiet) {
			t.Errorf("disable-logging logged %q:\n%s", quiet, log)
		}
	}

	// reload-mercy bounds the stop; exit-on-reload turns a reload into one.
	go http.Get(base + "/sleep?30")
	waitBusy(t, s)
	start := time.Now()
	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("exit-on-reload did not stop the server")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the stop took %v with reload-mercy 1 s", took)
	}
	waitLog(t, log, "uWSGI: GAME OVER (insert coin)")
	waitLog(t, log, "is taking too much time to die...NO MERCY !!!")
}
