package appserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// Apps that fail to load, each in its own way.
var brokenApps = map[string]string{
	"bad_syntax.py":     "def application(environ, start_response)\n    return [b'ok']\n",
	"bad_import.py":     "import no_such_module_xyz\n\ndef application(environ, start_response):\n    return [b'ok']\n",
	"bad_raise.py":      "def helper():\n    raise RuntimeError('boom at import')\n\nhelper()\n",
	"bad_indirect.py":   "from bad_raise import helper\n",
	"pkg/__init__.py":   "",
	"pkg/sub.py":        "import os\nraise ImportError('explicit import error')\n",
	"no_callable.py":    "x = 1\n",
	"fine_but_empty.py": "",
}

// noAppLogLine picks the counts out of a request log line for a path.
var noAppLogLine = regexp.MustCompile(`\|app: (-?\d+)\|.*\] (\S+ \S+) => generated (\d+) bytes in \d+ msecs \((.*?)\) (\d+) headers in (\d+) bytes \((\d+) switches`)

// requestCounts returns, for the n-th request line (0-based) in log, its
// app, method and URI, body bytes, protocol and status, header count,
// header bytes and switches, with the timing left out.
func requestCounts(log string, n int) string {
	m := noAppLogLine.FindAllStringSubmatch(log, -1)
	if n >= len(m) {
		return fmt.Sprintf("(no request line %d)", n)
	}
	return strings.Join(m[n][1:], " | ")
}

// TestNoAppResponseLikeUWSGI: with no app loaded (need-app off, a module
// that fails to import) uWSGI 2.0.21 answers every request on the uwsgi
// socket with "<SERVER_PROTOCOL or HTTP/1.0> 500 Internal Server Error",
// Connection: close, Content-Type: text/plain, the body "Internal Server
// Error", and logs "generated 21 bytes ... 2 headers in 83 bytes"; the
// http-socket gives the same (and a body to HEAD too). This engine answers
// and logs the same; its HTTP side adds Content-Length, and sends no body
// to HEAD.
func TestNoAppResponseLikeUWSGI(t *testing.T) {
	dir := writeApp(t, brokenApps)
	ini := func(httpAddr, uwsgiAddr string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nmodule = bad_import\nhttp-socket = %s\nsocket = %s\nmaster = true\n", dir, httpAddr, uwsgiAddr)
	}
	theirsHTTP, theirsUWSGI := peertest.FreeAddr(t), peertest.FreeAddr(t)
	u := peertest.StartUWSGI(t, ini(theirsHTTP, theirsUWSGI))
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", "127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	waitReady(t, s)
	oursHTTP, oursUWSGI := s.Addrs()[0], s.Addrs()[1]

	type exchange struct {
		uwsgi bool
		req   []byte
		name  string
	}
	packet := func(kv ...string) []byte { return uwsgiPacket(t, pairs(kv...), "") }
	cases := []exchange{
		{true, packet("REQUEST_METHOD", "GET", "REQUEST_URI", "/u11", "PATH_INFO", "/u11", "QUERY_STRING", "", "SERVER_PROTOCOL", "HTTP/1.1"), "uwsgi HTTP/1.1"},
		{true, packet("REQUEST_METHOD", "POST", "REQUEST_URI", "/u10", "PATH_INFO", "/u10", "QUERY_STRING", "", "SERVER_PROTOCOL", "HTTP/1.0"), "uwsgi HTTP/1.0"},
		{true, packet("REQUEST_METHOD", "GET", "REQUEST_URI", "/none", "PATH_INFO", "/none", "QUERY_STRING", ""), "uwsgi without SERVER_PROTOCOL"},
		{false, []byte("GET /h11?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"), "http GET HTTP/1.1"},
		{false, []byte("GET /h10 HTTP/1.0\r\n\r\n"), "http GET HTTP/1.0"},
		{false, []byte("POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), "http POST"},
		{false, []byte("HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n"), "http HEAD"},
	}
	// What a client can compare: the status line, the header lines but
	// Content-Length (this engine's HTTP side adds one), sorted, and the
	// body (none for HEAD here).
	shape := func(resp string, head bool) string {
		h, body, _ := strings.Cut(resp, "\r\n\r\n")
		lines := strings.Split(h, "\r\n")
		kept := lines[:1]
		for _, l := range lines[1:] {
			if !strings.HasPrefix(strings.ToLower(l), "content-length:") {
				kept = append(kept, l)
			}
		}
		if head {
			body = "(HEAD)"
		}
		return strings.Join(kept, "\n") + "\n\n" + body
	}
	for i, c := range cases {
		var want, got string
		if c.uwsgi {
			want = rawExchange(t, "tcp", theirsUWSGI, c.req)
			got = rawExchange(t, "tcp", oursUWSGI, c.req)
			// The raw response is uWSGI's, byte for byte.
			if got != want {
				t.Errorf("%s: ours %q\nuWSGI %q", c.name, got, want)
			}
		} else {
			head := strings.HasPrefix(string(c.req), "HEAD")
			want = rawExchange(t, "tcp", theirsHTTP, c.req)
			got = rawExchange(t, "tcp", oursHTTP, c.req)
			if shape(got, head) != shape(want, head) {
				t.Errorf("%s: ours %q\nuWSGI %q", c.name, got, want)
			}
			if head && strings.HasSuffix(got, "Internal Server Error") {
				t.Errorf("%s: ours sent a body to HEAD: %q", c.name, got)
			}
		}
		if !strings.Contains(want, " 500 Internal Server Error\r\n") {
			t.Fatalf("%s: uWSGI answered %q", c.name, want)
		}
		// The request lines: each side logs request i as its i+1-th.
		waitLogCount(t, log, " => generated ", i+1)
		deadline := time.Now().Add(10 * time.Second)
		for len(noAppLogLine.FindAllString(u.LogText(), -1)) <= i && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		theirs, ours := requestCounts(u.LogText(), i), requestCounts(log.String(), i)
		if c.name == "uwsgi without SERVER_PROTOCOL" {
			// uWSGI logs an empty protocol "( 500)" there, and answers
			// with HTTP/1.0 (compared above); only nginx-less clients
			// send no SERVER_PROTOCOL.
			theirs = strings.Replace(theirs, "|  500 |", "| HTTP/1.0 500 |", 1)
		}
		if ours != theirs {
			t.Errorf("%s: our request log line has\n  %s\nuWSGI's\n  %s", c.name, ours, theirs)
		}
	}
	if !strings.Contains(u.LogText(), "2 headers in 83 bytes") {
		t.Errorf("uWSGI's log lacks its 83-byte 500:\n%s", u.LogText())
	}
}

// runUWSGIToExit runs real uWSGI on ini until it exits by itself (need-app
// with an app that does not load: exit code 22) and returns its output.
func runUWSGIToExit(t *testing.T, dir, ini string) (string, int) {
	t.Helper()
	if _, err := os.Stat(peertest.UWSGIPath); err != nil {
		t.Fatalf("%s is missing (install uwsgi-core and uwsgi-plugin-python3; .ci/deps does)", peertest.UWSGIPath)
	}
	path := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, peertest.UWSGIPath, "--ini", path)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("uWSGI: %v\n%s", err, out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// loadLines is the part of a log about loading the app: the lines from
// the first one that matches from to the first one after it that contains
// until (included); uWSGI's root warnings and this engine's own summary of
// the reason ("*** the app did not load: ... ***") are left out.
func loadLines(log string, from func(string) bool, until string) []string {
	var out []string
	on := false
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "uWSGI running as root") || strings.HasPrefix(l, "*** WARNING: you are running uWSGI as root") ||
			strings.HasPrefix(l, "*** the app did not load") {
			continue
		}
		if !on {
			on = from(l)
			continue
		}
		out = append(out, l)
		if strings.Contains(l, until) {
			return out
		}
	}
	return append(out, "(no "+until+")")
}

// TestAppLoadErrorsLikeUWSGI: an app that does not load prints what real
// uWSGI 2.0.21 prints, line for line: the traceback starts in the app and
// holds no importlib frames (a syntax error or a module not found has no
// "Traceback" line at all), a wsgi-file is named as written, "failed to
// compile" / "failed to open python file" for a wsgi-file, then "unable
// to load app 0 ...". Without need-app "*** no app loaded. going in full
// dynamic mode ***" follows; with it "*** no app loaded. GAME OVER ***"
// does, and nothing about dynamic mode.
func TestAppLoadErrorsLikeUWSGI(t *testing.T) {
	dir := writeApp(t, brokenApps)
	cases := []struct{ key, value string }{
		{"module", "bad_syntax"},
		{"module", "bad_import"},
		{"module", "pkg.sub"},
		{"module", "bad_raise"},
		{"module", "bad_indirect"},
		{"module", "no_such_module"},
		{"module", "no_callable"},
		{"wsgi-file", "bad_raise.py"},
		{"wsgi-file", "bad_syntax.py"},
		{"wsgi-file", "no_such_file.py"},
		{"wsgi-file", dir + "/bad_import.py"},
	}
	afterUWSGIStart := func(l string) bool { return strings.HasPrefix(l, "*** Operational MODE:") }
	afterOurSpawn := func(l string) bool { return strings.HasPrefix(l, "spawned uWSGI worker 1 ") }
	for _, c := range cases {
		text := fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\n%s = %s\nsocket = 127.0.0.1:0\nmaster = true\nneed-app = true\n", dir, c.key, c.value)
		theirsLog, code := runUWSGIToExit(t, dir, text)
		if code != NoAppExitCode {
			t.Fatalf("%s = %s: uWSGI exited with %d:\n%s", c.key, c.value, code, theirsLog)
		}
		want := loadLines(theirsLog, afterUWSGIStart, "*** no app loaded. GAME OVER ***")
		if strings.Contains(theirsLog, "<frozen importlib") || strings.Contains(theirsLog, "full dynamic mode") {
			t.Fatalf("uWSGI's log changed:\n%s", theirsLog)
		}

		parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(text), "")
		cfg := configFromINI(t, parsed, err)
		cfg.Python = testPython
		ours := &syncBuffer{}
		s := &Server{Config: cfg, Log: ours}
		if err := s.Start(); !errors.Is(err, ErrNoApp) {
			s.Stop()
			t.Fatalf("%s = %s: Start: %v", c.key, c.value, err)
		}
		got := loadLines(ours.String(), afterOurSpawn, "*** no app loaded. GAME OVER ***")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("need-app, %s = %s: ours\n%s\n\nuWSGI\n%s\n\nour whole log:\n%s", c.key, c.value,
				strings.Join(got, "\n"), strings.Join(want, "\n"), ours)
		}
		if strings.Contains(ours.String(), "full dynamic mode") {
			t.Errorf("need-app, %s = %s: ours says full dynamic mode:\n%s", c.key, c.value, ours)
		}
	}

	// Without need-app (uWSGI runs on; its lines are the same up to
	// "going in full dynamic mode", checked for one case of each kind).
	for _, c := range cases[:2] {
		text := fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\n%s = %s\nsocket = %s\nmaster = true\n", dir, c.key, c.value, peertest.FreeAddr(t))
		u := peertest.StartUWSGI(t, text)
		const dynamic = "*** no app loaded. going in full dynamic mode ***"
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(u.LogText(), dynamic) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		want := loadLines(u.LogText(), afterUWSGIStart, dynamic)
		parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(text), "")
		cfg := configFromINI(t, parsed, err)
		cfg.Sockets[0].Addr = "127.0.0.1:0"
		s, log := startServer(t, cfg)
		waitReady(t, s)
		waitLog(t, log, dynamic)
		got := loadLines(log.String(), afterOurSpawn, dynamic)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s = %s: ours\n%s\n\nuWSGI\n%s", c.key, c.value, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestPyAutoreloadLogLikeUWSGI: uWSGI's python reloader says "Python
// auto-reloader enabled" once (from worker 1) and names a changed file by
// the module's __file__: the wsgi-file as written in the config ("app.py",
// relative to chdir), an imported module by its absolute path. Ours says
// the same.
func TestPyAutoreloadLogLikeUWSGI(t *testing.T) {
	const app = "import helper\n\ndef application(environ, start_response):\n    start_response('200 OK', [])\n    return [__file__.encode()]\n"
	for _, changed := range []string{"app.py", "helper.py"} {
		t.Run(changed, func(t *testing.T) {
			t.Parallel()
			testAutoreloadLine(t, app, changed)
		})
	}
}

// testAutoreloadLine runs app (a wsgi-file importing helper) on real uWSGI,
// then here, changes the file changed on each and compares the lines.
func testAutoreloadLine(t *testing.T, app, changed string) {
	side := func() (dir, ini string) {
		dir = writeApp(t, map[string]string{"app.py": app, "helper.py": "X = 1\n"})
		return dir, fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nwsgi-file = app.py\nsocket = %s\nmaster = true\nprocesses = 2\npy-autoreload = 1\n", dir, peertest.FreeAddr(t))
	}
	// touchUntil moves the file's mtime forward, again and again, until the
	// reloader (which first records the mtimes it sees) notices; it returns
	// the reloader's line and how often "enabled" was said before it.
	touchUntil := func(path string, logText func() string) string {
		const said = "[uwsgi-python-reloader] module/file "
		base := time.Now()
		deadline := base.Add(20 * time.Second)
		for k := 1; time.Now().Before(deadline); k++ {
			when := base.Add(time.Duration(k) * time.Second)
			if err := os.Chtimes(path, when, when); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			text := logText()
			if i := strings.Index(text, said); i >= 0 {
				line, _, _ := strings.Cut(text[i:], "\n")
				before := strings.Count(text[:i], "Python auto-reloader enabled\n")
				return fmt.Sprintf("%s (enabled said %d times before)", line, before)
			}
		}
		t.Fatalf("no reloader line:\n%s", logText())
		return ""
	}

	theirsDir, theirsIni := side()
	u := peertest.StartUWSGI(t, theirsIni)
	want := strings.ReplaceAll(touchUntil(filepath.Join(theirsDir, changed), u.LogText), theirsDir, "DIR")

	oursDir, oursIni := side()
	parsed, err := uwsgiini.Parse(filepath.Join(oursDir, "ours.ini"), []byte(oursIni), "")
	cfg := configFromINI(t, parsed, err)
	cfg.Sockets[0].Addr = "127.0.0.1:0"
	s, log := startServer(t, cfg)
	waitReady(t, s)
	got := strings.ReplaceAll(touchUntil(filepath.Join(oursDir, changed), log.String), oursDir, "DIR")
	if got != want {
		t.Errorf("%s changed: ours\n  %s\nuWSGI\n  %s", changed, got, want)
	}
}
