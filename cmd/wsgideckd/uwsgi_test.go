package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
)

const testPython = "/usr/bin/python3"

const helloApp = `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from " + environ["PATH_INFO"].encode()]
`

// startDaemon runs `wsgideckd uwsgi ARGS` in dir.
func startDaemon(t *testing.T, dir string, args ...string) *cmdProc {
	t.Helper()
	return startCmd(t, dir, nil, append([]string{"uwsgi"}, args...)...)
}

func (d *cmdProc) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(d.out.String(), want) {
			return
		}
		select {
		case <-d.exited:
			if strings.Contains(d.out.String(), want) {
				return
			}
			t.Fatalf("wsgideckd exited (%d) before printing %q:\n%s", d.code, want, d.out)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("wsgideckd never printed %q:\n%s", want, d.out)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUWSGICommandIniSignals(t *testing.T) {
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"app.py": helloApp,
		"app.ini": fmt.Sprintf(`[uwsgi]
plugins = python3
http-socket = %s
wsgi-file = app.py
processes = 2
master = true
uid = nobody
not-an-option = 1
manage-script-name = true
vacuum = true

[other]
http-socket = %s
wsgi-file = app.py
`, addr, addr),
	})
	d := startDaemon(t, dir, "--ini", "app.ini", "--python", testPython)
	d.waitOutput(t, "spawned uWSGI worker 2")
	d.waitOutput(t, "WSGI app 0 (mountpoint='') ready")
	if got := httpGet(t, "http://"+addr+"/x"); got != "200 hello from /x" {
		t.Errorf("GET: %s", got)
	}
	out := d.out.String()
	for _, want := range []string{
		`app.ini:8: unknown option "not-an-option"`,
		"ignored (meaningless here): plugins, uid",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "not supported by this engine") {
		t.Errorf("an option reported as not supported:\n%s", out)
	}
	if strings.Count(out, "uid") != 1 {
		t.Errorf("ignored options should be listed once:\n%s", out)
	}
	// SIGHUP: graceful reload, the app keeps answering.
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitOutput(t, "...gracefully killing workers...")
	d.waitOutput(t, "worker 1 buried after")
	if got := httpGet(t, "http://"+addr+"/after-reload"); got != "200 hello from /after-reload" {
		t.Errorf("GET after reload: %s", got)
	}
	// SIGTERM: graceful stop, exit 0.
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.waitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}
	if !strings.Contains(d.out.String(), "goodbye to uWSGI.") {
		t.Errorf("no goodbye:\n%s", d.out)
	}

	// The [other] section, given as FILE.ini:section, with ^C.
	d = startDaemon(t, dir, "app.ini:other", "--python="+testPython)
	d.waitOutput(t, "WSGI app 0 (mountpoint='') ready")
	if got := httpGet(t, "http://"+addr+"/sec"); got != "200 hello from /sec" {
		t.Errorf("GET (section): %s", got)
	}
	d.cmd.Process.Signal(syscall.SIGINT)
	if code := d.waitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGINT: %d", code)
	}
}

func TestUWSGICommandLineOptions(t *testing.T) {
	addr, statsAddr := freeAddr(t), freeAddr(t)
	dir := writeFiles(t, map[string]string{"foobar.py": helloApp})
	d := startDaemon(t, dir, "--http", addr, "--wsgi-file", "foobar.py", "--master", "--processes", "2", "--threads", "2", "--stats", statsAddr, "--python", testPython)
	d.waitOutput(t, "*** Operational MODE: preforking+threaded ***")
	d.waitOutput(t, "WSGI app 0 (mountpoint='') ready")
	d.waitOutput(t, "*** Stats server enabled on "+statsAddr+" fd: ")
	if got := httpGet(t, "http://"+addr+"/cli"); got != "200 hello from /cli" {
		t.Errorf("GET: %s", got)
	}
	if strings.Contains(d.out.String(), "not supported by this engine") {
		t.Errorf("a warning for a supported option:\n%s", d.out)
	}
	c, err := net.Dial("tcp", statsAddr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if !strings.Contains(string(b), `"version":"2.0.21-wsgideck"`) || !strings.Contains(string(b), `"workers":[`) {
		t.Errorf("stats document:\n%s", b)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitExit(t, 30*time.Second)
}

func TestUWSGICommandFailures(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"app.py": helloApp,
		"bad.ini": `[uwsgi]
http-socket = 127.0.0.1:0
processes = many
wsgi-file = app.py
`,
		"strict.ini": `[uwsgi]
strict = true
http-socket = 127.0.0.1:0
wsgi-file = app.py
no-such-option = 1
`,
	})
	// need-app with a missing module: uWSGI's exit code 22.
	d := startDaemon(t, dir, "--http-socket", "127.0.0.1:0", "--module", "missing_mod", "--need-app", "--python", testPython)
	if code := d.waitExit(t, 30*time.Second); code != 22 {
		t.Errorf("need-app exit code %d, want 22", code)
	}
	for _, want := range []string{"*** no app loaded. GAME OVER ***", "No module named 'missing_mod'"} {
		if !strings.Contains(d.out.String(), want) {
			t.Errorf("need-app output lacks %q:\n%s", want, d.out)
		}
	}
	// A port in use.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d = startDaemon(t, dir, "--http-socket", l.Addr().String(), "--wsgi-file", "app.py", "--python", testPython)
	if code := d.waitExit(t, 30*time.Second); code != 1 {
		t.Errorf("port in use: exit code %d", code)
	}
	if !strings.Contains(d.out.String(), "cannot bind http-socket "+l.Addr().String()+": address already in use") {
		t.Errorf("port in use output:\n%s", d.out)
	}
	// A bad value names the file and line.
	d = startDaemon(t, dir, "bad.ini", "--python", testPython)
	if code := d.waitExit(t, 30*time.Second); code != 1 || !strings.Contains(d.out.String(), "bad.ini:3") {
		t.Errorf("bad value: exit %d:\n%s", code, d.out)
	}
	// strict turns an unknown option into an error.
	d = startDaemon(t, dir, "strict.ini", "--python", testPython)
	if code := d.waitExit(t, 30*time.Second); code != 1 || !strings.Contains(d.out.String(), "strict.ini:5") {
		t.Errorf("strict: exit %d:\n%s", code, d.out)
	}
	// No arguments: usage.
	d = startDaemon(t, dir)
	if code := d.waitExit(t, 30*time.Second); code != 2 || !strings.Contains(d.out.String(), "usage: wsgideckd uwsgi") {
		t.Errorf("no arguments: exit %d:\n%s", code, d.out)
	}
}

func TestUWSGICommandPrometheusAndFIFO(t *testing.T) {
	addr, prom := freeAddr(t), freeAddr(t)
	dir := writeFiles(t, map[string]string{"app.py": helloApp})
	fifo := filepath.Join(dir, "master.fifo")
	d := startDaemon(t, dir, "--http-socket", addr, "--wsgi-file", "app.py", "--master-fifo", fifo, "--prometheus", prom, "--python", testPython)
	d.waitOutput(t, "*** Prometheus metrics on http://"+prom+"/metrics ***")
	d.waitOutput(t, "WSGI app 0 (mountpoint='') ready")
	for i := 0; i < 3; i++ {
		httpGet(t, "http://"+addr+"/")
	}
	if got := httpGet(t, "http://"+prom+"/metrics"); !strings.Contains(got, "\nwsgideck_requests_total 3\n") || !strings.Contains(got, `wsgideck_worker_resident_memory_bytes{worker="1"}`) {
		t.Errorf("metrics:\n%s", got)
	}
	// SIGUSR1 logs the stats; the FIFO reloads and stops.
	d.cmd.Process.Signal(syscall.SIGUSR1)
	d.waitOutput(t, "\tworkers total requests: 3")
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("r")
	f.Close()
	d.waitOutput(t, "...gracefully killing workers...")
	d.waitOutput(t, "worker 1 buried after")
	f, err = os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("q")
	f.Close()
	if code := d.waitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after fifo q: %d", code)
	}

	// --no-accounting: no request figures (the flag is wsgideck's, stripped
	// before the uWSGI command line is read).
	d = startDaemon(t, dir, "--http-socket", addr, "--wsgi-file", "app.py", "--prometheus="+prom, "--no-accounting", "--python", testPython)
	d.waitOutput(t, "WSGI app 0 (mountpoint='') ready")
	httpGet(t, "http://"+addr+"/")
	if got := httpGet(t, "http://"+prom+"/metrics"); !strings.Contains(got, "\nwsgideck_requests_total 0\n") {
		t.Errorf("metrics with --no-accounting:\n%s", got)
	}
	if strings.Contains(d.out.String(), "no-accounting") {
		t.Errorf("--no-accounting reached the uWSGI reader:\n%s", d.out)
	}
	d.cmd.Process.Signal(syscall.SIGQUIT)
	if code := d.waitExit(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGQUIT: %d", code)
	}
}

// TestMasterProcs checks that the uwsgi command runs its Go code on
// masterProcs threads unless GOMAXPROCS is set: one, plus one per uwsgi
// socket's event loop on Linux.
func TestMasterProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	httpOnly := appserver.Config{Sockets: []appserver.Socket{{Proto: appserver.ProtoHTTP, Addr: ":0"}}}
	both := appserver.Config{Sockets: []appserver.Socket{{Proto: appserver.ProtoHTTP, Addr: ":0"}, {Proto: appserver.ProtoUWSGI, Addr: ":0"}}}
	runtime.GOMAXPROCS(4)
	t.Setenv("GOMAXPROCS", "3")
	setMasterProcs(&both)
	if got := runtime.GOMAXPROCS(0); got != 4 {
		t.Errorf("with GOMAXPROCS set: %d threads, want it left alone (4)", got)
	}
	t.Setenv("GOMAXPROCS", "")
	setMasterProcs(&httpOnly)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("http-socket only: GOMAXPROCS %d, want 1", got)
	}
	want := 2
	if runtime.GOOS != "linux" {
		want = 1
	}
	setMasterProcs(&both)
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Errorf("http-socket and socket: GOMAXPROCS %d, want %d", got, want)
	}
}
