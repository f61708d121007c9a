package project

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// Proposal is what detection suggests for a folder, for the user to
// confirm or correct before the configs are written.
type Proposal struct {
	Dir       string         // the app folder, absolute
	Detection *detect.Result // everything detection found, with evidence
	// App is the app detection chose, or its best candidate when it
	// could not choose (Chosen false): the user must pick then.
	App    detect.App
	Chosen bool
	// Config is the local profile from detection: the app, its static
	// folders, the virtualenv and free ports. Edit it before Init.
	Config configgen.Config
	// Python is the virtualenv's interpreter (absolute), or "".
	Python string
	// Unsure lists, as sentences with their evidence, what the user
	// should confirm: detection's Unsure and Problem notes, and the
	// choices made here on their behalf.
	Unsure []string
	// Existing lists the config files already in Dir; Init keeps them
	// unless told to overwrite.
	Existing []string
}

// ProposeOptions tune Propose. The zero value is ready to use.
type ProposeOptions struct {
	// Avoid lists ports not to propose (other projects' ports).
	Avoid map[int]bool
	// Detector runs the detection; nil means a zero detect.Detector.
	Detector *detect.Detector
}

// Propose runs detection on dir and proposes a local configuration.
func Propose(dir string, opts ProposeOptions) (*Proposal, error) {
	det := opts.Detector
	if det == nil {
		det = &detect.Detector{}
	}
	res, err := det.Detect(dir)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	pr := &Proposal{Dir: res.Dir, Detection: res}
	for _, n := range res.Notes {
		if n.Level != detect.Info {
			pr.Unsure = append(pr.Unsure, n.String())
		}
	}
	pr.App, pr.Chosen = res.Best()
	if !pr.Chosen {
		for _, a := range res.Apps {
			if a.Servable {
				pr.App = a
				pr.Unsure = append(pr.Unsure, fmt.Sprintf("unsure: detection could not choose between the apps found; %s (%s) is only the first candidate: confirm it or pick another", a.UWSGIModule(), a.Where()))
				break
			}
		}
	}
	for _, n := range pr.App.Notes {
		if n.Level != detect.Info {
			pr.Unsure = append(pr.Unsure, n.String())
		}
	}

	pr.Config = configgen.Config{Name: Slug(filepath.Base(res.Dir)), Chdir: "."}
	if pr.App.Module != "" {
		pr.useApp(pr.App)
	}
	c := pr.Config
	if v, ok := res.Venv(); ok {
		c.Venv = v.Dir
		pr.Python = filepath.Join(res.Dir, filepath.FromSlash(v.Python))
	} else if len(res.Venvs) > 1 {
		pr.Unsure = append(pr.Unsure, "unsure: several virtualenvs were found and none is used; choose one (home = in uwsgi.ini)")
	}

	for _, f := range []string{configgen.FileUWSGIIni, configgen.FileNginxConf} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err == nil {
			pr.Existing = append(pr.Existing, f)
		}
	}
	// An existing uwsgi.ini says which app the user runs: it wins over
	// detection.
	if ini, err := uwsgiini.Load(filepath.Join(res.Dir, configgen.FileUWSGIIni)); err == nil {
		if m, ok := ini.Get("module"); ok && m != "" {
			app := ParseModule(m)
			if cb, ok := ini.Get("callable"); ok && cb != "" && !strings.Contains(m, ":") {
				app.Callable = cb
			}
			if app != c.App && c.App.Module != "" {
				pr.Unsure = append(pr.Unsure, fmt.Sprintf("unsure: the existing uwsgi.ini serves %s, detection suggests %s; the existing one is kept", m, pr.App.UWSGIModule()))
			}
			c.App, pr.Chosen = app, true
		}
	}
	avoid := map[int]bool{}
	for p := range opts.Avoid {
		avoid[p] = true
	}
	appPort, proxyPort := existingPorts(res.Dir)
	if appPort != 0 {
		avoid[appPort] = true
	}
	if proxyPort != 0 {
		avoid[proxyPort] = true
	}
	if proxyPort == 0 {
		proxyPort = FreePort(DefaultProxyPort, avoid)
	}
	if appPort == 0 {
		appPort = FreePort(DefaultAppPort, avoid)
	}
	c.ProxyPort, c.AppPort = proxyPort, appPort
	c.StatsPort = FreePort(DefaultStatsPort, avoid)
	pr.Config = c
	return pr, nil
}

// Choose makes app (one of Detection.Apps, or one the user described)
// the app to serve: the Config's module, framework, Python path and
// static folders follow it.
func (pr *Proposal) Choose(app detect.App) {
	pr.App, pr.Chosen = app, true
	pr.useApp(app)
}

// ChooseModule makes the app the user typed, in uWSGI's spelling
// ("mysite.wsgi:application", "flaskr:create_app()"), the app to serve.
// The Python path and static folders stay as proposed.
func (pr *Proposal) ChooseModule(spec string) error {
	app := ParseModule(spec)
	if app.Module == "" {
		return fmt.Errorf("project: %q names no module; write module:callable, e.g. mysite.wsgi:application", spec)
	}
	pr.Chosen = true
	pr.Config.App = app
	return nil
}

func (pr *Proposal) useApp(app detect.App) {
	c := &pr.Config
	c.App = configgen.App{Module: app.Module, Callable: app.Callable, Factory: app.Factory}
	c.Framework, c.PythonPath, c.Static = "", nil, nil
	switch app.Kind {
	case detect.KindFlask:
		c.Framework = "flask"
	case detect.KindDjango:
		c.Framework = "django"
	}
	if app.PythonPath != "" {
		c.PythonPath = []string{app.PythonPath}
	}
	seen := map[string]bool{}
	for _, st := range app.Static {
		url := st.URL
		if !strings.HasSuffix(url, "/") {
			url += "/"
		}
		if url == "/" || seen[url] || !strings.HasPrefix(url, "/") {
			continue
		}
		seen[url] = true
		c.Static = append(c.Static, configgen.StaticMap{URL: url, Dir: st.Dir})
		if !st.Exists {
			pr.Unsure = append(pr.Unsure, fmt.Sprintf("unsure: the static folder %s (served at %s) does not exist yet; for Django, run \"python manage.py collectstatic\"", st.Dir, url))
		}
	}
}

// existingPorts reads the ports of configs already in dir: uwsgi.ini's
// first TCP socket and nginx.conf's first listen, so that a generated
// companion file agrees with the existing one.
func existingPorts(dir string) (app, proxy int) {
	if ini, err := uwsgiini.Load(filepath.Join(dir, configgen.FileUWSGIIni)); err == nil {
		for _, v := range ini.All("socket") {
			if p := portOf(v); p != 0 {
				app = p
				break
			}
		}
	}
	if cfg, _ := nginxconf.Load(filepath.Join(dir, configgen.FileNginxConf), nil); cfg != nil {
		cfg.Main.Walk(func(d *nginxconf.Directive) bool {
			if d.Name == "listen" && proxy == 0 {
				proxy = portOf(d.Arg(0))
			}
			return proxy == 0
		})
	}
	return app, proxy
}

// portOf reads the port of "host:port", ":port" or "port".
func portOf(addr string) int {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[i+1:]
	}
	n := 0
	for _, c := range addr {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0
		}
	}
	return n
}

// Propose is the package's Propose avoiding the ports of every project
// in the Store.
func (s *Store) Propose(dir string) (*Proposal, error) {
	return Propose(dir, ProposeOptions{Avoid: s.usedPorts()})
}

// InitOptions control Init.
type InitOptions struct {
	// Overwrite replaces existing uwsgi.ini and nginx.conf (the replaced
	// versions are kept in .wsgideck/backups). Without it they stay, and
	// only the missing files are written.
	Overwrite bool
	// Saver writes the files; nil means a zero atomicfile.Saver.
	Saver *atomicfile.Saver
}

// InitResult says what Init did.
type InitResult struct {
	Config  configgen.Config // the settings the files were generated from
	Written []string         // file names written
	Kept    []string         // existing files left as they were
}

// ErrNoApp is wrapped by Init when there is no app to configure.
var ErrNoApp = errors.New("no WSGI app to configure")

// Init generates the local configs of the proposal (with the user's
// corrections in pr.Config) into pr.Dir. Existing files are kept unless
// opts.Overwrite; mime.types and uwsgi_params are written only when
// missing. It fails, writing nothing, when the config does not validate
// or the app was not chosen: detection could not choose (pr.Chosen is
// false) and neither Choose nor ChooseModule was called. A guess is
// never written.
func (pr *Proposal) Init(opts InitOptions) (*InitResult, error) {
	c := pr.Config
	if !opts.Overwrite && len(pr.Existing) == 2 {
		return pr.stockOnly(opts)
	}
	if c.App.Module == "" || !pr.Chosen {
		var why []string
		for _, a := range pr.Detection.Apps {
			if !a.Servable {
				for _, n := range a.Notes {
					why = append(why, n.String())
				}
			}
		}
		why = append(why, pr.Unsure...)
		found := "detection found none it can serve"
		for _, a := range pr.Detection.Apps {
			if a.Servable {
				found = "detection could not choose one"
			}
		}
		return nil, fmt.Errorf("project: %s: %w: %s:\n  %s\nname the app yourself (module:callable)", pr.Dir, ErrNoApp, found, strings.Join(why, "\n  "))
	}
	files, err := configgen.Generate(configgen.Local, c)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	res := &InitResult{Config: c.WithDefaults(configgen.Local)}
	out := configgen.Files{}
	for _, name := range files.Names() {
		_, statErr := os.Stat(filepath.Join(pr.Dir, name))
		exists := statErr == nil
		replaceable := name == configgen.FileUWSGIIni || name == configgen.FileNginxConf
		if exists && (!replaceable || !opts.Overwrite) {
			res.Kept = append(res.Kept, name)
			continue
		}
		out[name] = files[name]
		res.Written = append(res.Written, name)
	}
	if err := configgen.WriteDir(pr.Dir, out, opts.Saver); err != nil {
		return nil, err
	}
	return res, nil
}

// stockOnly is Init for a folder whose configs both exist: only nginx's
// stock files that are missing are written.
func (pr *Proposal) stockOnly(opts InitOptions) (*InitResult, error) {
	res := &InitResult{Config: pr.Config.WithDefaults(configgen.Local), Kept: []string{configgen.FileUWSGIIni, configgen.FileNginxConf}}
	out := configgen.Files{}
	for _, name := range []string{configgen.FileMimeTypes, configgen.FileUWSGIPar} {
		if _, err := os.Stat(filepath.Join(pr.Dir, name)); err == nil {
			res.Kept = append(res.Kept, name)
			continue
		}
		b, err := configgen.Stock(name)
		if err != nil {
			return nil, err
		}
		out[name] = b
		res.Written = append(res.Written, name)
	}
	if err := configgen.WriteDir(pr.Dir, out, opts.Saver); err != nil {
		return nil, err
	}
	return res, nil
}

// Init detects the app in dir and writes its local configs, keeping
// existing ones unless opts.Overwrite. The Proposal says what was found
// and what detection was unsure of.
func Init(dir string, opts InitOptions) (*Proposal, *InitResult, error) {
	pr, err := Propose(dir, ProposeOptions{})
	if err != nil {
		return nil, nil, err
	}
	res, err := pr.Init(opts)
	return pr, res, err
}

// ParseModule reads uWSGI's module spelling ("mysite.wsgi:application",
// "wsgi", "flaskr:create_app()") into a configgen.App.
func ParseModule(spec string) configgen.App {
	mod, callable, _ := strings.Cut(spec, ":")
	app := configgen.App{Module: mod, Callable: callable}
	if c, ok := strings.CutSuffix(callable, "()"); ok {
		app.Callable, app.Factory = c, true
	}
	return app
}

// slashRel returns p relative to dir, slash-separated, when p is inside
// dir.
func slashRel(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", false
	}
	return path.Clean(filepath.ToSlash(rel)), true
}
