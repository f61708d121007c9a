package appserver

import (
	"fmt"
	"path/filepath"
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
		return fmt.Errorf("%s: %s: %s", o.Where(), o.Raw, fmt.Sprintf(format, args...))
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
			where = o.Where()
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
	if c.Home != "" && c.Chdir != "" && !filepath.IsAbs(c.Home) {
		// uWSGI changes to chdir before it starts Python, so a relative
		// home/virtualenv is found from there (the master here does not
		// change directory: the path is joined instead).
		c.Home = filepath.Join(c.Chdir, c.Home)
	}
	c.PythonPath = ini.All("pythonpath")
	c.Env = ini.All("env")
	c.NeedApp = ini.Bool("need-app")
	c.LazyApps = ini.Bool("lazy-apps") || ini.Bool("lazy")
	c.EnableThreads = ini.Bool("enable-threads")
	c.Master = ini.Bool("master")
	c.Vacuum = ini.Bool("vacuum")
	c.Pidfile = str("pidfile")
	c.Pidfile2 = str("pidfile2")
	c.Imports = ini.All("import")
	c.DisableLogging = ini.Bool("disable-logging")
	c.LogFormat = str("log-format")
	// daemonize2 and logto2 differ from daemonize and logto in when uWSGI
	// opens the file (after dropping privileges, which never happens here).
	for _, key := range []string{"daemonize", "daemonize2", "logto", "logto2"} {
		if v := str(key); v != "" {
			c.LogTo = v
		}
	}
	if v, ok := ini.Get("log-date"); ok {
		// uWSGI takes true, 1, on and yes for its ctime() date and any
		// other value as a strftime format, so "log-date = false" prints
		// "false - " there; here false means off.
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "", "true", "1", "on", "yes":
			c.LogDate = true
		case "false", "0", "off", "no":
		default:
			c.LogDate, c.LogDateFormat = true, v
		}
	}
	if c.LogDateFormat != "" {
		if _, err := parseStrftime(c.LogDateFormat); err != nil {
			return c, fail("log-date", "%v", err)
		}
	}
	c.LogReopen = ini.Bool("log-reopen")
	if c.LogMaxSize, err = ini.Size("log-maxsize", 0); err != nil {
		return c, err
	}
	c.LogBackupName = str("log-backupname")
	c.Log4xx = ini.Bool("log-4xx")
	c.Log5xx = ini.Bool("log-5xx")
	c.LogXForwardedFor = ini.Bool("log-x-forwarded-for")
	c.ExitOnReload = ini.Bool("exit-on-reload")
	c.Unenv = ini.All("unenv")
	c.PyArgv = str("pyargv")
	c.StaticSkipExt = ini.All("static-skip-ext")
	for _, dir := range ini.All("check-static") {
		// check-static DIR serves DIR/PATH_INFO when that file exists.
		c.StaticMaps = append(c.StaticMaps, StaticMap{Mount: "/", Dir: dir, Full: true})
	}
	slow, err := ini.Int("log-slow", 0)
	if err != nil {
		return c, err
	}
	c.LogSlow = time.Duration(slow) * time.Millisecond
	if c.LogBig, err = ini.Size("log-big", 0); err != nil {
		return c, err
	}
	if o, ok := ini.Lookup("optimize"); ok {
		if c.Optimize, err = ini.Int("optimize", 0); err != nil {
			return c, err
		}
		if c.Optimize < 0 || c.Optimize > 2 {
			return c, optionError(o, "want 0, 1 (-O) or 2 (-OO)")
		}
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
	if c.ReloadMercy, err = secs("reload-mercy", 0); err != nil {
		return c, err
	}
	if err := supervisionFromINI(ini, &c, fail); err != nil {
		return c, err
	}
	if err := daemonsFromINI(ini, &c); err != nil {
		return c, err
	}
	for _, o := range ini.Options {
		if o.Key != "static-map" && o.Key != "static-map2" {
			continue
		}
		mount, dir, ok := strings.Cut(o.Value, "=")
		if !ok || !strings.HasPrefix(mount, "/") || dir == "" {
			return c, optionError(o, "want /mountpoint=/directory, e.g. "+o.Key+" = /static=%dstatic")
		}
		c.StaticMaps = append(c.StaticMaps, StaticMap{Mount: mount, Dir: dir, Full: o.Key == "static-map2"})
	}
	c.StaticIndex = ini.All("static-index")
	if c.LimitPost, err = ini.Size("limit-post", 0); err != nil {
		return c, err
	}
	for _, key := range []string{"processes", "threads"} {
		if n, _ := ini.Int(key, 1); n < 1 {
			return c, fail(key, "%d: want 1 or more", n)
		}
	}
	for _, o := range ini.Options {
		if o.Key != "mount" {
			continue
		}
		mp, app, ok := strings.Cut(o.Value, "=")
		if !ok || app == "" || mp != "" && !strings.HasPrefix(mp, "/") {
			return c, optionError(o, "want /mountpoint=app.py (or =package.module:callable)")
		}
		c.Mounts = append(c.Mounts, Mount{Mountpoint: mp, App: app})
	}
	if o, ok := ini.Lookup("chmod-socket"); ok {
		if c.ChmodSocket, err = chmodSocket(o); err != nil {
			return c, err
		}
	}
	c.ManageScriptName = ini.Bool("manage-script-name")
	if o, ok := ini.Lookup("module"); ok {
		mod, _, _ := strings.Cut(o.Value, ":")
		if strings.HasSuffix(mod, ".py") || strings.Contains(mod, "/") {
			// uWSGI 2.0.21 imports module as a dotted name: "app.py" fails
			// there with "No module named 'app.py'" (mount = /x=app.py is
			// different: a mount takes a file).
			dotted := strings.Trim(strings.ReplaceAll(strings.TrimSuffix(mod, ".py"), "/", "."), ".")
			return c, optionError(o, fmt.Sprintf("a file name, but uWSGI imports module by its dotted name and fails on this one (\"No module named '%s'\"); write %s = %s, or wsgi-file = %s", mod, o.Raw, dotted, mod))
		}
	}
	if c.Module == "" && c.WSGIFile == "" && len(c.Mounts) == 0 {
		return c, fmt.Errorf("no app configured: set module = pkg.mod:callable (or wsgi) or wsgi-file = path/to/app.py")
	}
	for _, o := range ini.Options {
		if o.Key == "env" && !strings.Contains(o.Value, "=") {
			return c, optionError(o, "want NAME=value")
		}
	}
	return c, nil
}

// chmodSocket reads chmod-socket as uWSGI 2.0.21 does
// (uwsgi_opt_chmod_socket): no value or "1" means 666, otherwise exactly
// three octal digits; uWSGI exits on anything else ("invalid chmod
// value"), so that is an error here too.
func chmodSocket(o uwsgiini.Option) (string, error) {
	v := o.Value
	if o.Bare() || v == "1" {
		return "666", nil
	}
	if len(v) == 3 && strings.Trim(v, "01234567") == "" {
		return v, nil
	}
	hint := "want three octal digits, e.g. 660 (uWSGI 2.0.21 exits on any other value: \"invalid chmod value\")"
	if len(v) == 4 && v[0] == '0' && strings.Trim(v, "01234567") == "" {
		hint = "write " + v[1:] + ": uWSGI 2.0.21 takes exactly three octal digits and exits on " + v
	}
	return "", optionError(o, hint)
}

func optionError(o uwsgiini.Option, msg string) error {
	return fmt.Errorf("%s: %s = %s: %s", o.Where(), o.Raw, o.Value, msg)
}

// pendingOptions are uWSGI options uwsgiini knows that this engine does not
// act on yet; each maps to what happens instead.
var pendingOptions = map[string]string{
	"http-timeout": "http sockets time out after socket-timeout (there is no separate router process)",
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
	out = append(out, daemonWarnings(ini)...)
	return append(out, cheaperWarnings(ini)...)
}
