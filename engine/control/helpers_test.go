package control

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
)

// python is Debian's interpreter (the one on PATH may be another).
const python = "/usr/bin/python3"

// freePort picks a loopback port that is free right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// demoProject copies the built-in demo into a temp folder with free ports
// for the proxy, the engine and the stats server, and returns the folder
// and the proxy's base URL.
func demoProject(t testing.TB) (dir string, proxyPort, enginePort int) {
	t.Helper()
	dir = t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil {
			mode := os.FileMode(0o644)
			if d.IsDir() {
				mode = 0o755
			}
			os.Chmod(path, mode)
		}
		return nil
	})
	proxyPort, enginePort = freePort(t), freePort(t)
	statsPort := freePort(t)
	replaceIn(t, filepath.Join(dir, "nginx.conf"), "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", proxyPort))
	replaceIn(t, filepath.Join(dir, "nginx.conf"), "127.0.0.1:3031", fmt.Sprintf("127.0.0.1:%d", enginePort))
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "127.0.0.1:3031", fmt.Sprintf("127.0.0.1:%d", enginePort))
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "127.0.0.1:9191", fmt.Sprintf("127.0.0.1:%d", statsPort))
	return dir, proxyPort, enginePort
}

func replaceIn(t testing.TB, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newTestRunner makes a Runner for dir that is stopped when the test ends,
// and logs its log when the test failed.
func newTestRunner(t testing.TB, dir string, mod func(*RunnerOptions)) *Runner {
	t.Helper()
	opts := RunnerOptions{Dir: dir, Python: python, SampleInterval: 100 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	r := NewRunner(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r.Stop(ctx, Both)
		if t.Failed() {
			for _, l := range r.Logs(0, 0) {
				t.Logf("log %d %s %s: %s", l.Seq, l.Source, l.Level, l.Text)
			}
		}
	})
	return r
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var client = &http.Client{Timeout: 10 * time.Second}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(b)
}

// eventLog collects a Runner's events for a test.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	signal chan struct{}
}

func collect(r *Runner) (*eventLog, func()) {
	el := &eventLog{signal: make(chan struct{}, 1)}
	cancel := r.Subscribe(func(ev Event) {
		el.mu.Lock()
		el.events = append(el.events, ev)
		el.mu.Unlock()
		select {
		case el.signal <- struct{}{}:
		default:
		}
	})
	return el, cancel
}

func (el *eventLog) snapshot() []Event {
	el.mu.Lock()
	defer el.mu.Unlock()
	return append([]Event(nil), el.events...)
}

// waitFor waits until an event satisfies ok.
func (el *eventLog) waitFor(t testing.TB, what string, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		for _, ev := range el.snapshot() {
			if ok(ev) {
				return ev
			}
		}
		select {
		case <-el.signal:
		case <-deadline:
			t.Fatalf("no event: %s", what)
		}
	}
}

// pidAlive reports whether /proc has the process (a zombie counts as
// gone).
func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
