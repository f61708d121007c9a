package detect

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const pythonBin = "/usr/bin/python3" // Debian's, with python3-django

// project writes files (slash paths -> content) into a new temp folder.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func detect(t *testing.T, dir string) *Result {
	t.Helper()
	r, err := Detect(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func best(t *testing.T, r *Result) App {
	t.Helper()
	a, ok := r.Best()
	if !ok {
		t.Fatalf("no best app; result:\n%s", dump(r))
	}
	return a
}

// dump renders a Result for failure messages.
func dump(r *Result) string {
	var b strings.Builder
	for _, a := range r.Apps {
		b.WriteString("app " + string(a.Kind) + " " + a.Framework + " " + a.UWSGIModule() + " path=" + a.PythonPath + " at " + a.Where() + " score=" + itoa(a.Score))
		if !a.Servable {
			b.WriteString(" NOT SERVABLE")
		}
		b.WriteString("\n")
		for _, e := range a.Evidence {
			b.WriteString("  evidence " + e.String() + "\n")
		}
		for _, s := range a.Static {
			b.WriteString("  static " + s.URL + " -> " + s.Dir)
			if !s.Exists {
				b.WriteString(" (missing)")
			}
			b.WriteString("\n")
		}
		for _, n := range a.Notes {
			b.WriteString("  note " + n.String() + "\n")
		}
	}
	for _, v := range r.Venvs {
		b.WriteString("venv " + v.Dir + " python=" + v.Python + " version=" + v.Version + "\n")
		for _, n := range v.Notes {
			b.WriteString("  note " + n.String() + "\n")
		}
	}
	for _, n := range r.Notes {
		b.WriteString("note " + n.String() + "\n")
	}
	return b.String()
}

func hasNote(notes []Note, level Level, substr string) bool {
	for _, n := range notes {
		if n.Level == level && strings.Contains(n.Message, substr) {
			return true
		}
	}
	return false
}

func wantNote(t *testing.T, r *Result, notes []Note, level Level, substr string) {
	t.Helper()
	if !hasNote(notes, level, substr) {
		t.Errorf("no %v note containing %q; result:\n%s", level, substr, dump(r))
	}
}

func TestFlaskApp(t *testing.T) {
	dir := project(t, map[string]string{
		"app.py": `"""A tiny Flask app.

Docs: write app = Flask(__name__) in your module; 'db = Flask(x)' too.
"""
from flask import Flask, render_template  # app = Flask("comment")

app = Flask(__name__)


@app.route("/")
def index():
    return render_template("index.html")


if __name__ == "__main__":
    app.run(debug=True)
`,
		"static/style.css":     "body{}",
		"templates/index.html": "<h1>hi</h1>",
		"tests/test_app.py":    "from flask import Flask\ntest_app = Flask(__name__)\n",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.Kind != KindFlask || a.Module != "app" || a.Callable != "app" || a.Factory || a.PythonPath != "" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(r.Apps) != 1 {
		t.Errorf("docstrings, comments or tests produced candidates:\n%s", dump(r))
	}
	if got := a.Evidence[0].String(); got != "app.py:7: app = Flask(__name__)" {
		t.Errorf("evidence = %q", got)
	}
	if len(a.Static) != 1 || a.Static[0].URL != "/static/" || a.Static[0].Dir != "static" || !a.Static[0].Exists {
		t.Errorf("static = %+v", a.Static)
	}
	if a.UWSGIModule() != "app:app" {
		t.Errorf("UWSGIModule = %s", a.UWSGIModule())
	}
}

func TestFlaskImportStylesAndStaticArgs(t *testing.T) {
	dir := project(t, map[string]string{
		"server.py": `import flask as fl
from werkzeug.middleware.proxy_fix import ProxyFix

web = fl.Flask(
    __name__,
    static_folder="assets",
    static_url_path="/files",
)
application = ProxyFix(web)
`,
		"assets/logo.png": "png",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.Kind != KindFlask || a.Module != "server" || a.Callable != "application" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(a.Static) != 1 || a.Static[0].URL != "/files/" || a.Static[0].Dir != "assets" {
		t.Errorf("static = %+v", a.Static)
	}
	if len(r.Apps) != 1 {
		t.Errorf("web and application are one app:\n%s", dump(r))
	}
}

// Flask's tutorial layout: a package whose __init__.py holds a factory.
func TestFlaskFactory(t *testing.T) {
	r := detect(t, filepath.Join("..", "configgen", "testdata", "flaskapp"))
	a := best(t, r)
	if a.Kind != KindFlask || a.Module != "flaskr" || a.Callable != "create_app" || !a.Factory || len(a.FactoryArgs) != 0 {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if a.UWSGIModule() != "flaskr:create_app()" {
		t.Errorf("UWSGIModule = %s", a.UWSGIModule())
	}
	if got := a.Evidence[0].String(); got != "flaskr/__init__.py:7: def create_app(test_config=None):" {
		t.Errorf("evidence[0] = %q", got)
	}
	wantNote(t, r, a.Notes, Unsure, "app factory")
	if len(a.Static) != 1 || a.Static[0].Dir != "flaskr/static" || a.Static[0].URL != "/static/" {
		t.Errorf("static = %+v", a.Static)
	}
}

func TestFlaskFactoryThroughWSGIFile(t *testing.T) {
	dir := project(t, map[string]string{
		"myapp/__init__.py": "from .factory import create_app\n",
		"myapp/factory.py": `from flask import Flask

def create_app(config=None):
    app = Flask(__name__)
    if config:
        app.config.update(config)
    return app
`,
		"wsgi.py": "from myapp import create_app\n\napp = create_app()\n",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.Module != "wsgi" || a.Callable != "app" || a.Factory || a.Kind != KindFlask {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(a.Evidence) < 2 || a.Evidence[0].File != "wsgi.py" || a.Evidence[1].File != "myapp/factory.py" {
		t.Errorf("evidence does not lead from wsgi.py to the factory: %v", a.Evidence)
	}
	if len(r.Apps) != 1 {
		t.Errorf("the factory and its instance are one app:\n%s", dump(r))
	}
}

func TestFactoryWithArguments(t *testing.T) {
	dir := project(t, map[string]string{
		"app/__init__.py": `from flask import Flask
from config import configs


def create_app(config_name, *, debug=False):
    app = Flask(__name__)
    app.config.from_object(configs[config_name])
    return app
`,
	})
	r := detect(t, dir)
	if _, ok := r.Best(); ok {
		t.Fatalf("a factory needing arguments was chosen:\n%s", dump(r))
	}
	if len(r.Apps) != 1 || r.Apps[0].Servable || strings.Join(r.Apps[0].FactoryArgs, ",") != "config_name" {
		t.Fatalf("apps:\n%s", dump(r))
	}
	wantNote(t, r, r.Apps[0].Notes, Problem, "needs arguments (config_name)")
}

func TestPlainWSGI(t *testing.T) {
	dir := project(t, map[string]string{
		"wsgi.py": `import json


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"ok": True}).encode()]
`,
		"helpers.py":      "def add(a, b):\n    return a + b\n",
		"static/app.js":   "",
		"static/site.css": "",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.Kind != KindWSGI || a.Framework != "plain WSGI" || a.UWSGIModule() != "wsgi:application" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(r.Apps) != 1 {
		t.Errorf("extra candidates:\n%s", dump(r))
	}
	if len(a.Static) != 1 || a.Static[0].Dir != "static" {
		t.Errorf("static = %+v", a.Static)
	}
	wantNote(t, r, a.Notes, Unsure, "going by the folder's name")
}

func TestOtherWSGIFrameworks(t *testing.T) {
	dir := project(t, map[string]string{
		"main.py": `import bottle

app = bottle.Bottle()


class Hello:
    def __call__(self, environ, start_response):
        start_response("200 OK", [])
        return [b"hi"]


hello = Hello()
`,
		"pyr/__init__.py": `from pyramid.config import Configurator

with Configurator() as config:
    config.add_route("home", "/")
    app = config.make_wsgi_app()
`,
	})
	r := detect(t, dir)
	got := map[string]string{}
	for _, a := range r.Apps {
		got[a.UWSGIModule()] = a.Framework
	}
	want := map[string]string{"main:app": "Bottle", "main:hello": "plain WSGI", "pyr:app": "Pyramid"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: framework %q, want %q\n%s", k, got[k], v, dump(r))
		}
	}
	// main.py's two apps are distinct: detection must not pick silently.
	if _, ok := r.Best(); ok && r.Apps[0].Score == r.Apps[1].Score {
		t.Errorf("Best chose between equal candidates")
	}
}

func TestFastAPIIsExplained(t *testing.T) {
	dir := project(t, map[string]string{
		"app/__init__.py": "",
		"app/main.py": `from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

app = FastAPI(title="Items")
app.mount("/static", StaticFiles(directory="static"), name="static")


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    return {"item_id": item_id}
`,
	})
	r := detect(t, dir)
	if _, ok := r.Best(); ok {
		t.Fatalf("an ASGI app was offered to a WSGI server:\n%s", dump(r))
	}
	if len(r.Apps) != 1 {
		t.Fatalf("apps:\n%s", dump(r))
	}
	a := r.Apps[0]
	if a.Kind != KindASGI || a.Framework != "FastAPI" || a.Servable || a.UWSGIModule() != "app.main:app" {
		t.Fatalf("app = %+v", a)
	}
	wantNote(t, r, a.Notes, Problem, "cannot run it")
	wantNote(t, r, a.Notes, Problem, "uvicorn app.main:app")
	wantNote(t, r, a.Notes, Problem, "application = ASGIMiddleware(app)")
	wantNote(t, r, r.Notes, Problem, "no app here can run on a WSGI server")
}

func TestASGIVariants(t *testing.T) {
	dir := project(t, map[string]string{
		"quartapp.py": "from quart import Quart\napp = Quart(__name__)\n",
		"raw.py":      "async def app(scope, receive, send):\n    pass\n",
		"star.py":     "from starlette.applications import Starlette\napp = Starlette(routes=[])\n",
	})
	r := detect(t, dir)
	got := map[string]bool{}
	for _, a := range r.Apps {
		if a.Kind != KindASGI || a.Servable {
			t.Errorf("%s is not reported as ASGI-only", a.UWSGIModule())
		}
		got[a.Framework] = true
	}
	for _, f := range []string{"Quart", "plain ASGI", "Starlette"} {
		if !got[f] {
			t.Errorf("%s not found:\n%s", f, dump(r))
		}
	}
	for _, a := range r.Apps {
		if a.Framework == "Quart" {
			wantNote(t, r, a.Notes, Problem, "porting it to Flask")
		}
	}
}

func TestFastAPIWrappedWithA2WSGI(t *testing.T) {
	dir := project(t, map[string]string{
		"main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
		"wsgi.py": "from a2wsgi import ASGIMiddleware\n\nfrom main import app\n\napplication = ASGIMiddleware(app)\n",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.Kind != KindWSGI || a.Framework != "FastAPI via a2wsgi" || a.UWSGIModule() != "wsgi:application" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	wantNote(t, r, a.Notes, Info, "a2wsgi")
}

func TestSrcLayoutAndNamespaceFolders(t *testing.T) {
	dir := project(t, map[string]string{
		"src/shop/__init__.py": "from flask import Flask\napp = Flask(__name__)\n",
	})
	a := best(t, detect(t, dir))
	if a.Module != "shop" || a.PythonPath != "src" {
		t.Errorf("src layout: module %q, python path %q", a.Module, a.PythonPath)
	}

	dir = project(t, map[string]string{
		"service/main.py": "from flask import Flask\napp = Flask(__name__)\n",
	})
	r := detect(t, dir)
	a = best(t, r)
	if a.Module != "main" || a.PythonPath != "service" {
		t.Errorf("namespace folder: module %q, python path %q", a.Module, a.PythonPath)
	}
	wantNote(t, r, a.Notes, Unsure, "has no __init__.py")
}

func TestSeveralAppsAreNotGuessed(t *testing.T) {
	dir := project(t, map[string]string{
		"api/app.py": "from flask import Flask\napp = Flask(__name__)\n",
		"web/app.py": "from flask import Flask\napp = Flask(__name__)\n",
	})
	r := detect(t, dir)
	if a, ok := r.Best(); ok {
		t.Fatalf("chose %s between equal candidates", a.Where())
	}
	wantNote(t, r, r.Notes, Unsure, "several apps are equally likely")

	// A clear winner is chosen, and the others are named.
	dir = project(t, map[string]string{
		"wsgi.py":         "from flask import Flask\napplication = Flask(__name__)\n",
		"tools/report.py": "from flask import Flask\nreport = Flask(__name__)\n",
	})
	r = detect(t, dir)
	if a := best(t, r); a.Module != "wsgi" {
		t.Errorf("best = %s", a.Where())
	}
	wantNote(t, r, r.Notes, Unsure, "also found report:report (tools/report.py:2)")
}

func TestNoApp(t *testing.T) {
	r := detect(t, project(t, map[string]string{"util.py": "X = 1\n", "README.md": "hi"}))
	if len(r.Apps) != 0 {
		t.Fatalf("apps:\n%s", dump(r))
	}
	wantNote(t, r, r.Notes, Problem, "no WSGI app found")
}

func TestDetectErrors(t *testing.T) {
	if _, err := Detect(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder gave no error")
	}
	f := filepath.Join(t.TempDir(), "app.py")
	os.WriteFile(f, nil, 0o644)
	if _, err := Detect(f); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file: %v", err)
	}
}

// A real project from Django's own startproject, generated with Debian's
// python3-django.
func TestDjangoStartproject(t *testing.T) {
	if _, err := os.Stat(pythonBin); err != nil {
		t.Fatalf("%s is missing (install python3 and python3-django with .ci/deps): %v", pythonBin, err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(pythonBin, "-m", "django", "startproject", "mysite", dir).CombinedOutput(); err != nil {
		t.Fatalf("django startproject (python3-django missing? install it with .ci/deps): %v\n%s", err, out)
	}
	r := detect(t, dir)
	a := best(t, r)
	if a.Kind != KindDjango || a.UWSGIModule() != "mysite.wsgi:application" || a.SettingsModule != "mysite.settings" || a.PythonPath != "" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(r.Apps) != 1 {
		t.Errorf("asgi.py or wsgi.py counted as another app:\n%s", dump(r))
	}
	var files []string
	for _, e := range a.Evidence {
		files = append(files, e.File)
	}
	if strings.Join(files, " ") != "mysite/wsgi.py manage.py mysite/settings.py" {
		t.Errorf("evidence files = %v", files)
	}
	if !strings.Contains(a.Evidence[2].Text, "WSGI_APPLICATION = 'mysite.wsgi.application'") {
		t.Errorf("settings evidence = %v", a.Evidence[2])
	}
	// startproject sets STATIC_URL but no STATIC_ROOT.
	if len(a.Static) != 0 {
		t.Errorf("static = %+v", a.Static)
	}
	wantNote(t, r, a.Notes, Unsure, "STATIC_ROOT is not set")

	settings := filepath.Join(dir, "mysite", "settings.py")
	f, err := os.OpenFile(settings, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\nMEDIA_URL = '/media/'\nMEDIA_ROOT = os.path.join(BASE_DIR, 'media')\n")
	f.Close()
	r = detect(t, dir)
	a = best(t, r)
	if len(a.Static) != 2 {
		t.Fatalf("static = %+v\n%s", a.Static, dump(r))
	}
	if s := a.Static[0]; s.URL != "/static/" || s.Dir != "staticfiles" || s.Exists {
		t.Errorf("static = %+v", s)
	}
	if s := a.Static[1]; s.URL != "/media/" || s.Dir != "media" {
		t.Errorf("media = %+v", s)
	}
	wantNote(t, r, a.Notes, Info, "collectstatic")
}

// Split settings: DJANGO_SETTINGS_MODULE points at a module that star-
// imports a base, BASE_DIR goes three levels up, and a path has an
// environment override.
func TestDjangoSplitSettings(t *testing.T) {
	dir := project(t, map[string]string{
		"manage.py": `#!/usr/bin/env python
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.production")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
`,
		"proj/__init__.py":          "",
		"proj/settings/__init__.py": "",
		"proj/settings/base.py": `import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
STATIC_URL = "static/"
STATIC_ROOT = os.path.join(BASE_DIR, "collected")
WSGI_APPLICATION = "proj.wsgi.application"
`,
		"proj/settings/production.py": `from .base import *  # noqa

DEBUG = False
MEDIA_URL = "/uploads/"
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", BASE_DIR / "uploads")
`,
		"proj/wsgi.py": `import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.base")

application = get_wsgi_application()
`,
		"collected/": "",
	})
	r := detect(t, dir)
	a := best(t, r)
	if a.UWSGIModule() != "proj.wsgi:application" || a.SettingsModule != "proj.settings.production" {
		t.Fatalf("best = %+v\n%s", a, dump(r))
	}
	if len(a.Static) != 2 || a.Static[0].Dir != "collected" || !a.Static[0].Exists || a.Static[1].Dir != "uploads" || a.Static[1].URL != "/uploads/" {
		t.Fatalf("static = %+v\n%s", a.Static, dump(r))
	}
	wantNote(t, r, a.Notes, Unsure, "MEDIA_ROOT depends on an environment variable")
	wantNote(t, r, a.Notes, Info, "defaults to the settings proj.settings.base while manage.py uses proj.settings.production")
}

func TestDjangoBrokenChain(t *testing.T) {
	dir := project(t, map[string]string{
		"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
	})
	r := detect(t, dir)
	wantNote(t, r, r.Notes, Problem, "names the settings module site.settings, but site/settings.py does not exist")
}

func TestVenvs(t *testing.T) {
	if _, err := os.Stat(pythonBin); err != nil {
		t.Fatalf("%s is missing: %v", pythonBin, err)
	}
	dir := project(t, map[string]string{
		"app.py": "from flask import Flask\napp = Flask(__name__)\n",
	})
	// A real virtualenv made by Debian's python3.
	if out, err := exec.Command(pythonBin, "-m", "venv", "--without-pip", filepath.Join(dir, ".venv")).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s", err, out)
	}
	r := detect(t, dir)
	v, ok := r.Venv()
	if !ok || v.Dir != ".venv" || v.Python != ".venv/bin/python3" || !strings.HasPrefix(v.Version, "3.") || v.Home == "" {
		t.Fatalf("venv = %+v\n%s", v, dump(r))
	}
	if len(r.Apps) != 1 {
		t.Errorf("the venv was searched for apps:\n%s", dump(r))
	}
	// Flask is not installed in it (and it does not see system packages).
	wantNote(t, r, r.Notes, Problem, "flask is not installed in .venv")

	// Install a fake Flask distribution, and add a second, broken venv.
	sites, _ := filepath.Glob(filepath.Join(dir, ".venv", "lib", "python3*", "site-packages"))
	if len(sites) != 1 {
		t.Fatalf("site-packages: %v", sites)
	}
	os.Mkdir(filepath.Join(sites[0], "Flask-2.2.2.dist-info"), 0o755)
	broken := filepath.Join(dir, "venv")
	os.MkdirAll(filepath.Join(broken, "bin"), 0o755)
	os.WriteFile(filepath.Join(broken, "pyvenv.cfg"), []byte("home = /opt/python3.9/bin\nversion_info = 3.9.18.final.0\n"), 0o644)
	os.Symlink("/opt/python3.9/bin/python3.9", filepath.Join(broken, "bin", "python"))

	r = detect(t, dir)
	if len(r.Venvs) != 2 || r.Venvs[0].Dir != ".venv" || r.Venvs[1].Dir != "venv" {
		t.Fatalf("venvs:\n%s", dump(r))
	}
	if r.Venvs[0].Packages["flask"] != "2.2.2" {
		t.Errorf("packages = %v", r.Venvs[0].Packages)
	}
	bv := r.Venvs[1]
	if bv.Usable || bv.Version != "3.9.18" {
		t.Errorf("broken venv = %+v", bv)
	}
	wantNote(t, r, bv.Notes, Problem, "points to /opt/python3.9/bin/python3.9, which does not exist")
	if v, ok := r.Venv(); !ok || v.Dir != ".venv" {
		t.Errorf("Venv() = %v, %v: the only usable one is .venv", v.Dir, ok)
	}
	if hasNote(r.Notes, Problem, "not installed") {
		t.Errorf("flask is installed now:\n%s", dump(r))
	}
}

func TestNoVenvIsExplained(t *testing.T) {
	r := detect(t, project(t, map[string]string{"wsgi.py": "def application(environ, start_response):\n    pass\n"}))
	wantNote(t, r, r.Notes, Info, "no virtualenv")
}

// The built-in demo project is a plain WSGI app with a static folder.
func TestDemoProject(t *testing.T) {
	r := detect(t, filepath.Join("..", "..", "assets", "demo"))
	a := best(t, r)
	if a.Kind != KindWSGI || a.UWSGIModule() != "wsgi:application" || len(r.Apps) != 1 {
		t.Fatalf("demo:\n%s", dump(r))
	}
	if len(a.Static) != 1 || a.Static[0].Dir != "static" || a.Static[0].URL != "/static/" {
		t.Errorf("static = %+v", a.Static)
	}
}
