package main

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
)

// startUp runs `wsgideckd up ARGS` with a private home (XDG folders), as
// on a fresh machine.
func startUp(t *testing.T, home string, args ...string) *cmdProc {
	t.Helper()
	return startCmd(t, "", []string{"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"PATH=/usr/bin:/bin"}, // python3 is Debian's
		append([]string{"up"}, args...)...)
}

// waitFor waits until the output holds want, or the process exits.
func (p *cmdProc) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(p.out.String(), want) {
		select {
		case <-p.exited:
			if strings.Contains(p.out.String(), want) {
				return
			}
			t.Fatalf("wsgideckd up exited (%d) before printing %q", p.code, want)
		case <-deadline:
			t.Fatalf("wsgideckd up never printed %q", want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (p *cmdProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		return p.code
	case <-time.After(30 * time.Second):
		t.Fatal("wsgideckd up did not stop on SIGINT")
	}
	return -1
}

func getURL(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestUpServesTheDemoFromAFreshStart runs `wsgideckd up` with no folder
// in an empty home: the demo is copied out, the engine and the proxy
// start, GET / comes from the app through the proxy, and a static file
// is served by the proxy itself (the app never sees it).
func TestUpServesTheDemoFromAFreshStart(t *testing.T) {
	home := t.TempDir()
	proxyPort, appPort := projPort(t), projPort(t)
	p := startUp(t, home, "--proxy-port", fmt.Sprint(proxyPort), "--app-port", fmt.Sprint(appPort))
	p.waitFor(t, "press Ctrl-C to stop")
	demoDir := filepath.Join(home, "data", "wsgideck", "demo")
	if !strings.Contains(p.out.String(), "running the built-in demo project from "+demoDir) {
		t.Errorf("output does not say where the demo is")
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", proxyPort)
	if !strings.Contains(p.out.String(), "proxy (nginx.conf) listening on "+base+"/") || !strings.Contains(p.out.String(), fmt.Sprintf("listening on 127.0.0.1:%d", appPort)) {
		t.Errorf("output does not show the ports asked for")
	}

	resp, body := getURL(t, base+"/")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "It works") || resp.Header.Get("X-Worker-Pid") == "" {
		t.Fatalf("GET / = %d %s\n%.300s", resp.StatusCode, resp.Header, body)
	}
	want, _ := fs.ReadFile(assets.Demo, "static/style.css")
	resp, body = getURL(t, base+"/static/style.css")
	if resp.StatusCode != 200 || string(body) != string(want) || resp.Header.Get("ETag") == "" || resp.Header.Get("X-Worker-Pid") != "" {
		t.Fatalf("GET /static/style.css = %d %s", resp.StatusCode, resp.Header)
	}
	// uWSGI's request log has the page, not the static file.
	p.waitFor(t, "GET / => generated")
	if strings.Contains(p.out.String(), "GET /static/style.css =>") {
		t.Error("the static file went through the app server")
	}
	// The files on disk keep the demo's own ports: the override is for
	// this run only.
	ini, _ := os.ReadFile(filepath.Join(demoDir, "uwsgi.ini"))
	if shipped, _ := fs.ReadFile(assets.Demo, "uwsgi.ini"); string(ini) != string(shipped) {
		t.Error("up changed the demo's uwsgi.ini")
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGINT", code)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", appPort), time.Second); err == nil {
		c.Close()
		t.Error("the app server still listens after stopping")
	}
}

// TestUpMovesABusyDemoPort holds the proxy port asked for: the demo moves
// to the next free port for the run, and names who holds the port.
func TestUpMovesABusyDemoPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	p := startUp(t, t.TempDir(), "--proxy-port", fmt.Sprint(busy), "--app-port", fmt.Sprint(projPort(t)))
	p.waitFor(t, "press Ctrl-C to stop")
	out := p.out.String()
	if !strings.Contains(out, fmt.Sprintf("port %d is in use by pid %d", busy, os.Getpid())) {
		t.Fatalf("output does not name the port's holder:\n%s", out)
	}
	var port int
	for _, l := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(l, "proxy (nginx.conf) listening on http://127.0.0.1:%d/", &port); err == nil {
			break
		}
	}
	if port == 0 || port == busy {
		t.Fatalf("proxy port %d", port)
	}
	if resp, _ := getURL(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); resp.StatusCode != 200 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
	p.stop(t)
}

func TestUpRefusesMismatchedConfigs(t *testing.T) {
	port := projPort(t)
	dir := projFiles(t, map[string]string{
		"wsgi.py":      "def application(e, s):\n    s('200 OK', [])\n    return [b'']\n",
		"uwsgi.ini":    fmt.Sprintf("[uwsgi]\nmodule = wsgi\nhttp-socket = 127.0.0.1:%d\nbuffer-size = 32768\n", port),
		"nginx.conf":   fmt.Sprintf("events {}\nhttp {\n    server {\n        listen 127.0.0.1:%d;\n        location / {\n            include uwsgi_params;\n            uwsgi_pass 127.0.0.1:%d;\n        }\n    }\n}\n", projPort(t), port),
		"uwsgi_params": "uwsgi_param PATH_INFO $document_uri;\n",
	})
	p := startUp(t, t.TempDir(), dir)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("up did not exit")
	}
	out := p.out.String()
	if p.code != exitErrors || !strings.Contains(out, "nginx.conf:7 uwsgi_pass") || !strings.Contains(out, "not starting") {
		t.Fatalf("exit %d:\n%s", p.code, out)
	}
}
