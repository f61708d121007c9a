package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

func init() {
	register("uwsgi", "run the uWSGI-compatible app server (uwsgi.ini and/or uWSGI options)", runUWSGI)
}

const uwsgiUsage = `usage: wsgideckd uwsgi [--ini] FILE.ini[:section] [--option value ...] [--python PATH]

Runs the app server in the foreground, like "uwsgi --ini FILE". uWSGI's own
command-line options work alone or mixed with an ini file, e.g.

  wsgideckd uwsgi --http :9090 --wsgi-file foobar.py --master --processes 4 --threads 2

--python PATH picks the workers' interpreter (default: home/virtualenv's
bin/python, else python3 on PATH).

Signals: SIGINT/SIGTERM stop gracefully; SIGHUP reloads the workers (and
re-reads the configuration).`

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
	python, rest, err := stripPython(args)
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
		cfg.Python = python
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

	srv := &appserver.Server{Config: cfg, Log: stderr}
	// Signals are caught before the workers exist, so none is lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "wsgideckd uwsgi: %v\n", err)
		if errors.Is(err, appserver.ErrNoApp) {
			return appserver.NoAppExitCode
		}
		return 1
	}
	for {
		select {
		case <-srv.Done():
			return 0
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				srv.Stop()
				return 0
			}
			next, _, err := load()
			if err != nil {
				fmt.Fprintf(stderr, "wsgideckd uwsgi: reload: %v (keeping the running configuration)\n", err)
				srv.Reload(nil)
				continue
			}
			if err := srv.Reload(&next); err != nil {
				fmt.Fprintf(stderr, "wsgideckd uwsgi: reload: %v\n", err)
			}
		}
	}
}

// stripPython removes --python PATH (or --python=PATH), which is ours, not
// uWSGI's, before the uWSGI command line is read.
func stripPython(args []string) (python string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return python, append(rest, args[i:]...), nil
		case a == "--python":
			if i+1 >= len(args) {
				return "", nil, errors.New("--python needs the path of an interpreter")
			}
			python = args[i+1]
			i++
		case strings.HasPrefix(a, "--python="):
			python = strings.TrimPrefix(a, "--python=")
		default:
			rest = append(rest, a)
		}
	}
	return python, rest, nil
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
