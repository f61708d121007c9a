package appserver

import (
	"errors"
	"fmt"
	"os"
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

// Mount is one mount entry: the app at Mountpoint, a file (blog.py) or a
// module (blog.wsgi[:callable]).
type Mount struct {
	Mountpoint, App string
}

// StaticMap is one static-map entry: URLs under Mount are files under Dir.
type StaticMap struct {
	Mount, Dir string
	// Full (static-map2) appends the whole path to Dir, Mount included:
	// /media/a.png under /media=/var/www is /var/www/media/a.png.
	Full bool
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
	Unenv      []string // names removed from the workers' environment (unenv)
	PyArgv     string   // sys.argv[1:] of the workers, split on spaces (pyargv)
	Optimize   int      // python -O (1) or -OO (2) (optimize)
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
	// Pidfile2 is written like Pidfile (uWSGI writes it after dropping
	// privileges, which this engine never does).
	Pidfile2 string

	// Imports are Python modules each worker imports before loading the
	// app (import / pyimport).
	Imports []string
	// Mounts are more apps, each at a mountpoint (mount = /blog=blog.py),
	// loaded after the default app; a request goes to the app whose
	// mountpoint is its SCRIPT_NAME, else to the first app.
	// ManageScriptName first moves the longest mountpoint that starts
	// PATH_INFO into SCRIPT_NAME (manage-script-name).
	Mounts           []Mount
	ManageScriptName bool

	StaticMaps []StaticMap
	// StaticIndex are the files served for a directory under a static map
	// (static-index), tried in order.
	StaticIndex []string
	// StaticSkipExt are file extensions (".php") never served statically
	// (static-skip-ext).
	StaticSkipExt []string
	// LimitPost (bytes) refuses requests whose body is larger, with 413
	// (limit-post). 0 = no limit.
	LimitPost int64

	LogTo          string // daemonize / logto: the log goes to this file
	DisableLogging bool   // no request log lines
	// With DisableLogging, these still log the requests they match:
	// log-4xx, log-5xx, log-slow (over N ms), log-big (over N bytes).
	Log4xx, Log5xx bool
	LogSlow        time.Duration
	LogBig         int64
	// LogXForwardedFor logs the client address from X-Forwarded-For
	// instead of REMOTE_ADDR (log-x-forwarded-for).
	LogXForwardedFor bool
	// LogDate (log-date) prefixes the log lines the server writes itself,
	// the master's and the workers' (not the request lines, nor what the
	// app prints), with the date and " - ", as uWSGI does. LogDateFormat
	// is a strftime format for the date; empty: C's ctime(), "Sun Nov 22
	// 12:18:07 2026".
	LogDate       bool
	LogDateFormat string
	logDate       strftime // LogDateFormat, compiled by withDefaults
	// LogReopen (log-reopen) reopens the logto file on every reload, so a
	// log rotated by renaming it (logrotate, then SIGHUP) is written anew.
	LogReopen bool
	// LogMaxSize (log-maxsize, bytes) rotates the logto file once it is
	// larger: it is renamed to LogBackupName (log-backupname), or to its
	// name plus "." and the Unix time, and a new one is started, checked
	// every CheckInterval as uWSGI's master checks it each cycle. Without
	// logto there is no file to rotate, and it does nothing (as in uWSGI).
	LogMaxSize    int64
	LogBackupName string
	// LogFormat replaces uWSGI's request line (log-format): text with
	// %(var) variables, as in uWSGI's LogFormat.rst.
	LogFormat string
	logFormat *logFormat // LogFormat, compiled by withDefaults

	WorkerReloadMercy time.Duration // default 60s
	// ReloadMercy (reload-mercy), when set, bounds a stop as a whole;
	// otherwise WorkerReloadMercy does.
	ReloadMercy time.Duration
	// DieOnTerm (die-on-term): the master's SIGTERM stops at once and
	// SIGQUIT reloads brutally, as in uWSGI 2.0 (wsgideckd's signals).
	DieOnTerm bool
	// ExitOnReload makes a reload stop the server instead (exit-on-reload).
	ExitOnReload  bool
	SocketTimeout time.Duration // reading a request head or body, default 4s (uWSGI's)

	// Master is accepted for compatibility: the Go master always runs.
	Master bool

	// Supervision (see supervise.go and the package doc).

	// Harakiri: a request running longer has its worker killed (SIGKILL)
	// and respawned; its client gets 504. 0 = off.
	Harakiri time.Duration
	// HarakiriVerbose (harakiri-verbose) adds to the harakiri report the
	// system call the worker is in and its wait channel, from Linux's
	// /proc/PID/syscall and /proc/PID/wchan, as uWSGI does.
	HarakiriVerbose bool
	// MaxRequests recycles a worker once it has served this many requests
	// (max-requests); worker N's limit is MaxRequests + (N-1)*MaxRequestsDelta.
	MaxRequests      int64
	MaxRequestsDelta int64
	// MinWorkerLifetime is how long a worker lives at least before
	// max-requests or reload-on-* recycle it. 0 means
	// DefaultMinWorkerLifetime (uWSGI's 10 s); NoMinWorkerLifetime means none.
	MinWorkerLifetime time.Duration
	// MaxWorkerLifetime recycles a worker after it has run this long. 0 = off.
	MaxWorkerLifetime time.Duration
	// ReloadOnRSS and ReloadOnAS (bytes) recycle a worker whose resident /
	// virtual memory reached them, checked after each request.
	ReloadOnRSS, ReloadOnAS int64
	// EvilReloadOnRSS and EvilReloadOnAS (bytes) SIGKILL a worker whose
	// memory reached them, checked by the master every CheckInterval.
	EvilReloadOnRSS, EvilReloadOnAS int64
	// LimitAS (bytes) is set as RLIMIT_AS in each worker before the app
	// loads (limit-as). A request that then raises MemoryError gets its
	// worker recycled.
	LimitAS int64
	// MemoryReport prefixes each request line with the worker's memory use.
	MemoryReport bool

	// TouchReload, TouchChainReload and TouchWorkersReload are files whose
	// mtime change triggers a graceful, chain or workers-only reload;
	// FSReload paths (files or directories) trigger a graceful reload when
	// they or the entries of a directory change.
	TouchReload, TouchChainReload, TouchWorkersReload, FSReload []string
	// PyAutoreload makes every worker check the mtimes of the modules it
	// imported this often, and ask for a graceful reload when one changed.
	PyAutoreload time.Duration
	// MasterFIFO lists master-fifo paths; the first is active (a '0'..'9'
	// command selects another).
	MasterFIFO []string

	// Daemons are the external daemons the master runs and keeps running
	// (attach-daemon, smart-attach-daemon, attach-daemon2, ...; see
	// Daemon). DaemonsHonourStdin gives them the master's stdin
	// (daemons-honour-stdin) instead of /dev/null.
	Daemons            []Daemon
	DaemonsHonourStdin bool

	// Cheaper (> 0) is the least number of running workers; Processes is
	// the most. CheaperInitial workers start (default Cheaper), and
	// CheaperAlgo decides when CheaperStep more (default 1) come back and
	// when idle ones go cheap. CheaperOverload (default 3) is the spare
	// algorithm's number of checks with every core busy, the busyness
	// algorithm's period in seconds, and the backlog algorithm's queue
	// length, as in uWSGI.
	Cheaper, CheaperInitial, CheaperStep, CheaperOverload int
	// CheaperAlgo (cheaper-algo) is CheaperAlgoSpare (the default, also
	// for ""), CheaperAlgoBusyness, CheaperAlgoBacklog or CheaperAlgoManual.
	CheaperAlgo string
	// CheaperBusyness tunes the busyness algorithm (cheaper-busyness-*).
	CheaperBusyness CheaperBusyness
	// CheckInterval is the master's cycle for cheaper, touch files and
	// memory checks (check-interval, default 1 s). Harakiri is checked
	// more often.
	CheckInterval time.Duration

	// Stats is the stats server address (stats): host:port, a unix socket
	// path or @abstract. StatsHTTP, StatsMinified and StatsNoCores are
	// stats-http, stats-minified and stats-no-cores.
	Stats                                  string
	StatsHTTP, StatsMinified, StatsNoCores bool

	// DisableAccounting turns off the per-request hooks: the metrics
	// recorder, request events, OnRequest and the stats timing counters.
	// It exists to measure what they cost; it is not a uWSGI option.
	DisableAccounting bool
}

// Defaults uWSGI uses.
const (
	DefaultListen            = 100
	DefaultWorkerReloadMercy = 60 * time.Second
	DefaultSocketTimeout     = 4 * time.Second
	DefaultMinWorkerLifetime = 10 * time.Second
	DefaultCheaperOverload   = 3
	DefaultCheckInterval     = time.Second
)

// logMoves reports whether the logto file may be replaced while workers
// write to it (log-reopen, log-maxsize, master-fifo l and L).
func (c *Config) logMoves() bool {
	return c.LogTo != "" && (c.LogReopen || c.LogMaxSize > 0 || len(c.MasterFIFO) > 0)
}

// NoMinWorkerLifetime is Config.MinWorkerLifetime for "no minimum"
// (min-worker-lifetime = 0).
const NoMinWorkerLifetime = time.Duration(-1)

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
	if c.CheckInterval <= 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.LogFormat != "" {
		c.logFormat = parseLogFormat(c.LogFormat)
	}
	if c.LogDate && c.LogDateFormat != "" {
		// validate reports a bad format; it then prints as ctime().
		c.logDate, _ = parseStrftime(c.LogDateFormat)
	}
	if c.Cheaper > 0 {
		if c.CheaperInitial <= 0 {
			c.CheaperInitial = c.Cheaper
		}
		c.CheaperInitial = min(c.CheaperInitial, c.Processes)
		if c.CheaperStep <= 0 {
			c.CheaperStep = 1
		}
		if c.CheaperOverload <= 0 {
			c.CheaperOverload = DefaultCheaperOverload
		}
		if c.CheaperAlgo == "" {
			c.CheaperAlgo = CheaperAlgoSpare
		}
	}
	return c
}

type pidfile struct{ option, path string }

// pidfiles lists the pidfiles to write.
func (c *Config) pidfiles() []pidfile {
	var out []pidfile
	if c.Pidfile != "" {
		out = append(out, pidfile{"pidfile", c.Pidfile})
	}
	if c.Pidfile2 != "" && c.Pidfile2 != c.Pidfile {
		out = append(out, pidfile{"pidfile2", c.Pidfile2})
	}
	return out
}

func (c *Config) removePidfiles() {
	for _, p := range c.pidfiles() {
		os.Remove(p.path)
	}
}

// cheaperMode reports whether the cheaper algorithm runs.
func (c *Config) cheaperMode() bool { return c.Cheaper > 0 }

// minLifetime is the effective min-worker-lifetime.
func (c *Config) minLifetime() time.Duration {
	switch {
	case c.MinWorkerLifetime == 0:
		return DefaultMinWorkerLifetime
	case c.MinWorkerLifetime < 0:
		return 0
	}
	return c.MinWorkerLifetime
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
	// uWSGI opens these after its chdir too.
	if c.Stats != "" && isUnixAddr(c.Stats) {
		c.Stats = under(c.Stats)
	}
	all := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = under(p)
		}
		return out
	}
	c.MasterFIFO = all(c.MasterFIFO)
	c.TouchReload = all(c.TouchReload)
	c.TouchChainReload = all(c.TouchChainReload)
	c.TouchWorkersReload = all(c.TouchWorkersReload)
	c.FSReload = all(c.FSReload)
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
	if c.Module == "" && c.WSGIFile == "" && len(c.Mounts) == 0 {
		errs = append(errs, errors.New("no app configured: set module (pkg.mod:callable) or wsgi-file (path/to/app.py)"))
	}
	if len(c.Mounts) >= maxApps {
		errs = append(errs, fmt.Errorf("%d mounts: at most %d apps per worker", len(c.Mounts), maxApps-1))
	}
	for _, m := range c.Mounts {
		if m.Mountpoint != "" && !strings.HasPrefix(m.Mountpoint, "/") || m.App == "" {
			errs = append(errs, fmt.Errorf("mount %s=%s: want /mountpoint=app.py (or =package.module:callable)", m.Mountpoint, m.App))
		}
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
			opt := "static-map"
			if m.Full {
				opt = "static-map2"
			}
			errs = append(errs, fmt.Errorf("%s %s=%s: want /mountpoint=/directory", opt, m.Mount, m.Dir))
		}
	}
	for _, e := range c.Env {
		if !strings.Contains(e, "=") {
			errs = append(errs, fmt.Errorf("env %q: want NAME=value", e))
		}
	}
	procs := max(c.Processes, 1)
	if c.Cheaper < 0 || c.Cheaper > 0 && c.Cheaper >= procs {
		errs = append(errs, fmt.Errorf("cheaper %d: must be lower than processes (%d): cheaper is the least number of workers, processes the most", c.Cheaper, procs))
	}
	if c.CheaperInitial > procs {
		errs = append(errs, fmt.Errorf("cheaper-initial %d is more than processes (%d)", c.CheaperInitial, procs))
	}
	errs = append(errs, c.cheaperAlgoErrors()...)
	if c.Harakiri < 0 || c.MaxRequests < 0 || c.MaxRequestsDelta < 0 || c.ReloadOnRSS < 0 || c.ReloadOnAS < 0 || c.LimitAS < 0 {
		errs = append(errs, errors.New("harakiri, max-requests, max-requests-delta, reload-on-rss, reload-on-as and limit-as take 0 or more"))
	}
	if c.LogDate && c.LogDateFormat != "" {
		if _, err := parseStrftime(c.LogDateFormat); err != nil {
			errs = append(errs, fmt.Errorf("log-date %s: %w", c.LogDateFormat, err))
		}
	}
	if c.LimitAS > 0 && c.LimitAS < 32<<20 {
		errs = append(errs, fmt.Errorf("limit-as %d MB is too small for a Python interpreter: give it at least 32 MB (64 or more for a real app)", c.LimitAS>>20))
	}
	errs = append(errs, daemonErrors(c.Daemons)...)
	return errors.Join(errs...)
}

func where(w string) string {
	if w == "" {
		return ""
	}
	return w + ": "
}
