package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// flaskApp is the application real uWSGI runs for the uwsgi_pass tests: a
// Flask app that reports the environ it got, behind a small WSGI wrapper
// for the failures Flask would turn into a 500 page.
const flaskApp = `
import time
from flask import Flask, request, redirect, Response

app = Flask(__name__)

KEYS = ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "SERVER_PROTOCOL",
        "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "REQUEST_SCHEME",
        "DOCUMENT_ROOT", "HTTPS", "SCRIPT_NAME", "UWSGI_SCHEME", "EXTRA", "SRV_PARAM", "LOC_PARAM"]

@app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
@app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
def echo(path):
    env = request.environ
    lines = ["%s=%r" % (k, env.get(k)) for k in KEYS]
    lines += ["%s=%r" % (k, v) for k, v in sorted(env.items()) if k.startswith("HTTP_")]
    lines.append("body=%r" % request.get_data())
    return Response("\n".join(lines) + "\n", mimetype="text/plain")

@app.route("/redirect/")
def redir():
    return redirect("/target")

@app.route("/headers/")
def headers():
    r = Response("hi", mimetype="text/html")
    r.headers["X-App"] = "flask"
    r.set_cookie("sid", "abc")
    return r

@app.route("/missing/")
def missing():
    return Response("app says no", status=404, mimetype="text/plain")

@app.route("/stream/")
def stream():
    def gen():
        for i in range(3):
            yield "part %d\n" % i
    return Response(gen(), mimetype="text/plain")

@app.route("/slow/")
def slow():
    time.sleep(2)
    return "late"

def application(environ, start_response):
    if environ.get("PATH_INFO") == "/crash/":
        raise RuntimeError("before start_response")
    return app(environ, start_response)
`

func startFlaskUWSGI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(flaskApp), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := peertest.FreeAddr(t)
	ini := fmt.Sprintf("[uwsgi]\nplugins = python3\nsocket = %s\nchdir = %s\nwsgi-file = %s/app.py\nprocesses = 4\ndisable-logging = true\n", addr, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "uwsgi.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	peertest.StartUWSGIFile(t, filepath.Join(dir, "uwsgi.ini"))
	return addr
}

// TestDiffUWSGIPass runs nginx and ours in front of one real uWSGI with a
// Flask app: the environ the app sees and the answers must agree.
func TestDiffUWSGIPass(t *testing.T) {
	app := startFlaskUWSGI(t)
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass `+app+`;
        }
        location /app/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_param HTTP_X_HIDDEN "";
            uwsgi_param EXTRA $arg_e if_not_empty;
            uwsgi_pass `+app+`;
        }
        location /noparams/ { uwsgi_pass `+app+`; }
        location /intercept/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_intercept_errors on;
            error_page 404 /404.html;
            rewrite ^/intercept/(.*)$ /$1 break;
            uwsgi_pass `+app+`;
        }
        location /timeout/ {
            include /etc/nginx/uwsgi_params;
            uwsgi_read_timeout 1s;
            rewrite ^ /slow/ break;
            uwsgi_pass `+app+`;
        }
        location /down/ { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:1; }
        location /static/ { }
        location /small/ { client_max_body_size 8; include /etc/nginx/uwsgi_params; uwsgi_pass `+app+`; }
    }
    server {
        listen 127.0.0.1:{{PORT2}};
        server_name localhost;
        include /etc/nginx/uwsgi_params;
        uwsgi_param SRV_PARAM from-server;
        location /own/ { include /etc/nginx/uwsgi_params; uwsgi_param LOC_PARAM from-location; uwsgi_pass `+app+`; }
        location /inherit/ { uwsgi_pass `+app+`; }
    }`)
	reps := p.run([]dcase{
		{path: "/hello?a=1&b=%20", headers: []string{"X-Custom: yes", "Cookie: a=1", "Cookie: b=2"}},
		{path: "/a%20b//x/../c%2Fd?q=%20"},
		{path: "/app/x?e=set", headers: []string{"X-Hidden: secret", "X-Shown: yes"}},
		{path: "/app/x", headers: []string{"X-Hidden: secret"}},
		{path: "/app"},
		{path: "/noparams/x?y=1"},
		{path: "/post/", method: "POST", body: "k=v&x=y", headers: []string{"Content-Type: application/x-www-form-urlencoded"}},
		{name: "chunked post", raw: "POST /post/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nchunky\r\n0\r\n\r\n"},
		{path: "/put/", method: "PUT", body: "data"},
		{path: "/head/", method: "HEAD"},
		{path: "/redirect/"},
		{path: "/headers/", check: []string{"X-App", "Set-Cookie"}},
		{path: "/missing/"},
		{path: "/stream/"},
		{raw: "GET /stream/ HTTP/1.0\r\nHost: localhost\r\n\r\n"},
		{path: "/crash/"},
		{path: "/intercept/missing/"},
		{path: "/timeout/"},
		{path: "/down/"},
		{path: "/static/app.js"},
		{path: "/hello", headers: []string{"Host: example.org:8080"}},
		{name: "chunked over the limit", raw: "POST /small/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nchunky\r\n6\r\nchunky\r\n0\r\n\r\n"},
		{name: "chunked under the limit", raw: "POST /small/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nchunky\r\n0\r\n\r\n"},
	})
	inh := p.runOn(p.port2, []dcase{{path: "/own/x"}, {path: "/inherit/x"}})
	// a level with its own uwsgi_param inherits none of the server's
	expect(t, inh[0], 200, "LOC_PARAM='from-location'")
	expect(t, inh[0], 200, "SRV_PARAM=None")
	expect(t, inh[1], 200, "SRV_PARAM='from-server'")
	// Expect: 100-continue: both send the interim answer, then the real one
	raw := "POST /post/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nbody"
	want := normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.1:%d", p.port), raw))
	got := normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.2:%d", p.port), raw))
	if !strings.HasPrefix(want, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK") || want != strings.ReplaceAll(got, "127.0.0.2", "127.0.0.1") {
		t.Errorf("100-continue:\nnginx:\n%s\nours:\n%s", want, got)
	}
	expect(t, reps[0], 200, "PATH_INFO='/hello'")
	// nginx 1.22 sends repeated headers as repeated vars: the last wins
	expect(t, reps[0], 200, "HTTP_COOKIE='b=2'")
	expect(t, reps[1], 200, "PATH_INFO='/a b/c/d'")
	expect(t, reps[2], 200, "EXTRA='set'")
	expect(t, reps[6], 200, "body=b'k=v&x=y'")
	expect(t, reps[7], 200, "CONTENT_LENGTH='6'")
	expect(t, reps[15], 502, "502 Bad Gateway")
	// the error page is itself served by the app, with the 404 kept
	expect(t, reps[16], 404, "PATH_INFO='/404.html'")
	expect(t, reps[17], 504, "504 Gateway Time-out")
	expect(t, reps[18], 502, "502 Bad Gateway")
}

// TestUWSGIInteropKeepAlive drives our proxy alone in front of real uWSGI
// over one keep-alive connection: several requests, one after the other,
// pipelined.
func TestUWSGIInteropKeepAlive(t *testing.T) {
	app := startFlaskUWSGI(t)
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        location / { include /etc/nginx/uwsgi_params; uwsgi_pass `+app+`; }
    }`)
	var raw strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&raw, "GET /n%d HTTP/1.1\r\nHost: localhost\r\n\r\n", i)
	}
	raw.WriteString("GET /last HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", p.port), fmt.Sprintf("127.0.0.2:%d", p.port)} {
		rep := sendAll(t, addr, raw.String())
		for i := 0; i < 3; i++ {
			if !strings.Contains(rep, fmt.Sprintf("PATH_INFO='/n%d'", i)) {
				t.Errorf("%s: answer %d missing from pipelined replies:\n%s", addr, i, rep)
			}
		}
		if !strings.Contains(rep, "PATH_INFO='/last'") || strings.Count(rep, "HTTP/1.1 200 OK") != 4 {
			t.Errorf("%s: want 4 answers, got:\n%s", addr, rep)
		}
	}
}
