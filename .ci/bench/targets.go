package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// helloApp is the app every server runs. It sets no Content-Length, as the
// issue's hello world does: each server decides how to delimit the body.
const helloApp = `def application(e, s):
    s('200 OK', [('Content-Type','text/plain')])
    return [b'Hello World']
`

const helloBody = "Hello World"

// helloAppLength is the same app with a Content-Length, so that uWSGI's
// --http11-socket can keep connections alive too: the like-for-like
// keep-alive comparison.
const helloAppLength = `def application(e, s):
    s('200 OK', [('Content-Type','text/plain'), ('Content-Length', '11')])
    return [b'Hello World']
`

// pyDirect is the control experiment behind nginx: uWSGI's design (workers
// that accept and parse the uwsgi protocol themselves) in Python. See the
// file's docstring.
//
//go:embed pydirect.py
var pyDirect []byte

// staticSize is the static file the proxies serve.
const staticSize = 1024

// target is one URL measured with wrk, and the services whose processes
// serve it (their CPU time is charged to it).
type target struct {
	key      string
	group    string
	label    string
	url      string
	wantBody string
	wrkExtra []string
	services []*service

	keepAlive bool // the server keeps wrk's connections open
	runs      []measurement
}

// comparison is one ratio the issues set a target for: ours/peer in
// requests/s, measured in the same run. min 0 means informative only.
type comparison struct {
	group      string
	label      string
	ours, peer string // target keys
	min        float64
}

// setup is everything one benchmark run starts.
type setup struct {
	opt       options
	work      string // the run's temp directory
	wsgideckd string

	services map[string]*service
	started  []*service
	targets  []*target
	compares []comparison
	todos    []string // groups or comparisons that cannot run yet, and why
}

func (s *setup) addService(sv *service) *service {
	if old, ok := s.services[sv.name]; ok {
		return old
	}
	s.services[sv.name] = sv
	return sv
}

func (s *setup) addTarget(t *target) {
	for _, old := range s.targets {
		if old.key == t.key {
			return
		}
	}
	s.targets = append(s.targets, t)
}

func (s *setup) target(key string) *target {
	for _, t := range s.targets {
		if t.key == key {
			return t
		}
	}
	return nil
}

func (s *setup) appDir() string { return filepath.Join(s.work, "app") }

// appArgs are the uWSGI options both uWSGI and wsgideckd get, so that the
// two run the very same command line (wsgideckd lists --plugins as
// ignored). Logging is off on both sides.
func appArgs(plugins, sockOpt string, port int, processes int, wsgiFile string) []string {
	return []string{
		"--plugins", plugins,
		sockOpt, "127.0.0.1:" + strconv.Itoa(port),
		"--wsgi-file", wsgiFile,
		"--processes", strconv.Itoa(processes),
		"--master",
		"--disable-logging",
	}
}

func (s *setup) oursEngine(name, sockOpt string, processes int, extra ...string) (*service, error) {
	return s.oursEngineApp(name, sockOpt, processes, "app.py", extra...)
}

func (s *setup) oursEngineApp(name, sockOpt string, processes int, wsgiFile string, extra ...string) (*service, error) {
	if sv, ok := s.services[name]; ok {
		return sv, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := append([]string{s.wsgideckd, "uwsgi"}, appArgs("python3", sockOpt, port, processes, wsgiFile)...)
	argv = append(argv, "--python", s.opt.python)
	argv = append(argv, extra...)
	return s.addService(&service{name: name, dir: s.appDir(), argv: argv, env: s.opt.oursEnv, stopSig: syscall.SIGINT,
		addr: "127.0.0.1:" + strconv.Itoa(port)}), nil
}

func (s *setup) realUWSGI(name, plugins, sockOpt string) (*service, error) {
	return s.realUWSGIApp(name, plugins, sockOpt, "app.py")
}

func (s *setup) realUWSGIApp(name, plugins, sockOpt, wsgiFile string) (*service, error) {
	if sv, ok := s.services[name]; ok {
		return sv, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := append([]string{s.opt.uwsgi}, appArgs(plugins, sockOpt, port, 2, wsgiFile)...)
	// SIGINT is uWSGI's graceful stop; SIGTERM would be a brutal reload.
	return s.addService(&service{name: name, dir: s.appDir(), argv: argv, stopSig: syscall.SIGINT,
		addr: "127.0.0.1:" + strconv.Itoa(port)}), nil
}

func (s *setup) gunicorn() (*service, error) {
	if sv, ok := s.services["gunicorn"]; ok {
		return sv, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := append(append([]string{}, s.opt.gunicorn...),
		"--workers", "2", "--worker-class", "sync",
		"--bind", "127.0.0.1:"+strconv.Itoa(port), "app:application")
	// SIGTERM is gunicorn's graceful stop.
	return s.addService(&service{name: "gunicorn", dir: s.appDir(), argv: argv, stopSig: syscall.SIGTERM,
		addr: "127.0.0.1:" + strconv.Itoa(port)}), nil
}

// pyDirect is pydirect.py with 2 processes on the hello-world app; with
// accounting, the control that also does the bookkeeping a master outside
// the request path would need (see pydirect.py).
func (s *setup) pyDirect(accounting bool) (*service, error) {
	name := "py-direct"
	if accounting {
		name = "py-direct-acct"
	}
	if sv, ok := s.services[name]; ok {
		return sv, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := []string{s.opt.python, "pydirect.py", strconv.Itoa(port), "2", "app"}
	if accounting {
		argv = append(argv, "accounting")
	}
	return s.addService(&service{name: name, dir: s.appDir(), argv: argv, stopSig: syscall.SIGINT,
		addr: "127.0.0.1:" + strconv.Itoa(port)}), nil
}

// nginxPorts are the servers of the benchmark nginx.conf.
type nginxPorts struct {
	toOurs, toUWSGI, toPy, toPyAcct, static int // listen ports
	oursSock, uwsgiSock, pySock, pyAcctSock int // uwsgi_pass targets
}

// nginxConf is the one config both nginx and wsgideckd nginx run (only the
// ports differ). Both log nothing per request; one worker process.
func nginxConf(p nginxPorts, www string) string {
	return fmt.Sprintf(`# wsgideck benchmark: the same file runs on real nginx and on wsgideckd nginx.
daemon off;
master_process on;
worker_processes 1;
pid nginx.pid;
error_log error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type application/octet-stream;

    # nginx -> wsgideckd uwsgi (uwsgi protocol)
    server {
        listen 127.0.0.1:%d;
        location / {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%d;
        }
    }

    # nginx -> real uWSGI (uwsgi protocol)
    server {
        listen 127.0.0.1:%d;
        location / {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%d;
        }
    }

    # nginx -> pydirect.py (uwsgi protocol; the control experiment)
    server {
        listen 127.0.0.1:%d;
        location / {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%d;
        }
    }

    # nginx -> pydirect.py accounting (the control with a master's bookkeeping)
    server {
        listen 127.0.0.1:%d;
        location / {
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%d;
        }
    }

    # a 1 KB static file
    server {
        listen 127.0.0.1:%d;
        root %s;
    }
}
`, p.toOurs, p.oursSock, p.toUWSGI, p.uwsgiSock, p.toPy, p.pySock, p.toPyAcct, p.pyAcctSock, p.static, www)
}

// proxyService is real nginx (ours=false) or wsgideckd nginx (ours=true)
// with the benchmark config in its own prefix directory.
func (s *setup) proxyService(ours bool) (*service, nginxPorts, error) {
	name := "nginx"
	if ours {
		name = "ours-proxy"
	}
	oursSock, err := s.oursEngine("ours-socket", "--socket", 2)
	if err != nil {
		return nil, nginxPorts{}, err
	}
	uwsgiSock, err := s.realUWSGI("uwsgi-socket", "python3", "--socket")
	if err != nil {
		return nil, nginxPorts{}, err
	}
	if sv, ok := s.services[name]; ok {
		return sv, sv.ports, nil
	}
	pySock, err := s.pyDirect(false)
	if err != nil {
		return nil, nginxPorts{}, err
	}
	pyAcctSock, err := s.pyDirect(true)
	if err != nil {
		return nil, nginxPorts{}, err
	}
	p := nginxPorts{oursSock: portOf(oursSock.addr), uwsgiSock: portOf(uwsgiSock.addr), pySock: portOf(pySock.addr), pyAcctSock: portOf(pyAcctSock.addr)}
	for _, dst := range []*int{&p.toOurs, &p.toUWSGI, &p.toPy, &p.toPyAcct, &p.static} {
		if *dst, err = freePort(); err != nil {
			return nil, p, err
		}
	}
	prefix := filepath.Join(s.work, name)
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return nil, p, err
	}
	params, err := os.ReadFile(s.opt.uwsgiParams)
	if err != nil {
		return nil, p, fmt.Errorf("Debian's uwsgi_params: %w", err)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(filepath.Join(prefix, "uwsgi_params"), params, 0o644); err != nil {
		return nil, p, err
	}
	if err := os.WriteFile(conf, []byte(nginxConf(p, filepath.Join(s.work, "www"))), 0o644); err != nil {
		return nil, p, err
	}
	sv := &service{name: name, dir: prefix, ports: p, conf: conf,
		addr: "127.0.0.1:" + strconv.Itoa(p.static)}
	if ours {
		sv.env = s.opt.oursEnv
		sv.argv = []string{s.wsgideckd, "nginx", "-p", prefix + "/", "-c", conf}
		// SIGQUIT is nginx's graceful stop, and ours.
		sv.stopSig = syscall.SIGQUIT
	} else {
		// -e keeps nginx's start-up messages out of /var/log/nginx.
		sv.argv = []string{s.opt.nginx, "-p", prefix + "/", "-e", filepath.Join(prefix, "error.log"), "-c", conf}
		sv.stopSig = syscall.SIGQUIT
	}
	return s.addService(sv), p, nil
}

func portOf(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(p)
	return n
}

func url(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + path
}

// engineTargets are issue 2's: the engine against uWSGI, its http router,
// gunicorn, and each behind real nginx.
func (s *setup) engineTargets() error {
	ours, err := s.oursEngine("ours-http", "--http-socket", 2)
	if err != nil {
		return err
	}
	uh, err := s.realUWSGI("uwsgi-http", "python3", "--http-socket")
	if err != nil {
		return err
	}
	ur, err := s.realUWSGI("uwsgi-router", "python3,http", "--http")
	if err != nil {
		return err
	}
	gu, err := s.gunicorn()
	if err != nil {
		return err
	}
	ng, p, err := s.proxyService(false)
	if err != nil {
		return err
	}
	oursLen, err := s.oursEngineApp("ours-http-length", "--http-socket", 2, "app_length.py")
	if err != nil {
		return err
	}
	uwsgiLen, err := s.realUWSGIApp("uwsgi-http11-length", "python3", "--http11-socket", "app_length.py")
	if err != nil {
		return err
	}
	oursSock, uwsgiSock := s.services["ours-socket"], s.services["uwsgi-socket"]
	close := []string{"-H", "Connection: close"}
	for _, t := range []*target{
		{key: "ours-http", label: "wsgideckd uwsgi --http-socket, 2 processes", url: url(portOf(ours.addr), "/"), services: []*service{ours}},
		{key: "uwsgi-http", label: "uWSGI --http-socket, 2 processes", url: url(portOf(uh.addr), "/"), services: []*service{uh}},
		{key: "uwsgi-router", label: "uWSGI --http (router), 2 processes", url: url(portOf(ur.addr), "/"), services: []*service{ur}},
		{key: "gunicorn", label: "gunicorn, 2 sync workers", url: url(portOf(gu.addr), "/"), services: []*service{gu}},
		{key: "nginx-ours", label: "nginx -> wsgideckd uwsgi --socket", url: url(p.toOurs, "/"), services: []*service{ng, oursSock}},
		{key: "nginx-uwsgi", label: "nginx -> uWSGI --socket", url: url(p.toUWSGI, "/"), services: []*service{ng, uwsgiSock}},
		{key: "nginx-pydirect", label: "nginx -> pydirect.py (uWSGI's design in Python; control experiment)", url: url(p.toPy, "/"), services: []*service{ng, s.services["py-direct"]}},
		{key: "nginx-pydirect-acct", label: "nginx -> pydirect.py with a master's bookkeeping (control experiment)", url: url(p.toPyAcct, "/"), services: []*service{ng, s.services["py-direct-acct"]}},
		{key: "ours-http-close", label: "wsgideckd uwsgi --http-socket, client sends Connection: close", url: url(portOf(ours.addr), "/"), wrkExtra: close, services: []*service{ours}},
		{key: "uwsgi-http-close", label: "uWSGI --http-socket, client sends Connection: close", url: url(portOf(uh.addr), "/"), wrkExtra: close, services: []*service{uh}},
		{key: "ours-http-length", label: "wsgideckd uwsgi --http-socket, app sets Content-Length", url: url(portOf(oursLen.addr), "/"), services: []*service{oursLen}},
		{key: "uwsgi-http11-length", label: "uWSGI --http11-socket, app sets Content-Length", url: url(portOf(uwsgiLen.addr), "/"), services: []*service{uwsgiLen}},
	} {
		t.group, t.wantBody = "engine", helloBody
		s.addTarget(t)
	}
	s.compares = append(s.compares,
		comparison{group: "engine", label: "ours vs uWSGI http-socket", ours: "ours-http", peer: "uwsgi-http", min: 0.8},
		comparison{group: "engine", label: "ours vs uWSGI http router", ours: "ours-http", peer: "uwsgi-router", min: 2},
		comparison{group: "engine", label: "ours vs gunicorn (2 sync workers)", ours: "ours-http", peer: "gunicorn", min: 1.5},
		comparison{group: "engine", label: "nginx -> ours vs nginx -> uWSGI", ours: "nginx-ours", peer: "nginx-uwsgi", min: 0.9},
		// What the 0.9x asks of a Python worker doing uWSGI's
		// per-request work itself, as the alternative design would.
		comparison{group: "engine", label: "control: nginx -> pydirect.py vs nginx -> uWSGI", ours: "nginx-pydirect", peer: "nginx-uwsgi"},
		comparison{group: "engine", label: "control: nginx -> ours vs nginx -> pydirect.py", ours: "nginx-ours", peer: "nginx-pydirect"},
		// The same design with the least a master outside the request
		// path needs from its workers (a scoreboard and request records).
		comparison{group: "engine", label: "control: nginx -> pydirect.py with bookkeeping vs nginx -> uWSGI", ours: "nginx-pydirect-acct", peer: "nginx-uwsgi"},
		comparison{group: "engine", label: "ours vs uWSGI http-socket, both closing each connection", ours: "ours-http-close", peer: "uwsgi-http-close"},
		comparison{group: "engine", label: "ours vs uWSGI http11-socket, both keeping connections alive (app sets Content-Length)", ours: "ours-http-length", peer: "uwsgi-http11-length"},
	)
	return nil
}

// proxyTargets are issue 4's: wsgideckd nginx against nginx, with the same
// nginx.conf. When wsgideckd has no working nginx command yet, only the
// nginx side is measured and the rest is listed as to do.
func (s *setup) proxyTargets() error {
	ng, p, err := s.proxyService(false)
	if err != nil {
		return err
	}
	uwsgiSock := s.services["uwsgi-socket"]
	staticURL := "/1k.txt"
	peers := []*target{
		{key: "static-nginx", label: "nginx, 1 KB static file", url: url(p.static, staticURL), wantBody: s.staticBody(), services: []*service{ng}},
		{key: "nginx-uwsgi", label: "nginx -> uWSGI --socket", url: url(p.toUWSGI, "/"), wantBody: helloBody, services: []*service{ng, uwsgiSock}},
	}
	for _, t := range peers {
		t.group = "proxy"
		if old := s.target(t.key); old == nil {
			s.addTarget(t)
		}
	}

	ours, op, err := s.proxyService(true)
	if err != nil {
		return err
	}
	if why := s.probeOurProxy(ours); why != "" {
		delete(s.services, ours.name)
		s.todos = append(s.todos, "proxy (issue 4): wsgideckd nginx is not measured: "+why+
			". Measured only nginx's side; rerun `go run ./.ci/bench -only proxy` once it works.")
		return nil
	}
	oursSock := s.services["ours-socket"]
	for _, t := range []*target{
		{key: "static-ours", label: "wsgideckd nginx, 1 KB static file", url: url(op.static, staticURL), wantBody: s.staticBody(), services: []*service{ours}},
		{key: "ours-proxy-uwsgi", label: "wsgideckd nginx -> uWSGI --socket", url: url(op.toUWSGI, "/"), wantBody: helloBody, services: []*service{ours, uwsgiSock}},
		{key: "ours-proxy-ours", label: "wsgideckd nginx -> wsgideckd uwsgi --socket", url: url(op.toOurs, "/"), wantBody: helloBody, services: []*service{ours, oursSock}},
	} {
		t.group = "proxy"
		s.addTarget(t)
	}
	s.compares = append(s.compares,
		comparison{group: "proxy", label: "1 KB static: ours vs nginx", ours: "static-ours", peer: "static-nginx", min: 0.7},
		comparison{group: "proxy", label: "uwsgi_pass to uWSGI: ours vs nginx", ours: "ours-proxy-uwsgi", peer: "nginx-uwsgi", min: 0.9},
		comparison{group: "proxy", label: "our proxy -> our engine vs nginx -> uWSGI", ours: "ours-proxy-ours", peer: "nginx-uwsgi", min: 0.9},
	)
	return nil
}

// probeOurProxy runs `wsgideckd nginx -t` on the benchmark config; it
// returns why our proxy cannot be measured, or "".
func (s *setup) probeOurProxy(sv *service) string {
	cmd := exec.Command(sv.argv[0], append(sv.argv[1:], "-t")...)
	cmd.Dir = sv.dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	text := strings.TrimSpace(string(out))
	if strings.Contains(text, "unknown command") {
		return "`wsgideckd nginx` does not exist yet (the binary says: unknown command \"nginx\")"
	}
	return fmt.Sprintf("`wsgideckd nginx -t` rejects the benchmark config (%v): %s", err, text)
}

func (s *setup) staticBody() string {
	b := make([]byte, staticSize)
	const line = "wsgideck benchmark: a 1 KB static file served by the proxy.\n"
	for i := range b {
		b[i] = line[i%len(line)]
	}
	b[len(b)-1] = '\n'
	return string(b)
}

// writeFiles writes the app and the static file. The directories are world
// readable: nginx's worker runs as nobody.
func (s *setup) writeFiles() error {
	for _, d := range []string{s.work, s.appDir(), filepath.Join(s.work, "www")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(s.appDir(), "app.py"), []byte(helloApp), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.appDir(), "pydirect.py"), pyDirect, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.appDir(), "app_length.py"), []byte(helloAppLength), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.work, "www", "1k.txt"), []byte(s.staticBody()), 0o644)
}
