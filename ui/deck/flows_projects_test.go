package deck_test

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// Adding a Flask folder shows what detection found; the project it makes
// runs the app through the proxy.
func TestFlowAddFlaskProjectRunsIt(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	h.d.AddProjectDir(dir)
	txt := h.texts()
	for _, want := range []string{"Flask: app:app", dir} {
		if !strings.Contains(txt, want) {
			t.Errorf("the Add dialog does not show %q:\n%s", want, txt)
		}
	}
	if n := h.entryAfter("Name").Text; n != "shop" {
		t.Errorf("the proposed name is %q, want the folder's, shop", n)
	}
	h.tap("Cancel")
	p := h.addProject(dir, func() { setEntry(h.entryAfter("Name"), "Shop front") })
	if got := p.Info().Name; got != "Shop front" {
		t.Errorf("project name %q, want the corrected one", got)
	}
	if !strings.Contains(h.texts(), "Shop front") {
		t.Error("the sidebar does not list the new project")
	}
	ini := readFile(t, filepath.Join(dir, "uwsgi.ini"))
	if !strings.Contains(ini, "module = app:app") {
		t.Errorf("uwsgi.ini:\n%s", ini)
	}
	s := h.start()
	code, body, err := get(t, s.URL)
	if err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s: %d %q %v", s.URL, code, body, err)
	}
}

// Correcting detection in the dialog: another module and callable than
// the one found, and the framework.
func TestFlowAddProjectCorrectsDetection(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	must(t, os.WriteFile(filepath.Join(dir, "wsgi.py"), []byte("from app import app as application\n"), 0o644))
	p := h.addProject(dir, func() {
		setEntry(h.entryAfter("Module"), "wsgi")
		setEntry(h.entryAfter("Callable"), "application")
	})
	ini := readFile(t, p.Info().IniPath)
	if !strings.Contains(ini, "module = wsgi:application") {
		t.Fatalf("the corrected module is not in uwsgi.ini:\n%s", ini)
	}
	h.tap("Start")
	s := h.d.Snapshot()
	if code, body, err := get(t, s.URL); err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s: %d %q %v", s.URL, code, body, err)
	}
}

// A Django project made by startproject is detected as Django, with its
// settings module's wsgi application, and runs.
func TestFlowAddDjangoProjectRunsIt(t *testing.T) {
	h := newFlowHarness(t)
	dir := djangoDir(t)
	h.d.AddProjectDir(dir)
	if txt := h.texts(); !strings.Contains(txt, "Django: mysite.wsgi:application") {
		t.Fatalf("the Add dialog does not show the Django app:\n%s", txt)
	}
	h.tap("Cancel")
	p := h.addProject(dir, nil)
	ini := readFile(t, p.Info().IniPath)
	if !strings.Contains(ini, "module = mysite.wsgi:application") {
		t.Errorf("uwsgi.ini:\n%s", ini)
	}
	s := h.start()
	code, body, err := get(t, s.URL)
	if err != nil || code != 200 || !strings.Contains(body, "Django") {
		t.Fatalf("GET %s: %d %v\n%.300s", s.URL, code, err, body)
	}
}

// Removing a running project stops what it started, frees its ports and
// leaves its folder alone; the demo cannot be removed.
func TestFlowRemoveRunningProjectStopsIt(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	p := h.addProject(dir, nil)
	s := h.start()
	h.waitLoaded(len(s.Workers))
	pids := h.workerPIDs()
	if s.Engine.PID != os.Getpid() { // the master may run in this process
		pids[s.Engine.PID] = true
	}
	h.tap("Remove")
	if !h.dialogShown("Remove shop?") {
		t.Fatalf("no confirmation before removing:\n%s", h.texts())
	}
	h.tap("Yes")
	for _, pi := range h.b.Projects() {
		if pi.ID == p.Info().ID {
			t.Fatal("the project is still listed")
		}
	}
	if h.d.Selected() != "demo" {
		t.Errorf("after removing, %q is selected", h.d.Selected())
	}
	for pid := range pids {
		if pid > 0 && !h.processGone(pid) {
			t.Errorf("process %d of the removed project still runs", pid)
		}
	}
	if _, _, err := get(t, s.URL); err == nil {
		t.Error("the removed project's proxy still answers")
	}
	if _, err := os.Stat(filepath.Join(dir, "app.py")); err != nil {
		t.Errorf("the folder was touched: %v", err)
	}
	if got := h.texts(); strings.Contains(got, "· shop") || strings.Contains(got, dir) {
		t.Errorf("the window still shows the removed project:\n%s", got)
	}
	if b := h.button("Remove"); !b.Disabled() {
		t.Error("Remove is enabled on the demo")
	}
	// The menu's Remove on the demo says why nothing happens.
	for _, m := range h.d.MainMenu().Items {
		for _, it := range m.Items {
			if it.Label == "Remove project…" {
				it.Action()
			}
		}
	}
	if txt := h.texts(); !strings.Contains(txt, "Demo is built in and cannot be removed") || len(h.b.Projects()) != 1 {
		t.Errorf("Remove project… on the demo:\n%s", txt)
	}
}

// A project folder deleted while the app runs: the sidebar, the config
// tabs and Start say the folder is gone, name it and say what to do; the
// project can still be removed, and putting the folder back brings it
// back.
func TestFlowProjectFolderDeleted(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	h.addProject(dir, nil)
	saved := dir + ".saved"
	must(t, os.Rename(dir, saved))
	h.d.Refresh()
	gone := "The folder of shop, " + dir + ", is gone"
	if txt := h.texts(); !strings.Contains(txt, "folder missing · shop") {
		t.Errorf("the sidebar does not say the folder is missing:\n%s", txt)
	}
	for _, tab := range []string{deck.TabIni, deck.TabNginx} {
		h.d.SelectTab(tab)
		if txt := h.texts(); !strings.Contains(txt, gone) || !strings.Contains(txt, "remove the project") {
			t.Errorf("the %s tab does not say the folder is gone:\n%s", tab, txt)
		}
	}
	h.d.SelectTab(deck.TabOverview)
	h.tap("Start")
	if txt := h.texts(); !strings.Contains(txt, gone) {
		t.Errorf("Start in a deleted folder does not say so:\n%s", txt)
	}
	h.tap("Close")
	// Put back, the folder's files open again.
	h.d.SelectTab(deck.TabIni)
	must(t, os.Rename(saved, dir))
	h.tap("Open again")
	h.tap(deck.ViewSource)
	if ed := h.editor(); !strings.Contains(ed.Text(), "module = app:app") {
		t.Errorf("after putting the folder back, the source shows:\n%s", ed.Text())
	}
	h.d.Refresh()
	if strings.Contains(h.texts(), "folder missing") {
		t.Error("the sidebar still says the folder is missing")
	}
	must(t, os.RemoveAll(dir))
	h.tap("Remove")
	h.tap("Yes")
	if len(h.b.Projects()) != 1 {
		t.Errorf("%d projects after removing the deleted one", len(h.b.Projects()))
	}
}

// A config file deleted on its own: its tab names the missing file and
// offers to generate a new one, while the other file's tab stays usable,
// form and source, and saves. Then generating the missing file makes the
// project run again.
func TestFlowConfigFileDeleted(t *testing.T) {
	for _, c := range []struct {
		name, gone, other string
		field, value      string // a form field of the other file, and what to type
		saved             string // what the edit puts in the other file
	}{
		{"nginx.conf missing", deck.TabNginx, deck.TabIni, "Worker processes", "3", "processes = 3"},
		{"uwsgi.ini missing", deck.TabIni, deck.TabNginx, "server_name", "shop.test", "server_name shop.test;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newFlowHarness(t)
			p := h.addProject(flaskDir(t), nil)
			paths := map[string]string{deck.TabIni: p.Info().IniPath, deck.TabNginx: p.Info().NginxPath}
			gone, other := paths[c.gone], paths[c.other]
			must(t, os.Remove(gone))
			h.d.SelectTab(c.gone)
			file := filepath.Base(gone)
			txt := h.texts()
			if !strings.Contains(txt, gone+" is missing") || !strings.Contains(txt, "Generate a new "+file) {
				t.Errorf("the %s tab does not name the missing file and the way out:\n%s", c.gone, txt)
			}
			h.d.SelectTab(c.other)
			if txt := h.texts(); strings.Contains(txt, "is missing") || strings.Contains(txt, "cannot be opened") {
				t.Fatalf("the %s tab is blocked by the other file:\n%s", c.other, txt)
			}
			// The other file, edited alone: in its form, then its source.
			h.tap(deck.ViewForm)
			setEntry(h.entryAfter(c.field), c.value)
			h.tap("Save")
			h.tap("Save")
			h.tap(deck.ViewSource)
			e := h.editor().Entry()
			e.CursorRow, e.CursorColumn = 0, 0
			test.Type(e, "# edited alone\n")
			h.tap("Save")
			h.tap("Save")
			got := readFile(t, other)
			if !strings.HasPrefix(got, "# edited alone\n") || !strings.Contains(got, c.saved) {
				t.Errorf("%s after editing it alone:\n%s", filepath.Base(other), got)
			}
			if _, err := os.Stat(gone); err == nil {
				t.Fatalf("saving %s wrote %s", filepath.Base(other), gone)
			}
			h.d.SelectTab(c.gone)
			h.tap("Generate a new " + file)
			if _, err := os.Stat(gone); err != nil {
				t.Fatalf("Generate did not write %s: %v\n%s", file, err, h.texts())
			}
			h.tap(deck.ViewSource)
			if ed := h.editor(); !strings.Contains(ed.Text(), "127.0.0.1:") {
				t.Errorf("the %s tab after generating shows:\n%s", c.gone, ed.Text())
			}
			s := h.start()
			if code, body, err := get(t, s.URL); err != nil || code != 200 || body != "hello from flask" {
				t.Fatalf("GET %s after generating %s: %d %q %v", s.URL, file, code, body, err)
			}
		})
	}
}

// Start with a config file deleted says which file is missing and how to
// get it back, instead of the engine's "file does not exist", and starts
// nothing.
func TestFlowStartWithAConfigFileDeleted(t *testing.T) {
	h := newFlowHarness(t)
	p := h.addProject(flaskDir(t), nil)
	path := p.Info().NginxPath
	must(t, os.Remove(path))
	h.tap("Start")
	want := "Cannot start shop: its nginx.conf, " + path + ", is missing (deleted or moved?). Put it back, or press Generate a new nginx.conf on the nginx.conf tab"
	if txt := h.texts(); !strings.Contains(txt, want) {
		t.Errorf("Start with nginx.conf deleted:\n%s", txt)
	}
	h.tap("Close")
	if s := h.d.Snapshot(); s.Engine.State != deck.Stopped || s.Proxy.State != deck.Stopped {
		t.Errorf("after the refused Start: engine %v, proxy %v", s.Engine.State, s.Proxy.State)
	}
}

// shortcut runs what the window's main menu binds to sc, as the desktop
// driver does for a key press whatever has the focus.
func (h *harness) shortcut(menu *fyne.MainMenu, sc fyne.Shortcut) {
	h.t.Helper()
	for _, m := range menu.Items {
		for _, it := range m.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
				it.Action()
				h.app.Drain()
				return
			}
		}
	}
	h.t.Fatalf("no menu item for %s", sc.ShortcutName())
}

// The keyboard shortcuts start, reload, save, find and stop, also while
// the source editor has the focus.
func TestFlowKeyboardShortcuts(t *testing.T) {
	h := newFlowHarness(t)
	p := h.addProject(flaskDir(t), nil)
	menu := h.d.MainMenu()
	seen := map[string]string{}
	for _, m := range menu.Items {
		for _, it := range m.Items {
			if it.Shortcut == nil {
				continue
			}
			if other, dup := seen[it.Shortcut.ShortcutName()]; dup {
				t.Errorf("%q and %q share the shortcut %s", other, it.Label, it.Shortcut.ShortcutName())
			}
			seen[it.Shortcut.ShortcutName()] = it.Label
		}
	}
	h.showIni(deck.ViewSource)
	ed := h.editor()
	h.win.Canvas().Focus(ed.Entry())
	h.shortcut(menu, deck.ShortcutStart)
	if s := h.d.Snapshot(); s.State != deck.Running {
		t.Fatalf("Start shortcut: %v", s.State)
	}
	h.waitLoaded(len(h.d.Snapshot().Workers))
	old := h.workerPIDs()
	h.shortcut(menu, deck.ShortcutReload)
	h.waitFor("new workers after the Reload shortcut", func() bool {
		pids := h.workerPIDs()
		if len(pids) == 0 {
			return false
		}
		for pid := range pids {
			if old[pid] {
				return false
			}
		}
		return true
	})
	// Save from the keyboard in the source view.
	e := ed.Entry()
	e.CursorRow, e.CursorColumn = 0, 0
	test.Type(e, "# saved from the keyboard\n")
	h.shortcut(menu, deck.ShortcutSave)
	if !h.dialogShown("Save uwsgi.ini?") {
		t.Fatalf("Ctrl+S did not offer to save:\n%s", h.texts())
	}
	h.tap("Save")
	if got := readFile(t, p.Info().IniPath); !strings.HasPrefix(got, "# saved from the keyboard\n") {
		t.Errorf("uwsgi.ini after Ctrl+S:\n%s", got)
	}
	h.shortcut(menu, deck.ShortcutFind)
	found := false
	for _, o := range h.objects() {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == "Find" {
			found = true
		}
	}
	if !found {
		t.Error("Ctrl+F did not open the find bar")
	}
	h.shortcut(menu, deck.ShortcutStop)
	if s := h.d.Snapshot(); s.State != deck.Stopped {
		t.Fatalf("Stop shortcut: %v", s.State)
	}
}

// A mistake in the Add dialog is named by its field, and the dialog comes
// back with everything the user corrected, instead of closing and losing
// it.
func TestFlowAddDialogKeepsCorrectionsAfterAMistake(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	h.d.AddProjectDir(dir)
	setEntry(h.entryAfter("Name"), "Shop front")
	pp, ep := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	setEntry(h.entryAfter("Engine port"), ep)
	for _, c := range []struct{ port, want string }{
		{"80x", `Proxy port "80x" is not a port: type a number from 1 to 65535`},
		// The checks configgen makes are configgen's, worded with the
		// dialog's field names.
		{"70000", `Proxy port "70000": must be a TCP port from 1 to 65535`},
		{ep, `Engine port "` + ep + `": is the same port as Proxy port; each needs its own`},
	} {
		setEntry(h.entryAfter("Proxy port"), c.port)
		h.tap("Add project")
		if txt := h.texts(); !strings.Contains(txt, c.want) {
			t.Errorf("proxy port %s: no %q in:\n%s", c.port, c.want, txt)
		}
		h.tap("Close")
		if !h.dialogShown("Add a project") {
			t.Fatalf("proxy port %s: the Add dialog is gone", c.port)
		}
		if got := h.entryAfter("Name").Text; got != "Shop front" {
			t.Fatalf("the corrected name became %q", got)
		}
	}
	if len(h.b.Projects()) != 1 {
		t.Fatalf("a project was added with a bad port")
	}
	setEntry(h.entryAfter("Proxy port"), pp)
	// A static-files line may separate its two parts with a tab.
	must(t, os.Mkdir(filepath.Join(dir, "assets"), 0o755))
	setEntry(h.entryAfter("Static files"), "/assets/\tassets/")
	h.tap("Add project")
	p := h.b.Project(h.d.Selected())
	if p == nil || p.Info().Name != "Shop front" || p.Info().Dir != dir {
		t.Fatalf("selected after adding: %+v", p)
	}
	if ngx := readFile(t, p.Info().NginxPath); !strings.Contains(ngx, ":"+pp) || !strings.Contains(ngx, "/assets/") {
		t.Errorf("nginx.conf does not listen on %s or serve /assets/:\n%s", pp, ngx)
	}
	// Adding the same folder again: the error says so, and the dialog
	// stays.
	h.d.AddProjectDir(dir)
	h.tap("Add project")
	if txt := h.texts(); !strings.Contains(txt, "already a project") {
		t.Errorf("adding a folder twice:\n%s", txt)
	}
	h.tap("Close")
	if !h.dialogShown("Add a project") {
		t.Error("the Add dialog is gone after the backend refused")
	}
}

// Removing a project with unsaved edits says they will be lost, and No
// keeps both the project and the edits.
func TestFlowRemoveWarnsOfUnsavedEdits(t *testing.T) {
	h := newFlowHarness(t)
	h.addProject(flaskDir(t), nil)
	h.d.SelectTab(deck.TabNginx)
	h.tap(deck.ViewForm)
	setEntry(h.entryAfter("server_name"), "shop.test")
	h.selectProject("demo")
	h.d.SelectTab(deck.TabOverview)
	h.selectProject(h.b.Projects()[1].ID)
	h.tap("Remove")
	if txt := h.texts(); !strings.Contains(txt, "Your unsaved edits to nginx.conf will be lost") {
		t.Errorf("the Remove confirmation does not warn of the unsaved edits:\n%s", txt)
	}
	h.tap("No")
	if len(h.b.Projects()) != 2 {
		t.Fatal("No removed the project")
	}
	h.d.SelectTab(deck.TabNginx)
	if got := h.entryAfter("server_name").Text; got != "shop.test" {
		t.Errorf("the edit became %q", got)
	}
}

// A folder with a uwsgi.ini of its own but no nginx.conf: the dialog says
// before adding that the file will be replaced, and the replaced version
// is kept.
func TestFlowAddWarnsBeforeReplacingAConfig(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	mine := "# mine\n[uwsgi]\nmodule = app:app\n"
	must(t, os.WriteFile(filepath.Join(dir, "uwsgi.ini"), []byte(mine), 0o644))
	h.d.AddProjectDir(dir)
	want := "The folder's uwsgi.ini will be replaced by a generated one; the current version is kept in .wsgideck/backups."
	if txt := h.texts(); !strings.Contains(txt, want) {
		t.Errorf("the Add dialog does not warn:\n%s", txt)
	}
	h.tap("Cancel")
	h.addProject(dir, nil)
	kept := false
	filepath.WalkDir(filepath.Join(dir, ".wsgideck", "backups"), func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, _ := os.ReadFile(path); string(b) == mine {
				kept = true
			}
		}
		return nil
	})
	if !kept {
		t.Error("the replaced uwsgi.ini is not kept in .wsgideck/backups")
	}

	// Both files present: kept by default; unchecking says they go.
	dir2 := flaskDir(t)
	must(t, os.WriteFile(filepath.Join(dir2, "uwsgi.ini"), []byte(mine), 0o644))
	must(t, os.WriteFile(filepath.Join(dir2, "nginx.conf"), []byte("events {}\n"), 0o644))
	h.d.AddProjectDir(dir2)
	if strings.Contains(h.texts(), "will be replaced") {
		t.Error("warns while the folder's files are kept")
	}
	h.tapCheck("Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)", false)
	if txt := h.texts(); !strings.Contains(txt, "The folder's uwsgi.ini and nginx.conf will be replaced by generated ones") {
		t.Errorf("no warning after unchecking:\n%s", txt)
	}
}

// The Module field takes uWSGI's own spelling, module:callable, and a
// name that is no Python name is refused by its field's name.
func TestFlowAddDialogModuleSpelling(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	must(t, os.WriteFile(filepath.Join(dir, "wsgi.py"), []byte("from app import app as application\n"), 0o644))
	h.d.AddProjectDir(dir)
	setEntry(h.entryAfter("Module"), "my app")
	h.tap("Add project")
	if txt := h.texts(); !strings.Contains(txt, `Module "my app": must be a dotted Python module name such as mysite.wsgi (no .py, no slashes)`) {
		t.Errorf("a bad module name:\n%s", txt)
	}
	h.tap("Close")
	setEntry(h.entryAfter("Module"), "wsgi:application")
	setEntry(h.entryAfter("Proxy port"), strconv.Itoa(freePort(t)))
	setEntry(h.entryAfter("Engine port"), strconv.Itoa(freePort(t)))
	h.tap("Add project")
	if len(h.b.Projects()) != 2 {
		t.Fatalf("module:callable in the Module field was refused:\n%s", h.texts())
	}
	p := h.b.Project(h.d.Selected())
	if ini := readFile(t, p.Info().IniPath); !strings.Contains(ini, "module = wsgi:application\n") {
		t.Errorf("uwsgi.ini:\n%s", ini)
	}
}

// A shortcut for a command whose button is disabled says why nothing
// happens, rather than reporting a start that did not happen or the
// backend's refusal.
func TestFlowShortcutsOfDisabledCommandsSayWhy(t *testing.T) {
	h := newFlowHarness(t)
	h.addProject(flaskDir(t), nil)
	menu := h.d.MainMenu()
	if !h.button("Reload").Disabled() {
		t.Fatal("Reload is enabled on a stopped project")
	}
	h.shortcut(menu, deck.ShortcutReload)
	if txt := h.texts(); !strings.Contains(txt, "Nothing to reload: shop is not running. Start it first.") {
		t.Errorf("Reload shortcut while stopped:\n%s", txt)
	}
	h.shortcut(menu, deck.ShortcutStop)
	if txt := h.texts(); !strings.Contains(txt, "Nothing to stop: shop is not running.") || strings.Contains(txt, "Stopped:") {
		t.Errorf("Stop shortcut while stopped:\n%s", txt)
	}
	h.shortcut(menu, deck.ShortcutStart)
	h.waitLoaded(len(h.d.Snapshot().Workers))
	pids := h.workerPIDs()
	h.shortcut(menu, deck.ShortcutStart)
	if txt := h.texts(); !strings.Contains(txt, "Nothing to start: shop is running already.") {
		t.Errorf("Start shortcut while running:\n%s", txt)
	}
	for pid := range h.workerPIDs() {
		if !pids[pid] {
			t.Errorf("a second Start replaced worker %d", pid)
		}
	}
}

// The app remembers the last project through OnSelect, and selects it
// again at the next start: building the window must not overwrite what
// was remembered with the first project.
func TestFlowLastProjectRemembered(t *testing.T) {
	h := newFlowHarness(t)
	p := h.addProject(flaskDir(t), nil)
	prefs := h.app.Preferences()
	prefs.SetString("project", p.Info().ID) // remembered by the last run
	d := deck.New(deck.Options{
		App: h.app, Window: test.NewTempWindow(t, nil), Backend: h.b, Tick: -1,
		Go:       func(work func()) { work() },
		OnSelect: func(id string) { prefs.SetString("project", id) },
	})
	// As cmd/wsgideck does: select the remembered project.
	if id := prefs.String("project"); id != p.Info().ID {
		t.Fatalf("building the window replaced the remembered project %s with %s", p.Info().ID, id)
	}
	d.SelectProject(prefs.String("project"))
	if d.Selected() != p.Info().ID {
		t.Errorf("selected %s", d.Selected())
	}
	d.SelectProject("demo")
	if got := prefs.String("project"); got != "demo" {
		t.Errorf("selecting the demo remembered %q", got)
	}
}
