package appserver

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// Protocol is what a listening socket speaks.
type Protocol int

const (
	ProtoUWSGI   Protocol = iota // socket, uwsgi-socket
	ProtoHTTP                    // http-socket, http
	ProtoFastCGI                 // fastcgi-socket
)

func (p Protocol) String() string {
	switch p {
	case ProtoHTTP:
		return "http"
	case ProtoFastCGI:
		return "fastcgi"
	}
	return "uwsgi"
}

// Socket is one listening socket.
type Socket struct {
	Proto Protocol
	// Addr is "host:port", ":port" (all IPv4 interfaces, as uWSGI), "[v6]:port",
	// a unix socket path, or "@name" for the abstract namespace.
	Addr string
	// Option is the option that configured it ("http-socket"), for messages.
	Option string
	// Where names the config line ("uwsgi.ini:4"), for messages; may be "".
	Where string
}

// StaticMap is one static-map entry: URLs under Mount are files under Dir.
type StaticMap struct {
	Mount, Dir string
}

// Config is the engine's configuration in typed form. FromINI fills it from
// a uwsgi.ini; the zero value plus Sockets and an app is a working config.
type Config struct {
	Sockets []Socket

	// App loading (in each worker).
	Chdir      string
	Module     string // "pkg.mod" or "pkg.mod:callable" (module, wsgi)
	WSGIFile   string // wsgi-file, file
	Callable   string // default "application"
	PythonPath []string
	Env        []string // "K=V", added to the workers' environment
	Home       string   // home, virtualenv: its bin/python runs the workers
	Python     string   // the interpreter; default: Home's, else python3 on PATH
	NeedApp    bool
	LazyApps   bool // accepted; every worker loads the app itself (see the package doc)

	Processes     int // default 1
	Threads       int // cores per worker, default 1
	EnableThreads bool

	Listen        int   // backlog, default 100
	BufferSize    int   // largest uwsgi vars block / FastCGI params, default 4096
	PostBuffering int64 // bodies up to this size are read before dispatch; 0 = stream
	ChmodSocket   string

	Vacuum  bool
	Pidfile string

	StaticMaps []StaticMap

	LogTo          string // daemonize / logto: the log goes to this file
	DisableLogging bool   // no request log lines

	WorkerReloadMercy time.Duration // default 60s
	SocketTimeout     time.Duration // reading a request head or body, default 4s (uWSGI's)

	// Master is accepted for compatibility: the Go master always runs.
	Master bool
}

// Defaults uWSGI uses.
const (
	DefaultListen            = 100
	DefaultWorkerReloadMercy = 60 * time.Second
	DefaultSocketTimeout     = 4 * time.Second
)

// withDefaults returns c with zero fields set to uWSGI's defaults.
func (c Config) withDefaults() Config {
	if c.Processes <= 0 {
		c.Processes = 1
	}
	if c.Threads <= 0 {
		c.Threads = 1
	}
	if c.Listen <= 0 {
		c.Listen = DefaultListen
	}
	if c.BufferSize <= 0 {
		c.BufferSize = uwsgiproto.DefaultBufferSize
	}
	if c.WorkerReloadMercy <= 0 {
		c.WorkerReloadMercy = DefaultWorkerReloadMercy
	}
	if c.SocketTimeout <= 0 {
		c.SocketTimeout = DefaultSocketTimeout
	}
	return c
}

// resolvePaths makes unix socket paths and static-map directories relative
// to Chdir, as uWSGI binds its sockets and serves files after its chdir
// (pidfile and logto stay relative to the master's directory, as uWSGI
// writes them before).
func (c *Config) resolvePaths() {
	if c.Chdir == "" {
		return
	}
	under := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "@") {
			return p
		}
		return filepath.Join(c.Chdir, p)
	}
	socks := make([]Socket, len(c.Sockets))
	for i, s := range c.Sockets {
		if isUnixAddr(s.Addr) {
			s.Addr = under(s.Addr)
		}
		socks[i] = s
	}
	c.Sockets = socks
	maps := make([]StaticMap, len(c.StaticMaps))
	for i, m := range c.StaticMaps {
		m.Dir = under(m.Dir)
		maps[i] = m
	}
	c.StaticMaps = maps
}

// Validate reports configuration errors, all of them, each naming the option.
func (c Config) Validate() error {
	var errs []error
	if len(c.Sockets) == 0 {
		errs = append(errs, errors.New("no socket configured: set http-socket, socket (uwsgi protocol) or fastcgi-socket, e.g. http-socket = 127.0.0.1:8000"))
	}
	for _, s := range c.Sockets {
		if strings.TrimSpace(s.Addr) == "" {
			errs = append(errs, fmt.Errorf("%s%s: empty address", where(s.Where), s.Option))
		}
	}
	if c.Module == "" && c.WSGIFile == "" {
		errs = append(errs, errors.New("no app configured: set module (pkg.mod:callable) or wsgi-file (path/to/app.py)"))
	}
	if c.BufferSize > uwsgiproto.MaxVarsSize {
		errs = append(errs, fmt.Errorf("buffer-size %d is over the protocol's maximum %d", c.BufferSize, uwsgiproto.MaxVarsSize))
	}
	if c.Processes > 1024 {
		errs = append(errs, fmt.Errorf("processes %d: at most 1024", c.Processes))
	}
	if c.Threads > 1024 {
		errs = append(errs, fmt.Errorf("threads %d: at most 1024", c.Threads))
	}
	for _, m := range c.StaticMaps {
		if !strings.HasPrefix(m.Mount, "/") || m.Dir == "" {
			errs = append(errs, fmt.Errorf("static-map %s=%s: want /mountpoint=/directory", m.Mount, m.Dir))
		}
	}
	for _, e := range c.Env {
		if !strings.Contains(e, "=") {
			errs = append(errs, fmt.Errorf("env %q: want NAME=value", e))
		}
	}
	return errors.Join(errs...)
}

func where(w string) string {
	if w == "" {
		return ""
	}
	return w + ": "
}
