package deck_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// choose picks the option of s that starts with prefix, as a user does.
func (h *harness) choose(s *widget.Select, prefix string) {
	h.t.Helper()
	for _, o := range s.Options {
		if strings.HasPrefix(o, prefix) {
			s.SetSelected(o)
			return
		}
	}
	h.t.Fatalf("no option %q in %q", prefix, s.Options)
}

// middlewareWSGI serves the Django site of djangoDir through a small WSGI
// middleware: detection sees a plain WSGI function and a Django app.
const middlewareWSGI = `from mysite.wsgi import application as django_app


def application(environ, start_response):
    environ.setdefault("HTTP_X_SITE", "blog")
    return django_app(environ, start_response)
`

// The framework detection chose can be corrected in the Add dialog, and
// the configs follow the choice: Django gets its settings module in
// uwsgi.ini, and the exported README gets the Django steps.
func TestFlowAddDialogCorrectsTheFramework(t *testing.T) {
	h := newFlowHarness(t)
	dir := djangoDir(t)
	must(t, os.WriteFile(filepath.Join(dir, "wsgi.py"), []byte(middlewareWSGI), 0o644))
	h.d.AddProjectDir(dir)
	fw := h.selectAfter("Framework")
	if fw.Selected != "Django" {
		t.Errorf("the framework of the detected Django app shows as %q", fw.Selected)
	}
	// The user serves the middleware, which detection takes for plain
	// WSGI...
	h.choose(h.selectAfter("Detected app"), "plain WSGI: wsgi:application")
	if fw.Selected != "Plain WSGI" || h.entryAfter("Module").Text != "wsgi" {
		t.Fatalf("after picking the middleware: framework %q, module %q", fw.Selected, h.entryAfter("Module").Text)
	}
	// ...and says it is a Django site.
	h.choose(fw, "Django")
	h.tap("Cancel")
	p := h.addProject(dir, func() {
		h.choose(h.selectAfter("Detected app"), "plain WSGI: wsgi:application")
		h.choose(h.selectAfter("Framework"), "Django")
	})
	ini := readFile(t, p.Info().IniPath)
	for _, want := range []string{"module = wsgi:application\n", "env = DJANGO_SETTINGS_MODULE=mysite.settings\n"} {
		if !strings.Contains(ini, want) {
			t.Errorf("no %q in uwsgi.ini:\n%s", want, ini)
		}
	}
	h.d.SelectTab(deck.TabExport)
	test.Type(h.entryAfter("Server names"), "blog.example.org")
	out := t.TempDir()
	h.d.ExportTo(out)
	if readme := readFile(t, filepath.Join(out, "README.md")); !strings.Contains(readme, "## 4. Prepare Django") {
		t.Errorf("the exported README has no Django steps:\n%s", readme)
	}
	s := h.start()
	if code, body, err := get(t, s.URL); err != nil || code != 200 || !strings.Contains(body, "Django") {
		t.Fatalf("GET %s: %d %v\n%.300s", s.URL, code, err, body)
	}
}

// Picking plain WSGI for a Flask app detected as Flask takes nothing away
// that the app needs, and is kept.
func TestFlowAddDialogPlainWSGIChoiceIsKept(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	p := h.addProject(dir, func() { h.choose(h.selectAfter("Framework"), "Plain WSGI") })
	h.d.SelectTab(deck.TabExport)
	test.Type(h.entryAfter("Server names"), "shop.example.org")
	out := t.TempDir()
	h.d.ExportTo(out)
	if readme := readFile(t, filepath.Join(out, "README.md")); strings.Contains(readme, "Prepare Django") {
		t.Errorf("README of a plain WSGI app:\n%s", readme)
	}
	if !strings.Contains(readFile(t, p.Info().IniPath), "module = app:app") {
		t.Error("the module changed with the framework")
	}
}

// A module that is not in the project folder is refused in the dialog,
// by its field, with the way to fix it; nothing is written.
func TestFlowAddDialogRefusesAMissingModule(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	h.d.AddProjectDir(dir)
	setEntry(h.entryAfter("Proxy port"), strconv.Itoa(freePort(t)))
	setEntry(h.entryAfter("Engine port"), strconv.Itoa(freePort(t)))
	setEntry(h.entryAfter("Module"), "wsgi:application")
	h.tap("Add project")
	txt := h.texts()
	for _, want := range []string{`Module "wsgi": there is no wsgi.py or wsgi/__init__.py in ` + dir, "type the module's dotted path from the project folder"} {
		if !strings.Contains(txt, want) {
			t.Errorf("no %q in:\n%s", want, txt)
		}
	}
	h.tap("Close")
	if !h.dialogShown("Add a project") {
		t.Fatal("the Add dialog is gone")
	}
	if len(h.b.Projects()) != 1 {
		t.Fatal("a project was added with a missing module")
	}
	for _, f := range []string{"uwsgi.ini", "nginx.conf", "uwsgi_params", ".wsgideck"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written", f)
		}
	}
	// A package in a subfolder: the message says to add it to the
	// Python path, and doing so adds the project.
	must(t, os.MkdirAll(filepath.Join(dir, "src", "shopapp"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "src", "shopapp", "__init__.py"), []byte(flaskApp), 0o644))
	setEntry(h.entryAfter("Module"), "shopapp:app")
	setEntry(h.entryAfter("Python path"), "")
	h.tap("Add project")
	if txt := h.texts(); !strings.Contains(txt, "it is in src/; add the folder that holds it to the Python path") {
		t.Errorf("a module in src/:\n%s", txt)
	}
	h.tap("Close")
	setEntry(h.entryAfter("Python path"), "src")
	setEntry(h.entryAfter("Static files"), "")
	h.tap("Add project")
	if len(h.b.Projects()) != 2 {
		t.Fatalf("shopapp with src on the Python path was refused:\n%s", h.texts())
	}
	s := h.start()
	if code, body, err := get(t, s.URL); err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s: %d %q %v", s.URL, code, body, err)
	}
}

// A bad static-files line is named by its line number in the field, with
// configgen's reason.
func TestFlowAddDialogNamesTheStaticLine(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	h.d.AddProjectDir(dir)
	setEntry(h.entryAfter("Proxy port"), strconv.Itoa(freePort(t)))
	setEntry(h.entryAfter("Engine port"), strconv.Itoa(freePort(t)))
	setEntry(h.entryAfter("Static files"), "\n/media/ media/\nstatic/ static/")
	h.tap("Add project")
	if txt := h.texts(); !strings.Contains(txt, `Static files, line 3 "static/": must be a URL path starting with /`) {
		t.Errorf("a static URL without its slash:\n%s", txt)
	}
	h.tap("Close")
	if len(h.b.Projects()) != 1 {
		t.Fatal("the project was added")
	}
}

// With "use the folder's own files", nothing the dialog would generate
// applies: those fields are disabled, and a folder whose app detection
// cannot see is added with its own uwsgi.ini's app.
func TestFlowAddWithOwnFilesIgnoresGenerationFields(t *testing.T) {
	h := newFlowHarness(t)
	dir := flaskDir(t)
	// The app comes from a library outside the folder, on the Python
	// path its own uwsgi.ini sets: detection finds no app in the folder.
	lib := t.TempDir()
	must(t, os.Remove(filepath.Join(dir, "app.py")))
	must(t, os.WriteFile(filepath.Join(lib, "shopcore.py"), []byte(flaskApp), 0o644))
	eng, prx := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	must(t, os.WriteFile(filepath.Join(dir, "uwsgi.ini"), []byte(strings.NewReplacer("module=app:app", "module = shopcore:app\npythonpath = "+lib, "ENGINE", eng).Replace(handIni)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(strings.NewReplacer("ENGINE", eng, "PROXY", prx).Replace(handNginx)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "uwsgi_params"), []byte("uwsgi_param REQUEST_METHOD $request_method;\nuwsgi_param PATH_INFO $document_uri;\n"), 0o644))
	h.d.AddProjectDir(dir)
	own := "Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)"
	for _, label := range []string{"Module", "Callable", "Python path", "Proxy port", "Engine port"} {
		if !h.entryAfter(label).Disabled() {
			t.Errorf("%s is editable while the folder's own files are used", label)
		}
	}
	h.tapCheck(own, false)
	if h.entryAfter("Module").Disabled() {
		t.Error("Module stays disabled when the configs are generated")
	}
	h.tapCheck(own, true)
	h.tap("Add project")
	if len(h.b.Projects()) != 2 {
		t.Fatalf("the folder with its own files was not added:\n%s", h.texts())
	}
	if got := readFile(t, filepath.Join(dir, "uwsgi.ini")); !strings.Contains(got, "module = shopcore:app") {
		t.Errorf("the folder's uwsgi.ini changed:\n%s", got)
	}
	s := h.start()
	if code, body, err := get(t, s.URL); err != nil || code != 200 || body != "hello from flask" {
		t.Fatalf("GET %s: %d %q %v", s.URL, code, body, err)
	}
}
