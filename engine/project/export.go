package project

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// ExportOptions say what the production bundle needs beyond the local
// files.
type ExportOptions struct {
	// Name names the app on the server (socket folder, unit, site); ""
	// means the folder's name, made a Slug.
	Name string
	// ServerNames are nginx's server_name values (the domain).
	ServerNames []string
	// TLSCert and TLSKey are the certificate and key on the server; both
	// or neither.
	TLSCert, TLSKey string
	// AppDir is the app folder on the server; "" means /srv/NAME. Local
	// paths inside the project folder move under it.
	AppDir string
	// Venv is the virtualenv on the server; "" means the local one's
	// place under AppDir, or none when the project uses none.
	Venv string
	// PipUWSGI is set for a uWSGI installed with pip (no
	// "plugins = python3").
	PipUWSGI bool
	// Ini and Nginx are the local files; "" means DIR/uwsgi.ini and
	// DIR/nginx.conf.
	Ini, Nginx string
}

// ProductionConfig reads the project in dir (its uwsgi.ini and
// nginx.conf, as they are now) and returns the production Config for
// configgen, with notes on what could not be carried over as is.
func ProductionConfig(dir string, opts ExportOptions) (configgen.Config, []string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return configgen.Config{}, nil, err
	}
	if opts.Ini == "" {
		opts.Ini = filepath.Join(dir, configgen.FileUWSGIIni)
	}
	if opts.Nginx == "" {
		opts.Nginx = filepath.Join(dir, configgen.FileNginxConf)
	}
	name := opts.Name
	if name == "" {
		name = Slug(filepath.Base(dir))
	}
	appDir := opts.AppDir
	if appDir == "" {
		appDir = "/srv/" + name
	}
	x := &exporter{dir: dir, appDir: path.Clean(appDir)}
	c := configgen.Config{
		Name: name, ServerNames: opts.ServerNames, TLSCert: opts.TLSCert, TLSKey: opts.TLSKey,
		PipUWSGI: opts.PipUWSGI, Chdir: x.appDir,
	}

	ini, err := uwsgiini.Load(opts.Ini)
	if err != nil {
		return c, nil, fmt.Errorf("project: export: %w", err)
	}
	get := func(k string) string { v, _ := ini.Get(k); return v }
	chdir := dir
	if v := get("chdir"); v != "" {
		chdir = x.local(v)
		c.Chdir = x.server(chdir, "chdir")
	}
	switch m := get("module"); {
	case m != "":
		c.App = ParseModule(m)
		if cb := get("callable"); cb != "" && !strings.Contains(m, ":") {
			c.App.Callable = cb
		}
	case get("wsgi-file") != "":
		f := x.local(get("wsgi-file"))
		if !filepath.IsAbs(get("wsgi-file")) {
			f = filepath.Join(chdir, get("wsgi-file"))
		}
		rel, ok := slashRel(chdir, f)
		if !ok || !strings.HasSuffix(rel, ".py") {
			return c, nil, fmt.Errorf("project: export: wsgi-file %s is outside chdir %s; use module = in uwsgi.ini", f, chdir)
		}
		c.App = configgen.App{Module: strings.ReplaceAll(strings.TrimSuffix(rel, ".py"), "/", "."), Callable: get("callable")}
		x.notef("wsgi-file %s is exported as module = %s", get("wsgi-file"), c.App.Module)
	default:
		return c, nil, fmt.Errorf("project: export: %s names no app (module = or wsgi-file =)", opts.Ini)
	}
	if h := get("home"); opts.Venv == "" && h != "" {
		local := x.local(h)
		if rel, ok := slashRel(dir, local); ok {
			c.Venv = path.Join(x.appDir, rel)
		} else {
			c.Venv = path.Join(x.appDir, ".venv")
			x.notef("the virtualenv %s is outside the project: create one at %s on the server", local, c.Venv)
		}
	} else if opts.Venv != "" {
		c.Venv = opts.Venv
	}
	for _, pp := range ini.All("pythonpath") {
		if s := x.server(x.local(pp), "pythonpath"); s != c.Chdir {
			c.PythonPath = append(c.PythonPath, s)
		}
	}
	c.Env = ini.All("env")
	if n, err := ini.Int("threads", 0); err == nil && n > 1 {
		c.Threads = n
	}
	if n, err := ini.Int("harakiri", 0); err == nil && n > 0 {
		c.Harakiri = n
	}
	if n, err := ini.Int("max-requests", 0); err == nil && n > 0 {
		c.MaxRequests = n
	}
	if n, err := ini.Size("buffer-size", 0); err == nil && n > 0 {
		c.BufferSize = int(min(n, 65535))
	}
	seen := map[string]bool{}
	addStatic := func(url, local string) {
		if !strings.HasSuffix(url, "/") {
			url += "/"
		}
		if url == "/" || seen[url] {
			return
		}
		seen[url] = true
		c.Static = append(c.Static, configgen.StaticMap{URL: url, Dir: x.server(local, "the static folder for "+url)})
	}
	for _, sm := range ini.All("static-map") {
		if mount, d, ok := strings.Cut(sm, "="); ok {
			addStatic(mount, x.localIn(dir, d))
		}
	}
	if cfg, _ := nginxconf.Load(opts.Nginx, &nginxconf.Options{Prefix: dir}); cfg != nil {
		x.nginx(cfg, &c, addStatic)
	} else {
		x.notef("%s could not be read: no static folders or body size carried over", opts.Nginx)
	}
	if res, err := detect.Detect(dir); err == nil {
		c.Framework = framework(res, c.App)
	}
	return c, x.notes, nil
}

// Export generates the production bundle of the project in dir: the files
// (not written), the Config they come from, and notes.
func Export(dir string, opts ExportOptions) (configgen.Files, configgen.Config, []string, error) {
	c, notes, err := ProductionConfig(dir, opts)
	if err != nil {
		return nil, c, notes, err
	}
	files, err := configgen.Generate(configgen.Production, c)
	return files, c, notes, err
}

type exporter struct {
	dir, appDir string
	notes       []string
}

func (x *exporter) notef(format string, args ...any) {
	x.notes = append(x.notes, fmt.Sprintf(format, args...))
}

// local cleans an expanded uwsgi.ini path ("%d" leaves a trailing
// slash); relative paths are uWSGI's, against its working folder, which
// wsgideck makes the project folder.
func (x *exporter) local(p string) string { return x.localIn(x.dir, p) }

func (x *exporter) localIn(base, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// server moves a local path inside the project under the server's app
// folder; a path outside it is kept, with a note.
func (x *exporter) server(local, what string) string {
	if rel, ok := slashRel(x.dir, local); ok {
		return path.Join(x.appDir, rel)
	}
	x.notef("%s %s is outside the project and is exported unchanged: make sure it exists on the server", what, local)
	return filepath.ToSlash(local)
}

// nginx carries over the static locations and client_max_body_size of
// the first server.
func (x *exporter) nginx(cfg *nginxconf.Config, c *configgen.Config, addStatic func(url, local string)) {
	servers := confedit.Servers(cfg)
	if len(servers) == 0 {
		return
	}
	srv := servers[0].Block
	if d := srv.Get("client_max_body_size"); d != nil {
		c.ClientMaxBodySize = d.Arg(0)
	} else if h := servers[0].Parent; h != nil && h.Parent != nil {
		if d := h.Get("client_max_body_size"); d != nil {
			c.ClientMaxBodySize = d.Arg(0)
		}
	}
	for _, loc := range srv.Find("location") {
		l, err := loc.Location()
		if err != nil || (l.Kind != nginxconf.LocationPrefix && l.Kind != nginxconf.LocationPrefixNoRegex) || loc.Block == nil {
			continue
		}
		if len(loc.Block.Find("uwsgi_pass"))+len(loc.Block.Find("proxy_pass"))+len(loc.Block.Find("fastcgi_pass")) > 0 {
			continue
		}
		prefix := strings.TrimSuffix(cfg.Prefix, "/")
		if a := loc.Block.Get("alias"); a != nil && !strings.Contains(a.Arg(0), "$") {
			addStatic(l.Path, x.localIn(prefix, a.Arg(0)))
		} else if r := loc.Block.Get("root"); r != nil && !strings.Contains(r.Arg(0), "$") {
			addStatic(l.Path, filepath.Join(x.localIn(prefix, r.Arg(0)), filepath.FromSlash(l.Path)))
		}
	}
}

// framework names the framework of the detected app that is app, for the
// README's framework steps.
func framework(res *detect.Result, app configgen.App) string {
	for _, a := range res.Apps {
		if a.Module != app.Module || a.Callable != app.Callable {
			continue
		}
		switch a.Kind {
		case detect.KindDjango:
			return "django"
		case detect.KindFlask:
			return "flask"
		}
		return ""
	}
	return ""
}
