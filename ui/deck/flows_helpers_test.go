package deck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
	"github.com/wsgideck/wsgideck/ui/internal/uitest"
)

// The flows tests drive the window the way a user does, on real project
// folders: a Flask app and a Django project made by django-admin, run by
// Debian's Python, which has both installed.

// systemPython is the interpreter with Flask and Django (the python3 on
// PATH may be a build without them).
const systemPython = "/usr/bin/python3"

// newFlowHarness is a harness whose backend runs projects with
// systemPython. The demo stays on its shipped ports and is never started.
func newFlowHarness(t *testing.T) *harness {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Fatalf("the flows tests need Debian's python3 with Flask and Django: %v", err)
	}
	h := &harness{t: t}
	h.app = uitest.New(test.NewTempApp(t))
	b, err := backend.New(backend.Options{ConfigDir: t.TempDir(), DataDir: t.TempDir(), SampleInterval: 200 * time.Millisecond, Python: systemPython})
	must(t, err)
	h.b = b
	h.proj = b.Project(backend.DemoID)
	h.openWindow(fyne.NewSize(1200, 900))
	return h
}

const flaskApp = `from flask import Flask

app = Flask(__name__)


@app.route('/')
def index():
    return 'hello from flask'
`

// flaskDir is a folder holding a small Flask app in app.py.
func flaskDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shop")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "app.py"), []byte(flaskApp), 0o644))
	return dir
}

// djangoDir is a folder made by django-admin startproject mysite.
func djangoDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blog")
	must(t, os.Mkdir(dir, 0o755))
	out, err := exec.Command(systemPython, "-m", "django", "startproject", "mysite", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("django startproject: %v\n%s", err, out)
	}
	return dir
}

// addProject picks dir as the Add dialog would, moves the new project to
// free ports, lets edit correct the detection, and adds it. It returns the
// new project, selected.
func (h *harness) addProject(dir string, edit func()) deck.Project {
	h.t.Helper()
	h.d.AddProjectDir(dir)
	if !strings.Contains(h.texts(), "Add a project") {
		h.t.Fatalf("no Add dialog for %s:\n%s", dir, h.texts())
	}
	setEntry(h.entryAfter("Proxy port"), strconv.Itoa(freePort(h.t)))
	setEntry(h.entryAfter("Engine port"), strconv.Itoa(freePort(h.t)))
	if edit != nil {
		edit()
	}
	h.tap("Add project")
	for _, p := range h.b.Projects() {
		if p.Dir == dir {
			if h.d.Selected() != p.ID {
				h.t.Fatalf("the new project %s is not selected (%s is)", p.ID, h.d.Selected())
			}
			return h.b.Project(p.ID)
		}
	}
	h.t.Fatalf("%s was not added: %s", dir, h.texts())
	return nil
}

// setEntry replaces an entry's text as a user does: select all, type.
func setEntry(e *widget.Entry, s string) {
	e.SetText("")
	test.Type(e, s)
}

// selectProject taps the project's row in the sidebar.
func (h *harness) selectProject(id string) {
	h.t.Helper()
	for _, o := range h.objects() {
		if l, ok := o.(*widget.List); ok {
			for i, p := range h.b.Projects() {
				if p.ID == id {
					l.Select(i)
					if h.d.Selected() != id {
						h.t.Fatalf("tapping %s's row selected %s", id, h.d.Selected())
					}
					return
				}
			}
		}
	}
	h.t.Fatalf("no sidebar row for %s", id)
}

// dialogShown reports whether a dialog with title is on screen.
func (h *harness) dialogShown(title string) bool {
	for _, o := range h.win.Canvas().Overlays().List() {
		var objs []fyne.CanvasObject
		walk(o, &objs)
		for _, x := range objs {
			if l, ok := x.(*widget.Label); ok && l.Text == title {
				return true
			}
		}
	}
	return false
}

// workerPIDs returns the pids of the selected project's workers.
func (h *harness) workerPIDs() map[int]bool {
	pids := map[int]bool{}
	for _, w := range h.d.Snapshot().Workers {
		if w.PID > 0 {
			pids[w.PID] = true
		}
	}
	return pids
}

// waitLoaded waits until the selected project has n workers that loaded
// the app.
func (h *harness) waitLoaded(n int) {
	h.t.Helper()
	h.waitFor(strconv.Itoa(n)+" workers to load the app", func() bool {
		ws := h.d.Snapshot().Workers
		if len(ws) != n {
			return false
		}
		for _, w := range ws {
			if w.Status != "idle" && w.Status != "busy" {
				return false
			}
		}
		return true
	})
}

// lineOf returns the 1-based number of the first line of text starting
// with prefix, or 0.
func lineOf(text, prefix string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	return 0
}

// tapCheck sets the visible check box with text to on, by tapping it.
func (h *harness) tapCheck(text string, on bool) {
	h.t.Helper()
	for _, o := range h.objects() {
		if c, ok := o.(*widget.Check); ok && c.Text == text {
			if c.Checked != on {
				test.Tap(c)
			}
			return
		}
	}
	h.t.Fatalf("no check box %q on screen", text)
}

// gridText returns the text of the visible text grids (the diff view).
func (h *harness) gridText() string {
	var b strings.Builder
	for _, o := range h.objects() {
		if g, ok := o.(*widget.TextGrid); ok {
			b.WriteString(g.Text() + "\n")
		}
	}
	return b.String()
}

// start taps Start on the selected project and returns its snapshot,
// failing the test unless both tiers run.
func (h *harness) start() deck.Snapshot {
	h.t.Helper()
	h.tap("Start")
	s := h.d.Snapshot()
	if s.State != deck.Running {
		h.t.Fatalf("after Start: %v (engine %s, proxy %s)", s.State, s.Engine.Message, s.Proxy.Message)
	}
	return s
}

// showIni shows the uwsgi.ini tab in view (deck.ViewForm or ViewSource).
func (h *harness) showIni(view string) {
	h.d.SelectTab(deck.TabIni)
	h.tap(view)
}
