package configgen

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/wsgideck/wsgideck/templates"
)

// File names in the generated sets.
const (
	FileUWSGIIni  = "uwsgi.ini"       // both profiles
	FileNginxConf = "nginx.conf"      // local: a complete nginx configuration
	FileMimeTypes = "mime.types"      // local: nginx's stock file, included by nginx.conf
	FileUWSGIPar  = "uwsgi_params"    // local: nginx's stock file, included by nginx.conf
	FileNginxSite = "nginx-site.conf" // production: a server block for sites-available
	FileReadme    = "README.md"       // production: the deploy steps
)

// UnitFile is the production bundle's systemd unit name for project name.
func UnitFile(name string) string { return name + ".service" }

// Files maps a generated file's name to its content.
type Files map[string][]byte

// Names returns the file names, sorted.
func (f Files) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Generate validates c and renders profile p. Nothing is written.
func Generate(p Profile, c Config) (Files, error) {
	if err := Validate(p, c); err != nil {
		return nil, err
	}
	c = c.WithDefaults(p)
	tmpls, err := parsed()
	if err != nil {
		return nil, err
	}
	v := newView(p, c)
	render := func(name string) ([]byte, error) {
		var b bytes.Buffer
		if err := tmpls.ExecuteTemplate(&b, name, v); err != nil {
			return nil, fmt.Errorf("configgen: render %s: %w", name, err)
		}
		return b.Bytes(), nil
	}
	out := Files{}
	var list [][2]string // output name, template or stock path
	if p == Local {
		list = [][2]string{
			{FileUWSGIIni, "local/uwsgi.ini.tmpl"},
			{FileNginxConf, "local/nginx.conf.tmpl"},
			{FileMimeTypes, "stock/mime.types"},
			{FileUWSGIPar, "stock/uwsgi_params"},
		}
	} else {
		list = [][2]string{
			{FileUWSGIIni, "production/uwsgi.ini.tmpl"},
			{FileNginxSite, "production/nginx-site.conf.tmpl"},
			{UnitFile(c.Name), "production/app.service.tmpl"},
			{FileReadme, "production/README.md.tmpl"},
		}
	}
	for _, e := range list {
		var data []byte
		if strings.HasPrefix(e[1], "stock/") {
			data, err = fs.ReadFile(templates.FS, e[1])
		} else {
			data, err = render(e[1])
		}
		if err != nil {
			return nil, err
		}
		out[e[0]] = data
	}
	return out, nil
}

// Stock returns one of nginx's stock files shipped in templates/stock:
// "mime.types", "uwsgi_params" or "fastcgi_params" (Debian 12, nginx 1.22.1).
func Stock(name string) ([]byte, error) {
	if strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("configgen: no stock file %q", name)
	}
	b, err := fs.ReadFile(templates.FS, "stock/"+name)
	if err != nil {
		return nil, fmt.Errorf("configgen: no stock file %q", name)
	}
	return b, nil
}

// parsed parses every template once. Each is named by its path in
// templates.FS ("local/uwsgi.ini.tmpl"); base names alone would collide
// between profiles.
var parsed = sync.OnceValues(func() (*template.Template, error) {
	root := template.New("").Option("missingkey=error")
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		src, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		_, err = root.New(p).Parse(string(src))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("configgen: parse templates: %w", err)
	}
	return root, nil
})

// view is what the templates see: values already spelled for the file
// they go into, so the templates hold no logic beyond if and range.
type view struct {
	Name, Framework string
	ModuleSpec      string // "wsgi:application", "flaskr:create_app()"

	Chdir      string   // uwsgi.ini spelling
	ChdirPath  string   // plain path (systemd, README)
	Home       string   // uwsgi.ini spelling; "" for none
	Venv       string   // plain path
	PythonPath []string // uwsgi.ini spelling
	Env        []string // uwsgi.ini spelling
	Plugins    bool

	Processes                          string // a number, or "%k"
	Threads, Harakiri, MaxRequests     int
	BufferSize, ReadTimeout            int
	ClientMaxBodySize, Expires, LogDir string
	Static                             []staticView

	// Local: host:port strings.
	Listen, Stats string
	// Both: the uwsgi socket as written in uwsgi.ini and as nginx's
	// uwsgi_pass target (without "unix:").
	SocketIni, Socket string

	// Production.
	ServerNames, FirstServerName string
	HTTPPort, HTTPSPort          int
	TLS                          bool
	TLSCert, TLSKey              string
	RedirectHost                 string
	Zone                         string
	User, Group                  string
	RuntimeDir                   string
	UWSGIBinary, IniPath         string
	UnitName                     string
}

type staticView struct{ URL, Dir string }

func newView(p Profile, c Config) view {
	v := view{
		Name:              c.Name,
		Framework:         c.Framework,
		ModuleSpec:        c.App.Module + ":" + c.App.Callable,
		ChdirPath:         c.Chdir,
		Venv:              c.Venv,
		Plugins:           !c.PipUWSGI,
		Processes:         strconv.Itoa(c.Processes),
		Harakiri:          c.Harakiri,
		MaxRequests:       c.MaxRequests,
		BufferSize:        c.BufferSize,
		ClientMaxBodySize: c.ClientMaxBodySize,
		Expires:           c.StaticExpires,
		LogDir:            strings.TrimSuffix(c.LogDir, "/"),
	}
	if c.App.Factory {
		v.ModuleSpec += "()"
	}
	if c.Threads > 1 {
		v.Threads = c.Threads
	}
	// nginx must wait longer than harakiri, so that uWSGI, which logs why,
	// gives up first; nginx's own default is 60s.
	if c.Harakiri > 0 && c.Harakiri+10 > 60 {
		v.ReadTimeout = c.Harakiri + 10
	}
	v.Chdir = iniPath(p, c.Chdir)
	if c.Venv != "" {
		v.Home = iniPath(p, c.Venv)
	}
	for _, pp := range c.PythonPath {
		v.PythonPath = append(v.PythonPath, iniPath(p, pp))
	}
	for _, kv := range c.Env {
		v.Env = append(v.Env, iniEscape(kv))
	}
	for _, s := range c.Static {
		v.Static = append(v.Static, staticView{URL: s.URL, Dir: nginxPath(s.Dir)})
	}

	if p == Local {
		v.Listen = loopback(c.ProxyPort)
		v.Socket = loopback(c.AppPort)
		v.SocketIni = v.Socket
		if c.StatsPort != 0 {
			v.Stats = loopback(c.StatsPort)
		}
		return v
	}

	if c.Processes == 0 {
		v.Processes = "%k"
	}
	v.Socket = c.Socket
	v.SocketIni = iniEscape(c.Socket)
	v.ServerNames = strings.Join(c.ServerNames, " ")
	v.FirstServerName = c.ServerNames[0]
	v.HTTPPort, v.HTTPSPort = c.HTTPPort, c.HTTPSPort
	v.TLS = c.TLSCert != ""
	v.TLSCert, v.TLSKey = c.TLSCert, c.TLSKey
	v.RedirectHost = "$host"
	if c.HTTPSPort != 443 {
		v.RedirectHost = "$host:" + strconv.Itoa(c.HTTPSPort)
	}
	v.Zone = "ssl_" + strings.NewReplacer(".", "_", "-", "_").Replace(c.Name)
	v.User, v.Group = c.User, c.Group
	v.RuntimeDir = runtimeDir(c.Socket)
	v.UWSGIBinary = c.UWSGIBinary
	v.IniPath = c.IniPath
	v.UnitName = UnitFile(c.Name)
	return v
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// iniPath spells a path for uwsgi.ini. A relative local path becomes
// relative to the ini file's folder through uWSGI's %d (which ends in "/").
func iniPath(p Profile, s string) string {
	if p == Production || filepath.IsAbs(s) || path.IsAbs(s) {
		return iniEscape(s)
	}
	rel := path.Clean(filepath.ToSlash(s))
	if rel == "." {
		return "%d"
	}
	return "%d" + iniEscape(rel)
}

// iniEscape protects '%', which uWSGI expands as a magic variable.
func iniEscape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// nginxPath spells a folder for nginx; relative paths stay relative, which
// nginx resolves against its prefix. Static folders keep their trailing
// slash, which alias needs to map /static/x to DIR/x.
func nginxPath(s string) string {
	if filepath.IsAbs(s) || path.IsAbs(s) {
		return s
	}
	return withSlash(path.Clean(filepath.ToSlash(s)))
}

// runtimeDir is the folder systemd should create for a socket directly in
// its own folder under /run ("/run/app/uwsgi.sock" -> "app"), or "" when
// the socket lives elsewhere and its folder is the admin's business.
func runtimeDir(socket string) string {
	dir := path.Dir(path.Clean(socket))
	if path.Dir(dir) != "/run" {
		return ""
	}
	return path.Base(dir)
}
