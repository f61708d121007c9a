package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

func init() {
	register("nginx", "run the nginx-compatible proxy: nginx -c FILE [-t] [-p PREFIX] [-g DIRECTIVES]", runNginx)
}

// nginxFlags is nginx's command line, as far as wsgideck follows it.
type nginxFlags struct {
	conf, prefix, globals, signal string
	test, quiet, version          bool
}

// parseNginxFlags reads nginx-style options: single dashes, values either
// glued ("-cFILE") or as the next argument.
func parseNginxFlags(args []string) (*nginxFlags, error) {
	f := &nginxFlags{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			return nil, fmt.Errorf("invalid option: %q", a)
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 't':
				f.test = true
			case 'T':
				f.test = true
			case 'q':
				f.quiet = true
			case 'v', 'V':
				f.version = true
			case 'h', '?':
				return nil, errHelp
			case 'c', 'p', 'g', 's':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("option \"-%c\" requires %s", c, map[byte]string{'c': "file name", 'p': "directory name", 'g': "parameter", 's': "parameter"}[c])
					}
					i++
					v = args[i]
				}
				switch c {
				case 'c':
					f.conf = v
				case 'p':
					f.prefix = v
				case 'g':
					f.globals = v
				case 's':
					f.signal = v
				}
				j = len(a)
			default:
				return nil, fmt.Errorf("invalid option: \"%s\"", a[j:])
			}
		}
	}
	return f, nil
}

var errHelp = errors.New("help")

func nginxUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: wsgideckd nginx [-?hvVtq] [-s signal] [-p prefix] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v, -V        : show version and exit
  -t, -T        : test configuration and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a running wsgideckd nginx: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: the configuration file's directory)
  -c filename   : set configuration file (default: nginx.conf)
  -g directives : set global directives out of configuration file

wsgideckd nginx always runs in the foreground (as with "daemon off;"), as one
process: "worker_processes N;" lets N threads run its Go code at once
(GOMAXPROCS; nginx's default, 1, makes it one event loop like an nginx worker,
"auto" one per CPU). A GOMAXPROCS environment variable overrides it.
`)
}

func runNginx(args []string, stdout, stderr io.Writer) int {
	f, err := parseNginxFlags(args)
	if err == errHelp {
		nginxUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nginx: %v\n", err)
		nginxUsage(stderr)
		return 1
	}
	if f.version {
		fmt.Fprintf(stderr, "wsgideckd nginx: wsgideck/%s (nginx 1.22.1 compatible)\n", Version)
		return 0
	}
	conf := f.conf
	if conf == "" {
		conf = "nginx.conf"
	}
	if f.prefix != "" && !filepath.IsAbs(conf) {
		// as in nginx, a relative -c is relative to the prefix
		conf = filepath.Join(f.prefix, conf)
	}
	if abs, err := filepath.Abs(conf); err == nil {
		conf = abs
	}
	opts := proxy.LoadOptions{Prefix: f.prefix, Globals: f.globals}
	if opts.Prefix != "" {
		if abs, err := filepath.Abs(opts.Prefix); err == nil {
			opts.Prefix = abs
		}
	}
	if f.signal != "" {
		return signalRunning(conf, opts, f.signal, stderr)
	}
	proxy.Version = Version
	cfg, diags, err := proxy.Load(conf, opts)
	printDiagnostics(stderr, diags, cfg, f.quiet)
	if f.test {
		syntaxOK := func() {
			if !f.quiet {
				fmt.Fprintf(stderr, "nginx: the configuration file %s syntax is ok\n", conf)
			}
		}
		failed := func(err error) int {
			fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
			fmt.Fprintf(stderr, "nginx: configuration file %s test failed\n", conf)
			return 1
		}
		if err != nil {
			// What nginx finds only after reading the whole file comes
			// after its "syntax is ok" line, as there.
			var d *nginxconf.Diagnostic
			if errors.Is(err, proxy.ErrNoEvents) || errors.As(err, &d) && d.AfterParse {
				syntaxOK()
			}
			return failed(err)
		}
		syntaxOK()
		if err := proxy.CheckFiles(cfg); err != nil {
			return failed(err)
		}
		if !f.quiet {
			fmt.Fprintf(stderr, "nginx: configuration file %s test is successful\n", conf)
		}
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
		return 1
	}
	return serveNginx(conf, opts, cfg, stderr)
}

// printDiagnostics writes the warnings nginx -t would, in its form.
func printDiagnostics(w io.Writer, diags nginxconf.Diagnostics, cfg *proxy.Config, quiet bool) {
	if quiet {
		return
	}
	for _, d := range diags.Warnings() {
		fmt.Fprintf(w, "nginx: [warn] %s\n", d.Error())
	}
	if cfg != nil {
		for _, msg := range cfg.Warnings {
			fmt.Fprintf(w, "nginx: [warn] %s\n", msg)
		}
	}
}

// serveNginx runs the proxy until a stop signal: SIGHUP reloads (a config
// that fails to load or bind is refused and the old one keeps serving),
// SIGUSR1 reopens the log files, SIGQUIT stops gracefully, SIGTERM and
// SIGINT at once.
func serveNginx(conf string, opts proxy.LoadOptions, cfg *proxy.Config, stderr io.Writer) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, format+"\n", args...)
	}
	srv := proxy.NewServer(proxy.Options{Logf: logf})
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	if err := srv.Start(cfg); err != nil {
		fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
		return 1
	}
	applyWorkerProcesses(cfg)
	pidFile := cfg.PIDFile
	writePID(pidFile, stderr)
	defer func() {
		if pidFile != "" {
			os.Remove(pidFile)
		}
	}()
	for sig := range sigs {
		switch sig {
		case syscall.SIGHUP:
			next, diags, err := proxy.Load(conf, opts)
			printDiagnostics(stderr, diags, next, false)
			if err != nil {
				fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
				fmt.Fprintf(stderr, "nginx: [alert] reload refused, the old configuration keeps serving\n")
				continue
			}
			if err := srv.Reload(next); err != nil {
				fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
				fmt.Fprintf(stderr, "nginx: [alert] reload refused, the old configuration keeps serving\n")
				continue
			}
			applyWorkerProcesses(next)
			if next.PIDFile != pidFile {
				if pidFile != "" {
					os.Remove(pidFile)
				}
				pidFile = next.PIDFile
				writePID(pidFile, stderr)
			}
			fmt.Fprintf(stderr, "nginx: [notice] reconfigured from %s\n", conf)
		case syscall.SIGUSR1:
			if err := srv.ReopenLogs(); err != nil {
				fmt.Fprintf(stderr, "nginx: [alert] %v\n", err)
			}
		case syscall.SIGQUIT:
			srv.Shutdown(context.Background())
			return 0
		default:
			srv.Close()
			return 0
		}
	}
	return 0
}

// applyWorkerProcesses maps worker_processes to GOMAXPROCS. nginx runs one
// single-threaded event loop per worker; the proxy runs in one process,
// where the closest thing is how many threads run Go code at once. With one
// (nginx's default, and what "worker_processes 1;" asks), a request's
// goroutines never wake another thread to run: the loop nginx has. A
// GOMAXPROCS in the environment wins, as it does for any Go program.
func applyWorkerProcesses(cfg *proxy.Config) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if cfg.WorkerProcesses <= 0 {
		// auto: one per CPU, the runtime's own default
		runtime.SetDefaultGOMAXPROCS()
		return
	}
	runtime.GOMAXPROCS(cfg.WorkerProcesses)
}

func writePID(path string, stderr io.Writer) {
	if path == "" {
		return
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintf(stderr, "nginx: [emerg] open() %q failed (%v)\n", path, err)
	}
}

// signalRunning is -s: it reads the pid file the config names and signals
// that process.
func signalRunning(conf string, opts proxy.LoadOptions, name string, stderr io.Writer) int {
	sigs := map[string]syscall.Signal{"stop": syscall.SIGTERM, "quit": syscall.SIGQUIT, "reopen": syscall.SIGUSR1, "reload": syscall.SIGHUP}
	sig, ok := sigs[name]
	if !ok {
		fmt.Fprintf(stderr, "nginx: invalid option: \"-s %s\"\n", name)
		return 1
	}
	cfg, _, err := proxy.Load(conf, opts)
	if err != nil {
		fmt.Fprintf(stderr, "nginx: [emerg] %v\n", err)
		return 1
	}
	if cfg.PIDFile == "" {
		fmt.Fprintf(stderr, "nginx: [error] no \"pid\" directive in %s: cannot find the running process\n", conf)
		return 1
	}
	b, err := os.ReadFile(cfg.PIDFile)
	if err != nil {
		fmt.Fprintf(stderr, "nginx: [error] open() %q failed (%v)\n", cfg.PIDFile, err)
		return 1
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		fmt.Fprintf(stderr, "nginx: [error] invalid PID number %q in %q\n", strings.TrimSpace(string(b)), cfg.PIDFile)
		return 1
	}
	if err := syscall.Kill(pid, sig); err != nil {
		fmt.Fprintf(stderr, "nginx: [alert] kill(%d, %d) failed (%v)\n", pid, sig, err)
		return 1
	}
	return 0
}
