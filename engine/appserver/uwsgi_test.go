package appserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/fastcgi"
	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

func uwsgiPacket(t *testing.T, vars uwsgiproto.Vars, body string) []byte {
	t.Helper()
	pkt, err := uwsgiproto.AppendRequest(nil, 0, 0, vars)
	if err != nil {
		t.Fatal(err)
	}
	return append(pkt, body...)
}

func TestUWSGISocketDirect(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	s, log := startPlain(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoUWSGI, Addr: sock, Option: "socket"}}
	})
	_ = s
	// Duplicate vars: the last one wins. The body is exactly CONTENT_LENGTH;
	// HTTP_TRANSFER_ENCODING is ignored (nginx already de-chunked).
	out := rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "POST", "REQUEST_URI", "/echo", "PATH_INFO", "/env", "PATH_INFO", "/echo", "SERVER_PROTOCOL", "HTTP/1.1", "CONTENT_LENGTH", "5", "HTTP_TRANSFER_ENCODING", "chunked", "REMOTE_ADDR", "10.1.2.3"), "helloEXTRA"))
	want := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	// The raw response adds nothing: no Content-Length, no Connection.
	out = rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/hello", "SERVER_PROTOCOL", "HTTP/1.0", "REQUEST_URI", "/hello?x=1"), ""))
	if want := "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello World"; out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	waitLog(t, log, "] 10.1.2.3 () {16 vars in ")
	waitLog(t, log, "GET /hello?x=1 => generated 11 bytes in ")
	if !strings.Contains(log.String(), "(HTTP/1.0 200) 1 headers in 45 bytes (1 switches on core 0)") {
		t.Errorf("log:\n%s", log)
	}
}

func TestUWSGISocketBadInput(t *testing.T) {
	s, log := startPlain(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoUWSGI, Option: "socket"}}
	})
	addr := s.Addrs()[0]
	// HTTP sent to a uwsgi socket: uWSGI's log line plus the hint.
	out := rawExchange(t, "tcp", addr, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if out != "" {
		t.Errorf("the uwsgi socket answered HTTP: %q", out)
	}
	waitLog(t, log, "invalid request block size: 21573 (max 4096)...skip")
	waitLog(t, log, "this looks like plain HTTP sent to a uwsgi-protocol socket: use http-socket")

	// A vars block over buffer-size.
	big := uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "HTTP_COOKIE", strings.Repeat("c", 5000)), "")
	rawExchange(t, "tcp", addr, big)
	waitLog(t, log, fmt.Sprintf("invalid request block size: %d (max 4096)...skip", len(big)-4))
	waitLog(t, log, "raise buffer-size")

	// The same block is fine with a larger buffer-size.
	s2, _ := startPlain(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoUWSGI, Option: "socket"}}
		c.BufferSize = 8192
	})
	big = uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/hello", "HTTP_COOKIE", strings.Repeat("c", 5000)), "")
	if out := rawExchange(t, "tcp", s2.Addrs()[0], big); !strings.HasSuffix(out, "Hello World") {
		t.Errorf("with buffer-size 8192: %q", out)
	}
}

func TestFastCGIDirect(t *testing.T) {
	s, log := startPlain(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoFastCGI, Option: "fastcgi-socket"}}
	})
	c, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	bw := bufio.NewWriter(c)
	fw := fastcgi.NewWriter(bw)
	br := bufio.NewReader(c)
	fr := fastcgi.NewReader(br)
	for id, path := range []string{"/echo", "/hello"} {
		rid := uint16(id + 1)
		fw.Record(fastcgi.TypeBeginRequest, rid, []byte{0, fastcgi.RoleResponder, fastcgi.FlagKeepConn, 0, 0, 0, 0, 0})
		params := fastcgi.AppendParams(nil, pairs("REQUEST_METHOD", "POST", "SCRIPT_NAME", path, "DOCUMENT_URI", path, "REQUEST_URI", path, "CONTENT_LENGTH", "4", "SERVER_PROTOCOL", "HTTP/1.1"))
		fw.Record(fastcgi.TypeParams, rid, params)
		fw.Record(fastcgi.TypeParams, rid, nil)
		fw.Record(fastcgi.TypeStdin, rid, []byte("ping"))
		fw.Record(fastcgi.TypeStdin, rid, nil)
		fw.Flush()
		var stdout strings.Builder
		for {
			h, content, err := fr.Next()
			if err != nil {
				t.Fatalf("request %d: %v (so far %q)", rid, err, stdout.String())
			}
			if h.Type == fastcgi.TypeStdout {
				stdout.Write(content)
			}
			if h.Type == fastcgi.TypeEndRequest {
				break
			}
		}
		want := map[string]string{
			"/echo":  "Status: 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\nping",
			"/hello": "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nHello World",
		}[path]
		if stdout.String() != want {
			t.Errorf("%s: got %q\nwant %q", path, stdout.String(), want)
		}
	}
	waitLog(t, log, "POST /hello => generated 11 bytes")
}

// nginxApp serves plainApp over the uwsgi protocol (unix socket) and
// FastCGI (TCP) with real nginx in front.
func TestNginxInFront(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	s, log := startPlain(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoUWSGI, Addr: sock, Option: "socket"}, {Proto: ProtoFastCGI, Option: "fastcgi-socket"}}
		c.Processes = 2
	})
	fcgiAddr := s.Addrs()[1]
	port, fport := peertest.FreePort(t), peertest.FreePort(t)
	peertest.StartNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        server_name localhost;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:%s;
        }
    }
    server {
        listen 127.0.0.1:%d;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_pass %s;
        }
    }`, port, sock, fport, fcgiAddr))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	fbase := fmt.Sprintf("http://127.0.0.1:%d", fport)

	resp, body := get(t, base+"/hello")
	if resp.StatusCode != 200 || body != "Hello World" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("uwsgi_pass hello: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// nginx decodes PATH_INFO and passes HTTP_HOST = $host (Debian).
	req, _ := http.NewRequest("GET", base+"/env?x=%20", nil)
	req.Header.Set("X-Custom", "v")
	req.Host = "example.test:1234"
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	for _, want := range []string{"PATH_INFO='/env'", "QUERY_STRING='x=%20'", "HTTP_HOST='example.test'", "HTTP_X_CUSTOM='v'", "wsgi.multiprocess=True"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("environ through nginx lacks %s:\n%s", want, b)
		}
	}
	// A POST body, then a chunked POST body (nginx de-chunks it).
	big := strings.Repeat("abcdefgh", 30000)
	r3, err := http.Post(base+"/echo", "application/octet-stream", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r3.Body)
	r3.Body.Close()
	if string(b) != big {
		t.Errorf("POST through nginx: %d bytes back of %d", len(b), len(big))
	}
	r4, err := http.Post(base+"/echo", "text/plain", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("body"))) // unknown length: chunked
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r4.Body)
	r4.Body.Close()
	if string(b) != "chunked body" {
		t.Errorf("chunked POST through nginx: %q", b)
	}
	// An app exception: our 500 (real uWSGI closes without a response and
	// nginx says 502).
	r5, body := get(t, base+"/boom")
	if r5.StatusCode != 500 || body != "Internal Server Error" {
		t.Errorf("exception through nginx: %d %q", r5.StatusCode, body)
	}
	// FastCGI with the stock fastcgi_params (no PATH_INFO sent: it is
	// derived from DOCUMENT_URI).
	r6, body := get(t, fbase+"/env?q=1")
	if r6.StatusCode != 200 || !strings.Contains(body, "PATH_INFO='/env'") || !strings.Contains(body, "SCRIPT_NAME=''") || !strings.Contains(body, "QUERY_STRING='q=1'") {
		t.Errorf("fastcgi_pass environ: %d %q", r6.StatusCode, body)
	}
	r7, err := http.Post(fbase+"/echo", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r7.Body)
	r7.Body.Close()
	if string(b) != big {
		t.Errorf("fastcgi POST: %d bytes back of %d", len(b), len(big))
	}
	for i := 0; i < 3; i++ {
		r, body := get(t, fbase+"/hello")
		if r.StatusCode != 200 || body != "Hello World" {
			t.Errorf("fastcgi hello: %d %q", r.StatusCode, body)
		}
	}
	waitLog(t, log, "GET /hello => generated 11 bytes")
}
