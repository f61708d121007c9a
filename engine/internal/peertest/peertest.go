// Package peertest starts the real programs wsgideck is tested against
// (nginx, uWSGI) for integration tests: each in a private temp directory, on
// ports or sockets the test chose, stopped when the test ends, with its log
// shown when the test fails.
//
// A missing peer fails the test (it never skips: .ci/deps installs the
// peers, and a skip would hide a missing install step).
package peertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Python is the interpreter with Debian's Flask and Django.
const Python = "/usr/bin/python3"

// Program paths of the peers.
const (
	NginxPath = "/usr/sbin/nginx"
	UWSGIPath = "/usr/bin/uwsgi"
)

// StartTimeout bounds how long a peer may take to start listening.
const StartTimeout = 20 * time.Second

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peertest: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" for a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

// dialTarget turns a listen address into something to dial: a unix path
// (no ':'), or host:port with an empty or wildcard host read as 127.0.0.1.
func dialTarget(addr string) (network, target string) {
	if !strings.Contains(addr, ":") {
		if strings.HasPrefix(addr, "@") {
			return "unix", "\x00" + addr[1:]
		}
		return "unix", addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "tcp", addr
	}
	if host == "" || host == "*" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "tcp", net.JoinHostPort(host, port)
}

// WaitAddr waits until addr (host:port, :port or a unix socket path)
// accepts connections. exited, when not nil, is closed if the process that
// should listen there dies first.
func WaitAddr(t testing.TB, addr string, timeout time.Duration, exited <-chan struct{}) {
	t.Helper()
	network, target := dialTarget(addr)
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, target, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("peertest: the process exited before listening on %s", addr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("peertest: nothing listening on %s after %v: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// need returns the path of a peer program or fails the test.
func need(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("peertest: %s is missing (install the %s package; .ci/deps does)", path, pkg)
	}
	return path
}

// proc is a started peer process.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func start(t testing.TB, cmd *exec.Cmd, logPath string) *proc {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = peerProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("peertest: starting %s: %v", cmd.Path, err)
	}
	logf.Close()
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	return p
}

// stop sends sig to the group, then SIGKILL after grace.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
	// Workers left in the group (uWSGI's) go too.
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// Nginx is a running nginx with a private prefix directory.
type Nginx struct {
	Dir       string // the prefix: nginx.conf, logs, temp paths
	ErrorLog  string
	AccessLog string
	p         *proc
}

var listenRE = regexp.MustCompile(`(?m)^\s*listen\s+([^\s;]+)`)

// StartNginx runs nginx in the foreground (no daemon, no master process)
// with a private prefix. httpBody goes inside the http block, which already
// sets the access log, all temp paths under the prefix, mime.types and
// default_type. It waits for every `listen` address in httpBody (a bare
// port means 127.0.0.1:port) and stops nginx when the test ends, printing
// its error log if the test failed.
func StartNginx(t testing.TB, httpBody string) *Nginx {
	t.Helper()
	bin := need(t, NginxPath, "nginx")
	dir := t.TempDir()
	n := &Nginx{Dir: dir, ErrorLog: filepath.Join(dir, "error.log"), AccessLog: filepath.Join(dir, "access.log")}
	conf := fmt.Sprintf(`events { worker_connections 1024; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
%[2]s
}
`, dir, httpBody)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, NginxArgs(dir, confPath)...)
	n.p = start(t, cmd, filepath.Join(dir, "stderr.log"))
	t.Cleanup(func() {
		n.p.stop(syscall.SIGQUIT, 5*time.Second)
		if t.Failed() {
			t.Logf("nginx error log:\n%s\nnginx.conf:\n%s", readFile(n.ErrorLog)+readFile(filepath.Join(dir, "stderr.log")), conf)
		}
	})
	for _, m := range listenRE.FindAllStringSubmatch(httpBody, -1) {
		addr := m[1]
		if !strings.Contains(addr, ":") && !strings.HasPrefix(addr, "unix") {
			addr = "127.0.0.1:" + addr
		}
		addr = strings.TrimPrefix(addr, "unix:")
		WaitAddr(t, addr, StartTimeout, n.p.exited)
	}
	return n
}

// NginxArgs are the arguments that run nginx with prefix dir and config
// conf in the foreground, with its pid file and error log under dir.
func NginxArgs(dir, conf string) []string {
	return []string{"-p", dir, "-c", conf, "-g", fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log %s/error.log;", dir, dir)}
}

// NginxTest runs `nginx -t` on a complete config file and returns its
// output and whether the config passed.
func NginxTest(t testing.TB, confPath string) (string, bool) {
	t.Helper()
	bin := need(t, NginxPath, "nginx")
	dir := t.TempDir()
	out, err := exec.Command(bin, append([]string{"-t"}, NginxArgs(dir, confPath)...)...).CombinedOutput()
	return string(out), err == nil
}

// UWSGI is a running real uWSGI.
type UWSGI struct {
	Dir string // the ini file's directory (uWSGI's working directory)
	Ini string // the ini path as given to --ini
	Log string // uWSGI's stdout and stderr
	p   *proc
}

var uwsgiSocketRE = regexp.MustCompile(`(?m)^\s*(?:socket|uwsgi-socket|http-socket|http|fastcgi-socket)\s*=\s*(\S+)\s*$`)

// StartUWSGI writes ini (a complete file, e.g. "[uwsgi]\nplugins = python3\n
// ...") to a temp dir and runs it with StartUWSGIFile. Debian's uwsgi needs
// `plugins = python3` (and `http` for the http router).
func StartUWSGI(t testing.TB, ini string) *UWSGI {
	t.Helper()
	path := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	return StartUWSGIFile(t, path)
}

// StartUWSGIFile runs `uwsgi --ini PATH` in PATH's directory (PATH may end
// in ":section"), logging to a temp dir, and waits for every socket the file
// declares (socket, uwsgi-socket, http-socket, http, fastcgi-socket). It
// stops uWSGI (SIGINT, then SIGKILL for the whole process group) when the
// test ends and prints its log if the test failed.
func StartUWSGIFile(t testing.TB, path string) *UWSGI {
	t.Helper()
	bin := need(t, UWSGIPath, "uwsgi-core and uwsgi-plugin-python3")
	file := path
	if i := strings.LastIndex(path, ":"); i > 0 && !strings.HasSuffix(path, ".ini") {
		file = path[:i]
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	u := &UWSGI{Dir: filepath.Dir(file), Ini: path, Log: filepath.Join(logDir, "uwsgi.log")}
	cmd := exec.Command(bin, "--ini", path)
	cmd.Dir = u.Dir
	u.p = start(t, cmd, u.Log)
	t.Cleanup(func() {
		u.p.stop(syscall.SIGINT, 5*time.Second)
		if t.Failed() {
			t.Logf("uWSGI log:\n%s", readFile(u.Log))
		}
	})
	// The ini's socket lines may hold magic variables (%d, $(ENV), ...):
	// the addresses to wait for are the ones uWSGI logs as bound.
	want := len(uwsgiSocketRE.FindAllStringSubmatch(string(text), -1))
	deadline := time.Now().Add(StartTimeout)
	for {
		bound := uwsgiBoundRE.FindAllStringSubmatch(readFile(u.Log), -1)
		if len(bound) >= want {
			for _, m := range bound {
				WaitAddr(t, m[1]+m[2], StartTimeout, u.p.exited)
			}
			return u
		}
		select {
		case <-u.p.exited:
			t.Fatalf("peertest: uWSGI exited at startup:\n%s", readFile(u.Log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("peertest: uWSGI bound %d of %d sockets after %v", len(bound), want, StartTimeout)
		}
	}
}

var uwsgiBoundRE = regexp.MustCompile(`(?m)(?:bound to (?:TCP|UNIX) address (\S+) fd|uWSGI http bound on (\S+) fd)`)

// LogText returns uWSGI's log so far.
func (u *UWSGI) LogText() string { return readFile(u.Log) }

// Exited is closed when the uWSGI process has exited.
func (u *UWSGI) Exited() <-chan struct{} { return u.p.exited }

// LogText returns nginx's error log so far.
func (n *Nginx) LogText() string { return readFile(n.ErrorLog) }

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
