package proxy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// accelApp is a plain WSGI app for real uWSGI: protected downloads with
// X-Accel-Redirect (Django's and Flask's "sendfile" pattern) and answers
// whose status line nginx passes on as it is.
const accelApp = `
def application(environ, start_response):
    p = environ.get("PATH_INFO", "")
    if p == "/dl":
        start_response("200 OK", [("X-Accel-Redirect", "/protected/a.txt"), ("Content-Type", "application/pdf"),
            ("Content-Disposition", "attachment; filename=a.pdf"), ("Set-Cookie", "s=1"), ("Cache-Control", "private"),
            ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"), ("X-Other", "o"), ("Last-Modified", "Tue, 05 Mar 2024 06:07:08 GMT")])
        return [b"ignored"]
    if p == "/dl-missing":
        start_response("200 OK", [("X-Accel-Redirect", "/protected/nope.txt"), ("Content-Type", "application/pdf"), ("Set-Cookie", "s=1")])
        return [b"ignored"]
    if p == "/dl-plain":
        start_response("200 OK", [("X-Accel-Redirect", "/protected/a.txt")])
        return [b"ignored"]
    if p == "/dl-named":
        start_response("200 OK", [("X-Accel-Redirect", "@named"), ("Content-Type", "text/html")])
        return [b"ignored"]
    if p == "/dl-range":
        start_response("200 OK", [("X-Accel-Redirect", "/protected/big.txt"), ("Content-Type", "text/plain")])
        return [b"ignored"]
    if p == "/204":
        start_response("204 No Content", [("Content-Type", "text/plain")])
        return [b""]
    if p == "/404":
        start_response("404 NOT FOUND", [("Content-Type", "text/html")])
        return [b"app 404"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("app " + p + "\n").encode()]
`

// TestDiffAccelRedirect runs nginx and ours in front of one real uWSGI:
// X-Accel-Redirect carries Content-Type, Set-Cookie, Content-Disposition,
// Cache-Control and Expires to the new URI (and no other header), and
// *_ignore_headers turns it off; a 204 from upstream keeps its
// Content-Type; $status in an error_page's location is the status set.
func TestDiffAccelRedirect(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(accelApp), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := peertest.FreeAddr(t)
	ini := "[uwsgi]\nplugins = python3\nsocket = " + addr + "\nchdir = " + dir + "\nwsgi-file = " + dir + "/app.py\nprocesses = 2\ndisable-logging = true\n"
	if err := os.WriteFile(filepath.Join(dir, "uwsgi.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	peertest.StartUWSGIFile(t, filepath.Join(dir, "uwsgi.ini"))
	p := newPair(t, `
    upstream app { server `+addr+`; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location / { include /etc/nginx/uwsgi_params; uwsgi_pass app; }
        location /protected/ { internal; alias {{ROOT}}/; }
        location @named { return 200 "named $uri\n"; }
        location /ign/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_ignore_headers X-Accel-Redirect;
            rewrite ^/ign(/.*)$ $1 break;
            uwsgi_pass app;
        }
        location /icpt/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_intercept_errors on;
            error_page 404 = @status;
            rewrite ^/icpt(/.*)$ $1 break;
            uwsgi_pass app;
        }
        location /icpt2/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_intercept_errors on;
            error_page 404 @status;
            rewrite ^/icpt2(/.*)$ $1 break;
            uwsgi_pass app;
        }
        location @status { return 200 "status=$status\n"; }
    }`)
	carried := []string{"Content-Disposition", "Set-Cookie", "Cache-Control", "Expires", "X-Other", "Last-Modified", "ETag"}
	reps := p.run([]dcase{
		{path: "/dl", check: carried},
		{path: "/dl", method: "HEAD", check: carried},
		{path: "/dl-missing", check: carried},
		{path: "/dl-plain"},
		{path: "/dl-named"},
		{path: "/dl-range", headers: []string{"Range: bytes=0-3"}, check: []string{"Content-Range"}},
		{path: "/protected/a.txt"},
		{path: "/ign/dl", check: carried},
		{path: "/204"},
		{path: "/icpt/404"},
		{path: "/icpt2/404"},
	})
	expect(t, reps[0], 200, "hello, world")
	if ct := reps[0].header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("X-Accel-Redirect lost the app's Content-Type: %q", ct)
	}
	expect(t, reps[7], 200, "ignored")
	expect(t, reps[9], 200, "status=200")
	expect(t, reps[10], 404, "status=404")
}
