package deck_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// handIni is a uwsgi.ini as people write them: comments of both kinds,
// odd spacing, a blank line, options the form does not show.
const handIni = `# shop: hand-written, keep my comments
[uwsgi]
; the app
module=app:app
chdir = %d
master = true
; two is plenty
processes   =   2
# sockets
socket = 127.0.0.1:ENGINE
vacuum = true

die-on-term = true
`

const handNginx = `# shop's proxy
events {}
http {
    server {
        listen 127.0.0.1:PROXY;   # local only
        server_name shop.test;
        location / {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:ENGINE;
        }
    }
}
`

// handProject is a Flask folder with its own hand-written configs on free
// ports, added with "use the folder's own files".
func (h *harness) handProject() (deck.Project, string) {
	h.t.Helper()
	dir := flaskDir(h.t)
	eng, prx := strconv.Itoa(freePort(h.t)), strconv.Itoa(freePort(h.t))
	must(h.t, os.WriteFile(filepath.Join(dir, "uwsgi.ini"), []byte(strings.ReplaceAll(handIni, "ENGINE", eng)), 0o644))
	ngx := strings.NewReplacer("ENGINE", eng, "PROXY", prx).Replace(handNginx)
	must(h.t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(ngx), 0o644))
	must(h.t, os.WriteFile(filepath.Join(dir, "uwsgi_params"), []byte("uwsgi_param REQUEST_METHOD $request_method;\nuwsgi_param PATH_INFO $document_uri;\nuwsgi_param SERVER_NAME $server_name;\nuwsgi_param SERVER_PORT $server_port;\nuwsgi_param SERVER_PROTOCOL $server_protocol;\nuwsgi_param QUERY_STRING $query_string;\n"), 0o644))
	p := h.addProject(dir, func() {
		// The folder's own files are offered, and kept.
		h.tapCheck("Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)", true)
	})
	return p, eng
}

// Editing a form field changes exactly that line of the file; comments,
// spacing and every other byte stay.
func TestFlowFormEditChangesOnlyItsLine(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	before := readFile(t, path)
	h.showIni(deck.ViewForm)
	e := h.entryAfter("Worker processes")
	if e.Text != "2" {
		t.Fatalf("the form shows processes %q, want 2", e.Text)
	}
	setEntry(e, "5")
	h.tap("Save")
	if !h.dialogShown("Save uwsgi.ini?") {
		t.Fatalf("no confirmation before saving:\n%s", h.texts())
	}
	h.tap("Save")
	after := readFile(t, path)
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(bl) != len(al) {
		t.Fatalf("the file has %d lines after the edit, %d before:\n%s", len(al), len(bl), after)
	}
	changed := 0
	for i := range bl {
		if bl[i] != al[i] {
			changed++
			if !strings.HasPrefix(al[i], "processes") || !strings.Contains(al[i], "5") || strings.Contains(al[i], "2") {
				t.Errorf("line %d: %q became %q", i+1, bl[i], al[i])
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d lines changed, want 1:\n%s", changed, after)
	}
	// The previous version is kept.
	if !strings.Contains(h.texts(), "previous version is kept") {
		t.Errorf("the status does not say the previous version is kept:\n%s", h.texts())
	}
}

// An invalid value typed in the Source view is marked on its line after
// the pause, Save refuses naming the file and line, and nothing is
// written; Revert brings the file back.
func TestFlowSourceErrorOnItsLineSaveRefusesRevert(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	before := readFile(t, path)
	h.showIni(deck.ViewSource)
	ed := h.editor()
	ed.Debounce = 20 * time.Millisecond
	line := lineOf(ed.Text(), "processes")
	e := ed.Entry()
	h.win.Canvas().Focus(e)
	e.CursorRow, e.CursorColumn = line-1, len("processes   =   2")
	test.Type(e, "x")
	if !strings.Contains(ed.Text(), "processes   =   2x") {
		t.Fatalf("typing did not reach the text:\n%s", ed.Text())
	}
	h.waitFor("the error on the processes line", func() bool {
		for _, p := range ed.Problems() {
			if p.Line == line && p.Severity == 0 {
				return true
			}
		}
		return false
	})
	h.tap("Save")
	txt := h.texts()
	if !strings.Contains(txt, "uwsgi.ini was not saved") || !strings.Contains(txt, "line "+strconv.Itoa(line)) {
		t.Errorf("Save with an error does not say which file and line:\n%s", txt)
	}
	if readFile(t, path) != before {
		t.Fatal("a file with an error was written")
	}
	h.tap("Close")
	h.tap("Revert")
	h.tap("Yes")
	if ed.Text() != before {
		t.Error("Revert did not restore the file's text")
	}
	if strings.Contains(h.texts(), "unsaved changes") {
		t.Error("still marked unsaved after Revert")
	}
}

// The Changes button and Save show a diff against the file on disk.
func TestFlowDiffBeforeSave(t *testing.T) {
	h := newFlowHarness(t)
	h.handProject()
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Harakiri (s)"), "30")
	h.tap("Changes")
	txt := h.texts()
	if !h.dialogShown("Changes to uwsgi.ini (not saved yet)") {
		t.Fatalf("no Changes dialog:\n%s", txt)
	}
	if !strings.Contains(h.gridText(), "+harakiri = 30") {
		t.Errorf("the diff does not show the added line:\n%s", h.gridText())
	}
	h.tap("Close")
	// Save shows the same diff before writing; Cancel writes nothing.
	path := h.b.Project(h.d.Selected()).Info().IniPath
	before := readFile(t, path)
	h.tap("Save")
	if !h.dialogShown("Save uwsgi.ini?") || !strings.Contains(h.gridText(), "+harakiri = 30") {
		t.Fatalf("Save does not show the diff first:\n%s", h.gridText())
	}
	h.tap("Cancel")
	if readFile(t, path) != before {
		t.Error("Cancel wrote the file")
	}
	if !strings.Contains(h.texts(), "unsaved changes") {
		t.Error("the edit is no longer marked unsaved after Cancel")
	}
}

// Apply on a running project saves and reloads the engine: new workers,
// as many as the edited file says, serve.
func TestFlowApplyReloadsRunningEngine(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	h.start()
	h.waitLoaded(2)
	old := h.workerPIDs()
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Worker processes"), "3")
	h.tap("Apply")
	if !h.dialogShown("Save and apply uwsgi.ini?") {
		t.Fatalf("no confirmation before applying:\n%s", h.texts())
	}
	h.tap("Save and apply")
	if !strings.Contains(readFile(t, p.Info().IniPath), "\nprocesses = 3\n") {
		t.Fatalf("uwsgi.ini after Apply:\n%s", readFile(t, p.Info().IniPath))
	}
	h.waitLoaded(3)
	for pid := range h.workerPIDs() {
		if old[pid] {
			t.Errorf("worker pid %d survived the reload", pid)
		}
	}
	s := h.d.Snapshot()
	if code, body, err := get(t, s.URL); err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s after Apply: %d %q %v", s.URL, code, body, err)
	}
	if strings.Contains(h.texts(), "unsaved changes") {
		t.Error("still marked unsaved after Apply")
	}
}

// Switching to another project and back keeps an unsaved form edit, and
// says it is unsaved.
func TestFlowSwitchProjectKeepsUnsavedEdit(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	before := readFile(t, path)
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Worker processes"), "7")
	h.selectProject("demo")
	if e := h.entryAfter("Worker processes"); e.Text != "2" {
		t.Errorf("the demo's form shows processes %q", e.Text)
	}
	if strings.Contains(h.texts(), "unsaved changes") {
		t.Error("the demo is marked unsaved")
	}
	h.selectProject(p.Info().ID)
	if e := h.entryAfter("Worker processes"); e.Text != "7" {
		t.Errorf("back on the project, the form shows processes %q: the edit was lost", e.Text)
	}
	if !strings.Contains(h.texts(), "unsaved changes") {
		t.Error("back on the project, the edit is not marked unsaved")
	}
	if readFile(t, path) != before {
		t.Error("switching projects saved the file")
	}
	h.tap("Save")
	h.tap("Save")
	if !strings.Contains(readFile(t, path), "\nprocesses = 7\n") {
		t.Errorf("the kept edit was not saved:\n%s", readFile(t, path))
	}
}

// A read-only uwsgi.ini is not replaced behind the user's back: Save says
// plainly that the file is read-only, names it, says how to fix it, and
// writes nothing.
func TestFlowReadOnlyConfigIsNotOverwritten(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	before := readFile(t, path)
	must(t, os.Chmod(path, 0o444))
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Worker processes"), "4")
	h.tap("Save")
	if h.dialogShown("Save uwsgi.ini?") {
		h.tap("Save")
	}
	txt := h.texts()
	if readFile(t, path) != before {
		t.Errorf("the read-only file was replaced:\n%s", readFile(t, path))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("the file's mode changed: %v %v", fi.Mode(), err)
	}
	for _, want := range []string{"read-only", path, "chmod"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the error does not say %q:\n%s", want, txt)
		}
	}
	if !strings.Contains(txt, "unsaved changes") {
		t.Error("the edit is no longer marked unsaved")
	}
}

// A change on disk made by another editor: without edits the tab shows
// the new text; with edits it asks, and Save asks before overwriting.
func TestFlowChangedOnDisk(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	h.selectProject("demo") // back and forth: the tab must still follow the file
	h.selectProject(p.Info().ID)
	h.showIni(deck.ViewSource)
	ed := h.editor()
	theirs := strings.Replace(readFile(t, path), "master = true", "master = true\nthreads = 2", 1)
	must(t, os.WriteFile(path, []byte(theirs), 0o644))
	h.waitFor("the editor to show the file changed on disk", func() bool { return ed.Text() == theirs })

	h.tap(deck.ViewForm)
	setEntry(h.entryAfter("Harakiri (s)"), "20")
	theirs2 := strings.Replace(theirs, "threads = 2", "threads = 4", 1)
	must(t, os.WriteFile(path, []byte(theirs2), 0o644))
	h.waitFor("the changed-on-disk banner", func() bool {
		return strings.Contains(h.texts(), "uwsgi.ini changed on disk while you have unsaved edits")
	})
	if got := h.entryAfter("Harakiri (s)").Text; got != "20" {
		t.Errorf("the edit became %q", got)
	}
	h.tap("Save")
	h.tap("Save")
	if !h.dialogShown("uwsgi.ini changed on disk") {
		t.Fatalf("saving over a changed file did not ask:\n%s", h.texts())
	}
	if readFile(t, path) != theirs2 {
		t.Fatal("their version was overwritten before the answer")
	}
	h.tap("No")
	h.tap("Load the file from disk")
	if got := h.entryAfter("Harakiri (s)").Text; got != "" {
		t.Errorf("after loading the file from disk, harakiri is %q", got)
	}
	h.tap(deck.ViewSource)
	if h.editor().Text() != theirs2 {
		t.Error("the editor does not show the file from disk")
	}
}

// Apply on nginx.conf reloads the running proxy: it moves to the new
// listen port, and the engine's workers are left alone.
func TestFlowApplyNginxMovesTheProxy(t *testing.T) {
	h := newFlowHarness(t)
	h.handProject()
	s := h.start()
	h.waitLoaded(2)
	workers := h.workerPIDs()
	port := strconv.Itoa(freePort(t))
	h.d.SelectTab(deck.TabNginx)
	h.tap(deck.ViewForm)
	setEntry(h.entryAfter("listen"), "127.0.0.1:"+port)
	h.tap("Apply")
	h.tap("Save and apply")
	want := "http://127.0.0.1:" + port + "/"
	h.waitFor("the proxy on the new port", func() bool { return h.d.Snapshot().URL == want })
	if code, body, err := get(t, want); err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s after Apply: %d %q %v", want, code, body, err)
	}
	if _, _, err := get(t, s.URL); err == nil {
		t.Errorf("the old address %s still answers", s.URL)
	}
	for pid := range h.workerPIDs() {
		if !workers[pid] {
			t.Errorf("applying nginx.conf replaced the engine's worker %d", pid)
		}
	}
}

// An invalid value typed in a form field shows the error above the form,
// naming the file and line; Save refuses and shows the line in the source.
func TestFlowFormFieldErrorShownAndSaveRefuses(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	path := p.Info().IniPath
	before := readFile(t, path)
	h.showIni(deck.ViewSource)
	ed := h.editor()
	ed.Debounce = 20 * time.Millisecond
	h.tap(deck.ViewForm)
	setEntry(h.entryAfter("Worker processes"), "two")
	line := lineOf(ed.Text(), "processes")
	want := "uwsgi.ini, line " + strconv.Itoa(line) + ": "
	h.waitFor("the error above the form", func() bool { return strings.Contains(h.texts(), want) })
	h.tap("Save")
	if readFile(t, path) != before {
		t.Fatal("an invalid file was written")
	}
	if h.d.CurrentTab() != deck.TabIni {
		t.Fatalf("on tab %s", h.d.CurrentTab())
	}
	h.tap("Close")
	if h.editor() != ed || ed.Entry().CursorRow != line-1 {
		t.Errorf("the source shows line %d, want the error's line %d", ed.Entry().CursorRow+1, line)
	}
}

// Closing the window with unsaved edits asks first; Cancel keeps the app
// and the edits; without edits it quits at once.
func TestFlowQuitAsksAboutUnsavedEdits(t *testing.T) {
	h := newFlowHarness(t)
	p, _ := h.handProject()
	quits := 0
	quit := func() { quits++ }
	h.d.ConfirmQuit(quit)
	if quits != 1 {
		t.Fatalf("without edits, quit ran %d times", quits)
	}
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Worker processes"), "3")
	h.selectProject("demo") // the edit is on another project than the one shown
	h.d.ConfirmQuit(quit)
	if quits != 1 {
		t.Fatal("quit with unsaved edits without asking")
	}
	if txt := h.texts(); !h.dialogShown("Quit with unsaved edits?") || !strings.Contains(txt, p.Info().IniPath) {
		t.Fatalf("the question does not name the file:\n%s", txt)
	}
	h.tap("Cancel")
	if quits != 1 {
		t.Fatal("Cancel quit")
	}
	h.d.ConfirmQuit(quit)
	h.tap("Quit anyway")
	if quits != 2 {
		t.Fatal("Quit anyway did not quit")
	}
}
