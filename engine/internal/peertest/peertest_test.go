package peertest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNginxAndUWSGI(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	os.WriteFile(app, []byte(`
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"real uwsgi " + environ["PATH_INFO"].encode()]
`), 0o644)
	sock := filepath.Join(dir, "app.sock")
	u := StartUWSGI(t, fmt.Sprintf("[uwsgi]\nplugins = python3\nsocket = %s\nwsgi-file = %s\n", sock, app))
	port := FreePort(t)
	n := StartNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:%d;
        location / { include /etc/nginx/uwsgi_params; uwsgi_pass unix:%s; }
    }`, port, sock))
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/x", port))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "real uwsgi /x" {
		t.Errorf("through nginx to uWSGI: %d %q", resp.StatusCode, b)
	}
	// uWSGI writes its request log line after the response, so the client
	// can be faster than the log: wait for it rather than race it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(u.LogText(), "GET /x => generated") {
		if time.Now().After(deadline) {
			t.Errorf("uWSGI log has no line for GET /x:\n%s", u.LogText())
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(n.AccessLog); err != nil {
		t.Errorf("access log: %v", err)
	}

	// nginx -t on a config file.
	conf := filepath.Join(dir, "bad.conf")
	os.WriteFile(conf, []byte("events {}\nhttp { server { listen 80; bogus_directive on; } }\n"), 0o644)
	out, ok := NginxTest(t, conf)
	if ok || !strings.Contains(out, "bogus_directive") {
		t.Errorf("nginx -t on a bad config: ok=%v\n%s", ok, out)
	}
}

func TestDialTarget(t *testing.T) {
	cases := map[string][2]string{
		":8080":          {"tcp", "127.0.0.1:8080"},
		"0.0.0.0:80":     {"tcp", "127.0.0.1:80"},
		"10.0.0.1:9":     {"tcp", "10.0.0.1:9"},
		"/tmp/x.sock":    {"unix", "/tmp/x.sock"},
		"@abstract":      {"unix", "\x00abstract"},
		"[::1]:9000":     {"tcp", "[::1]:9000"},
		"localhost:3031": {"tcp", "localhost:3031"},
	}
	for in, want := range cases {
		n, a := dialTarget(in)
		if n != want[0] || a != want[1] {
			t.Errorf("%s: %s %s, want %v", in, n, a, want)
		}
	}
}
