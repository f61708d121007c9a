package deck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// exportPreview shows file in the Export tab's preview and returns its text.
func (h *harness) exportPreview(file string) string {
	h.t.Helper()
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok {
			for _, opt := range s.Options {
				if opt == file {
					s.SetSelected(file)
					return h.gridText()
				}
			}
		}
	}
	h.t.Fatalf("the Export preview offers no %s:\n%s", file, h.texts())
	return ""
}

// A number field of the Export form holding a word blocks the export, as
// every other invalid option does, and keeps saying so while other fields
// change: the bundle must not silently carry the field's previous value.
func TestFlowExportBadNumberBlocksTheExport(t *testing.T) {
	h := newHarness(t)
	h.d.SelectTab(deck.TabExport)
	test.Type(h.entryAfter("Server names"), "demo.example.org")
	setEntry(h.entryAfter("Processes"), "3")
	if !strings.Contains(h.exportPreview("uwsgi.ini"), "processes = 3") {
		t.Fatalf("the preview does not follow the Processes field:\n%s", h.gridText())
	}
	setEntry(h.entryAfter("Processes"), "three")
	check := func(when string) {
		t.Helper()
		if b := h.button("Write to folder…"); !b.Disabled() {
			t.Errorf("%s: Write is enabled with Processes %q", when, "three")
		}
		if b := h.button("Check with nginx and uWSGI"); !b.Disabled() {
			t.Errorf("%s: Check is enabled with Processes %q", when, "three")
		}
		if txt := h.texts(); !strings.Contains(txt, "Processes: a whole number") {
			t.Errorf("%s: the form does not say what is wrong with Processes:\n%s", when, txt)
		}
	}
	check("after typing")
	setEntry(h.entryAfter("Harakiri (s)"), "20")
	check("after another field changed")
	dir := t.TempDir()
	h.d.ExportTo(dir)
	if _, err := os.Stat(filepath.Join(dir, "uwsgi.ini")); err == nil {
		t.Errorf("the bundle was written with Processes %q:\n%s", "three", readFile(t, filepath.Join(dir, "uwsgi.ini")))
	}
	// Fixing the field brings the export back, with its new value.
	setEntry(h.entryAfter("Processes"), "4")
	if b := h.button("Write to folder…"); b.Disabled() {
		t.Errorf("Write is still disabled after Processes was fixed:\n%s", h.texts())
	}
	if p := h.exportPreview("uwsgi.ini"); !strings.Contains(p, "processes = 4") || !strings.Contains(p, "harakiri = 20") {
		t.Errorf("the preview after the fix:\n%s", p)
	}
}

// The Export tab follows the project's files: a module changed and saved
// on the uwsgi.ini tab after Export was first shown is the module the
// bundle serves, and what the user typed on the Export form stays.
func TestFlowExportFollowsASavedConfig(t *testing.T) {
	h := newFlowHarness(t)
	h.addProject(flaskDir(t), nil)
	h.d.SelectTab(deck.TabExport)
	test.Type(h.entryAfter("Server names"), "shop.example.org")
	if p := h.exportPreview("uwsgi.ini"); !strings.Contains(p, "module = app:app") {
		t.Fatalf("the bundle's uwsgi.ini before the edit:\n%s", p)
	}
	h.showIni(deck.ViewForm)
	setEntry(h.entryAfter("Module"), "app:application")
	h.tap("Save")
	h.tap("Save")
	h.d.SelectTab(deck.TabExport)
	if p := h.exportPreview("uwsgi.ini"); !strings.Contains(p, "module = app:application") {
		t.Errorf("the bundle's uwsgi.ini after module was saved as app:application:\n%s", p)
	}
	if e := h.entryAfter("Server names"); e.Text != "shop.example.org" {
		t.Errorf("the server name typed on the Export form became %q", e.Text)
	}
}

// The results of Check are for the files checked: once an option changes
// the files, or another project is selected, "passed" no longer shows
// beside files that were never checked.
func TestFlowExportCheckResultsFollowTheFiles(t *testing.T) {
	h := newFlowHarness(t)
	flask := h.addProject(flaskDir(t), nil)
	h.d.SelectTab(deck.TabExport)
	test.Type(h.entryAfter("Server names"), "shop.example.org")
	h.tap("Check with nginx and uWSGI")
	const passed = "nginx -t on nginx-site.conf: passed"
	if txt := h.texts(); !strings.Contains(txt, passed) {
		t.Fatalf("Check did not pass:\n%s", txt)
	}
	setEntry(h.entryAfter("Harakiri (s)"), "60")
	if txt := h.texts(); strings.Contains(txt, passed) || !strings.Contains(txt, "changed since the last check") {
		t.Errorf("after Harakiri changed the files, the checks pane reads:\n%s", txt)
	}
	h.tap("Check with nginx and uWSGI")
	if txt := h.texts(); !strings.Contains(txt, passed) {
		t.Fatalf("Check did not pass again:\n%s", txt)
	}
	// An edit that makes the same files keeps the results: they are
	// still true.
	h.entryAfter("Harakiri (s)").SetText("60 ")
	if txt := h.texts(); !strings.Contains(txt, passed) {
		t.Errorf("retyping the same value dropped the results:\n%s", txt)
	}
	h.selectProject(backend.DemoID)
	if txt := h.texts(); strings.Contains(txt, passed) {
		t.Errorf("the demo's Export tab shows the Flask project's results:\n%s", txt)
	}
	// Back on the Flask project: what was typed there is gone with the
	// switch, as before, and nothing claims a check.
	h.selectProject(flask.Info().ID)
	if txt := h.texts(); strings.Contains(txt, passed) {
		t.Errorf("after switching back, the checks pane reads:\n%s", txt)
	}
}
