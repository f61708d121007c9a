package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func workerPIDs(r *Runner) map[int]int {
	out := map[int]int{}
	for _, w := range r.Snapshot().Workers {
		if w.Status != "retiring" {
			out[w.ID] = w.PID
		}
	}
	return out
}

// waitWorkers polls the snapshot until ok holds for the current workers.
func waitWorkers(t *testing.T, r *Runner, what string, ok func(map[int]int, []Worker) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := r.Snapshot()
		if ok(workerPIDs(r), s.Workers) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: workers %+v", what, s.Workers)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerCommands kills, reloads, chain-reloads, adds and removes
// workers through the Runner.
func TestWorkerCommands(t *testing.T) {
	dir, _, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.KillWorker(ctx, 1); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("KillWorker while stopped = %v", err)
	}
	if err := r.Start(ctx, Engine); err != nil {
		t.Fatal(err)
	}
	if c := r.Supports(); !c.KillWorker || !c.ReloadWorker || !c.ChainReload || !c.AddRemoveWorker {
		t.Errorf("Supports = %+v", c)
	}
	el, cancel := collect(r)
	defer cancel()
	before := workerPIDs(r)

	if err := r.KillWorker(ctx, 1); err != nil {
		t.Fatal(err)
	}
	el.waitFor(t, "worker 1 died", func(ev Event) bool {
		return ev.Kind == EventWorkerDied && ev.Worker == 1 && ev.PID == before[1] && strings.Contains(ev.Message, "signal 9")
	})
	waitWorkers(t, r, "worker 1 respawned", func(p map[int]int, _ []Worker) bool { return p[1] != 0 && p[1] != before[1] })
	if pidAlive(before[1]) {
		t.Error("the killed worker's process is alive")
	}

	now := workerPIDs(r)
	if err := r.ReloadWorker(ctx, 2); err != nil {
		t.Fatal(err)
	}
	el.waitFor(t, "worker 2 recycled", func(ev Event) bool { return ev.Kind == EventRecycled && ev.Worker == 2 })
	waitWorkers(t, r, "worker 2 replaced", func(p map[int]int, _ []Worker) bool { return p[2] != 0 && p[2] != now[2] })

	now = workerPIDs(r)
	if err := r.ChainReload(ctx); err != nil {
		t.Fatal(err)
	}
	after := workerPIDs(r)
	for id, pid := range now {
		if after[id] == pid || after[id] == 0 {
			t.Errorf("worker %d: pid %d before the chain reload, %d after", id, pid, after[id])
		}
	}
	el.waitFor(t, "chain reload done", func(ev Event) bool { return ev.Kind == EventReloadDone && ev.Tier == Engine })

	id, err := r.AddWorker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id != 3 {
		t.Errorf("AddWorker = %d, want 3", id)
	}
	waitWorkers(t, r, "three workers", func(p map[int]int, _ []Worker) bool { return p[3] != 0 })
	id, err = r.RemoveWorker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitWorkers(t, r, "worker removed", func(_ map[int]int, ws []Worker) bool {
		for _, w := range ws {
			if w.ID == id {
				return w.PID == 0 && w.Status == "cheap"
			}
		}
		return true
	})
}

// TestAppThatDoesNotLoad starts a project whose module raises: the engine
// runs, Degraded, with the exception as the reason, and Start says so;
// fixing the app and reloading makes it Running.
func TestAppThatDoesNotLoad(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	good, _ := os.ReadFile(filepath.Join(dir, "wsgi.py"))
	os.WriteFile(filepath.Join(dir, "wsgi.py"), []byte("import no_such_module_here\n"), 0o644)
	r := newTestRunner(t, dir, func(o *RunnerOptions) { o.ReadyTimeout = 30 * time.Second })
	ctx := ctxFor(t)
	err := r.Start(ctx, Both)
	if !errors.Is(err, ErrAppNotLoaded) || !strings.Contains(err.Error(), "no_such_module_here") {
		t.Fatalf("Start = %v", err)
	}
	snap := r.Snapshot()
	if snap.Engine.State != Degraded || !strings.Contains(snap.Engine.Message, "no_such_module_here") || snap.Proxy.State != Running {
		t.Fatalf("engine %s %q, proxy %s", snap.Engine.State, snap.Engine.Message, snap.Proxy.State)
	}
	tb := false
	for _, l := range r.Logs(0, 0) {
		if l.Source == LogWorker && l.Level == LevelError && strings.Contains(l.Text, "ModuleNotFoundError") {
			tb = true
		}
	}
	if !tb {
		t.Error("the traceback is not in the log as worker error lines")
	}
	if resp, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)); resp.StatusCode < 500 {
		t.Errorf("GET / = %d without an app", resp.StatusCode)
	}
	os.WriteFile(filepath.Join(dir, "wsgi.py"), good, 0o644)
	if err := r.Reload(ctx, Engine); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); s.Engine.State != Running {
		t.Fatalf("after fixing the app: %s %q", s.Engine.State, s.Engine.Message)
	}
}

// TestHarakiri runs a request longer than harakiri: the worker shows busy
// with it, then is killed (a harakiri event, the count in the snapshot)
// and respawned.
func TestHarakiri(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "harakiri = 30", "harakiri = 1")
	r := newTestRunner(t, dir, nil)
	if err := r.Start(ctxFor(t), Both); err != nil {
		t.Fatal(err)
	}
	el, cancel := collect(r)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/slow?s=5", proxyPort))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	waitWorkers(t, r, "a busy worker", func(_ map[int]int, ws []Worker) bool {
		for _, w := range ws {
			if w.Status == "busy" && len(w.Busy) == 1 && w.Busy[0] == "GET /slow?s=5" {
				return true
			}
		}
		return false
	})
	ev := el.waitFor(t, "harakiri", func(ev Event) bool { return ev.Kind == EventHarakiri && strings.Contains(ev.Message, "/slow?s=5") })
	el.waitFor(t, "the worker died", func(e Event) bool { return e.Kind == EventWorkerDied && e.PID == ev.PID })
	if status := <-done; status < 500 {
		t.Errorf("the slow request got %d", status)
	}
	waitWorkers(t, r, "harakiri counted and the worker respawned", func(p map[int]int, ws []Worker) bool {
		for _, w := range ws {
			if w.ID == ev.Worker && w.Harakiri == 1 && w.PID != ev.PID && w.PID != 0 {
				return true
			}
		}
		return false
	})
}

// TestWorkerOutputIsTagged runs an app that prints a traceback to stderr:
// its lines reach the log as worker error lines tagged with the worker
// that wrote them.
func TestWorkerOutputIsTagged(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	app := `import os, sys, traceback
def application(env, start_response):
    try:
        raise RuntimeError("boom in pid %d" % os.getpid())
    except RuntimeError:
        traceback.print_exc()
    sys.stderr.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
`
	if err := os.WriteFile(filepath.Join(dir, "wsgi.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newTestRunner(t, dir, nil)
	if err := r.Start(ctxFor(t), Both); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort))
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(body))
	if err != nil {
		t.Fatalf("GET / = %q, want the worker's pid", body)
	}
	id := 0
	for wid, wpid := range workerPIDs(r) {
		if wpid == pid {
			id = wid
		}
	}
	if id == 0 {
		t.Fatalf("pid %d is no worker's: %v", pid, workerPIDs(r))
	}
	want := fmt.Sprintf("RuntimeError: boom in pid %d", pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got *LogLine
		sawHead := false
		for _, l := range r.Logs(0, 0) {
			if l.Text == "Traceback (most recent call last):" && l.Worker == id && l.Source == LogWorker && l.Level == LevelError {
				sawHead = true
			}
			if l.Text == want {
				got = &l
			}
		}
		if got != nil {
			if got.Worker != id || got.Source != LogWorker || got.Level != LevelError || !sawHead {
				t.Fatalf("%q: worker %d %s %s (want worker %d, worker error); traceback head tagged: %v", want, got.Worker, got.Source, got.Level, id, sawHead)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
