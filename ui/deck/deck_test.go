package deck_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// Tapping Start starts the demo's engine and proxy for real; requests flow
// through both; Stop stops them.
func TestTapStartStartsEngineAndProxy(t *testing.T) {
	h := newHarness(t)
	if s := h.d.Snapshot(); s.State != deck.Stopped {
		t.Fatalf("before Start: %v", s.State)
	}
	h.tap("Start")
	s := h.d.Snapshot()
	if s.Engine.State != deck.Running || s.Proxy.State != deck.Running {
		t.Fatalf("after tapping Start: engine %v (%s), proxy %v (%s)", s.Engine.State, s.Engine.Message, s.Proxy.State, s.Proxy.Message)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(h.proxyPort) + "/"
	if s.URL != url {
		t.Errorf("URL %q, want %q", s.URL, url)
	}
	h.waitFor("both workers to load the app", func() bool {
		s := h.d.Snapshot()
		if len(s.Workers) != 2 {
			return false
		}
		for _, w := range s.Workers {
			if w.Status != "idle" && w.Status != "busy" {
				return false
			}
		}
		return true
	})
	for i := 0; i < 4; i++ {
		code, body, err := get(t, url)
		if err != nil || code != 200 || !strings.Contains(body, "</html>") {
			t.Fatalf("GET / through the proxy: %d %v", code, err)
		}
	}
	if code, _, _ := get(t, url+"boom"); code != 500 {
		t.Errorf("GET /boom: %d, want 500", code)
	}

	// The window shows it: toolbar state, the workers table, the logs.
	if !strings.Contains(h.texts(), "running") {
		t.Error("the toolbar does not say running")
	}
	h.waitFor("the requests in the workers table", func() bool {
		var n uint64
		for _, w := range h.d.Snapshot().Workers {
			n += w.Requests
		}
		return n >= 5
	})
	h.d.SelectTab(deck.TabLogs)
	h.waitFor("the traceback in the Logs tab", func() bool {
		for _, l := range h.d.VisibleLogLines() {
			if strings.Contains(l, "Traceback (most recent call last)") {
				return true
			}
		}
		return false
	})
	h.d.SelectTab(deck.TabOverview)
	h.tap("Open in browser")
	if len(h.opened) != 1 || h.opened[0] != url {
		t.Errorf("opened %v, want %s", h.opened, url)
	}

	h.tap("Stop")
	s = h.d.Snapshot()
	if s.State != deck.Stopped {
		t.Fatalf("after Stop: %v", s.State)
	}
	if _, _, err := get(t, url); err == nil {
		t.Error("the proxy still answers after Stop")
	}
}

// Start with a tier chosen from the split button's menu starts only that
// tier.
func TestStartEngineOnly(t *testing.T) {
	h := newHarness(t)
	h.d.Start(deck.Engine)
	s := h.d.Snapshot()
	if s.Engine.State != deck.Running || s.Proxy.State != deck.Stopped {
		t.Fatalf("engine %v, proxy %v", s.Engine.State, s.Proxy.State)
	}
	if s.State != deck.Degraded {
		t.Errorf("project state %v, want degraded (one tier down)", s.State)
	}
	h.d.Stop(deck.Both)
	if s := h.d.Snapshot(); s.State != deck.Stopped {
		t.Errorf("after Stop: %v", s.State)
	}
}

// Editing a form field changes the file, and only that line of it.
func TestFormFieldEditChangesTheFile(t *testing.T) {
	h := newHarness(t)
	path := h.proj.Info().IniPath
	before := readFile(t, path)
	h.d.SelectTab(deck.TabIni)
	h.tap(deck.ViewForm)
	e := h.entryAfter("Worker processes")
	if e.Text != "2" {
		t.Fatalf("the form shows processes %q, want 2", e.Text)
	}
	e.SetText("")
	test.Type(e, "4")
	if !strings.Contains(h.texts(), "unsaved changes") {
		t.Error("no unsaved-changes mark after editing")
	}
	if readFile(t, path) != before {
		t.Fatal("the file changed before Save")
	}
	h.tap("Save")
	// Save shows the diff against the file on disk, then saves on confirm.
	if !strings.Contains(h.texts(), "Save uwsgi.ini?") {
		t.Fatal("no confirmation with the changes before saving")
	}
	h.tap("Save") // the dialog's button
	after := readFile(t, path)
	want := strings.Replace(before, "processes = 2\n", "processes = 4\n", 1)
	if after != want {
		t.Fatalf("the file after saving:\n%s\nwant only the processes line changed:\n%s", after, want)
	}
	// The source view shows the same document.
	h.tap(deck.ViewSource)
	if ed := h.editor(); ed.Text() != after {
		t.Error("the source view does not show the saved text")
	}
	// An nginx.conf field too.
	ngx := h.proj.Info().NginxPath
	nb := readFile(t, ngx)
	h.d.SelectTab(deck.TabNginx)
	h.tap(deck.ViewForm)
	sn := h.entryAfter("server_name")
	sn.SetText("")
	test.Type(sn, "demo.test")
	h.tap("Save")
	h.tap("Save")
	if got, want := readFile(t, ngx), strings.Replace(nb, "server_name localhost;", "server_name demo.test;", 1); got != want {
		t.Fatalf("nginx.conf after saving:\n%s", got)
	}
}

// The fix button rewrites the engine's port in both files.
func TestFixButtonRewritesPortInBothFiles(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(h.engPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h.d.SelectTab(deck.TabOverview)
	h.tap("Check again")
	if !strings.Contains(h.texts(), "port "+strconv.Itoa(h.engPort)+" is in use by pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("the overview does not explain the taken port:\n%s", h.texts())
	}
	b := h.buttonPrefix("Fix: ")
	if !strings.Contains(b.Text, "uwsgi.ini") || !strings.Contains(b.Text, "nginx.conf") {
		t.Errorf("fix button %q does not name both files", b.Text)
	}
	test.Tap(b)
	ini := readFile(t, h.proj.Info().IniPath)
	ngx := readFile(t, h.proj.Info().NginxPath)
	if strings.Contains(ini, ":"+strconv.Itoa(h.engPort)) || strings.Contains(ngx, ":"+strconv.Itoa(h.engPort)) {
		t.Fatalf("the old port is still there:\n%s\n%s", ini, ngx)
	}
	var newPort string
	for _, l := range strings.Split(ini, "\n") {
		if strings.HasPrefix(l, "socket = 127.0.0.1:") {
			newPort = strings.TrimPrefix(l, "socket = 127.0.0.1:")
		}
	}
	if newPort == "" || !strings.Contains(ngx, "uwsgi_pass 127.0.0.1:"+newPort+";") {
		t.Fatalf("the files disagree: socket port %q\n%s", newPort, ngx)
	}
	if strings.Contains(h.texts(), "is in use by") {
		t.Error("the finding is still shown after the fix")
	}
	// And the project now starts.
	h.tap("Start")
	if s := h.d.Snapshot(); s.State != deck.Running {
		t.Fatalf("after the fix, Start gives %v: %s %s", s.State, s.Engine.Message, s.Proxy.Message)
	}
}

// Export shows every file, checks them with the real programs, and writes
// them to a folder.
func TestExportChecksWithRealProgramsAndWrites(t *testing.T) {
	h := newHarness(t)
	h.d.SelectTab(deck.TabExport)
	// The production profile needs the site's domain: until it is typed,
	// the form says so and nothing can be exported.
	if b := h.button("Check with nginx and uWSGI"); !b.Disabled() {
		t.Error("Check is enabled without a server name")
	}
	if !strings.Contains(h.texts(), "at least one server name") {
		t.Errorf("the form does not ask for a server name:\n%s", h.texts())
	}
	test.Type(h.entryAfter("Server names"), "demo.example.org")
	h.tap("Check with nginx and uWSGI")
	txt := h.texts()
	for _, want := range []string{"nginx -t on nginx-site.conf: passed", "uwsgi --strict on uwsgi.ini: passed"} {
		if !strings.Contains(txt, want) {
			t.Errorf("no %q in:\n%s", want, txt)
		}
	}
	// A bad option is shown on its field and blocks the export.
	e := h.entryAfter("App folder")
	e.SetText("relative/path")
	if b := h.button("Write to folder…"); !b.Disabled() {
		t.Error("Write is enabled with a relative app folder")
	}
	e.SetText("/srv/demo")
	dir := t.TempDir()
	h.d.ExportTo(dir)
	for _, f := range []string{"uwsgi.ini", "nginx-site.conf", "demo.service", "README.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// Adding a folder runs detection, and the dialog's result becomes a project
// with generated configs.
func TestAddProjectFromFolder(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "app.py"), []byte("from flask import Flask\n\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'hi'\n"), 0o644))
	h.d.AddProjectDir(dir)
	if !strings.Contains(h.texts(), "Flask: app:app") {
		t.Fatalf("the dialog does not show the detected Flask app:\n%s", h.texts())
	}
	h.tap("Add project")
	if len(h.b.Projects()) != 2 {
		t.Fatalf("%d projects after adding", len(h.b.Projects()))
	}
	if h.d.Selected() == "demo" {
		t.Error("the new project is not selected")
	}
	ini := readFile(t, filepath.Join(dir, "uwsgi.ini"))
	if !strings.Contains(ini, "module = app:app") {
		t.Errorf("generated uwsgi.ini:\n%s", ini)
	}
	if _, err := os.Stat(filepath.Join(dir, "nginx.conf")); err != nil {
		t.Error(err)
	}
}

// The keyboard shortcuts live in the main menu (so they work while a text
// field has the focus), and do what they say.
func TestMenuShortcuts(t *testing.T) {
	h := newHarness(t)
	menu := h.d.MainMenu()
	items := map[string]*fyne.MenuItem{}
	for _, m := range menu.Items {
		for _, it := range m.Items {
			items[it.Label] = it
		}
	}
	for _, name := range []string{"Start", "Stop", "Reload (graceful)", "Save", "Find"} {
		it := items[name]
		if it == nil || it.Shortcut == nil || it.Action == nil {
			t.Errorf("menu item %q: %+v", name, it)
		}
	}
	// Find on a config tab opens the source view's find bar.
	h.d.SelectTab(deck.TabNginx)
	items["Find"].Action()
	h.editor() // the Source view is on screen
	findBar := false
	for _, o := range h.objects() {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == "Find" {
			findBar = true
		}
	}
	if !findBar {
		t.Fatal("Find did not open the find bar")
	}
	// Save there with nothing changed says so.
	items["Save"].Action()
	if !strings.Contains(h.texts(), "no changes to save") {
		t.Errorf("Save with no edits: %q", h.texts())
	}
	// Find elsewhere goes to the logs' search.
	h.d.SelectTab(deck.TabWorkers)
	items["Find"].Action()
	if h.d.CurrentTab() != deck.TabLogs {
		t.Errorf("Find on the Workers tab went to %q", h.d.CurrentTab())
	}
}
