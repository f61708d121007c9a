package appserver

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// FromINI turns a read uwsgi.ini (or command line) into a Config. Bad values
// are errors naming the file and line. Options the engine does not act on
// yet are listed by Pending.
func FromINI(ini *uwsgiini.Config) (Config, error) {
	var c Config
	var err error
	fail := func(key, format string, args ...any) error {
		o, _ := ini.Lookup(key)
		loc := "command line"
		if o.File != "" {
			loc = fmt.Sprintf("%s:%d", o.File, o.Line)
		} else if o.Line > 0 {
			loc = fmt.Sprintf("command line argument %d", o.Line)
		}
		return fmt.Errorf("%s: %s: %s", loc, o.Raw, fmt.Sprintf(format, args...))
	}

	for _, o := range ini.Options {
		var proto Protocol
		switch o.Key {
		case "socket":
			proto = ProtoUWSGI
		case "http-socket", "http":
			proto = ProtoHTTP
		case "fastcgi-socket":
			proto = ProtoFastCGI
		default:
			continue
		}
		where := ""
		if o.File != "" {
			where = fmt.Sprintf("%s:%d", o.File, o.Line)
		}
		for _, addr := range strings.Split(o.Value, ",") {
			addr = strings.TrimSpace(addr)
			if addr == "" {
				return c, optionError(o, "empty address: want host:port, :port or a unix socket path")
			}
			c.Sockets = append(c.Sockets, Socket{Proto: proto, Addr: addr, Option: o.Raw, Where: where})
		}
	}

	str := func(key string) string { v, _ := ini.Get(key); return v }
	c.Chdir = str("chdir")
	c.Module = str("module")
	c.WSGIFile = str("wsgi-file")
	c.Callable = str("callable")
	c.Home = str("home")
	c.PythonPath = ini.All("pythonpath")
	c.Env = ini.All("env")
	c.NeedApp = ini.Bool("need-app")
	c.LazyApps = ini.Bool("lazy-apps") || ini.Bool("lazy")
	c.EnableThreads = ini.Bool("enable-threads")
	c.Master = ini.Bool("master")
	c.Vacuum = ini.Bool("vacuum")
	c.Pidfile = str("pidfile")
	c.DisableLogging = ini.Bool("disable-logging")
	c.LogTo = str("daemonize")
	if v := str("logto"); v != "" {
		c.LogTo = v
	}
	if c.Processes, err = ini.Int("processes", 1); err != nil {
		return c, err
	}
	if c.Threads, err = ini.Int("threads", 1); err != nil {
		return c, err
	}
	if c.Listen, err = ini.Int("listen", DefaultListen); err != nil {
		return c, err
	}
	bs, err := ini.Size("buffer-size", 4096)
	if err != nil {
		return c, err
	}
	if bs > 65535 {
		return c, fail("buffer-size", "%d is over the maximum 65535 (the uwsgi protocol's 16-bit size)", bs)
	}
	c.BufferSize = int(bs)
	if c.PostBuffering, err = ini.Size("post-buffering", 0); err != nil {
		return c, err
	}
	secs := func(key string, def time.Duration) (time.Duration, error) {
		n, err := ini.Int(key, int(def/time.Second))
		if err != nil {
			return 0, err
		}
		if n < 0 {
			return 0, fail(key, "%d: want a number of seconds, 0 or more", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	if c.WorkerReloadMercy, err = secs("worker-reload-mercy", DefaultWorkerReloadMercy); err != nil {
		return c, err
	}
	if c.SocketTimeout, err = secs("socket-timeout", DefaultSocketTimeout); err != nil {
		return c, err
	}
	for _, o := range ini.Options {
		if o.Key != "static-map" {
			continue
		}
		mount, dir, ok := strings.Cut(o.Value, "=")
		if !ok || !strings.HasPrefix(mount, "/") || dir == "" {
			return c, optionError(o, "want /mountpoint=/directory, e.g. static-map = /static=%dstatic")
		}
		c.StaticMaps = append(c.StaticMaps, StaticMap{Mount: mount, Dir: dir})
	}
	for _, key := range []string{"processes", "threads"} {
		if n, _ := ini.Int(key, 1); n < 1 {
			return c, fail(key, "%d: want 1 or more", n)
		}
	}
	if c.Module == "" && c.WSGIFile == "" {
		return c, fmt.Errorf("no app configured: set module = pkg.mod:callable (or wsgi) or wsgi-file = path/to/app.py")
	}
	for _, o := range ini.Options {
		if o.Key == "env" && !strings.Contains(o.Value, "=") {
			return c, optionError(o, "want NAME=value")
		}
	}
	return c, nil
}

func optionError(o uwsgiini.Option, msg string) error {
	loc := "command line"
	if o.File != "" {
		loc = fmt.Sprintf("%s:%d", o.File, o.Line)
	} else if o.Line > 0 {
		loc = fmt.Sprintf("command line argument %d", o.Line)
	}
	return fmt.Errorf("%s: %s = %s: %s", loc, o.Raw, o.Value, msg)
}

// pendingOptions are uWSGI options uwsgiini knows that this engine does not
// act on yet (supervision, stats, routing); each maps to what happens
// instead.
var pendingOptions = map[string]string{
	"harakiri":             "no request time limit is enforced",
	"max-requests":         "workers are not recycled after N requests",
	"max-requests-delta":   "workers are not recycled after N requests",
	"reload-on-rss":        "workers are not recycled on memory use",
	"reload-on-as":         "workers are not recycled on memory use",
	"evil-reload-on-rss":   "workers are not recycled on memory use",
	"evil-reload-on-as":    "workers are not recycled on memory use",
	"max-worker-lifetime":  "workers are not recycled by age",
	"limit-as":             "no address-space limit is set",
	"stats":                "no stats server is started",
	"stats-http":           "no stats server is started",
	"memory-report":        "request lines carry no memory report",
	"touch-reload":         "the file is not watched (send SIGHUP to reload)",
	"touch-chain-reload":   "the file is not watched (send SIGHUP to reload)",
	"touch-workers-reload": "the file is not watched (send SIGHUP to reload)",
	"fs-reload":            "the path is not watched (send SIGHUP to reload)",
	"py-autoreload":        "modules are not watched (send SIGHUP to reload)",
	"master-fifo":          "no master FIFO is created",
	"cheaper":              "all processes run all the time",
	"mount":                "only the default app (mountpoint '') is served",
	"manage-script-name":   "SCRIPT_NAME is passed as the frontend sends it",
	"log-format":           "request lines use uWSGI's default format",
	"limit-post":           "request bodies are not size-limited",
	"import":               "the modules are not imported at startup",
	"http-keepalive":       "http sockets always keep connections alive",
	"pidfile2":             "write the pid with pidfile",
	"static-map2":          "use static-map",
	"static-index":         "directories under static-map fall through to the app",
	"die-on-term":          "SIGTERM always stops the server",
}

// Pending lists, as warnings with file and line, the options in ini that
// this engine accepts but does not act on yet.
func Pending(ini *uwsgiini.Config) []uwsgiini.Warning {
	var out []uwsgiini.Warning
	for _, o := range ini.Options {
		if what, ok := pendingOptions[o.Key]; ok {
			out = append(out, uwsgiini.Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf("%s is not supported by this engine yet: %s", o.Raw, what)})
		}
	}
	return out
}
