package detect

import (
	"fmt"
	"strings"
)

// Kind is the sort of app found.
type Kind string

const (
	KindFlask  Kind = "flask"  // a flask.Flask app, or a factory returning one
	KindDjango Kind = "django" // a Django project (manage.py -> settings -> wsgi.py)
	KindWSGI   Kind = "wsgi"   // another WSGI callable: plain, Bottle, Falcon, Pyramid...
	KindASGI   Kind = "asgi"   // an ASGI-only app (FastAPI, Starlette, Quart...): no WSGI server can run it
)

// Evidence points at the source that supports a finding.
type Evidence struct {
	File string // slash-separated, relative to Result.Dir
	Line int    // 1-based; 0 when the evidence is the file or folder itself
	Text string // the source line, trimmed, or what was seen
}

func (e Evidence) String() string {
	switch {
	case e.Line > 0 && e.Text != "":
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Text)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Text != "":
		return e.File + ": " + e.Text
	}
	return e.File
}

// Level grades a Note.
type Level int

const (
	// Info explains a finding or what to do next.
	Info Level = iota
	// Unsure marks a choice detection could not make with certainty:
	// several candidates, a guessed module path, a factory, a setting it
	// could not read. The user should confirm it.
	Unsure
	// Problem is something that will stop the app from running as found.
	Problem
)

func (l Level) String() string {
	switch l {
	case Info:
		return "info"
	case Unsure:
		return "unsure"
	case Problem:
		return "problem"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// A Note is one sentence for the user, with where it comes from.
type Note struct {
	Level    Level
	Message  string
	Evidence []Evidence
}

func (n Note) String() string {
	var b strings.Builder
	b.WriteString(n.Level.String())
	b.WriteString(": ")
	b.WriteString(n.Message)
	for _, e := range n.Evidence {
		b.WriteString(" [")
		b.WriteString(e.String())
		b.WriteString("]")
	}
	return b.String()
}

// An App is one candidate entry point.
type App struct {
	Kind      Kind
	Framework string // "Flask", "Django", "plain WSGI", "Bottle", "FastAPI"...

	// Module is the dotted module a WSGI server imports, relative to the
	// project folder plus PythonPath: "wsgi", "mysite.wsgi", "flaskr".
	Module string
	// Callable is the name in Module: "application", "app", "create_app".
	Callable string
	// Factory says Callable builds the app when called; uWSGI calls a
	// factory that takes no arguments with "module = flaskr:create_app()".
	Factory bool
	// FactoryArgs lists a factory's parameters that have no default. With
	// any, no server can call it as is; see the app's notes.
	FactoryArgs []string
	// PythonPath is the folder, relative and slash-separated, that must be
	// on sys.path for Module to import ("" for the project folder itself,
	// "src" for a src layout). It becomes uWSGI's pythonpath.
	PythonPath string
	// SettingsModule is Django's DJANGO_SETTINGS_MODULE.
	SettingsModule string

	// Servable is false when a WSGI server cannot run the app as found:
	// ASGI apps and factories that need arguments.
	Servable bool
	// Score ranks candidates; higher is more likely the project's app.
	Score int

	// Static lists the folders of static files this app serves, and the
	// URLs it serves them at, for nginx to serve instead.
	Static []Static

	Evidence []Evidence // why this is an app, first the defining line
	Notes    []Note     // what is uncertain or needs doing about this app
}

// UWSGIModule is the app as uWSGI's module option spells it:
// "mysite.wsgi:application", or "flaskr:create_app()" for a factory.
func (a App) UWSGIModule() string {
	s := a.Module + ":" + a.Callable
	if a.Factory {
		s += "()"
	}
	return s
}

// Where is the defining file and line, "flaskr/__init__.py:7".
func (a App) Where() string {
	if len(a.Evidence) == 0 {
		return a.Module
	}
	e := a.Evidence[0]
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d", e.File, e.Line)
}

// A Venv is a virtual environment found in the project.
type Venv struct {
	Dir     string // relative, slash-separated: ".venv"
	Python  string // the interpreter, relative: ".venv/bin/python"
	Version string // from pyvenv.cfg ("3.11.2"), or "" if unknown
	// Home is the base interpreter's folder from pyvenv.cfg ("/usr/bin").
	Home string
	// SystemSitePackages is pyvenv.cfg's include-system-site-packages.
	SystemSitePackages bool
	// Packages maps the installed distributions that matter here (flask,
	// django, fastapi, uwsgi, gunicorn...) to their versions.
	Packages map[string]string
	// Usable is false when the interpreter is missing or a dangling link
	// (the base Python it was made from was moved or removed).
	Usable   bool
	Evidence []Evidence
	Notes    []Note
}

// Static is a folder of static files and the URL it is served at.
type Static struct {
	URL      string // "/static/"
	Dir      string // relative and slash-separated when inside the project, else absolute
	Exists   bool   // the folder exists now (Django's STATIC_ROOT appears after collectstatic)
	Evidence []Evidence
}

// Result is everything Detect found in a folder.
type Result struct {
	Dir   string // the absolute project folder
	Apps  []App  // every candidate, best first (servable before not)
	Venvs []Venv // best first: .venv, venv, env, then others
	Notes []Note // project-wide findings and uncertainties
}

// Best returns the app to serve and true when detection could choose one:
// it is the only servable candidate, or it outranks every other one (the
// notes then say which others were passed over, and why). It returns false
// when there is no servable candidate or the top ones tie; the notes say
// what to do.
func (r *Result) Best() (App, bool) {
	var servable []App
	for _, a := range r.Apps {
		if a.Servable {
			servable = append(servable, a)
		}
	}
	switch {
	case len(servable) == 0:
		return App{}, false
	case len(servable) == 1 || servable[0].Score > servable[1].Score:
		return servable[0], true
	}
	return App{}, false
}

// Venv returns the virtualenv to use and true when there is exactly one
// usable candidate; with several, the notes list them.
func (r *Result) Venv() (Venv, bool) {
	var usable []Venv
	for _, v := range r.Venvs {
		if v.Usable {
			usable = append(usable, v)
		}
	}
	if len(usable) != 1 {
		return Venv{}, false
	}
	return usable[0], true
}
