package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/control"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/project"
)

func init() {
	register("up", "run a project's app server and proxy together (no DIR: the built-in demo)", runUp)
}

const upUsage = `usage: wsgideckd up [DIR] [--python PATH] [--proxy-port N] [--app-port N] [--free-ports]

Runs the whole flow in one process: the nginx-compatible proxy reading
DIR/nginx.conf (with DIR as its prefix) in front of the uWSGI-compatible app
server reading DIR/uwsgi.ini. Without DIR it runs the built-in demo project,
copied on first use into the user's data folder, where it can be edited.

Both files are validated and checked against each other first (as wsgideckd
check does); errors stop it before anything starts. A port held by another
program stops it too, unless --free-ports (always on for the demo) moves
that listener to the next free port for this run; the files are not changed.
--proxy-port and --app-port move nginx's listen port and uWSGI's socket port
(with the uwsgi_pass that points there) for this run. --python picks the
workers' interpreter (default: the virtualenv in home =, else python3).

Ctrl-C (SIGINT) or SIGTERM stops both gracefully. SIGHUP re-reads both files
and reloads: the workers are replaced one by one and the proxy switches
without dropping connections. Files that do not validate are not applied:
the running servers keep their configuration. Ports moved for the run stay
moved across reloads.

Exit status: 0 after a requested stop, 1 when it could not start or a
server failed, 2 for a usage error or configs with errors.`

func runUp(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("up", upUsage, stderr)
	python := fs.String("python", "", "the workers' Python interpreter")
	proxyPort := fs.Int("proxy-port", 0, "listen on this port instead of nginx.conf's (this run only)")
	appPort := fs.Int("app-port", 0, "put uWSGI's socket on this port instead of uwsgi.ini's (this run only)")
	freePorts := fs.Bool("free-ports", false, "move a listener whose port is busy to a free port (this run only)")
	dir, given, err := parseFolderArg(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "wsgideckd up: %v\n", err)
		return exitErrors
	}
	if !given {
		store, err := project.OpenStore(project.StoreOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "wsgideckd up: %v\n", err)
			return exitWarnings
		}
		p, err := store.Demo()
		if err != nil {
			fmt.Fprintf(stderr, "wsgideckd up: %v\n", err)
			return exitWarnings
		}
		dir = p.Dir
		if *python == "" {
			*python = p.Python
		}
		*freePorts = true
		fmt.Fprintf(stdout, "running the built-in demo project from %s\n", dir)
	}
	dir, _ = filepath.Abs(dir)
	id, nd, err := openProject(dir)
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd up: %v\n", err)
		return exitErrors
	}
	u := &upRun{dir: dir, id: id, nd: nd, stdout: stdout, stderr: stderr}
	if code, ok := u.prepare(*proxyPort, *appPort, *freePorts); !ok {
		return code
	}
	// uWSGI and nginx resolve relative paths against the folder they run
	// in; wsgideck runs a project in its folder.
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintf(stderr, "wsgideckd up: %v\n", err)
		return exitWarnings
	}
	r := control.NewRunner(control.RunnerOptions{Dir: dir, Python: *python, Adjust: u.adjust, OnLog: u.printLog})
	return u.run(r)
}

// upRun is one `wsgideckd up`: the ports it moves for the run, and the
// Runner that runs the project.
type upRun struct {
	dir    string
	id     *confedit.INIDoc // the files as read at the start, for moving ports
	nd     *confedit.NginxDoc
	moves  []portMove // ports moved for this run, replayed on every reload
	stdout io.Writer
	stderr io.Writer
	mu     sync.Mutex // serialises output lines
}

// portMove moves a port of the configs for this run only.
type portMove struct{ from, to int }

// prepare decides the ports to move for this run: those asked for, and
// with freePorts the busy ones. The files are not changed; validation and
// the cross-check happen when the Runner starts.
func (u *upRun) prepare(proxyPort, appPort int, freePorts bool) (int, bool) {
	opts := crosscheck.Options{Dir: u.dir}
	move := func(what string, old, port int) bool {
		if port == 0 {
			return true
		}
		if old == 0 {
			fmt.Fprintf(u.stderr, "wsgideckd up: --%s: the config has no TCP %s port to move\n", what, what)
			return false
		}
		if err := crosscheck.MovePort(u.id, u.nd, old, port, opts); err != nil {
			fmt.Fprintf(u.stderr, "wsgideckd up: --%s: %v\n", what, err)
			return false
		}
		u.moves = append(u.moves, portMove{old, port})
		return true
	}
	if !move("proxy-port", firstListenPort(u.nd), proxyPort) || !move("app-port", firstSocketPort(u.id), appPort) {
		return exitErrors, false
	}
	if !freePorts || len(confedit.Errors(u.id.Validate())) > 0 || len(confedit.Errors(u.nd.Validate())) > 0 {
		return 0, true // the Runner reports the files' errors
	}
	for round := 0; round <= 10; round++ {
		r, err := crosscheck.Check(u.id, u.nd, opts)
		if err != nil {
			return 0, true
		}
		var busy *crosscheck.Finding
		for i, f := range r.Findings {
			if f.Kind == crosscheck.KindPortBusy && f.Severity == confedit.Error && f.Port > 0 {
				busy = &r.Findings[i]
				break
			}
		}
		if busy == nil {
			return 0, true
		}
		avoid := map[int]bool{}
		for _, p := range configuredPorts(u.id, u.nd) {
			avoid[p] = true
		}
		to := project.FreePort(busy.Port+1, avoid)
		if to == 0 {
			break
		}
		if err := crosscheck.MovePort(u.id, u.nd, busy.Port, to, opts); err != nil {
			fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
			return exitWarnings, false
		}
		u.moves = append(u.moves, portMove{busy.Port, to})
		fmt.Fprintf(u.stdout, "%s\n  for this run: port %d moves to %d\n", busy.Message, busy.Port, to)
	}
	fmt.Fprintln(u.stderr, "wsgideckd up: no free ports found")
	return exitWarnings, false
}

// adjust replays the run's port moves on the files as read for a start or
// a reload. A move that no longer applies (the file changed that port) is
// dropped: the file is followed as written.
func (u *upRun) adjust(id *confedit.INIDoc, nd *confedit.NginxDoc) error {
	for _, m := range u.moves {
		crosscheck.MovePort(id, nd, m.from, m.to, crosscheck.Options{Dir: u.dir})
	}
	return nil
}

// printLog writes the Runner's log lines as the servers would have: the
// engine's log and the proxy's error log on stderr. The proxy's access log
// is written where nginx.conf says (the demo's: /dev/stdout) by the proxy
// itself.
func (u *upRun) printLog(l control.LogLine) {
	if l.Source == control.LogProxyAccess {
		return
	}
	u.mu.Lock()
	fmt.Fprintln(u.stderr, l.Text)
	u.mu.Unlock()
}

func (u *upRun) printf(w io.Writer, format string, args ...any) {
	u.mu.Lock()
	fmt.Fprintf(w, format, args...)
	u.mu.Unlock()
}

// printConfigError prints what stopped a start or a reload.
func (u *upRun) printConfigError(err error) bool {
	var ce *control.ConfigError
	if !errors.As(err, &ce) {
		return false
	}
	for _, p := range ce.Problems {
		u.printf(u.stderr, "%s\n", problemText(u.dir, p))
	}
	for _, f := range ce.Findings {
		u.printf(u.stderr, "%s\n", f.String())
		for _, fx := range f.Fixes {
			u.printf(u.stderr, "    fix: %s\n", fx.Summary)
		}
	}
	return true
}

func (u *upRun) run(r *control.Runner) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	// The engine stopping on its own ends the run.
	died := make(chan string, 1)
	cancel := r.Subscribe(func(ev control.Event) {
		if ev.Kind == control.EventState && ev.Tier == control.Engine && ev.State == control.Failed {
			select {
			case died <- ev.Message:
			default:
			}
		}
	})
	defer cancel()

	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Stop(ctx, control.Both)
	}
	if err := r.Start(context.Background(), control.Both); err != nil {
		switch {
		case u.printConfigError(err):
			u.printf(u.stderr, "wsgideckd up: not starting: fix the errors above (wsgideckd check %s shows them too; --fix repairs what has a fix, or use --free-ports for busy ports)\n", u.dir)
			return exitErrors
		case errors.Is(err, control.ErrAppNotLoaded):
			// It serves (500s with the traceback in the log), and a
			// fixed app is picked up by a reload.
			u.printf(u.stderr, "wsgideckd up: %v\n", err)
		default:
			stop()
			u.printf(u.stderr, "wsgideckd up: %v\n", err)
			return exitWarnings
		}
	}
	snap := r.Snapshot()
	for _, a := range snap.Proxy.Addrs {
		u.printf(u.stdout, "proxy (nginx.conf) listening on http://%s/\n", a)
	}
	for _, a := range snap.Engine.Addrs {
		u.printf(u.stdout, "app server (uwsgi.ini) listening on %s\n", a)
	}
	u.printf(u.stdout, "press Ctrl-C to stop\n")

	for {
		select {
		case msg := <-died:
			stop()
			u.printf(u.stderr, "wsgideckd up: the app server stopped: %s\n", msg)
			return exitWarnings
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				u.printf(u.stdout, "stopping\n")
				stop()
				return exitOK
			}
			u.reload(r)
		}
	}
}

// reload re-reads both files and applies them; a config with errors is
// not applied and the running servers keep theirs.
func (u *upRun) reload(r *control.Runner) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Reload(ctx, control.Both); err != nil {
		u.printConfigError(err)
		u.printf(u.stderr, "wsgideckd up: reload: %v (keeping the running configuration)\n", err)
		return
	}
	u.printf(u.stdout, "reloaded\n")
}

// configuredPorts lists the TCP ports both files use.
func configuredPorts(id *confedit.INIDoc, nd *confedit.NginxDoc) []int {
	var out []int
	for _, srv := range confedit.Servers(nd.Config()) {
		for _, l := range srv.Block.Find("listen") {
			if p := portIn(l.Arg(0)); p > 0 {
				out = append(out, p)
			}
		}
	}
	if ini, err := id.Parsed(); err == nil {
		for _, o := range ini.Options {
			switch o.Key {
			case "socket", "uwsgi-socket", "http-socket", "fastcgi-socket", "http", "stats":
				for _, a := range strings.Split(o.Value, ",") {
					if strings.Contains(a, ":") {
						if p := portIn(strings.TrimSpace(a)); p > 0 {
							out = append(out, p)
						}
					}
				}
			}
		}
	}
	return out
}

// firstListenPort is nginx.conf's first TCP listen port, or 0.
func firstListenPort(nd *confedit.NginxDoc) int {
	for _, srv := range confedit.Servers(nd.Config()) {
		for _, l := range srv.Block.Find("listen") {
			if p := portIn(l.Arg(0)); p > 0 {
				return p
			}
		}
	}
	return 0
}

// firstSocketPort is uwsgi.ini's first TCP request socket port, or 0.
func firstSocketPort(id *confedit.INIDoc) int {
	ini, err := id.Parsed()
	if err != nil {
		return 0
	}
	for _, o := range ini.Options {
		switch o.Key {
		case "socket", "http-socket", "fastcgi-socket", "http":
			for _, a := range strings.Split(o.Value, ",") {
				if strings.Contains(a, ":") {
					if p := portIn(strings.TrimSpace(a)); p > 0 {
						return p
					}
				}
			}
		}
	}
	return 0
}

// portIn reads the port of "host:port", ":port" or "port".
func portIn(addr string) int {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[i+1:]
	}
	p, err := strconv.Atoi(addr)
	if err != nil || p < 1 || p > 65535 {
		return 0
	}
	return p
}
