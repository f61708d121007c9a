package deck_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// waitNote waits for a notification whose text holds every one of words,
// and returns it.
func (h *harness) waitNote(words ...string) string {
	h.t.Helper()
	var found string
	defer func() {
		if found == "" {
			h.t.Logf("notifications sent: %q", h.notifications())
		}
	}()
	h.waitFor("a notification with "+strings.Join(words, ", "), func() bool {
		for _, n := range h.notifications() {
			all := true
			for _, w := range words {
				all = all && strings.Contains(n, w)
			}
			if all {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// A worker killed from outside the app (kill -9) is a crash: the app says
// so in a notification naming the worker and how it died, and the table
// shows its respawn.
func TestNotifiesWorkerCrash(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	pid := h.rowOf(1).int(t, "PID")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n := h.waitNote("crashed")
	t.Logf("notified: %s", n)
	for _, want := range []string{"Demo: A worker crashed", "worker 1", "pid " + strconv.Itoa(pid), "signal 9"} {
		if !strings.Contains(n, want) {
			t.Errorf("the notification %q does not say %q", n, want)
		}
	}
	h.waitFor("worker 1's respawn in the table", func() bool {
		r := h.rowOf(1)
		return r != nil && r.int(t, "PID") != pid && r.int(t, "Respawns") == 1 && r["Status"] == "idle"
	})
	if len(h.notifications()) != 1 {
		t.Errorf("one crash, notifications %q", h.notifications())
	}
}

// A request that runs past harakiri gets its worker killed; the app says
// which request did it.
func TestNotifiesHarakiri(t *testing.T) {
	h := newHarness(t)
	ini, err := h.proj.Ini()
	must(t, err)
	must(t, ini.Set("harakiri", "1"))
	must(t, ini.Save())
	h.startDemo(2)

	code, _, err := get(t, h.url()+"slow?s=6")
	if err != nil {
		t.Fatal(err)
	}
	// The engine answers 504 for a request that harakiri cut short (see
	// engine/appserver's doc), and the proxy passes it on.
	if code != 504 {
		t.Errorf("a request past harakiri answered %d, want 504", code)
	}
	n := h.waitNote("Harakiri")
	t.Logf("notified: %s", n)
	for _, want := range []string{"Demo: Harakiri: a worker was killed", "GET /slow?s=6", "ran over the limit"} {
		if !strings.Contains(n, want) {
			t.Errorf("the notification %q does not say %q", n, want)
		}
	}
	if strings.Contains(n, "crashed") {
		t.Errorf("a harakiri is announced as a crash: %q", n)
	}
	h.waitFor("the harakiri in the table", func() bool {
		total := 0
		for _, r := range h.workerRows() {
			total += r.int(t, "Harakiri")
		}
		return total == 1
	})
	for _, n := range h.notifications() {
		if strings.Contains(n, "crashed") {
			t.Errorf("the harakiri also sent a crash notification: %q", n)
		}
	}
}

// A reload of a config that was broken on disk is refused: the old
// configuration keeps serving, and the app says why, naming the file and
// line.
func TestNotifiesFailedReload(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	path := h.proj.Info().IniPath
	text := readFile(t, path)
	line := 0
	var lines []string
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "processes =") {
			l, line = "processes = two", i+1
		}
		lines = append(lines, l)
	}
	if line == 0 {
		t.Fatalf("no processes line in:\n%s", text)
	}
	must(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))

	h.tap("Reload") // the toolbar's: proxy and engine
	n := h.waitNote("Reload failed")
	t.Logf("notified: %s", n)
	for _, want := range []string{"Demo: Reload failed", "uwsgi.ini:" + strconv.Itoa(line)} {
		if !strings.Contains(n, want) {
			t.Errorf("the notification %q does not say %q", n, want)
		}
	}
	if s := h.d.Snapshot(); s.Engine.State != deck.Running || s.Proxy.State != deck.Running {
		t.Errorf("after a refused reload: engine %v, proxy %v", s.Engine.State, s.Proxy.State)
	}
	if code, _, err := get(t, h.url()); err != nil || code != 200 {
		t.Errorf("the old configuration does not serve: %d %v", code, err)
	}
	if !strings.Contains(h.texts(), "Reload failed") {
		t.Errorf("the status line does not say the reload failed:\n%s", h.texts())
	}
}
