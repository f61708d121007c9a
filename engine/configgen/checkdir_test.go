package configgen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// localConfig is a valid local Config serving module from dir.
func localConfig(module string) Config {
	return Config{Name: "shop", App: App{Module: module, Callable: "app"}, Chdir: ".", ProxyPort: 8080, AppPort: 3031}
}

func writeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("app = None\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckLocalFindsTheModule(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, "app.py", "mysite/wsgi.py", "mysite/__init__.py", "src/flaskr/__init__.py", "ns/inner.py", ".venv/lib/python3.11/site-packages/installed/__init__.py")
	if err := os.MkdirAll(filepath.Join(dir, ".venv", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{
		localConfig("app"),
		localConfig("mysite.wsgi"),
		localConfig("mysite"),
		func() Config { c := localConfig("flaskr"); c.PythonPath = []string{"src"}; return c }(),
		func() Config {
			c := localConfig("flaskr")
			c.PythonPath = []string{filepath.Join(dir, "src")}
			return c
		}(),
		localConfig("ns.inner"), // a namespace package: no __init__.py
		func() Config { c := localConfig("installed"); c.Venv = ".venv"; return c }(),
	} {
		if err := CheckLocal(dir, c); err != nil {
			t.Errorf("module %s, pythonpath %v: %v", c.App.Module, c.PythonPath, err)
		}
	}
}

func TestCheckLocalRefusesWhatIsNotThere(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, "app.py", "src/flaskr/__init__.py")
	for _, c := range []struct {
		cfg          Config
		field, value string
		want         string
	}{
		{localConfig("wsgi"), "App.Module", "wsgi", "there is no wsgi.py or wsgi/__init__.py in " + dir},
		{localConfig("mysite.wsgi"), "App.Module", "mysite.wsgi", "mysite/wsgi.py"},
		// Found only through the Python path, which is not set.
		{localConfig("flaskr"), "App.Module", "flaskr", "add the folder that holds it to the Python path"},
		{func() Config { c := localConfig("app"); c.PythonPath = []string{"lib"}; return c }(), "PythonPath[0]", "lib", "is not a folder in " + dir},
		{func() Config { c := localConfig("app"); c.Venv = ".venv"; return c }(), "Venv", ".venv", "is not a folder in " + dir},
		// Validate's own checks come first, with their field names.
		{localConfig("my app"), "App.Module", "my app", "must be a dotted Python module name"},
	} {
		err := CheckLocal(dir, c.cfg)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%+v: got %v, want a *ValidationError", c.cfg.App, err)
			continue
		}
		found := false
		for _, f := range ve.Fields {
			if f.Field == c.field && f.Value == c.value && strings.Contains(f.Problem, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%+v, pythonpath %v: no %s %q error saying %q in:\n%v", c.cfg.App, c.cfg.PythonPath, c.field, c.value, c.want, err)
		}
	}
}

// A module the project's Python finds installed (here the standard
// library's) is not in the folder but is accepted: apps can be installed
// packages.
func TestCheckLocalAcceptsAnInstalledModule(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, "app.py")
	if err := CheckLocal(dir, localConfig("wsgiref.simple_server")); err != nil {
		t.Errorf("an installed module: %v", err)
	}
	if err := CheckLocal(dir, localConfig("wsgiref_no_such_module.app")); err == nil {
		t.Error("a module neither in the folder nor installed was accepted")
	}
	// A typo in a module of the project's own package is not saved by
	// the package being importable.
	writeFiles(t, dir, "mysite/__init__.py", "mysite/wsgi.py")
	if err := CheckLocal(dir, localConfig("mysite.wgsi")); err == nil {
		t.Error("mysite.wgsi was accepted: mysite/ holds wsgi.py, not wgsi.py")
	}
}

func TestCheckLocalFolderGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	err := CheckLocal(dir, localConfig("app"))
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("a missing project folder: %v", err)
	}
}

// A static URL without its leading slash is quoted as written, not with
// the trailing slash WithDefaults adds.
func TestValidateQuotesTheStaticURLAsGiven(t *testing.T) {
	c := localConfig("app")
	c.Static = []StaticMap{{URL: "static", Dir: "static"}}
	err := Validate(Local, c)
	if err == nil || !strings.Contains(err.Error(), `Static[0].URL "static": must be a URL path starting with /`) {
		t.Fatalf("got %v", err)
	}
}
