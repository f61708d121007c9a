package uwsgiini

import (
	_ "embed"
	"sort"
	"strings"
)

// ArgKind says how an option takes its value on the command line.
type ArgKind uint8

const (
	ArgRequired ArgKind = iota // --name VALUE or --name=VALUE
	ArgNone                    // a flag: --name (an ini value is read as a boolean)
	ArgOptional                // --name alone, or --name=VALUE (never --name VALUE)
)

var arityWord = map[ArgKind]string{ArgRequired: "arg", ArgNone: "flag", ArgOptional: "opt"}

// Unit is the unit a numeric option is written in.
type Unit uint8

const (
	UnitNone    Unit = iota
	UnitMB           // megabytes: Config.MB converts to bytes (x 1024 x 1024)
	UnitBytes        // bytes: Config.Size also reads a k, m or g suffix (see there)
	UnitPercent      // a percentage, 0 to 100 (read with Config.Int)
	UnitSeconds      // whole seconds (read with Config.Int)
)

// Spec describes one option wsgideck knows by name.
type Spec struct {
	Name    string   // canonical name, e.g. "processes"
	Aliases []string // other long names uWSGI accepts, e.g. "workers"
	Short   byte     // short flag letter, 0 if none
	Arg     ArgKind  // filled from the real uWSGI option list
	List    bool     // repeated values accumulate; otherwise the last wins
	Ignored bool     // accepted but meaningless for wsgideck
	Block   bool     // opens a config-logic block (for, if-env, ...; see logic.go)
	Unit    Unit
	Note    string // why an ignored option is ignored
	// Since is the uWSGI version that added the option, for an option
	// newer than the 2.0.21 whose list is embedded here (Debian's uwsgi,
	// which the comparison tests run, does not know it). Its Arg is set in
	// the table, as it cannot be read from that list.
	Since string
	// Plugin is the uWSGI plugin that adds the option (cheaper_busyness),
	// for an option of a plugin outside that list (it was generated with
	// python3 and http loaded). Its Arg is set in the table too.
	Plugin string
}

// Helpers keep the table below readable.
func opt(name string, aliases ...string) Spec { return Spec{Name: name, Aliases: aliases} }
func list(name string, aliases ...string) Spec {
	return Spec{Name: name, Aliases: aliases, List: true}
}
func mb(name string) Spec { return Spec{Name: name, Unit: UnitMB} }
func block(name string, aliases ...string) Spec {
	return Spec{Name: name, Aliases: aliases, Block: true}
}

func bytesOpt(name string) Spec { return Spec{Name: name, Unit: UnitBytes} }
func ignored(note string, s Spec) Spec {
	s.Ignored, s.Note = true, note
	return s
}
func short(c byte, s Spec) Spec { s.Short = c; return s }
func since(version string, s Spec) Spec {
	s.Since = version
	return s
}

// busyness is an option of uWSGI's cheaper_busyness plugin (Debian:
// plugins = python3,cheaper_busyness; pip's uWSGI has it built in).
func busyness(name string, arg ArgKind, unit Unit) Spec {
	return Spec{Name: name, Arg: arg, Unit: unit, Plugin: "cheaper_busyness"}
}

const (
	noteRoot    = "wsgideck runs everything as the current user"
	notePlugins = "wsgideck has Python and the http router built in"
	noteProc    = "process titles are not changed"
	noteTuning  = "this low-level tuning has no equivalent in wsgideck"
)

// specs is the table of options wsgideck understands (meaningful ones) or
// accepts and ignores. Names, aliases and short flags are uWSGI's own
// (core/uwsgi.c, plugins/python/python_plugin.c, plugins/http/http.c).
var specs = []Spec{
	// sockets and routers
	short('s', list("socket", "uwsgi-socket")),
	list("http-socket"),
	list("fastcgi-socket"),
	list("http"),
	opt("http-keepalive"),
	// uWSGI's router passes a chunked body raw for uwsgi.chunked_read();
	// here it is always de-chunked, so wsgi.input reads it as any body.
	ignored("a chunked request body is always de-chunked: wsgi.input reads it and CONTENT_LENGTH gives its length", opt("http-chunked-input")),
	opt("http-timeout"),
	short('z', opt("socket-timeout")),
	short('l', opt("listen")),
	short('C', opt("chmod-socket", "chmod")),
	ignored(noteRoot, opt("chown-socket")),
	ignored(noteRoot, opt("umask")),
	ignored(noteTuning, opt("reuse-port")),
	ignored(noteTuning, opt("thunder-lock")),
	// loading the app
	opt("chdir"),
	short('w', opt("module", "wsgi")),
	opt("wsgi-file", "file"),
	opt("callable"),
	short('H', opt("home", "virtualenv", "venv", "pyhome")),
	list("pythonpath", "python-path", "pp"),
	list("env"),
	list("unenv"),
	list("import", "pyimport", "py-import", "python-import"),
	opt("pyargv"),
	short('O', opt("optimize")),
	list("mount"),
	opt("manage-script-name"),
	opt("lazy-apps"),
	opt("lazy"),
	opt("need-app"),
	ignored("every worker runs one interpreter anyway", short('i', opt("single-interpreter"))),
	// processes and threads
	short('M', opt("master")),
	short('p', opt("processes", "workers")),
	opt("threads"),
	short('T', opt("enable-threads")),
	opt("cheaper"),
	opt("cheaper-initial"),
	opt("cheaper-step"),
	opt("cheaper-overload"),
	opt("cheaper-algo"),
	busyness("cheaper-busyness-min", ArgRequired, UnitPercent),
	busyness("cheaper-busyness-max", ArgRequired, UnitPercent),
	busyness("cheaper-busyness-multiplier", ArgRequired, UnitNone),
	busyness("cheaper-busyness-penalty", ArgRequired, UnitNone),
	busyness("cheaper-busyness-verbose", ArgNone, UnitNone),
	busyness("cheaper-busyness-backlog-alert", ArgRequired, UnitNone),
	busyness("cheaper-busyness-backlog-multiplier", ArgRequired, UnitNone),
	busyness("cheaper-busyness-backlog-step", ArgRequired, UnitNone),
	busyness("cheaper-busyness-backlog-nonzero", ArgRequired, UnitSeconds),
	opt("check-interval"),
	// stats
	opt("stats", "stats-server"),
	opt("stats-http"),
	opt("stats-minified", "stats-min"),
	opt("stats-no-cores"),
	short('m', opt("memory-report")),
	// limits and recycling
	short('t', opt("harakiri")),
	opt("harakiri-verbose"),
	short('R', opt("max-requests")),
	since("2.0.22", opt("max-requests-delta")),
	opt("min-worker-lifetime"),
	opt("max-worker-lifetime"),
	mb("reload-on-rss"),
	mb("reload-on-as"),
	mb("evil-reload-on-rss"),
	mb("evil-reload-on-as"),
	mb("limit-as"),
	opt("worker-reload-mercy"),
	opt("reload-mercy"),
	short('b', bytesOpt("buffer-size")),
	bytesOpt("post-buffering"),
	bytesOpt("limit-post"),
	// files, logging, reloading
	opt("vacuum"),
	opt("pidfile"),
	opt("pidfile2"),
	short('d', opt("daemonize")),
	opt("daemonize2"),
	opt("logto"),
	opt("logto2"),
	opt("log-format", "logformat"),
	short('L', opt("disable-logging")),
	opt("log-4xx"),
	opt("log-5xx"),
	opt("log-slow"),
	bytesOpt("log-big"),
	opt("log-date", "logdate"),
	opt("log-x-forwarded-for"),
	opt("log-master"),
	opt("log-reopen"),
	bytesOpt("log-maxsize"),
	opt("log-backupname"),
	ignored(noteRoot, opt("logfile-chown")),
	list("static-map"),
	list("static-map2"),
	list("static-index"),
	list("check-static"),
	list("static-skip-ext"),
	list("touch-reload"),
	list("touch-chain-reload"),
	list("touch-workers-reload"),
	list("fs-reload"),
	opt("py-autoreload", "python-autoreload"),
	list("master-fifo"),
	// external daemons (appserver's daemons.go)
	list("attach-daemon"),
	list("attach-control-daemon"),
	list("smart-attach-daemon"),
	list("smart-attach-daemon2"),
	list("attach-daemon2"),
	opt("daemons-honour-stdin"),
	opt("die-on-term"),
	opt("exit-on-reload"),
	opt("strict"),
	list("ini"),
	list("include"),
	list("set", "set-placeholder", "set-ph"),
	ignored("error handling is wsgideck's own", opt("ignore-sigpipe")),
	ignored("error handling is wsgideck's own", opt("ignore-write-errors")),
	ignored("error handling is wsgideck's own", opt("disable-write-exception")),
	// identity and plugins
	ignored(noteRoot, opt("uid")),
	ignored(noteRoot, opt("gid")),
	ignored(noteRoot, opt("chroot")),
	ignored(noteRoot, opt("cap")),
	ignored(noteRoot, opt("master-as-root")),
	ignored(notePlugins, list("plugins", "plugin")),
	ignored(notePlugins, list("plugins-dir", "plugin-dir")),
	ignored(notePlugins, opt("autoload")),
	ignored(noteProc, opt("auto-procname")),
	ignored(noteProc, opt("procname")),
	ignored(noteProc, opt("procname-prefix")),
	ignored(noteProc, opt("procname-prefix-spaced")),
	ignored(noteProc, opt("procname-append")),
	ignored(noteProc, opt("procname-master")),
	ignored(noteTuning, opt("no-orphans")),
	ignored(noteTuning, opt("cpu-affinity")),
	ignored(noteTuning, opt("never-swap")),
	ignored(noteTuning, opt("max-fd")),
	ignored(noteTuning, short('r', opt("reaper"))),
	ignored(noteTuning, opt("show-config")),
	// config logic: blocks read while the config is read (logic.go)
	block("for"), block("for-glob"), block("for-times"), block("for-readline"), opt("endfor", "end-for"),
	block("if-opt"), block("if-not-opt"), block("if-env", "ifenv"), block("if-not-env"),
	block("if-reload"), block("if-not-reload"), block("if-hostname"), block("if-not-hostname"),
	block("if-hostname-match"), block("if-not-hostname-match"), block("if-exists", "ifexists"), block("if-not-exists"),
	block("if-plugin", "ifplugin"), block("if-not-plugin"), block("if-file"), block("if-not-file"),
	block("if-dir", "ifdir", "if-directory"), block("if-not-dir"), opt("endif", "end-if"),
}

// immediate options act while the config is being read (uWSGI flags them
// UWSGI_OPT_IMMEDIATE or handles them in the reader), so the $(), @() and
// %() passes never see their values.
var immediate = map[string]bool{
	"ini": true, "include": true, "set": true, "plugins": true, "plugins-dir": true, "autoload": true,
}

//go:embed uwsgi-2.0.21-options.txt
var realOptionsText string

type realOption struct {
	name  string
	arg   ArgKind
	short byte
}

var (
	realList   []realOption
	realByName = map[string]realOption{}
	realShort  = map[byte]realOption{} // first option declaring each short flag
	specByName = map[string]*Spec{}    // canonical names and aliases
)

func init() {
	words := map[string]ArgKind{"arg": ArgRequired, "flag": ArgNone, "opt": ArgOptional}
	for _, line := range strings.Split(realOptionsText, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		r := realOption{name: f[0], arg: words[f[1]]}
		if len(f) > 2 {
			r.short = f[2][0]
			if _, dup := realShort[r.short]; !dup {
				realShort[r.short] = r
			}
		}
		if _, dup := realByName[r.name]; !dup {
			realList = append(realList, r)
			realByName[r.name] = r
		}
	}
	for i := range specs {
		s := &specs[i]
		if s.Since != "" || s.Plugin != "" {
			// A later uWSGI's option, or a plugin's, is a real option all
			// the same: the command line takes it, by prefix too.
			r := realOption{name: s.Name, arg: s.Arg}
			realList = append(realList, r)
			realByName[r.name] = r
		}
		s.Arg = realByName[s.Name].arg
		specByName[s.Name] = s
		if s.Block {
			logicOpeners[s.Name] = true
		}
		for _, a := range s.Aliases {
			specByName[a] = s
		}
	}
}

// LookupSpec returns the spec of a canonical name or alias.
func LookupSpec(name string) (Spec, bool) {
	if s, ok := specByName[name]; ok {
		return *s, true
	}
	return Spec{}, false
}

// Specs returns every option wsgideck knows, sorted by name.
func Specs() []Spec {
	out := append([]Spec(nil), specs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsUWSGIOption reports whether uWSGI 2.0.21 (with the python3 and http
// plugins) knows the option, whether or not wsgideck supports it, or a
// later uWSGI or another plugin does and wsgideck supports it (Spec.Since,
// Spec.Plugin).
func IsUWSGIOption(name string) bool {
	_, ok := realByName[name]
	return ok
}

// canonical maps a name as written to the canonical name when known.
func canonical(name string) string {
	if s, ok := specByName[name]; ok {
		return s.Name
	}
	return name
}

// arity is how the command line parses the option; ok is false when uWSGI
// does not know it at all.
func arity(name string) (ArgKind, bool) {
	if r, ok := realByName[name]; ok {
		return r.arg, true
	}
	return ArgRequired, false
}
