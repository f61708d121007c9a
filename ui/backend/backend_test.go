package backend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// newTestBackend returns a Backend in a temp config folder whose demo uses
// free ports (the shipped demo's 8080 and 3031 may be taken on a shared
// machine).
func newTestBackend(t *testing.T) (*Backend, deck.Project, int) {
	t.Helper()
	b, err := New(Options{ConfigDir: t.TempDir(), DataDir: t.TempDir(), SampleInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := b.StopAll(ctx); err != nil {
			t.Errorf("StopAll: %v", err)
		}
	})
	p := b.Project(DemoID)
	proxyPort, enginePort := ephemeralPort(), ephemeralPort()
	movePorts(t, p, proxyPort, enginePort)
	return b, p, proxyPort
}

// movePorts rewrites the demo's ports through the documents' editing API.
func movePorts(t *testing.T, p deck.Project, proxyPort, enginePort int) {
	t.Helper()
	ini, err := p.Ini()
	if err != nil {
		t.Fatal(err)
	}
	must(t, ini.Set("socket", "127.0.0.1:"+strconv.Itoa(enginePort)))
	must(t, ini.Set("stats", ""))
	must(t, ini.Save())
	ngx, err := p.Nginx()
	if err != nil {
		t.Fatal(err)
	}
	must(t, ngx.SetDirective(deck.NginxPath{Server: 0, Location: -1, Upstream: -1, Name: "listen"}, "127.0.0.1:"+strconv.Itoa(proxyPort)))
	must(t, ngx.SetDirective(deck.NginxPath{Server: 0, Location: 1, Upstream: -1, Name: "uwsgi_pass"}, "127.0.0.1:"+strconv.Itoa(enginePort)))
	must(t, ngx.SetDirective(deck.NginxPath{Server: 0, Location: -1, Upstream: -1, Name: "access_log"}, "off"))
	must(t, ngx.Save())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDemoServesThroughProxyAndEngine(t *testing.T) {
	_, p, proxyPort := newTestBackend(t)
	ctx := context.Background()
	if err := p.Start(ctx, deck.Both); err != nil {
		t.Fatalf("Start: %v", err)
	}
	snap := p.Snapshot()
	if snap.Engine.State != deck.Running || snap.Proxy.State != deck.Running {
		t.Fatalf("after Start: engine %v, proxy %v", snap.Engine.State, snap.Proxy.State)
	}
	want := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	if snap.URL != want {
		t.Errorf("URL = %q, want %q", snap.URL, want)
	}
	waitFor(t, "workers to load the app", func() bool {
		s := p.Snapshot()
		if len(s.Workers) != 2 {
			return false
		}
		for _, w := range s.Workers {
			if w.Status == "starting" {
				return false
			}
		}
		return true
	})
	for i := 0; i < 5; i++ {
		code, body := get(t, snap.URL)
		if code != 200 || !strings.Contains(body, "wsgideck") {
			for _, l := range p.Logs(0, 0) {
				t.Logf("log: %s %s", l.Source, l.Text)
			}
			t.Fatalf("GET / = %d %.200q", code, body)
		}
	}
	if code, _ := get(t, snap.URL+"static/style.css"); code != 200 {
		t.Errorf("static file: %d", code)
	}
	if code, _ := get(t, snap.URL+"boom"); code != 500 {
		t.Errorf("/boom: %d, want 500", code)
	}

	// The request lines and the traceback reach the logs, attributed.
	waitFor(t, "the traceback in the logs", func() bool {
		for _, l := range p.Logs(0, 0) {
			if l.Source == deck.LogWorker && l.Level == deck.LevelError && strings.Contains(l.Text, "Traceback") {
				return true
			}
		}
		return false
	})
	// The request line of /boom may come after its traceback.
	waitFor(t, "6 request lines, each with its worker", func() bool {
		requests := 0
		for _, l := range p.Logs(0, 0) {
			if strings.HasPrefix(l.Text, "[pid: ") {
				requests++
				if l.Worker < 1 || l.Worker > 2 {
					t.Fatalf("request line without its worker: %+v", l)
				}
			}
		}
		return requests >= 6
	})
	// The sampler counted them.
	waitFor(t, "the sampler to count 6 requests", func() bool { return p.Snapshot().Requests >= 6 })
	if h := p.TotalHistory(time.Time{}); len(h) == 0 {
		t.Error("no master history")
	}

	// Kill a worker: it is respawned with a new pid, and an event says so.
	died := make(chan deck.Event, 4)
	cancel := p.Subscribe(func(ev deck.Event) {
		if ev.Kind == deck.EventWorkerDied {
			died <- ev
		}
	})
	defer cancel()
	old := p.Snapshot().Workers[0]
	must(t, p.KillWorker(ctx, old.ID))
	select {
	case ev := <-died:
		if ev.Worker != old.ID || ev.PID != old.PID {
			t.Errorf("died event %+v, want worker %d pid %d", ev, old.ID, old.PID)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no died event after killing a worker")
	}
	waitFor(t, "the respawned worker", func() bool {
		for _, w := range p.Snapshot().Workers {
			if w.ID == old.ID && w.PID != old.PID && w.PID != 0 {
				return w.Respawns >= 1
			}
		}
		return false
	})

	must(t, p.Reload(ctx, deck.Both))
	if code, _ := get(t, snap.URL); code != 200 {
		t.Errorf("after reload: %d", code)
	}
	must(t, p.Stop(ctx, deck.Both))
	snap = p.Snapshot()
	if snap.State != deck.Stopped || len(snap.Workers) != 0 {
		t.Errorf("after Stop: %v, %d workers", snap.State, len(snap.Workers))
	}
	if _, err := http.Get(want); err == nil {
		t.Error("the proxy still answers after Stop")
	}
	for _, pid := range []int{old.PID} {
		if processAlive(pid) {
			t.Errorf("worker pid %d still alive", pid)
		}
	}
}

func processAlive(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}

func TestPortConflictFixRewritesBothFiles(t *testing.T) {
	_, p, _ := newTestBackend(t)
	ini, _ := p.Ini()
	sock, _ := ini.Get("socket")
	port := portOf(t, sock)
	// Someone else holds the engine's port.
	ln := listenOn(t, port)
	defer ln.Close()

	var fix *deck.Finding
	for _, f := range p.Check(context.Background()) {
		if f.Fix != nil && strings.Contains(f.Message, "port "+strconv.Itoa(port)) {
			fix = &f
		}
	}
	if fix == nil {
		t.Fatalf("no fixable finding for the taken port %d: %+v", port, p.Check(context.Background()))
	}
	if !strings.Contains(fix.Message, "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("the finding does not name the holder: %q", fix.Message)
	}
	if !strings.Contains(fix.FixLabel, "uwsgi.ini") || !strings.Contains(fix.FixLabel, "nginx.conf") {
		t.Errorf("fix label %q does not name both files", fix.FixLabel)
	}
	must(t, fix.Fix(context.Background()))
	iniText, _ := os.ReadFile(p.Info().IniPath)
	ngxText, _ := os.ReadFile(p.Info().NginxPath)
	newSock, _ := ini.Get("socket")
	np := portOf(t, newSock)
	if np == port || np == 0 {
		t.Fatalf("socket still %q", newSock)
	}
	if !strings.Contains(string(iniText), "socket = 127.0.0.1:"+strconv.Itoa(np)) {
		t.Errorf("uwsgi.ini not rewritten:\n%s", iniText)
	}
	if !strings.Contains(string(ngxText), "uwsgi_pass 127.0.0.1:"+strconv.Itoa(np)+";") {
		t.Errorf("nginx.conf not rewritten:\n%s", ngxText)
	}
	for _, f := range p.Check(context.Background()) {
		if f.Severity == deck.SevError {
			t.Errorf("after the fix: %s", f.Message)
		}
	}
}
