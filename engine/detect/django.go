package detect

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// This file follows a Django project from manage.py to its settings
// module, to WSGI_APPLICATION and the wsgi.py it names, and reads
// STATIC_URL/STATIC_ROOT (and MEDIA_*) from the settings.

func (s *search) django() {
	sort.Slice(s.manages, func(i, j int) bool {
		di, dj := strings.Count(s.manages[i], "/"), strings.Count(s.manages[j], "/")
		if di != dj {
			return di < dj
		}
		return s.manages[i] < s.manages[j]
	})
	for _, m := range s.manages {
		s.djangoProject(m)
	}
}

// settingValue is one assignment in a settings module.
type settingValue struct {
	expr []token
	ev   Evidence
	file string // the settings file it is in, relative
}

func (s *search) readStmts(rel string) ([]stmt, bool) {
	src, err := readSource(s.abs(rel))
	if err != nil || src == nil {
		return nil, false
	}
	return scanPython(src), true
}

func (s *search) djangoProject(manage string) {
	stmts, ok := s.readStmts(manage)
	if !ok {
		return
	}
	settings, mev, ok := settingsModuleIn(manage, stmts)
	if !ok {
		s.note(Unsure, manage+" does not set DJANGO_SETTINGS_MODULE (os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", ...)), so its settings module is unknown; set it there or choose the app yourself", Evidence{File: manage})
		return
	}
	projDir := path.Dir(manage)
	settingsFile := s.moduleFile(projDir, settings)
	if settingsFile == "" {
		s.note(Problem, fmt.Sprintf("%s names the settings module %s, but %s.py does not exist", manage, settings, path.Join(projDir, strings.ReplaceAll(settings, ".", "/"))), mev)
		return
	}
	vals := map[string]settingValue{}
	s.settingsValues(projDir, settings, settingsFile, vals, map[string]bool{}, 0)

	app := App{
		Kind:           KindDjango,
		Framework:      "Django",
		SettingsModule: settings,
		Score:          100,
		Servable:       true,
	}
	if projDir != "." {
		app.PythonPath = projDir
	}
	wsgiName := ""
	wv, hasWSGI := vals["WSGI_APPLICATION"]
	if hasWSGI && len(wv.expr) == 1 && wv.expr[0].kind == tString {
		wsgiName = wv.expr[0].text
	}
	if wsgiName == "" {
		// Django's default when WSGI_APPLICATION is unset: the project's
		// own wsgi.py, which startproject writes beside settings.
		pkg := settings
		if i := strings.LastIndex(pkg, "."); i >= 0 {
			pkg = pkg[:i]
		}
		wsgiName = pkg + ".wsgi.application"
		app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{{File: settingsFile}},
			Message: "the settings do not set WSGI_APPLICATION as a plain string; assuming " + wsgiName + ", the file django-admin startproject writes"})
	}
	i := strings.LastIndex(wsgiName, ".")
	if i <= 0 {
		s.note(Problem, fmt.Sprintf("WSGI_APPLICATION %q should be module.callable, e.g. mysite.wsgi.application", wsgiName), wv.ev)
		return
	}
	app.Module, app.Callable = wsgiName[:i], wsgiName[i+1:]
	wsgiFile := s.moduleFile(projDir, app.Module)
	if wsgiFile == "" {
		s.note(Problem, fmt.Sprintf("WSGI_APPLICATION names %s, but there is no %s.py", app.Module, path.Join(projDir, strings.ReplaceAll(app.Module, ".", "/"))), wv.ev)
		return
	}
	origin := ""
	var defEv Evidence
	if f := s.factsFor(wsgiFile); f != nil && f.apps[app.Callable] != nil {
		a := f.apps[app.Callable]
		origin, defEv = a.origin, a.ev[0]
	} else if wstmts, ok := s.readStmts(wsgiFile); ok {
		for _, st := range wstmts {
			if targets, _ := assignment(st.toks); st.indent == 0 && contains(targets, app.Callable) {
				defEv = Evidence{File: wsgiFile, Line: st.line, Text: clip(st.src)}
			}
		}
	}
	if defEv.File == "" {
		s.note(Problem, fmt.Sprintf("%s does not define %s at module level; WSGI_APPLICATION expects application = get_wsgi_application() there", wsgiFile, app.Callable), Evidence{File: wsgiFile})
		return
	}
	app.Evidence = []Evidence{defEv, mev}
	if hasWSGI {
		app.Evidence = append(app.Evidence, wv.ev)
	}
	if wstmts, ok := s.readStmts(wsgiFile); ok {
		if other, oev, ok := settingsModuleIn(wsgiFile, wstmts); ok && other != settings {
			app.Notes = append(app.Notes, Note{Level: Info, Evidence: []Evidence{oev, mev},
				Message: fmt.Sprintf("%s defaults to the settings %s while manage.py uses %s; the server uses %s unless the environment sets DJANGO_SETTINGS_MODULE", wsgiFile, other, settings, other)})
		}
	}
	app.Static = s.djangoStatic(&app, projDir, settingsFile, vals)
	s.apps = append(s.apps, app)
	s.origins = append(s.origins, origin)
}

// settingsModuleIn finds os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x").
func settingsModuleIn(file string, stmts []stmt) (string, Evidence, bool) {
	for _, st := range stmts {
		for i := 0; i+2 < len(st.toks); i++ {
			t := st.toks[i]
			if t.kind == tString && t.text == "DJANGO_SETTINGS_MODULE" && st.toks[i+1].text == "," && st.toks[i+2].kind == tString {
				return st.toks[i+2].text, Evidence{File: file, Line: t.line, Text: clip(st.src)}, true
			}
		}
	}
	return "", Evidence{}, false
}

// moduleFile finds a dotted module under dir: a/b.py or a/b/__init__.py.
func (s *search) moduleFile(dir, module string) string {
	if module == "" {
		return ""
	}
	base := path.Join(dir, strings.ReplaceAll(module, ".", "/"))
	for _, c := range []string{base + ".py", base + "/__init__.py"} {
		if fi, err := os.Stat(s.abs(c)); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

func (s *search) factsFor(rel string) *fileFacts {
	for _, f := range s.facts {
		if f.path == rel {
			return f
		}
	}
	return nil
}

// settingsValues collects the module-level assignments of a settings
// module in order, following "from .base import *" where it appears, as
// Python would: later assignments win.
func (s *search) settingsValues(projDir, module, file string, vals map[string]settingValue, seen map[string]bool, depth int) {
	if seen[file] || depth > 4 {
		return
	}
	seen[file] = true
	stmts, ok := s.readStmts(file)
	if !ok {
		return
	}
	pkg := module
	if path.Base(file) != "__init__.py" {
		if i := strings.LastIndex(module, "."); i >= 0 {
			pkg = module[:i]
		} else {
			pkg = ""
		}
	}
	for _, st := range stmts {
		if st.indent != 0 {
			continue
		}
		toks := st.toks
		if toks[0].text == "from" && len(toks) >= 4 && toks[len(toks)-1].text == "*" && toks[len(toks)-2].text == "import" {
			mod := ""
			for _, t := range toks[1 : len(toks)-2] {
				mod += t.text
			}
			if level := len(mod) - len(strings.TrimLeft(mod, ".")); level > 0 {
				base := pkg
				for i := 1; i < level; i++ {
					if j := strings.LastIndex(base, "."); j >= 0 {
						base = base[:j]
					} else {
						base = ""
					}
				}
				rest := mod[level:]
				switch {
				case base == "":
					mod = rest
				case rest == "":
					mod = base
				default:
					mod = base + "." + rest
				}
			}
			if f := s.moduleFile(projDir, mod); f != "" {
				s.settingsValues(projDir, mod, f, vals, seen, depth+1)
			}
			continue
		}
		targets, rhs := assignment(toks)
		for _, t := range targets {
			vals[t] = settingValue{expr: rhs, ev: Evidence{File: file, Line: st.line, Text: clip(st.src)}, file: file}
		}
	}
}

func (s *search) djangoStatic(app *App, projDir, settingsFile string, vals map[string]settingValue) []Static {
	var out []Static
	for _, kind := range []struct{ url, root, what string }{{"STATIC_URL", "STATIC_ROOT", "static"}, {"MEDIA_URL", "MEDIA_ROOT", "media"}} {
		uv, hasURL := vals[kind.url]
		rv, hasRoot := vals[kind.root]
		if !hasURL && !hasRoot {
			if kind.what == "static" {
				app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{{File: settingsFile}},
					Message: "the settings set neither STATIC_URL nor STATIC_ROOT, so nginx has no static files to serve"})
			}
			continue
		}
		url := ""
		if hasURL && len(uv.expr) == 1 && uv.expr[0].kind == tString {
			url = uv.expr[0].text
		}
		switch {
		case hasURL && url == "":
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{uv.ev}, Message: kind.url + " is not a plain string; set the URL nginx serves " + kind.what + " files at yourself"})
			continue
		case strings.Contains(url, "://") || strings.HasPrefix(url, "//"):
			app.Notes = append(app.Notes, Note{Level: Info, Evidence: []Evidence{uv.ev}, Message: kind.url + " points at another host, so nginx serves no " + kind.what + " files for this app"})
			continue
		case !hasURL:
			continue
		}
		url = withSlash(url)
		if url == "/" {
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{uv.ev}, Message: kind.url + " is /, which nginx cannot tell apart from the app's pages; use a prefix such as /" + kind.what + "/"})
			continue
		}
		if !hasRoot {
			if kind.what == "static" {
				app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{uv.ev},
					Message: "STATIC_ROOT is not set: nginx serves the files collectstatic gathers there. Add STATIC_ROOT = BASE_DIR / \"staticfiles\" to the settings and run python manage.py collectstatic"})
			}
			continue
		}
		env := &pathEnv{s: s, vals: vals, projDir: projDir}
		dir, unsure, ok := env.eval(rv.expr, rv.file, 0)
		if !ok {
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{rv.ev},
				Message: kind.root + " is computed in a way detection cannot follow; set the folder nginx serves " + url + " from yourself"})
			continue
		}
		st := Static{URL: url, Dir: s.relIfInside(dir), Evidence: []Evidence{uv.ev, rv.ev}}
		st.Exists = dirExists(filepath.FromSlash(dir))
		if unsure {
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{rv.ev},
				Message: kind.root + " depends on an environment variable; " + st.Dir + " is its default"})
		}
		if !st.Exists && kind.what == "static" {
			app.Notes = append(app.Notes, Note{Level: Info, Evidence: []Evidence{rv.ev},
				Message: st.Dir + " does not exist yet: run python manage.py collectstatic to gather the static files there for nginx"})
		}
		out = append(out, st)
	}
	return out
}

// relIfInside turns an absolute slash path inside the project into a
// relative one.
func (s *search) relIfInside(p string) string {
	root := filepath.ToSlash(s.root)
	if p == root {
		return "."
	}
	if strings.HasPrefix(p, root+"/") {
		return strings.TrimPrefix(p, root+"/")
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pathEnv evaluates the path expressions Django settings use:
// BASE_DIR = Path(__file__).resolve().parent.parent, BASE_DIR / "static",
// os.path.join(BASE_DIR, "static"), os.path.dirname(...), str(...),
// os.environ.get("X", default). Results are absolute slash paths.
type pathEnv struct {
	s       *search
	vals    map[string]settingValue
	projDir string
	steps   int // work done; self-referencing settings cannot blow up
}

func (e *pathEnv) eval(toks []token, file string, depth int) (string, bool, bool) {
	e.steps++
	if depth > 12 || len(toks) == 0 || e.steps > 10000 {
		return "", false, false
	}
	for len(toks) > 2 && toks[0].text == "(" && matching(toks, 0) == len(toks)-1 {
		toks = toks[1 : len(toks)-1]
	}
	if parts := splitTop(toks, "/"); len(parts) > 1 {
		acc, unsure, ok := e.eval(parts[0], file, depth+1)
		if !ok {
			return "", false, false
		}
		for _, p := range parts[1:] {
			seg, u, ok := e.segment(p, file, depth+1)
			if !ok {
				return "", false, false
			}
			unsure = unsure || u
			acc = joinAbs(acc, seg)
		}
		return acc, unsure, true
	}
	if len(toks) == 1 {
		t := toks[0]
		switch {
		case t.kind == tString:
			if path.IsAbs(t.text) {
				return path.Clean(t.text), false, true
			}
			// A relative path is relative to the server's working folder,
			// which the generated configs set to the project folder.
			return path.Join(filepath.ToSlash(e.s.abs(e.projDir)), t.text), false, true
		case t.kind == tName && t.text == "__file__":
			return filepath.ToSlash(e.s.abs(file)), false, true
		case t.kind == tName:
			v, ok := e.vals[t.text]
			if !ok {
				return "", false, false
			}
			return e.eval(v.expr, v.file, depth+1)
		}
		return "", false, false
	}
	// A primary, optionally called, then trailers: .parent, .resolve(), ...
	name := toks[0].text
	if toks[0].kind != tName {
		return "", false, false
	}
	i := 1
	for i+1 < len(toks) && toks[i].text == "." && toks[i+1].kind == tName {
		name += "." + toks[i+1].text
		i += 2
	}
	var val string
	unsure := false
	if i < len(toks) && toks[i].text == "(" {
		j := matching(toks, i)
		if j < 0 {
			return "", false, false
		}
		args := splitTop(toks[i+1:j], ",")
		v, u, ok := e.callPath(name, args, file, depth)
		if !ok {
			return "", false, false
		}
		val, unsure = v, u
		i = j + 1
	} else {
		// A dotted name with no call: BASE_DIR.parent is handled as a trailer.
		parts := strings.Split(name, ".")
		v, u, ok := e.eval([]token{{kind: tName, text: parts[0]}}, file, depth+1)
		if !ok {
			return "", false, false
		}
		val, unsure = v, u
		for _, p := range parts[1:] {
			if p != "parent" {
				return "", false, false
			}
			val = path.Dir(val)
		}
	}
	for i < len(toks) {
		if toks[i].text != "." || i+1 >= len(toks) {
			return "", false, false
		}
		attr := toks[i+1].text
		i += 2
		if i < len(toks) && toks[i].text == "(" {
			j := matching(toks, i)
			if j < 0 {
				return "", false, false
			}
			args := splitTop(toks[i+1:j], ",")
			switch attr {
			case "resolve", "absolute", "expanduser":
			case "joinpath":
				for _, a := range args {
					seg, u, ok := e.segment(a, file, depth+1)
					if !ok {
						return "", false, false
					}
					unsure = unsure || u
					val = joinAbs(val, seg)
				}
			default:
				return "", false, false
			}
			i = j + 1
			continue
		}
		if attr != "parent" {
			return "", false, false
		}
		val = path.Dir(val)
	}
	return val, unsure, true
}

func (e *pathEnv) callPath(name string, args [][]token, file string, depth int) (string, bool, bool) {
	last := name[strings.LastIndex(name, ".")+1:]
	switch {
	case name == "os.path.join" || last == "Path" || last == "PurePath" || last == "PosixPath":
		if len(args) == 0 {
			return "", false, false
		}
		acc, unsure := "", false
		for n, a := range args {
			eval := e.segment
			if n == 0 {
				eval = e.eval
			}
			seg, u, ok := eval(a, file, depth+1)
			if !ok {
				return "", false, false
			}
			unsure = unsure || u
			if n == 0 {
				acc = seg
			} else {
				acc = joinAbs(acc, seg)
			}
		}
		return acc, unsure, true
	case name == "os.path.dirname":
		if len(args) != 1 {
			return "", false, false
		}
		v, u, ok := e.eval(args[0], file, depth+1)
		return path.Dir(v), u, ok
	case name == "os.path.abspath" || name == "os.path.realpath" || name == "os.path.normpath" || name == "str" || name == "os.fspath" || name == "os.path.expanduser":
		if len(args) != 1 {
			return "", false, false
		}
		return e.eval(args[0], file, depth+1)
	case name == "os.environ.get" || name == "os.getenv" || last == "get" && strings.HasPrefix(name, "env") || name == "config":
		// An environment variable with a default: the default, flagged.
		for idx, a := range args {
			if idx == 1 && (len(a) < 2 || a[1].text != "=") {
				v, _, ok := e.eval(a, file, depth+1)
				return v, true, ok
			}
			if len(a) > 2 && a[0].text == "default" && a[1].text == "=" {
				v, _, ok := e.eval(a[2:], file, depth+1)
				return v, true, ok
			}
		}
	}
	return "", false, false
}

// segment evaluates a path component joined onto another: a string
// literal stays as written (relative to what it is joined to), anything
// else is evaluated in full.
func (e *pathEnv) segment(toks []token, file string, depth int) (string, bool, bool) {
	if len(toks) == 1 && toks[0].kind == tString {
		return toks[0].text, false, true
	}
	return e.eval(toks, file, depth)
}

// joinAbs joins seg onto base, as pathlib and os.path.join do: an
// absolute seg replaces base.
func joinAbs(base, seg string) string {
	if path.IsAbs(seg) {
		return path.Clean(seg)
	}
	return path.Join(base, seg)
}
