package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/project"
)

// newTestDeck opens a Deck with its project list and demo in temp folders.
func newTestDeck(t *testing.T) *Deck {
	t.Helper()
	home := t.TempDir()
	d, err := OpenDeck(DeckOptions{
		Store:          project.StoreOptions{ConfigDir: filepath.Join(home, "config"), DataDir: filepath.Join(home, "data")},
		Python:         python,
		SampleInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return d
}

// addDemoCopy adds a copy of the demo, on free ports, as a project.
func addDemoCopy(t *testing.T, d *Deck, name string) (project.Project, int) {
	t.Helper()
	dir, proxyPort, _ := demoProject(t)
	p, err := d.Add(project.Project{Name: name, Dir: dir, Python: python})
	if err != nil {
		t.Fatal(err)
	}
	return p, proxyPort
}

// TestStopAllLeavesNoProcess starts two projects and stops everything:
// every worker process is gone from /proc and the ports are free.
func TestStopAllLeavesNoProcess(t *testing.T) {
	d := newTestDeck(t)
	ctx := ctxFor(t)
	var pids []int
	var ports []int
	for _, name := range []string{"one", "two"} {
		p, port := addDemoCopy(t, d, name)
		r, err := d.Runner(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx, Both); err != nil {
			t.Fatal(err)
		}
		get(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
		for _, w := range r.Snapshot().Workers {
			pids = append(pids, w.PID)
		}
		ports = append(ports, port)
	}
	if len(pids) != 4 {
		t.Fatalf("%d worker pids, want 4", len(pids))
	}
	for _, pid := range pids {
		if !pidAlive(pid) {
			t.Fatalf("worker pid %d is not running before StopAll", pid)
		}
	}
	if err := d.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if pidAlive(pid) {
			t.Errorf("worker pid %d is still alive after StopAll", pid)
		}
	}
	for _, port := range ports {
		if _, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
			t.Errorf("port %d still answers after StopAll", port)
		}
	}
	for _, p := range d.Projects() {
		r, _ := d.Runner(p.ID)
		if s := r.Snapshot(); s.State != Stopped || len(s.Workers) != 0 {
			t.Errorf("%s: state %s with %d workers after StopAll", p.Name, s.State, len(s.Workers))
		}
	}
}

// holdPort runs a process of another program (python3) listening on a
// free port, and returns the port and the process.
func holdPort(t *testing.T) (int, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(python, "-c", `import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var port int
	if _, err := fmt.Fscan(out, &port); err != nil {
		t.Fatal(err)
	}
	return port, cmd
}

// TestPortConflict has another program hold the proxy's port: Start fails
// before anything starts, the proxy is Failed with the finding (the
// holder's pid and name), the engine stays stopped, and the finding's fix
// moves the port in the files, after which the project starts.
func TestPortConflict(t *testing.T) {
	d := newTestDeck(t)
	ctx := ctxFor(t)
	p, oldPort := addDemoCopy(t, d, "busy")
	busy, holder := holdPort(t)
	replaceIn(t, p.Nginx, fmt.Sprintf("127.0.0.1:%d", oldPort), fmt.Sprintf("127.0.0.1:%d", busy))
	r, _ := d.Runner(p.ID)
	err := r.Start(ctx, Both)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Start = %v, want a *ConfigError", err)
	}
	var f *crosscheck.Finding
	for i := range ce.Findings {
		if ce.Findings[i].Kind == crosscheck.KindPortBusy {
			f = &ce.Findings[i]
		}
	}
	if f == nil {
		t.Fatalf("no port-busy finding in %v", ce.Lines())
	}
	who := fmt.Sprintf("pid %d (python3)", holder.Process.Pid)
	if f.Port != busy || !strings.Contains(f.Message, who) || len(f.Fixes) == 0 {
		t.Fatalf("finding %+v does not name %s with a fix", f, who)
	}
	snap := r.Snapshot()
	if snap.Proxy.State != Failed || !strings.Contains(snap.Proxy.Message, who) {
		t.Errorf("proxy %s %q", snap.Proxy.State, snap.Proxy.Message)
	}
	if snap.Engine.State == Running || len(snap.Workers) > 0 {
		t.Errorf("the engine started although the config was refused: %s", snap.Engine.State)
	}
	if snap.State != Failed {
		t.Errorf("project state %s", snap.State)
	}

	// The Deck's check says the same, and its fix rewrites the files.
	rep, err := d.Check(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var fix *crosscheck.Fix
	for _, g := range rep.Findings {
		if g.Kind == crosscheck.KindPortBusy && g.Port == busy && strings.Contains(g.Message, who) && len(g.Fixes) > 0 {
			fix = &g.Fixes[0]
		}
	}
	if fix == nil {
		t.Fatalf("Check has no fixable port-busy finding: %+v", rep.Findings)
	}
	// An editor's unsaved edits block the fix.
	_, nd, err := d.Docs(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	nd.SetSource("", append(nd.Bytes(""), "# an edit\n"...))
	if err := rep.Apply(*fix); err == nil || !strings.Contains(err.Error(), "unsaved edits") {
		t.Fatalf("Apply with unsaved edits = %v", err)
	}
	nd.Revert()
	if err := rep.Apply(*fix); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p.Nginx); strings.Contains(string(b), fmt.Sprint(busy)) {
		t.Fatal("the fix did not change nginx.conf")
	}
	if strings.Contains(string(nd.Bytes("")), fmt.Sprintf(":%d;", busy)) {
		t.Error("the editor's document did not pick up the fixed file")
	}
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	snap = r.Snapshot()
	if snap.State != Running || snap.URL == "" {
		t.Fatalf("after the fix: %s %q", snap.State, snap.URL)
	}
	if resp, _ := get(t, snap.URL); resp.StatusCode != 200 {
		t.Errorf("GET %s = %d", snap.URL, resp.StatusCode)
	}
}

// TestPortHeldByAnotherProject names the project of the same Deck that
// holds a port.
func TestPortHeldByAnotherProject(t *testing.T) {
	d := newTestDeck(t)
	ctx := ctxFor(t)
	a, portA := addDemoCopy(t, d, "first")
	b, portB := addDemoCopy(t, d, "second")
	replaceIn(t, b.Nginx, fmt.Sprintf("127.0.0.1:%d", portB), fmt.Sprintf("127.0.0.1:%d", portA))
	ra, _ := d.Runner(a.ID)
	if err := ra.Start(ctx, Proxy); err != nil {
		t.Fatal(err)
	}
	rb, _ := d.Runner(b.ID)
	err := rb.Start(ctx, Proxy)
	if err == nil || !strings.Contains(err.Error(), "the project first in this app holds it") {
		t.Fatalf("Start = %v", err)
	}
}

// TestDeckDocs hands out one pair of documents per project, and a change
// made on disk reaches them and the project's subscribers.
func TestDeckDocs(t *testing.T) {
	d := newTestDeck(t)
	p, _ := addDemoCopy(t, d, "docs")
	id1, nd1, err := d.Docs(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	id2, nd2, _ := d.Docs(p.ID)
	if id1 != id2 || nd1 != nd2 {
		t.Fatal("Docs returned new documents")
	}
	r, _ := d.Runner(p.ID)
	el, cancel := collect(r)
	defer cancel()
	replaceIn(t, p.Ini, "processes = 2", "processes = 3")
	el.waitFor(t, "config changed", func(ev Event) bool { return ev.Kind == EventConfigChanged && ev.Path == p.Ini })
	if e, ok := id1.Get("processes"); !ok || e.Value != "3" {
		t.Errorf("the document was not reloaded: processes = %q", e.Value)
	}
	if err := d.Remove(ctxFor(t), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Project(p.ID); ok {
		t.Error("the project is still listed")
	}
	if err := d.Remove(ctxFor(t), project.DemoID); err == nil {
		t.Error("the demo was removed")
	}
}
