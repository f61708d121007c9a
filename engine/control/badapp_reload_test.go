package control

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A reload to an app that does not import fails, says why, and the old
// workers keep serving the old app: what EventReloadFailed promises.
func TestReloadToABrokenAppKeepsTheOldWorkers(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, func(o *RunnerOptions) { o.ReadyTimeout = 20 * time.Second })
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	el, cancel := collect(r)
	defer cancel()
	before := workerPIDs(r)
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "module = wsgi:application", "module = nosuchmodule:application")
	err := r.Reload(ctx, Engine)
	if err == nil || !errors.Is(err, ErrAppNotLoaded) || !strings.Contains(err.Error(), "nosuchmodule") {
		t.Fatalf("Reload = %v, want ErrAppNotLoaded naming the module", err)
	}
	el.waitFor(t, "reload failed", func(ev Event) bool { return ev.Kind == EventReloadFailed })
	for i := 0; i < 5; i++ {
		resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort))
		if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
			t.Fatalf("GET / after the failed reload = %d", resp.StatusCode)
		}
	}
	if after := workerPIDs(r); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("workers %v after the failed reload, want the old ones %v", after, before)
	}
	if s := r.Snapshot().Engine; s.State != Degraded || !strings.Contains(s.Message, "previous workers keep serving") {
		t.Errorf("engine %s %q after the failed reload", s.State, s.Message)
	}
	// Fixed and applied again, the new app replaces the old one.
	replaceIn(t, filepath.Join(dir, "uwsgi.ini"), "module = nosuchmodule:application", "module = wsgi:application")
	if err := r.Reload(ctx, Engine); err != nil {
		t.Fatalf("Reload after the fix: %v", err)
	}
	resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort))
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Fatalf("GET / after the fixed reload = %d", resp.StatusCode)
	}
	if after := workerPIDs(r); len(after) != 2 || after[1] == before[1] || after[2] == before[2] {
		t.Errorf("workers %v after the fixed reload, want two new ones (before: %v)", after, before)
	}
	if s := r.Snapshot().Engine; s.State != Running {
		t.Errorf("engine %s %q after the fixed reload", s.State, s.Message)
	}
}
