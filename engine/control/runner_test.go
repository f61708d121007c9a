package control

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
)

// TestRunnerServesTheDemo starts the demo through a Runner, engine and
// proxy in this process, and reads a page of the app and a static file
// through the proxy.
func TestRunnerServesTheDemo(t *testing.T) {
	dir, proxyPort, enginePort := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if snap.State != Running || snap.Engine.State != Running || snap.Proxy.State != Running {
		t.Fatalf("state %s (engine %s %q, proxy %s %q)", snap.State, snap.Engine.State, snap.Engine.Message, snap.Proxy.State, snap.Proxy.Message)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	if snap.URL != base {
		t.Errorf("URL %q, want %q", snap.URL, base)
	}
	if got := strings.Join(snap.Engine.Addrs, ","); got != fmt.Sprintf("127.0.0.1:%d", enginePort) {
		t.Errorf("engine addrs %s", got)
	}
	resp, body := get(t, base)
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") || resp.Header.Get("X-Worker-Pid") == "" {
		t.Fatalf("GET / = %d %v\n%.300s", resp.StatusCode, resp.Header, body)
	}
	want, _ := fs.ReadFile(assets.Demo, "static/style.css")
	resp, body = get(t, base+"static/style.css")
	if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("X-Worker-Pid") != "" {
		t.Fatalf("GET /static/style.css = %d %v", resp.StatusCode, resp.Header)
	}
	snap = r.Snapshot()
	if len(snap.Workers) != 2 {
		t.Fatalf("%d workers: %+v", len(snap.Workers), snap.Workers)
	}
	for _, w := range snap.Workers {
		if w.PID <= 0 || !pidAlive(w.PID) {
			t.Errorf("worker %d: pid %d is not a live process", w.ID, w.PID)
		}
	}
	if snap.Engine.PID == 0 || snap.App != "wsgi:application" {
		t.Errorf("engine pid %d, app %q", snap.Engine.PID, snap.App)
	}
}

// TestRunnerEvents subscribes and sends requests: each shows up as a
// request event of the proxy, and the app's also as one of the engine; the
// proxy's history counts them by status class.
func TestRunnerEvents(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	el, cancel := collect(r)
	defer cancel()
	if err := r.Start(ctxFor(t), Both); err != nil {
		t.Fatal(err)
	}
	el.waitFor(t, "engine running", func(ev Event) bool {
		return ev.Kind == EventState && ev.Tier == Engine && ev.State == Running
	})
	el.waitFor(t, "a worker spawned", func(ev Event) bool { return ev.Kind == EventWorkerSpawned && ev.PID > 0 })
	base := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	const n = 5
	for i := 0; i < n; i++ {
		get(t, fmt.Sprintf("%s?i=%d", base, i))
		get(t, base+"missing-static/../static/style.css")
	}
	countReq := func(tier Tier, uri string) int {
		c := 0
		for _, ev := range el.snapshot() {
			if ev.Kind == EventRequest && ev.Tier == tier && ev.Request.URI == uri {
				c++
			}
		}
		return c
	}
	for i := 0; i < n; i++ {
		uri := fmt.Sprintf("/?i=%d", i)
		el.waitFor(t, "proxy request "+uri, func(ev Event) bool {
			return ev.Kind == EventRequest && ev.Tier == Proxy && ev.Request.URI == uri && ev.Request.Status == 200 && ev.Request.Upstream != ""
		})
		el.waitFor(t, "engine request "+uri, func(ev Event) bool {
			return ev.Kind == EventRequest && ev.Tier == Engine && ev.Request.URI == uri && ev.Request.Worker > 0 && ev.Request.PID > 0
		})
	}
	el.waitFor(t, "static requests", func(Event) bool { return countReq(Proxy, "/missing-static/../static/style.css") == n })
	if c := countReq(Engine, "/missing-static/../static/style.css"); c != 0 {
		t.Errorf("the engine saw %d static requests", c)
	}
	el.waitFor(t, "a log line event", func(ev Event) bool { return ev.Kind == EventLog && ev.Log != nil && ev.Log.Source == LogProxyAccess })

	// The proxy's per-interval counts add up to what was sent.
	deadline := time.Now().Add(10 * time.Second)
	for {
		samples, ok := r.ProxyHistory(time.Time{})
		if !ok {
			t.Fatal("the proxy's responses are not counted")
		}
		var total uint64
		for _, s := range samples {
			total += s.Status.Success
		}
		if total == 2*n {
			break
		}
		if total > 2*n || time.Now().After(deadline) {
			t.Fatalf("proxy history counts %d successes, want %d", total, 2*n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := r.Snapshot(); s.ProxyRequests != 2*n {
		t.Errorf("ProxyRequests %d", s.ProxyRequests)
	}
	// The engine's history has the workers' samples.
	deadline = time.Now().Add(10 * time.Second)
	for len(r.TotalHistory(time.Time{})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no engine samples")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The access log lines are in nginx's combined format.
	found := false
	for _, l := range r.Logs(0, 0) {
		if l.Source == LogProxyAccess && strings.Contains(l.Text, `"GET /?i=0 HTTP/1.1" 200 `) && strings.HasSuffix(l.Text, `"Go-http-client/1.1"`) {
			found = true
		}
	}
	if !found {
		t.Error("no access log line for GET /?i=0 in the combined format")
	}
}

// TestRunnerReloadDropsNoRequest reloads both tiers, with a changed
// nginx.conf, under a steady stream of requests: none fails, and the new
// configuration serves afterwards, from new workers.
func TestRunnerReloadDropsNoRequest(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	oldPIDs := map[int]bool{}
	for _, w := range r.Snapshot().Workers {
		oldPIDs[w.PID] = true
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	var (
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		mu       sync.Mutex
		sent     int
		failures []string
	)
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := cl.Get(url)
				var status int
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				mu.Lock()
				sent++
				if err != nil || status != 200 {
					failures = append(failures, fmt.Sprintf("%d %v", status, err))
				}
				mu.Unlock()
			}
		}()
	}
	waitSent := func(n int) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			s := sent
			mu.Unlock()
			if s >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d requests sent", s)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitSent(20)
	replaceIn(t, filepath.Join(dir, "nginx.conf"), "charset utf-8;", "charset utf-8;\n        add_header X-Reloaded yes;")
	if err := r.Reload(ctx, Both); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	after := sent
	mu.Unlock()
	waitSent(after + 20)
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the reload, first: %s", len(failures), sent, failures[0])
	}
	resp, _ := get(t, url)
	if resp.Header.Get("X-Reloaded") != "yes" {
		t.Error("the proxy does not serve the new nginx.conf")
	}
	snap := r.Snapshot()
	if snap.State != Running {
		t.Errorf("state %s after the reload", snap.State)
	}
	for _, w := range snap.Workers {
		if oldPIDs[w.PID] {
			t.Errorf("worker %d still has pid %d from before the reload", w.ID, w.PID)
		}
	}
	t.Logf("%d requests during the test, none failed", sent)
}

// TestRunnerRefusesABadReload breaks nginx.conf: Reload fails naming the
// file and line, and the old configuration keeps serving.
func TestRunnerRefusesABadReload(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	el, cancel := collect(r)
	defer cancel()
	path := filepath.Join(dir, "nginx.conf")
	src, _ := os.ReadFile(path)
	line := strings.Count(string(src[:strings.Index(string(src), "charset utf-8;")]), "\n") + 1
	replaceIn(t, path, "charset utf-8;", "charset utf-8;\n        no_such_directive on;")
	err := r.Reload(ctx, Both)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Reload = %v, want a *ConfigError", err)
	}
	want := fmt.Sprintf("nginx.conf:%d:", line+1)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "no_such_directive") {
		t.Fatalf("Reload error %q does not name %s and the directive", err, want)
	}
	el.waitFor(t, "reload failed", func(ev Event) bool { return ev.Kind == EventReloadFailed && strings.Contains(ev.Message, want) })
	resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort))
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Fatalf("GET / after the refused reload = %d", resp.StatusCode)
	}
	if s := r.Snapshot(); s.State != Running {
		t.Errorf("state %s after a refused reload", s.State)
	}
	// A broken uwsgi.ini is refused as well, naming its line.
	replaceIn(t, path, "        no_such_directive on;\n", "")
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "processes = 2", "processes = 0")
	err = r.Reload(ctx, Engine)
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "uwsgi.ini:") {
		t.Fatalf("Reload with processes = 0: %v", err)
	}
	// (uwsgi.ini's touch-reload may have the engine reload its workers
	// with the running configuration meanwhile: count the current ones.)
	if n := len(workerPIDs(r)); n != 2 {
		t.Errorf("%d workers after the refused reload, want 2", n)
	}
}
