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
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/project"
	"github.com/wsgideck/wsgideck/engine/proxy"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
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
without dropping connections.

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
	u := &upRun{dir: dir, id: id, nd: nd, python: *python, stdout: stdout, stderr: stderr}
	if code, ok := u.prepare(*proxyPort, *appPort, *freePorts); !ok {
		return code
	}
	return u.run()
}

type upRun struct {
	dir    string
	id     *confedit.INIDoc
	nd     *confedit.NginxDoc
	python string
	stdout io.Writer
	stderr io.Writer
}

// prepare moves ports as asked, validates and cross-checks. The
// documents may be edited in memory; nothing is saved.
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
		return true
	}
	if !move("proxy-port", firstListenPort(u.nd), proxyPort) || !move("app-port", firstSocketPort(u.id), appPort) {
		return exitErrors, false
	}
	bad := false
	for _, p := range validate(u.dir, u.id, u.nd) {
		if p.Severity == confedit.Info {
			continue
		}
		fmt.Fprintln(u.stderr, problemText(u.dir, p))
		bad = bad || p.Severity == confedit.Error
	}
	if bad {
		fmt.Fprintln(u.stderr, "wsgideckd up: not starting: fix the errors above (wsgideckd check shows them too)")
		return exitErrors, false
	}
	for round := 0; ; round++ {
		r, err := crosscheck.Check(u.id, u.nd, opts)
		if err != nil {
			fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
			return exitErrors, false
		}
		var busy *crosscheck.Finding
		errs := 0
		for i, f := range r.Findings {
			if f.Severity != confedit.Error {
				if round == 0 {
					fmt.Fprintln(u.stderr, f.String())
				}
				continue
			}
			if f.Kind == crosscheck.KindPortBusy && freePorts && len(f.Fixes) > 0 && busy == nil {
				busy = &r.Findings[i]
				continue
			}
			errs++
			fmt.Fprintln(u.stderr, f.String())
			for _, fx := range f.Fixes {
				fmt.Fprintf(u.stderr, "    fix: %s\n", fx.Summary)
			}
		}
		if errs > 0 {
			fmt.Fprintf(u.stderr, "wsgideckd up: not starting: the configs disagree; wsgideckd check --fix %s can repair what has a fix, or use --free-ports for busy ports\n", u.dir)
			return exitErrors, false
		}
		if busy == nil {
			return 0, true
		}
		if round > 10 {
			fmt.Fprintln(u.stderr, "wsgideckd up: no free ports found")
			return exitWarnings, false
		}
		fmt.Fprintf(u.stdout, "%s\n  for this run: %s\n", busy.Message, busy.Fixes[0].Summary)
		if err := busy.Fixes[0].Apply(); err != nil {
			fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
			return exitWarnings, false
		}
	}
}

// loadEngine reads the engine's config from the document as edited.
func (u *upRun) loadEngine() (appserver.Config, error) {
	ini, err := uwsgiini.Parse(u.id.Path(), u.id.Bytes(), "")
	if err != nil {
		return appserver.Config{}, err
	}
	cfg, err := appserver.FromINI(ini)
	if err != nil {
		return cfg, err
	}
	if u.python != "" {
		cfg.Python = u.python
	}
	return cfg, nil
}

func (u *upRun) loadProxy() (*proxy.Config, error) {
	return proxy.Compile(u.nd.Config(), proxy.LoadOptions{Prefix: u.dir})
}

func (u *upRun) run() int {
	// uWSGI and nginx resolve relative paths against the folder they run
	// in; wsgideck runs a project in its folder.
	if err := os.Chdir(u.dir); err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
		return exitWarnings
	}
	ecfg, err := u.loadEngine()
	if err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
		return exitErrors
	}
	pcfg, err := u.loadProxy()
	if err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: %v\n", err)
		return exitErrors
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	engine := &appserver.Server{Config: ecfg, Log: u.stderr}
	if err := engine.Start(); err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: app server: %v\n", err)
		return exitWarnings
	}
	px := proxy.NewServer(proxy.Options{Logf: func(format string, args ...any) {
		fmt.Fprintf(u.stderr, format+"\n", args...)
	}})
	if err := px.Start(pcfg); err != nil {
		engine.Stop()
		fmt.Fprintf(u.stderr, "wsgideckd up: proxy: %v\n", err)
		return exitWarnings
	}
	for _, a := range px.Addrs() {
		fmt.Fprintf(u.stdout, "proxy (nginx.conf) listening on http://%s/\n", a)
	}
	for _, a := range engine.Addrs() {
		fmt.Fprintf(u.stdout, "app server (uwsgi.ini) listening on %s\n", a)
	}
	fmt.Fprintln(u.stdout, "press Ctrl-C to stop")

	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		px.Shutdown(ctx)
		engine.Stop()
	}
	for {
		select {
		case <-engine.Done():
			px.Close()
			fmt.Fprintln(u.stderr, "wsgideckd up: the app server stopped")
			return exitWarnings
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				fmt.Fprintln(u.stdout, "stopping")
				stop()
				return exitOK
			}
			u.reload(engine, px)
		}
	}
}

// reload re-reads both files from disk and applies them; a config with
// errors is not applied.
func (u *upRun) reload(engine *appserver.Server, px *proxy.Server) {
	if err := u.id.Revert(); err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: reload: %v (keeping the running configuration)\n", err)
		return
	}
	if err := u.nd.Revert(); err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: reload: %v (keeping the running configuration)\n", err)
		return
	}
	if errs := confedit.Errors(validate(u.dir, u.id, u.nd)); len(errs) > 0 {
		for _, p := range errs {
			fmt.Fprintln(u.stderr, problemText(u.dir, p))
		}
		fmt.Fprintln(u.stderr, "wsgideckd up: reload: keeping the running configuration")
		return
	}
	ecfg, err := u.loadEngine()
	if err == nil {
		err = engine.Reload(&ecfg)
	}
	if err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: reload app server: %v\n", err)
	}
	pcfg, err := u.loadProxy()
	if err == nil {
		err = px.Reload(pcfg)
	}
	if err != nil {
		fmt.Fprintf(u.stderr, "wsgideckd up: reload proxy: %v\n", err)
		return
	}
	fmt.Fprintln(u.stdout, "reloaded")
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
