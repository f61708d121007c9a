package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/proxy"
)

func startNginxCmd(t *testing.T, args ...string) *cmdProc {
	t.Helper()
	return startCmd(t, "", nil, append([]string{"nginx"}, args...)...)
}

// ngxGet sends one GET over a new connection and returns the body.
func ngxGet(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)
	b, _ := io.ReadAll(c)
	s := string(b)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		return s[i+4:]
	}
	return s
}

func writeConf(t *testing.T, path, addr, text string) {
	t.Helper()
	conf := fmt.Sprintf(`events {}
pid %s/wsgideckd.pid;
http {
    access_log off;
    server {
        listen %s;
        location / { return 200 "%s\n"; }
    }
}
`, filepath.Dir(path), addr, text)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// engine/internal/peertest is out of reach from cmd/: small helpers here.

func ngxFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func ngxWaitAddr(t *testing.T, addr string, p *cmdProc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("wsgideckd nginx exited before listening:\n%s", p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// realNginxTest runs Debian's nginx -t on a config.
func realNginxTest(t *testing.T, conf string) (string, bool) {
	t.Helper()
	const bin = "/usr/sbin/nginx"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing (install the nginx package; .ci/deps does)", bin)
	}
	dir := t.TempDir()
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", conf, "-g", "pid "+dir+"/nginx.pid; error_log "+dir+"/error.log;").CombinedOutput()
	return string(out), err == nil
}

var nginxLogPrefix = regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: `)

// TestNginxCommandTest compares -t with real nginx -t on good and bad
// configs: the same verdict, exit code and error line.
func TestNginxCommandTest(t *testing.T) {
	dir := t.TempDir()
	confs := map[string]string{
		"good.conf":    "events {}\nhttp { server { listen 127.0.0.1:1; location / { return 204; } } }\n",
		"unknown.conf": "events {}\nhttp { server { listen 127.0.0.1:1; frobnicate on; } }\n",
		"badvar.conf":  "events {}\nhttp { server { listen 127.0.0.1:1; location / { return 200 $nosuchvar; } } }\n",
		"eof.conf":     "events {}\nhttp { server { listen 127.0.0.1:1;\n",
		"args.conf":    "events {}\nhttp { server { listen 127.0.0.1:1; root; } }\n",
		// found after the syntax check: "syntax is ok" comes first
		"noevents.conf": "http { server { listen 127.0.0.1:1; } }\n",
		"badlog.conf":   "events {}\nhttp { access_log /nonexistent-dir/a.log; server { listen 127.0.0.1:1; } }\n",
		"zerozone.conf": "events {}\nhttp { server { listen 127.0.0.1:1; location / { limit_req zone=nope; } } }\n",
	}
	for name, text := range confs {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		code := runNginx([]string{"-t", "-c", path}, &out, &out)
		ngxOut, ngxOK := realNginxTest(t, path)
		if (code == 0) != ngxOK {
			t.Errorf("%s: ours exit %d, nginx ok=%v\nours:\n%s\nnginx:\n%s", name, code, ngxOK, out.String(), ngxOut)
			continue
		}
		// nginx -t prints "nginx: [emerg] MSG" on a terminal and
		// "DATE [emerg] PID#TID: MSG" into its error log file
		want := nginxLogPrefix.ReplaceAllString(ngxOut, "nginx: [$1] ")
		if !strings.Contains(want, "nginx: ") {
			t.Fatalf("unexpected nginx output %q", ngxOut)
		}
		// nginx's lines, in nginx's order
		rest := out.String()
		for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
			if strings.Contains(line, "[warn]") {
				continue
			}
			i := strings.Index(rest, line)
			if i < 0 {
				t.Errorf("%s: ours lacks nginx's line %q, or has it out of nginx's order\nours:\n%s\nnginx:\n%s", name, line, out.String(), want)
				break
			}
			rest = rest[i+len(line):]
		}
	}
}

// TestNginxCommandSignals runs the command as a process: SIGHUP reloads
// without dropping an open keep-alive connection, a bad config is refused
// while the old one keeps serving, and SIGQUIT ends it with status 0.
func TestNginxCommandSignals(t *testing.T) {
	dir := t.TempDir()
	addr := ngxFreeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	writeConf(t, conf, addr, "first")
	p := startNginxCmd(t, "-c", conf, "-p", dir)
	ngxWaitAddr(t, addr, p)
	if got := ngxGet(t, addr, "/"); got != "first\n" {
		t.Fatalf("before reload: %q", got)
	}
	// a keep-alive connection opened before the reload
	kc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	kr := bufio.NewReader(kc)
	ask := func() string {
		kc.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(kc, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		var length int
		for {
			line, err := kr.ReadString('\n')
			if err != nil {
				t.Fatalf("keep-alive connection: %v", err)
			}
			if strings.HasPrefix(line, "Content-Length: ") {
				fmt.Sscanf(line, "Content-Length: %d", &length)
			}
			if line == "\r\n" {
				break
			}
		}
		body := make([]byte, length)
		io.ReadFull(kr, body)
		return string(body)
	}
	if got := ask(); got != "first\n" {
		t.Fatalf("keep-alive before reload: %q", got)
	}

	writeConf(t, conf, addr, "second")
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(20 * time.Second)
	for ngxGet(t, addr, "/") != "second\n" {
		if time.Now().After(deadline) {
			t.Fatalf("reload not applied:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := ask(); got != "second\n" {
		t.Fatalf("keep-alive after reload: %q", got)
	}

	if err := os.WriteFile(conf, []byte("events {}\nhttp { server { listen "+addr+"; bogus; } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	for !strings.Contains(p.out.String(), "reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("bad config not reported:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p.out.String(), `unknown directive "bogus"`) {
		t.Errorf("the refusal does not say why:\n%s", p.out)
	}
	if got := ngxGet(t, addr, "/"); got != "second\n" {
		t.Fatalf("after a refused reload: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "wsgideckd.pid")); err != nil {
		t.Errorf("pid file: %v", err)
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	if code := p.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("SIGQUIT: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "wsgideckd.pid")); err == nil {
		t.Errorf("pid file left behind")
	}
}

// TestNginxCommandStop checks -s reload through the pid file, and SIGTERM.
func TestNginxCommandStop(t *testing.T) {
	dir := t.TempDir()
	addr := ngxFreeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	writeConf(t, conf, addr, "one")
	p := startNginxCmd(t, "-c", conf)
	ngxWaitAddr(t, addr, p)
	// The pid file is written once the sockets are bound (as nginx's
	// master writes it after opening them), so it can trail the port.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "wsgideckd.pid")); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no pid file: %v", err)
		}
	}
	writeConf(t, conf, addr, "two")
	var out bytes.Buffer
	if code := runNginx([]string{"-c", conf, "-s", "reload"}, &out, &out); code != 0 {
		t.Fatalf("-s reload: %d %s", code, out.String())
	}
	deadline := time.Now().Add(20 * time.Second)
	for ngxGet(t, addr, "/") != "two\n" {
		if time.Now().After(deadline) {
			t.Fatalf("-s reload not applied:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

// TestWorkerProcessesSetGOMAXPROCS checks the mapping of worker_processes
// to the number of threads running Go code, and that a GOMAXPROCS in the
// environment wins.
func TestWorkerProcessesSetGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.SetDefaultGOMAXPROCS()
	auto := runtime.GOMAXPROCS(0)
	load := func(directive string) *proxy.Config {
		t.Helper()
		path := filepath.Join(t.TempDir(), "nginx.conf")
		if err := os.WriteFile(path, []byte(directive+"\nevents {}\nhttp {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := proxy.Load(path, proxy.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Setenv("GOMAXPROCS", "")
	for _, c := range []struct {
		directive string
		want      int
	}{
		{"worker_processes 3;", 3},
		{"", 1}, // nginx's default
		{"worker_processes auto;", auto},
		{"worker_processes 1;", 1},
	} {
		applyWorkerProcesses(load(c.directive))
		if got := runtime.GOMAXPROCS(0); got != c.want {
			t.Errorf("%q: GOMAXPROCS %d, want %d", c.directive, got, c.want)
		}
	}
	t.Setenv("GOMAXPROCS", "1")
	applyWorkerProcesses(load("worker_processes 3;"))
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("with GOMAXPROCS=1 in the environment: GOMAXPROCS %d, want 1", got)
	}
}
