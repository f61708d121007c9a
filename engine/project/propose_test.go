package project

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
)

const python = "/usr/bin/python3" // Debian's, with Flask and Django

// files writes a sample project (slash paths -> content).
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// consistent checks generated configs the way wsgideckd check does, and
// with the real nginx -t.
func consistent(t *testing.T, dir string) {
	t.Helper()
	id, nd, err := OpenDocs(filepath.Join(dir, "uwsgi.ini"), filepath.Join(dir, "nginx.conf"), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(id.Validate(), nd.Validate()...) {
		if p.Severity != 2 { // errors and warnings; Info is allowed
			t.Errorf("validation: %s", p)
		}
	}
	r, err := crosscheck.Check(id, nd, crosscheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Kind != crosscheck.KindStatic { // Django's STATIC_ROOT appears after collectstatic
			t.Errorf("crosscheck: %s", f)
		}
	}
	out, err := exec.Command("/usr/sbin/nginx", "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "pid "+dir+"/nginx.pid;").CombinedOutput()
	if err != nil {
		t.Errorf("real nginx -t: %v\n%s", err, out)
	}
}

func TestInitFlask(t *testing.T) {
	dir := files(t, map[string]string{
		"flaskr/__init__.py":  "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
		"flaskr/static/a.css": "body{}\n",
		".venv/pyvenv.cfg":    "home = /usr/bin\ninclude-system-site-packages = true\nversion = 3.11.2\n",
		"README.md":           "x\n",
	})
	os.MkdirAll(filepath.Join(dir, ".venv", "bin"), 0o755)
	os.Symlink(python, filepath.Join(dir, ".venv", "bin", "python"))
	pr, res, err := Init(dir, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.App != (configgen.App{Module: "flaskr", Callable: "create_app", Factory: true}) || c.Framework != "flask" || c.Venv != ".venv" {
		t.Errorf("config %+v", c)
	}
	if len(c.Static) != 1 || c.Static[0].URL != "/static/" || c.Static[0].Dir != "flaskr/static/" {
		t.Errorf("static %+v", c.Static)
	}
	if pr.Python != filepath.Join(dir, ".venv/bin/python") {
		t.Errorf("python %q", pr.Python)
	}
	if strings.Join(res.Written, ",") != "mime.types,nginx.conf,uwsgi.ini,uwsgi_params" {
		t.Errorf("written %v", res.Written)
	}
	ini, _ := os.ReadFile(filepath.Join(dir, "uwsgi.ini"))
	if !strings.Contains(string(ini), "module = flaskr:create_app()\n") || !strings.Contains(string(ini), "home = %d.venv\n") {
		t.Errorf("uwsgi.ini:\n%s", ini)
	}
	consistent(t, dir)
}

func TestInitDjangoFromStartproject(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command(python, "-m", "django", "startproject", "mysite", dir).CombinedOutput(); err != nil {
		t.Fatalf("django startproject: %v\n%s", err, out)
	}
	settings := filepath.Join(dir, "mysite", "settings.py")
	b, _ := os.ReadFile(settings)
	os.WriteFile(settings, append(b, []byte("STATIC_ROOT = BASE_DIR / 'staticfiles'\n")...), 0o644)
	pr, res, err := Init(dir, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.App.Module != "mysite.wsgi" || c.App.Callable != "application" || c.Framework != "django" {
		t.Errorf("config %+v", c)
	}
	if len(c.Static) != 1 || c.Static[0].URL != "/static/" || c.Static[0].Dir != "staticfiles/" {
		t.Errorf("static %+v", c.Static)
	}
	unsure := strings.Join(pr.Unsure, "\n")
	if !strings.Contains(unsure, "collectstatic") {
		t.Errorf("the missing STATIC_ROOT is not flagged:\n%s", unsure)
	}
	consistent(t, dir)
}

func TestInitPlainWSGIKeepsExistingFiles(t *testing.T) {
	dir := files(t, map[string]string{
		"app.py":     "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'hi']\n",
		"nginx.conf": "# the user's own\nevents {}\nhttp {}\n",
	})
	_, res, err := Init(dir, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Kept, ",") != "nginx.conf" {
		t.Errorf("kept %v", res.Kept)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "nginx.conf")); !strings.HasPrefix(string(got), "# the user's own") {
		t.Error("an existing nginx.conf was replaced")
	}
	ini, _ := os.ReadFile(filepath.Join(dir, "uwsgi.ini"))
	if !strings.Contains(string(ini), "module = app:application\n") {
		t.Errorf("uwsgi.ini:\n%s", ini)
	}
	// With Overwrite, the user's file is replaced and kept as a backup.
	pr, err := Propose(dir, ProposeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pr.Existing, ",") != "uwsgi.ini,nginx.conf" {
		t.Errorf("existing %v", pr.Existing)
	}
	if _, err := pr.Init(InitOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := atomicfile.Backups(filepath.Join(dir, "nginx.conf"))
	if len(b) != 1 {
		t.Fatalf("backups %v", b)
	}
	consistent(t, dir)
}

func TestInitExplainsASGI(t *testing.T) {
	dir := files(t, map[string]string{
		"main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return {}\n",
	})
	_, _, err := Init(dir, InitOptions{})
	if !errors.Is(err, ErrNoApp) || !strings.Contains(err.Error(), "FastAPI") || !strings.Contains(err.Error(), "ASGI") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "uwsgi.ini")); err == nil {
		t.Error("configs were written for an app no WSGI server can run")
	}
}

func TestInitDoesNotGuess(t *testing.T) {
	app := "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'x']\n"
	dir := files(t, map[string]string{"one/wsgi.py": app, "two/wsgi.py": app})
	pr, _, err := Init(dir, InitOptions{})
	if !errors.Is(err, ErrNoApp) {
		t.Fatalf("error %v", err)
	}
	if pr.Chosen || pr.App.Module == "" || len(pr.Unsure) == 0 {
		t.Errorf("proposal %+v", pr)
	}
	// The user's choice goes through.
	pr.Choose(pr.Detection.Apps[1])
	if pr.Config.App.Module != "wsgi" || len(pr.Config.PythonPath) != 1 {
		t.Fatalf("chosen config %+v", pr.Config)
	}
	if _, err := pr.Init(InitOptions{}); err != nil {
		t.Fatal(err)
	}
	consistent(t, dir)
}

func TestProposeAvoidsBusyAndTakenPorts(t *testing.T) {
	cfg, data := t.TempDir(), t.TempDir()
	s := openStore(t, cfg, data)
	dir := files(t, map[string]string{"wsgi.py": "def application(e, s):\n    s('200 OK', [])\n    return [b'']\n"})
	pr, err := s.Propose(dir)
	if err != nil {
		t.Fatal(err)
	}
	demo, _ := s.Get(DemoID)
	for _, p := range []int{demo.Config.ProxyPort, demo.Config.AppPort, demo.Config.StatsPort} {
		if p == pr.Config.ProxyPort || p == pr.Config.AppPort || p == pr.Config.StatsPort {
			t.Errorf("proposed the demo's port %d: %+v", p, pr.Config)
		}
	}
	p, res, err := s.Create(pr, "Hello", InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.AppPort != pr.Config.AppPort || len(res.Written) != 4 {
		t.Errorf("created %+v, %+v", p, res)
	}
	if got, _ := s.Get(p.ID); got.Name != "Hello" {
		t.Error("Create did not add the project")
	}
}
