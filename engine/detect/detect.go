package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Logf is a printf-style logger.
type Logf func(format string, args ...any)

// A Detector searches a project folder. The zero value is ready to use.
type Detector struct {
	// MaxDepth is how many folders deep Python files are read; 0 means 4.
	MaxDepth int
	// MaxFiles caps the Python files read; 0 means 2000. A project with
	// more gets a note saying the search stopped.
	MaxFiles int
	// Logf receives details of files that could not be read; nil
	// discards them (they are also reported as notes).
	Logf Logf
}

// Detect searches dir with a zero Detector.
func Detect(dir string) (*Result, error) {
	var d Detector
	return d.Detect(dir)
}

// maxSource is the largest Python file read; bigger ones are generated
// code or data, not an app's entry point.
const maxSource = 1 << 20

// Detect searches dir for apps, virtualenvs and static folders. Its error
// is only for a dir that cannot be read at all; everything else found,
// doubtful or missing is in the Result's notes.
func (d *Detector) Detect(dir string) (*Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("detect %s: not a folder (choose the project folder, not a file in it)", dir)
	}
	s := &search{d: d, root: abs, hasInit: map[string]bool{}, modules: map[string]*fileFacts{}, res: &Result{Dir: abs}}
	if err := s.walk(); err != nil {
		return nil, fmt.Errorf("detect %s: %w", dir, err)
	}
	s.readModules()
	s.resolve()
	s.candidates()
	s.django()
	s.rank()
	s.res.Venvs, s.venvNotes = findVenvs(abs, s.venvDirs)
	s.res.Notes = append(s.res.Notes, s.venvNotes...)
	s.checkVenvPackages()
	return s.res, nil
}

type search struct {
	d         *Detector
	root      string
	files     []string        // Python files to read, relative
	manages   []string        // manage.py files, relative
	venvDirs  []string        // folders that look like virtualenvs, relative
	hasInit   map[string]bool // folders holding __init__.py
	facts     []*fileFacts
	modules   map[string]*fileFacts
	apps      []App
	origins   []string // per apps entry: where the app object is defined
	res       *Result
	venvNotes []Note
	truncated bool
}

func (s *search) note(level Level, msg string, ev ...Evidence) {
	s.res.Notes = append(s.res.Notes, Note{Level: level, Message: msg, Evidence: ev})
}

func (s *search) logf(format string, args ...any) {
	if s.d.Logf != nil {
		s.d.Logf(format, args...)
	}
}

// skipDirs are never searched for the app: tooling, dependencies, tests
// and assets.
var skipDirs = map[string]bool{
	"node_modules": true, "__pycache__": true, "site-packages": true, "dist-packages": true,
	"dist": true, "build": true, "tests": true, "test": true, "testing": true, "docs": true,
	"doc": true, "examples": true, "example": true, "migrations": true, "static": true,
	"templates": true, "media": true, "htmlcov": true, "venv": true, "env": true, "virtualenv": true,
	"staticfiles": true, "assets": true,
}

// skipFiles are Python files that are never the app.
func skipFile(name string) bool {
	switch name {
	case "conftest.py", "setup.py", "noxfile.py", "fabfile.py", "manage.py", "gunicorn.conf.py", "__main__.py":
		return true
	}
	return strings.HasPrefix(name, "test_") || strings.HasSuffix(name, "_test.py") || strings.HasSuffix(name, "_tests.py")
}

func (s *search) walk() error {
	maxDepth, maxFiles := s.d.MaxDepth, s.d.MaxFiles
	if maxDepth <= 0 {
		maxDepth = 4
	}
	if maxFiles <= 0 {
		maxFiles = 2000
	}
	return filepath.WalkDir(s.root, func(p string, e fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(s.root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if rel == "." {
				return err
			}
			s.logf("detect: %v", err)
			s.note(Info, "could not read "+rel+": "+unwrapPathError(err), Evidence{File: rel})
			if e != nil && e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		depth := 0
		if rel != "." {
			depth = strings.Count(rel, "/") + 1
		}
		name := e.Name()
		if e.IsDir() {
			if rel == "." {
				return nil
			}
			if isVenvDir(p) {
				if depth <= 2 {
					s.venvDirs = append(s.venvDirs, rel)
				}
				return fs.SkipDir
			}
			if strings.HasPrefix(name, ".") || skipDirs[name] || depth > maxDepth {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".py") || !e.Type().IsRegular() {
			return nil
		}
		if name == "__init__.py" {
			s.hasInit[path.Dir(rel)] = true
		}
		if name == "manage.py" && depth <= 3 {
			s.manages = append(s.manages, rel)
			return nil
		}
		if skipFile(name) {
			return nil
		}
		if len(s.files) >= maxFiles {
			if !s.truncated {
				s.truncated = true
				s.note(Unsure, fmt.Sprintf("stopped reading after %d Python files; if the app was not found, open its own folder rather than a parent", maxFiles))
			}
			return nil
		}
		s.files = append(s.files, rel)
		return nil
	})
}

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// isVenvDir reports a virtualenv: a pyvenv.cfg, or the older virtualenv
// layout of an activate script beside an interpreter.
func isVenvDir(dir string) bool {
	if fileExists(filepath.Join(dir, "pyvenv.cfg")) {
		return true
	}
	return fileExists(filepath.Join(dir, "bin", "activate")) && (fileExists(filepath.Join(dir, "bin", "python")) || fileExists(filepath.Join(dir, "bin", "python3"))) ||
		fileExists(filepath.Join(dir, "Scripts", "activate")) && fileExists(filepath.Join(dir, "Scripts", "python.exe"))
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// modulePath names the module for a file: packages upward while folders
// hold __init__.py, the first folder without one being the sys.path entry.
func (s *search) modulePath(rel string) (module, pyPath, pkg string, namespace bool, bad string) {
	dir := path.Dir(rel)
	stem := strings.TrimSuffix(path.Base(rel), ".py")
	var parts []string
	if stem != "__init__" {
		parts = []string{stem}
	}
	d := dir
	for d != "." && s.hasInit[d] {
		parts = append([]string{path.Base(d)}, parts...)
		d = path.Dir(d)
	}
	if d != "." {
		pyPath = d
		namespace = true
	}
	module = strings.Join(parts, ".")
	if module == "" {
		return "", "", "", false, "it is the project folder's own __init__.py"
	}
	for _, p := range parts {
		if !isIdentifier(p) {
			return module, pyPath, "", namespace, fmt.Sprintf("%q is not a valid Python name, so it cannot be imported", p)
		}
	}
	pkg = module
	if stem != "__init__" {
		pkg = strings.Join(parts[:len(parts)-1], ".")
	}
	return module, pyPath, pkg, namespace, ""
}

func isIdentifier(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return !isKeyword(s)
}

func (s *search) readModules() {
	for _, rel := range s.files {
		src, err := readSource(filepath.Join(s.root, filepath.FromSlash(rel)))
		if err != nil {
			s.logf("detect: %v", err)
			s.note(Info, "could not read "+rel+": "+unwrapPathError(err), Evidence{File: rel})
			continue
		}
		if src == nil {
			continue
		}
		f := &fileFacts{path: rel, stmts: scanPython(src)}
		f.module, f.pyPath, f.pkg, f.namespace, f.badName = s.modulePath(rel)
		analyze(f)
		s.facts = append(s.facts, f)
		if f.badName == "" {
			if _, dup := s.modules[f.module]; !dup {
				s.modules[f.module] = f
			}
		}
	}
}

// readSource reads a Python file, or returns nil for one too large to be
// an app's entry point.
func readSource(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxSource {
		return nil, nil
	}
	return os.ReadFile(p)
}

// resolve follows names imported from other modules of the project:
// "from flaskr import create_app; app = create_app()".
func (s *search) resolve() {
	for pass := 0; pass < 4; pass++ {
		changed := false
		for _, f := range s.facts {
			var keep []pending
			for _, p := range f.pendings {
				a := s.findApp(f, p.qualified, 0)
				if a == nil {
					keep = append(keep, p)
					continue
				}
				switch {
				case p.call && a.factory:
					inst := a.clone(p.name)
					inst.factory, inst.required = false, nil
					inst.ev = append([]Evidence{p.ev}, a.ev...)
					f.addApp(inst)
				case p.call:
					// calling an app instance is not building one
				case p.wrapper != "":
					w := a.clone(p.name)
					w.ev = append([]Evidence{p.ev}, a.ev...)
					w.wrapped = true
					if p.wrapper == asgiToWSGI && a.kind == KindASGI {
						w.kind, w.framework = KindWSGI, a.framework+" via a2wsgi"
					}
					f.addApp(w)
				case isEntryFile(f.path) || p.name == "application":
					al := a.clone(p.name)
					al.ev = append([]Evidence{p.ev}, a.ev...)
					f.addApp(al)
				}
				changed = true
			}
			f.pendings = keep
		}
		if !changed {
			return
		}
	}
}

// findApp follows a qualified import to the app it names, through
// re-exports such as a package __init__.py's "from .factory import create_app".
func (s *search) findApp(f *fileFacts, q string, depth int) *appFact {
	tf, name := s.lookup(f, q)
	if tf == nil || depth > 8 {
		return nil
	}
	if a := tf.apps[name]; a != nil {
		return a
	}
	if next, ok := tf.imports[name]; ok {
		return s.findApp(tf, next, depth+1)
	}
	return nil
}

// lookup finds the module and name a qualified import refers to.
func (s *search) lookup(f *fileFacts, q string) (*fileFacts, string) {
	level := len(q) - len(strings.TrimLeft(q, "."))
	rest := q[level:]
	mod, name := "", rest
	if i := strings.LastIndex(rest, "."); i >= 0 {
		mod, name = rest[:i], rest[i+1:]
	}
	if level > 0 {
		base := f.pkg
		for i := 1; i < level; i++ {
			if j := strings.LastIndex(base, "."); j >= 0 {
				base = base[:j]
			} else {
				base = ""
			}
		}
		switch {
		case mod == "":
			mod = base
		case base != "":
			mod = base + "." + mod
		}
	}
	if mod == "" {
		return nil, ""
	}
	return s.modules[mod], name
}

// isEntryFile reports the file names WSGI apps are conventionally served from.
func isEntryFile(rel string) bool {
	switch path.Base(rel) {
	case "wsgi.py", "app.py", "application.py", "main.py", "server.py", "run.py", "index.py", "web.py", "api.py", "asgi.py", "__init__.py":
		return true
	}
	return false
}

// candidates turns every module's app bindings into Apps.
func (s *search) candidates() {
	for _, f := range s.facts {
		// Functions shaped like WSGI apps beside a conventionally named one
		// are its request handlers (def index(environ, start_response)).
		_, hasApplication := f.apps["application"]
		_, hasApp := f.apps["app"]
		for _, name := range f.order {
			a := f.apps[name]
			if a.handlerLike && (hasApplication || hasApp) {
				continue
			}
			if f.badName != "" {
				s.note(Problem, fmt.Sprintf("%s defines %s, but %s: rename the folder or file", f.path, name, f.badName), a.ev[0])
				continue
			}
			app := App{
				Kind:        a.kind,
				Framework:   a.framework,
				Module:      f.module,
				Callable:    name,
				Factory:     a.factory,
				FactoryArgs: a.required,
				PythonPath:  f.pyPath,
				Servable:    a.kind != KindASGI && len(a.required) == 0,
				Score:       score(f, a),
				Evidence:    a.ev,
			}
			s.appNotes(&app, f, a)
			app.Static = s.staticFor(&app, f, a)
			s.apps = append(s.apps, app)
			s.origins = append(s.origins, a.origin)
		}
	}
}

func score(f *fileFacts, a *appFact) int {
	n := 20
	switch path.Base(f.path) {
	case "wsgi.py":
		n = 60
	case "app.py", "application.py":
		n = 50
	case "__init__.py":
		n = 45
	case "main.py", "server.py", "run.py", "index.py", "web.py", "api.py", "asgi.py":
		n = 40
	}
	n -= 5 * strings.Count(f.path, "/")
	switch a.name {
	case "application":
		n += 6
	case "app":
		n += 4
	}
	if a.factory {
		n -= 3
	}
	return n
}

func (s *search) appNotes(app *App, f *fileFacts, a *appFact) {
	where := app.Where()
	if f.namespace {
		app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{{File: f.pyPath}},
			Message: fmt.Sprintf("%s has no __init__.py, so %s is imported as the top-level module %q with %s on the Python path; if the code imports its folder as a package, add %s/__init__.py",
				f.pyPath, path.Base(f.path), f.module, f.pyPath, f.pyPath)})
	}
	switch {
	case a.kind == KindASGI:
		app.Notes = append(app.Notes, Note{Level: Problem, Evidence: a.ev[:1], Message: asgiAdvice(app)})
	case a.factory && len(a.required) > 0:
		app.Notes = append(app.Notes, Note{Level: Problem, Evidence: a.ev[:1], Message: fmt.Sprintf(
			"%s at %s is an app factory that needs arguments (%s), and a WSGI server can only call it without any. Add a wsgi.py beside the project that builds the app, e.g.\n    from %s import %s\n    application = %s(...)  # the arguments for this server\nand serve wsgi:application",
			app.Callable, where, strings.Join(a.required, ", "), app.Module, app.Callable, app.Callable)})
	case a.factory:
		app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: a.ev[:1], Message: fmt.Sprintf(
			"%s at %s is an app factory: the app is built by calling it once when the server loads it. uWSGI does that for \"module = %s\" (a callable ending in () is called with no arguments); check that %s() with no arguments builds the app you want to serve",
			app.Callable, where, app.UWSGIModule(), app.Callable)})
	}
	if a.wrapped && strings.HasSuffix(a.framework, "via a2wsgi") {
		app.Notes = append(app.Notes, Note{Level: Info, Evidence: a.ev[:1], Message: "the ASGI app is wrapped with a2wsgi's ASGIMiddleware, so WSGI servers can run it; websockets and work after the response do not run under WSGI"})
	}
}

// asgiAdvice explains why an ASGI app cannot run here and what to do.
func asgiAdvice(app *App) string {
	msg := fmt.Sprintf("%s at %s is a %s app, an ASGI application: it is called as app(scope, receive, send). WSGI servers (uWSGI, gunicorn's default workers, wsgideck's engine) call application(environ, start_response) and cannot run it. "+
		"Either serve it with an ASGI server (uvicorn %s:%s) and point nginx at it with proxy_pass, or wrap it for WSGI with a2wsgi (pip install a2wsgi; in wsgi.py: from %s import %s; from a2wsgi import ASGIMiddleware; application = ASGIMiddleware(%s)), which gives up websockets and work after the response",
		app.Callable, app.Where(), app.Framework, app.Module, app.Callable, app.Module, app.Callable, app.Callable)
	switch app.Framework {
	case "Quart":
		msg += ". Quart mirrors Flask's API, so porting it to Flask also makes it a WSGI app"
	case "Django (ASGI)":
		msg += ". Django also speaks WSGI: serve its wsgi.py (get_wsgi_application) instead"
	}
	return msg
}

// staticFor finds the static folder an app serves.
func (s *search) staticFor(app *App, f *fileFacts, a *appFact) []Static {
	if a.kind == KindASGI {
		return nil
	}
	dir := path.Dir(f.path) // Flask's root_path: the module's folder, or the package's
	if a.kind == KindFlask {
		if a.staticOff {
			return nil
		}
		folder := "static"
		explicit := a.staticFolder != nil
		if explicit {
			folder = *a.staticFolder
		}
		full := folder
		if !path.IsAbs(folder) {
			full = path.Join(dir, folder)
		}
		url := "/" + path.Base(folder)
		if a.staticURL != nil {
			url = *a.staticURL
		}
		if url == "" || url == "/" {
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: a.ev[:1], Message: "the app serves static files at the site root (static_url_path), which nginx cannot tell apart from the app's pages; they stay with the app"})
			return nil
		}
		st := Static{URL: withSlash(url), Dir: full, Exists: dirExists(s.abs(full)), Evidence: []Evidence{{File: full, Text: "Flask's static folder"}}}
		if a.staticEv != nil {
			st.Evidence = append(st.Evidence, *a.staticEv)
		}
		if !st.Exists {
			if explicit {
				app.Notes = append(app.Notes, Note{Level: Problem, Evidence: a.ev[:1], Message: fmt.Sprintf("the app's static_folder %q does not exist (looked for %s)", folder, full)})
			}
			return nil
		}
		return []Static{st}
	}
	if a.kind == KindDjango {
		return nil // the Django chain reads STATIC_ROOT
	}
	for _, d := range []string{path.Join(dir, "static"), "static"} {
		if dirExists(s.abs(d)) {
			app.Notes = append(app.Notes, Note{Level: Unsure, Evidence: []Evidence{{File: d}},
				Message: fmt.Sprintf("nginx will serve %s/ at /static/, going by the folder's name; check that the app's pages link their files under /static/", d)})
			return []Static{{URL: "/static/", Dir: d, Exists: true, Evidence: []Evidence{{File: d, Text: "a folder named static"}}}}
		}
	}
	return nil
}

func (s *search) abs(rel string) string {
	if path.IsAbs(rel) {
		return filepath.FromSlash(rel)
	}
	return filepath.Join(s.root, filepath.FromSlash(rel))
}

func withSlash(u string) string {
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// rank merges candidates that are one app under several names, orders
// them, and says what is uncertain.
func (s *search) rank() {
	best := map[string]int{} // origin -> index in merged
	var merged []App
	for i, a := range s.apps {
		o := s.origins[i]
		if j, ok := best[o]; ok && o != "" {
			if a.Score > merged[j].Score || (a.Score == merged[j].Score && !a.Factory && merged[j].Factory) {
				merged[j] = a
			}
			continue
		}
		if o != "" {
			best[o] = len(merged)
		}
		merged = append(merged, a)
	}
	// Django's asgi.py is not a second app when the project serves WSGI.
	hasDjango := false
	for _, a := range merged {
		if a.Kind == KindDjango && a.Servable {
			hasDjango = true
		}
	}
	if hasDjango {
		var keep []App
		for _, a := range merged {
			if a.Framework != "Django (ASGI)" {
				keep = append(keep, a)
			}
		}
		merged = keep
	}
	sort.SliceStable(merged, func(i, j int) bool {
		a, b := merged[i], merged[j]
		if a.Servable != b.Servable {
			return a.Servable
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Where() < b.Where()
	})
	s.res.Apps = merged

	var servable []App
	for _, a := range merged {
		if a.Servable {
			servable = append(servable, a)
		}
	}
	switch {
	case len(merged) == 0:
		s.note(Problem, fmt.Sprintf("no WSGI app found in %d Python files. wsgideck looks for Flask(...) and app factories, Django's manage.py, get_wsgi_application(), Bottle, Falcon and Pyramid apps, and functions application(environ, start_response). Create wsgi.py with a callable named application, or choose the module and callable yourself", len(s.files)))
	case len(servable) == 0:
		s.note(Problem, "no app here can run on a WSGI server as it is; the app's notes say why and what to do", merged[0].Evidence[:1]...)
	case len(servable) > 1 && servable[0].Score == servable[1].Score:
		var names []string
		var ev []Evidence
		for _, a := range servable {
			if a.Score == servable[0].Score {
				names = append(names, a.UWSGIModule()+" ("+a.Where()+")")
				ev = append(ev, a.Evidence[0])
			}
		}
		s.note(Unsure, "several apps are equally likely: "+strings.Join(names, ", ")+"; choose the one to serve", ev...)
	case len(servable) > 1:
		var others []string
		for _, a := range servable[1:] {
			others = append(others, a.UWSGIModule()+" ("+a.Where()+")")
		}
		s.note(Unsure, fmt.Sprintf("serving %s (%s) and also found %s; choose another if that is not the app to serve",
			servable[0].UWSGIModule(), servable[0].Where(), strings.Join(others, ", ")), servable[0].Evidence[0])
	}
}

// checkVenvPackages warns when the chosen app's framework is missing from
// the only virtualenv.
func (s *search) checkVenvPackages() {
	app, ok := s.res.Best()
	v, vok := s.res.Venv()
	if !ok || !vok || v.SystemSitePackages {
		return
	}
	pkg := map[Kind]string{KindFlask: "flask", KindDjango: "django"}[app.Kind]
	if pkg == "" || v.Packages == nil {
		return
	}
	if _, ok := v.Packages[pkg]; !ok {
		s.note(Problem, fmt.Sprintf("the app uses %s, but %s is not installed in %s: run %s -m pip install %s (or install the project's requirements)",
			app.Framework, pkg, v.Dir, v.Python, pkg), Evidence{File: v.Dir})
	}
}
