package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/metrics"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

func init() {
	register("uwsgi", "run the uWSGI-compatible app server (uwsgi.ini and/or uWSGI options)", runUWSGI)
}

const uwsgiUsage = `usage: wsgideckd uwsgi [--ini] FILE.ini[:section] [--option value ...] [--python PATH]
                       [--prometheus ADDR] [--no-accounting]

Runs the app server in the foreground, like "uwsgi --ini FILE". uWSGI's own
command-line options work alone or mixed with an ini file, e.g.

  wsgideckd uwsgi --http :9090 --wsgi-file foobar.py --master --processes 4 --threads 2

wsgideck's own options (not uWSGI's, so never in an ini file):
  --python PATH      the workers' interpreter (default: home/virtualenv's
                     bin/python, else python3 on PATH)
  --prometheus ADDR  serve Prometheus metrics at http://ADDR/metrics
  --no-accounting    turn off the per-request metrics and event hooks (to
                     measure what they cost)

Signals, as uWSGI 2.0's master: SIGHUP reloads the workers gracefully (and
re-reads the configuration); SIGINT and SIGQUIT stop at once; SIGUSR1 logs
the stats; SIGTSTP pauses the workers, or resumes them. Not as uWSGI 2.0:
SIGTERM stops gracefully (uWSGI reloads brutally) and a second stop signal
stops at once; with die-on-term, SIGTERM stops at once and SIGQUIT reloads
brutally, as uWSGI. Added: SIGUSR2 logs what each busy worker is doing; with
cheaper, and the log not on a terminal, SIGTTIN adds a worker and SIGTTOU
removes one.`

// runUWSGI is `wsgideckd uwsgi`. It returns uWSGI's exit codes: 0 after a
// requested stop, 22 when need-app finds no app, 1 for anything else that
// keeps the app from being served.
func runUWSGI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, uwsgiUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	own, rest, err := stripOwnFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd uwsgi: %v\n", err)
		return 2
	}
	load := func() (appserver.Config, *uwsgiini.Config, error) {
		ini, err := uwsgiini.FromArgs(rest)
		if err != nil {
			return appserver.Config{}, nil, err
		}
		cfg, err := appserver.FromINI(ini)
		cfg.Python = own.python
		cfg.DisableAccounting = own.noAccounting
		return cfg, ini, err
	}
	cfg, ini, err := load()
	if ini != nil {
		printWarnings(stderr, ini)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd uwsgi: %v\n", err)
		return 1
	}

	setMasterProcs(&cfg)
	srv := &appserver.Server{Config: cfg, Log: stderr}
	// Reloads the engine starts itself (master-fifo, touch-reload,
	// py-autoreload) re-read the configuration, like SIGHUP.
	srv.ReloadConfig = func() (*appserver.Config, error) {
		next, _, err := load()
		if err != nil {
			return nil, err
		}
		return &next, nil
	}
	// Signals are caught before the workers exist, so none is lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGTSTP)
	if cfg.Cheaper > 0 && !onTerminal() {
		signal.Notify(sigs, syscall.SIGTTIN, syscall.SIGTTOU)
	}
	defer signal.Stop(sigs)
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "wsgideckd uwsgi: %v\n", err)
		if errors.Is(err, appserver.ErrNoApp) {
			return appserver.NoAppExitCode
		}
		return 1
	}
	if own.prometheus != "" {
		stop, err := servePrometheus(own.prometheus, srv, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "wsgideckd uwsgi: %v\n", err)
			srv.Stop()
			return 1
		}
		defer stop()
	}
	stopping, dieOnTerm := false, cfg.DieOnTerm
	// reload re-reads the configuration, like uWSGI's re-exec.
	reload := func(mode appserver.ReloadMode) {
		next, _, err := load()
		if err != nil {
			fmt.Fprintf(stderr, "wsgideckd uwsgi: reload: %v (keeping the running configuration)\n", err)
			srv.ReloadWith(mode, nil)
			return
		}
		if err := srv.ReloadWith(mode, &next); err != nil {
			fmt.Fprintf(stderr, "wsgideckd uwsgi: reload: %v\n", err)
			return
		}
		dieOnTerm = next.DieOnTerm
	}
	for {
		select {
		case <-srv.Done():
			return 0
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				reload(appserver.ReloadGraceful)
			case syscall.SIGUSR1:
				srv.LogStats()
			case syscall.SIGUSR2:
				srv.LogWorkerStatus()
			case syscall.SIGTSTP:
				srv.TogglePause()
			case syscall.SIGTTIN:
				// uWSGI 2.0.21's master has no handler: the signal stops
				// it (a terminal's job control). 2.1 adds a worker.
				if _, err := srv.AddWorker(); err != nil {
					fmt.Fprintf(stderr, "SIGTTIN: %v\n", err)
				}
			case syscall.SIGTTOU:
				if _, err := srv.RemoveWorker(); err != nil {
					fmt.Fprintf(stderr, "SIGTTOU: %v\n", err)
				}
			case syscall.SIGQUIT:
				if dieOnTerm && !stopping {
					// uWSGI's reap_them_all under die-on-term.
					reload(appserver.ReloadBrutal)
					continue
				}
				go srv.Kill()
			case syscall.SIGTERM:
				// Graceful, in the background (uWSGI 2.0 reloads
				// brutally; see engine/appserver's doc.go); a second stop
				// signal makes it brutal. With die-on-term: at once.
				if !stopping && !dieOnTerm {
					stopping = true
					go srv.Stop()
					continue
				}
				go srv.Kill()
			default:
				// SIGINT: uWSGI's kill_them_all.
				go srv.Kill()
			}
		}
	}
}

// masterProcs is how many OS threads run the master's Go code at once
// (GOMAXPROCS) unless the GOMAXPROCS environment variable says otherwise:
// one for everything the goroutines do, plus one for each uwsgi socket's
// event loop (Linux), which keeps its P while it waits in epoll_wait (see
// engine/appserver's doc.go).
//
// The master only moves bytes between sockets and the workers' channels;
// the CPU goes to the Python workers, one process per core. With one P
// per CPU, Go's idle Ps spin looking for work and park again (futex and
// nanosleep churn), goroutines hop between threads, and the master
// competes with the workers (and nginx) for the same cores. Measured with
// .ci/bench on 2 CPUs (see .ci/bench/RESULTS.md): with 1 the master spent
// about a third less CPU per request behind nginx and served more
// requests per second than with 2 (the default there). A loop's P is
// never idle for the scheduler, so it adds none of that churn. The
// desktop app does not do this: its master shares the process with the
// GUI.
func masterProcs(cfg *appserver.Config) int {
	n := 1
	if runtime.GOOS == "linux" {
		for _, s := range cfg.Sockets {
			if s.Proto == appserver.ProtoUWSGI {
				n++
			}
		}
	}
	return n
}

// setMasterProcs applies masterProcs, leaving an explicit GOMAXPROCS alone.
func setMasterProcs(cfg *appserver.Config) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(masterProcs(cfg))
	}
}

// ownFlags are wsgideckd's options, which are not uWSGI's.
type ownFlags struct {
	python       string
	prometheus   string
	noAccounting bool
}

// servePrometheus serves the engine's metrics in the Prometheus text format
// at http://addr/metrics until stop.
func servePrometheus(addr string, srv *appserver.Server, log io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--prometheus %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(srv.Metrics()))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Fprintf(log, "*** Prometheus metrics on http://%s/metrics ***\n", ln.Addr())
	return func() { hs.Close() }, nil
}

// stripOwnFlags removes wsgideckd's own options (--python PATH,
// --prometheus ADDR, --no-accounting; also as --opt=value) before the uWSGI
// command line is read: uWSGI knows none of them.
func stripOwnFlags(args []string) (own ownFlags, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case a == "--":
			return own, append(rest, args[i:]...), nil
		case name == "--python" || name == "--prometheus":
			if !hasValue {
				if i+1 >= len(args) {
					what := "the path of an interpreter"
					if name == "--prometheus" {
						what = "an address, e.g. 127.0.0.1:9100"
					}
					return own, nil, fmt.Errorf("%s needs %s", name, what)
				}
				value = args[i+1]
				i++
			}
			if name == "--python" {
				own.python = value
			} else {
				own.prometheus = value
			}
		case a == "--no-accounting":
			own.noAccounting = true
		default:
			rest = append(rest, a)
		}
	}
	return own, rest, nil
}

// printWarnings prints the config warnings with their file:line, the options
// the engine does not act on yet, and the ignored options once, in one line.
func printWarnings(w io.Writer, ini *uwsgiini.Config) {
	ignored := map[string]bool{}
	for _, o := range ini.Ignored {
		ignored[o.Key] = true
	}
	for _, wa := range ini.Warnings {
		if ignored[wa.Key] {
			continue
		}
		fmt.Fprintf(w, "warning: %s\n", wa)
	}
	for _, wa := range appserver.Pending(ini) {
		fmt.Fprintf(w, "warning: %s\n", wa)
	}
	if len(ignored) > 0 {
		names := make([]string, 0, len(ignored))
		for k := range ignored {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "ignored (meaningless here): %s\n", strings.Join(names, ", "))
	}
}
