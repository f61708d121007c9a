package appserver

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

const qaApp = `
import io, os, time, json

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/env":
        keys = ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "SCRIPT_NAME",
                "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "HTTPS", "wsgi.url_scheme",
                "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_HOST", "HTTP_EXPECT", "HTTP_TRANSFER_ENCODING", "HTTP_X_A"]
        body = "\n".join("%s=%r" % (k, environ.get(k)) for k in keys).encode("utf-8", "backslashreplace")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    if path == "/pieces":
        inp = environ["wsgi.input"]
        parts = []
        while True:
            b = inp.read(7)
            if not b:
                break
            parts.append(len(b))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(parts).encode()]
    if path == "/lines":
        inp = environ["wsgi.input"]
        lines = []
        while True:
            l = inp.readline()
            if not l:
                break
            lines.append(l)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(lines).encode()]
    if path == "/len":
        b = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%d %d" % (len(b), sum(b) % 65536)).encode()]
    if path == "/cookies":
        start_response("200 OK", [("Content-Type", "text/plain")] + [("Set-Cookie", "c%d=%d; Path=/" % (i, i)) for i in range(40)])
        return [b"many"]
    if path == "/utf8hdr":
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Name", "\u65e5\u672c")])
        return [b"utf8"]
    if path == "/slow":
        def gen():
            for i in range(3):
                yield ("chunk%d\n" % i).encode()
                time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/realfile":
        f = open(__file__, "rb")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](f, 4096)
    if path == "/bytesio":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"bio" * 5000))
    if path == "/304":
        start_response("304 Not Modified", [("ETag", "x")])
        return [b"should not be sent"]
    if path == "/204":
        start_response("204 No Content", [])
        return [b"should not be sent"]
    if path == "/head":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]
    if path == "/flagged":
        flag = environ["QUERY_STRING"]
        def gen():
            yield b"first\n"
            # The client makes the flag once it has read "first".
            for _ in range(1000):
                if os.path.exists(flag):
                    break
                time.sleep(0.01)
            yield b"second\n" if os.path.exists(flag) else b"client never saw first\n"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/seekfile":
        f = open(__file__, "rb")
        f.seek(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](f)
    if path == "/textfile":
        f = open(__file__, "r")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](f)
    if path == "/over":
        b = environ["wsgi.input"].read(100)
        c = environ["wsgi.input"].read(100)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr((b, c)).encode()]
    if path == "/appconn":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
        return [b"x"]
    if path == "/big":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"z" * (3 << 20)]
    if path == "/iterlines":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(list(environ["wsgi.input"])).encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route " + path.encode("latin-1")]
`

// qaVolatile is what may differ between the two servers by design: Date
// and Server, the Content-Length this engine adds (doc.go), the listening
// port in the environ.
var qaVolatile = regexp.MustCompile(`(?m)^(Date|Server|Content-Length): .*\r\n|SERVER_PORT=.*\n`)

// qaRaw sends req and returns the response up to the connection's end,
// without the volatile lines.
func qaRaw(t *testing.T, addr string, req []byte) string {
	t.Helper()
	return qaVolatile.ReplaceAllString(rawExchange(t, "tcp", addr, req), "")
}

// qaPair starts ini (its %s is the http-socket address; a uwsgi socket
// named app.sock sits beside each copy) on real uWSGI and on this engine.
// It returns both http-socket addresses and both uwsgi socket paths.
func qaPair(t *testing.T, files map[string]string, ini string) (theirs, ours, theirsSock, oursSock string) {
	t.Helper()
	files["theirs/app.ini"], files["ours/app.ini"] = "", ""
	dir := writeApp(t, files)
	theirs = peertest.FreeAddr(t)
	for side, addr := range map[string]string{"theirs": theirs, "ours": "127.0.0.1:0"} {
		if err := os.WriteFile(filepath.Join(dir, side, "app.ini"), []byte(fmt.Sprintf(ini, addr)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	peertest.StartUWSGIFile(t, filepath.Join(dir, "theirs", "app.ini"))
	parsed, err := uwsgiini.Load(filepath.Join(dir, "ours", "app.ini"))
	s, _ := startServer(t, configFromINI(t, parsed, err))
	waitReady(t, s)
	return theirs, s.Addrs()[0], filepath.Join(dir, "theirs", "app.sock"), filepath.Join(dir, "ours", "app.sock")
}

// TestQARequestBodyAndFilesLikeUWSGI compares raw http-socket exchanges
// that real apps make: wsgi.input read in pieces and by lines past
// post-buffering, a body without a trailing newline, reads past the end,
// query strings with %00, + and raw UTF-8, many Set-Cookie headers,
// Expect from a 1.0 client, an app's own Connection header, and
// wsgi.file_wrapper over a real file, a text-mode file (uWSGI sends its
// bytes; this engine used to answer 500) and a BytesIO.
func TestQARequestBodyAndFilesLikeUWSGI(t *testing.T) {
	theirs, ours, _, _ := qaPair(t, map[string]string{"site/app.py": qaApp}, `[uwsgi]
plugins = python3
http-socket = %s
socket = %%dapp.sock
chdir = %%d../site
wsgi-file = app.py
processes = 1
master = true
post-buffering = 4096
`)
	reqs := []string{
		"GET /env?a=%00b&c=d+e&f=%C3%A9&g=\xc3\xa9 HTTP/1.0\r\nHost: h.example:81\r\n\r\n",
		"GET /env?x=1#frag HTTP/1.0\r\n\r\n",
		"POST /pieces HTTP/1.0\r\nContent-Length: 30\r\n\r\n" + strings.Repeat("a", 30),
		"POST /pieces HTTP/1.0\r\nContent-Length: 10000\r\n\r\n" + strings.Repeat("a", 10000),
		"POST /lines HTTP/1.0\r\nContent-Length: 13\r\n\r\nab\ncd\n\nno-end",
		"POST /lines HTTP/1.0\r\nContent-Length: 9000\r\n\r\n" + strings.Repeat("ab\n", 2999) + "xyz",
		"POST /iterlines HTTP/1.0\r\nContent-Length: 13\r\n\r\nab\ncd\n\nno-end",
		"POST /over HTTP/1.0\r\nContent-Length: 30\r\n\r\n" + strings.Repeat("a", 30),
		"POST /len HTTP/1.0\r\nContent-Length: 200000\r\n\r\n" + strings.Repeat("0123456789", 20000),
		"POST /env HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcd",
		"GET /cookies HTTP/1.0\r\n\r\n",
		"GET /appconn HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /slow HTTP/1.0\r\n\r\n",
		"GET /big HTTP/1.0\r\n\r\n",
		"GET /realfile HTTP/1.0\r\n\r\n",
		"GET /textfile HTTP/1.0\r\n\r\n",
		"GET /bytesio HTTP/1.0\r\n\r\n",
	}
	for _, r := range reqs {
		want := qaRaw(t, theirs, []byte(r))
		got := qaRaw(t, ours, []byte(r))
		if got != want {
			t.Errorf("%.70q\nuWSGI:\n%s\n\nours:\n%s", r, clip(want), clip(got))
		}
	}
	// A file_wrapper over a file that was read from starts where the file
	// is, as PEP 3333 says; uWSGI's sendfile() sends it from byte 0.
	got := qaRaw(t, ours, []byte("GET /seekfile HTTP/1.0\r\n\r\n"))
	if _, body, _ := strings.Cut(got, "\r\n\r\n"); body != qaApp[10:] {
		t.Errorf("file_wrapper after seek(10): %q", clip(got))
	}
}

const qaFlask = `
import hashlib, time, os
from flask import Flask, request, send_file, Response, url_for
app = Flask(__name__)

@app.route("/upload", methods=["POST"])
def upload():
    out = ["%s %s %d %s" % (k, f.filename, len(b), hashlib.md5(b).hexdigest())
           for k, f in request.files.items() for b in [f.read()]]
    out.append("form=%r" % sorted(request.form.items()))
    return "\n".join(out)

@app.route("/info")
def info():
    return "\n".join([request.url, request.scheme, str(request.is_secure), request.host,
                      request.remote_addr or "", request.script_root, request.path,
                      url_for("info", _external=True), repr(request.args.to_dict(flat=False))])

@app.route("/stream")
def stream():
    def gen():
        for i in range(3):
            yield "part%d\n" % i
            time.sleep(0.05)
    return Response(gen(), mimetype="text/plain")

@app.route("/file")
def file():
    return send_file(os.path.abspath(__file__), mimetype="text/plain")

@app.route("/nm")
def nm():
    return "body", 304
`

const qaDjango = `
import hashlib
from django.conf import settings
settings.configure(DEBUG=False, SECRET_KEY="x", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                   MIDDLEWARE=[], DATA_UPLOAD_MAX_MEMORY_SIZE=None)
import django
django.setup()
from django.http import HttpResponse
from django.urls import path, reverse
from django.core.wsgi import get_wsgi_application

def upload(request):
    out = ["%s %s %d %s %s" % (k, f.name, len(b), hashlib.md5(b).hexdigest(), type(f).__name__)
           for k, f in request.FILES.items() for b in [f.read()]]
    out.append("post=%r" % sorted(request.POST.items()))
    return HttpResponse("\n".join(out), content_type="text/plain")

def info(request):
    return HttpResponse("\n".join([request.build_absolute_uri(), str(request.is_secure()), request.get_host(),
                                   request.META["REMOTE_ADDR"], request.META["SCRIPT_NAME"], request.path,
                                   request.path_info, reverse("info"), repr(dict(request.GET.lists()))]),
                        content_type="text/plain")

urlpatterns = [path("upload", upload), path("info", info, name="info")]
application = app = get_wsgi_application()
`

// TestQAFlaskAndDjangoLikeUWSGI mounts a Flask and a Django app (mount,
// manage-script-name, post-buffering smaller than the uploads) and
// compares what a client sees on http-socket and through real nginx
// (uwsgi_pass with HTTPS on): multipart uploads of 3 MB (Django spools
// them to temp files), Expect: 100-continue, URL building under
// SCRIPT_NAME and the scheme, query strings, a streamed response,
// send_file, HEAD, a 304 with a body, and paths beside the mountpoints.
func TestQAFlaskAndDjangoLikeUWSGI(t *testing.T) {
	theirs, ours, theirsSock, oursSock := qaPair(t, map[string]string{"site/fl.py": qaFlask, "site/dj.py": qaDjango}, `[uwsgi]
plugins = python3
http-socket = %s
socket = %%dapp.sock
chdir = %%d../site
mount = /fl=fl.py
mount = /dj=dj.py
callable = app
manage-script-name = true
processes = 1
master = true
post-buffering = 4096
`)
	theirsPort, oursPort := peertest.FreePort(t), peertest.FreePort(t)
	server := func(port int, sock string) string {
		return fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        client_max_body_size 100m;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_param HTTPS on;
            uwsgi_pass unix:%s;
        }
    }`, port, sock)
	}
	peertest.StartNginx(t, server(theirsPort, theirsSock)+server(oursPort, oursSock))

	file := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 3<<20/18)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("title", "caf\u00e9")
	fw, _ := mw.CreateFormFile("doc", "r\u00e9sum\u00e9.bin")
	fw.Write(file)
	fw, _ = mw.CreateFormFile("small", "s.txt")
	fw.Write([]byte("small\n"))
	mw.Close()

	type exchange struct {
		method, path string
		body         []byte
		expect       bool
	}
	cases := []exchange{
		{"POST", "/fl/upload", form.Bytes(), false},
		{"POST", "/dj/upload", form.Bytes(), false},
		{"POST", "/fl/upload", form.Bytes(), true},
		{"GET", "/fl/info?a=%00&b=c+d&e=%C3%A9", nil, false},
		{"GET", "/dj/info?a=%00&b=c+d&e=%C3%A9", nil, false},
		{"GET", "/fl/stream", nil, false},
		{"GET", "/fl/file", nil, false},
		{"HEAD", "/fl/file", nil, false},
		{"GET", "/fl/nm", nil, false},
		{"GET", "/djx/info", nil, false},
		{"GET", "/fl", nil, false},
		{"GET", "/DJ/info", nil, false},
	}
	fetch := func(base string, c exchange) string {
		req, err := http.NewRequest(c.method, base+c.path, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
		if c.expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s%s: %v", c.method, base, c.path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s%s: %v", c.method, base, c.path, err)
		}
		for _, h := range []string{"Date", "Server", "Content-Length", "Connection"} {
			resp.Header.Del(h)
		}
		var h bytes.Buffer
		resp.Header.Write(&h)
		return fmt.Sprintf("%s\n%s\n%s", resp.Status, h.String(), b)
	}
	for _, c := range cases {
		for _, side := range [][2]string{
			{"http://" + theirs, "http://" + ours},
			{fmt.Sprintf("http://127.0.0.1:%d", theirsPort), fmt.Sprintf("http://127.0.0.1:%d", oursPort)},
		} {
			want := strings.ReplaceAll(fetch(side[0], c), strings.TrimPrefix(side[0], "http://"), "HOST")
			got := strings.ReplaceAll(fetch(side[1], c), strings.TrimPrefix(side[1], "http://"), "HOST")
			if got != want {
				t.Errorf("%s %s (uWSGI at %s)\nuWSGI:\n%s\n\nours:\n%s", c.method, c.path, side[0], clip(want), clip(got))
			}
		}
	}
}

// TestQAStreamReachesClientAsItComes: a generator's first chunk reaches the
// client while the app still waits (here, for the client to say it read
// it), on http-socket and through nginx (uwsgi_buffering off, as streaming
// apps are deployed), on both servers.
func TestQAStreamReachesClientAsItComes(t *testing.T) {
	theirs, ours, theirsSock, oursSock := qaPair(t, map[string]string{"site/app.py": qaApp}, `[uwsgi]
plugins = python3
http-socket = %s
socket = %%dapp.sock
chdir = %%d../site
wsgi-file = app.py
processes = 1
master = true
`)
	theirsPort, oursPort := peertest.FreePort(t), peertest.FreePort(t)
	server := func(port int, sock string) string {
		return fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_buffering off;
            uwsgi_pass unix:%s;
        }
    }`, port, sock)
	}
	peertest.StartNginx(t, server(theirsPort, theirsSock)+server(oursPort, oursSock))
	flags := t.TempDir()
	for i, addr := range []string{theirs, ours, fmt.Sprintf("127.0.0.1:%d", theirsPort), fmt.Sprintf("127.0.0.1:%d", oursPort)} {
		flag := filepath.Join(flags, fmt.Sprint(i))
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "GET /flagged?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", flag)
		var got []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(got, []byte("first\n")) {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				t.Fatalf("%s: %v before the first chunk: %q", addr, err, got)
			}
		}
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(c)
		c.Close()
		if all := string(got) + string(rest); !strings.Contains(all, "second\n") {
			t.Errorf("%s (server %d): %q", addr, i, all)
		}
	}
}
