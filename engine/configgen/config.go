package configgen

import (
	"path"
	"strings"
)

// A Profile selects what Generate renders.
type Profile string

const (
	// Local is the development profile: uwsgi.ini, nginx.conf and the
	// stock files nginx.conf includes.
	Local Profile = "local"
	// Production is the deploy bundle: uwsgi.ini, an nginx site file, a
	// systemd unit and README.md.
	Production Profile = "production"
)

// App names the WSGI callable uWSGI serves.
type App struct {
	// Module is the dotted module uWSGI imports, relative to Chdir or a
	// PythonPath entry: "wsgi", "mysite.wsgi", "flaskr".
	Module string
	// Callable is the name in Module: "application" (the default when
	// empty), "app", or with Factory set, "create_app".
	Callable string
	// Factory says Callable is an app factory to be called once, with no
	// arguments, when the app loads: "module = flaskr:create_app()".
	Factory bool
}

// StaticMap serves one folder of static files at a URL prefix.
type StaticMap struct {
	URL string // URL prefix, "/static/"; a missing trailing slash is added
	Dir string // the folder; a missing trailing slash is added
}

// Config is everything the templates need. Zero fields take the defaults
// documented on each (see WithDefaults).
type Config struct {
	// Name names the project in comments and, for production, the socket
	// folder, the systemd unit, the nginx site and its log files. Letters,
	// digits, '.', '_' and '-'.
	Name string

	// Framework is "django", "flask" or "" (plain WSGI); it adds the
	// framework's steps to the deploy README.
	Framework string

	App App

	// Chdir is the app folder uWSGI changes to before importing App.Module.
	Chdir string
	// Venv is the virtualenv (uWSGI home); empty means the interpreter's
	// own packages.
	Venv string
	// PythonPath lists extra import folders (uWSGI pythonpath), e.g. "src".
	PythonPath []string
	// Env lists KEY=VALUE variables set for the app (uWSGI env).
	Env []string
	// Static lists the folders nginx serves itself.
	Static []StaticMap

	// Processes is the number of uWSGI workers. Default: 2 locally; in
	// production, one per CPU core of the server (uWSGI's %k).
	Processes int
	// Threads per worker; 0 or 1 means none.
	Threads int
	// Harakiri kills a worker stuck on one request for this many seconds.
	// Default: off locally, 30 in production.
	Harakiri int
	// MaxRequests recycles a worker after that many requests. Default:
	// off locally, 5000 in production.
	MaxRequests int
	// BufferSize is uWSGI's buffer-size, the largest request head it
	// accepts. Default 32768: nginx's 4 x 8k large_client_header_buffers.
	BufferSize int
	// ClientMaxBodySize is nginx's client_max_body_size. Default "10m".
	ClientMaxBodySize string

	// PipUWSGI is set when uWSGI was installed with pip and has Python
	// built in; otherwise the configs load Debian's "plugins = python3".
	PipUWSGI bool

	// Local profile.

	// ProxyPort is the loopback port nginx listens on.
	ProxyPort int
	// AppPort is the loopback port uWSGI's uwsgi-protocol socket binds.
	AppPort int
	// StatsPort is the loopback port of uWSGI's stats server; 0 means none.
	StatsPort int

	// Production profile.

	// ServerNames are nginx's server_name values (at least one).
	ServerNames []string
	// HTTPPort and HTTPSPort default to 80 and 443.
	HTTPPort, HTTPSPort int
	// TLSCert and TLSKey are the certificate and key paths on the server.
	// Both or neither; with them the site serves HTTPS and redirects HTTP.
	TLSCert, TLSKey string
	// Socket is uWSGI's unix socket. Default "/run/NAME/uwsgi.sock"; a
	// socket in its own folder under /run gets that folder from systemd
	// (RuntimeDirectory).
	Socket string
	// User and Group run uWSGI and own the socket; nginx's user must be
	// in Group. Default "www-data", Debian's nginx user.
	User, Group string
	// UWSGIBinary is the uwsgi program the unit starts. Default
	// "/usr/bin/uwsgi", or VENV/bin/uwsgi for a pip-installed uWSGI.
	UWSGIBinary string
	// IniPath is where the README installs uwsgi.ini and the unit reads
	// it. Default "/etc/uwsgi/apps-available/NAME.ini" (Debian's folder;
	// apps-available is not auto-started, so the unit is the only runner).
	IniPath string
	// LogDir holds the site's nginx logs. Default "/var/log/nginx".
	LogDir string
	// StaticExpires is nginx's expires for static files. Default "30d".
	StaticExpires string
}

// Default values; see the Config fields.
const (
	DefaultLocalProcesses    = 2
	DefaultHarakiri          = 30
	DefaultMaxRequests       = 5000
	DefaultBufferSize        = 32768
	DefaultClientMaxBodySize = "10m"
	DefaultUser              = "www-data"
	DefaultLogDir            = "/var/log/nginx"
	DefaultStaticExpires     = "30d"
)

// WithDefaults returns c with the zero fields that profile p uses set to
// their defaults, and static URLs and folders ending in "/". Generate
// applies it itself; callers use it to show the values that will be used.
func (c Config) WithDefaults(p Profile) Config {
	if c.App.Callable == "" {
		c.App.Callable = "application"
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.ClientMaxBodySize == "" {
		c.ClientMaxBodySize = DefaultClientMaxBodySize
	}
	c.Framework = strings.ToLower(c.Framework)
	c.Static = append([]StaticMap(nil), c.Static...)
	for i := range c.Static {
		c.Static[i].URL = withSlash(c.Static[i].URL)
		c.Static[i].Dir = withSlash(c.Static[i].Dir)
	}
	if p == Local {
		if c.Processes == 0 {
			c.Processes = DefaultLocalProcesses
		}
		return c
	}
	if c.Harakiri == 0 {
		c.Harakiri = DefaultHarakiri
	}
	if c.MaxRequests == 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = 80
	}
	if c.HTTPSPort == 0 {
		c.HTTPSPort = 443
	}
	if c.Socket == "" && c.Name != "" {
		c.Socket = "/run/" + c.Name + "/uwsgi.sock"
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Group == "" {
		c.Group = c.User
	}
	if c.UWSGIBinary == "" {
		c.UWSGIBinary = "/usr/bin/uwsgi"
		if c.PipUWSGI {
			c.UWSGIBinary = "/usr/local/bin/uwsgi"
			if c.Venv != "" {
				c.UWSGIBinary = path.Join(c.Venv, "bin", "uwsgi")
			}
		}
	}
	if c.IniPath == "" && c.Name != "" {
		c.IniPath = "/etc/uwsgi/apps-available/" + c.Name + ".ini"
	}
	if c.LogDir == "" {
		c.LogDir = DefaultLogDir
	}
	if c.StaticExpires == "" {
		c.StaticExpires = DefaultStaticExpires
	}
	return c
}

func withSlash(s string) string {
	if s == "" || strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}
