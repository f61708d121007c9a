package uwsgi

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Helpers that run the real peers. They belong in engine/internal/peertest
// once that package exists; until then they are private to this package.

const (
	uwsgiBin = "/usr/bin/uwsgi"
	nginxBin = "/usr/sbin/nginx"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// peers that must be told their port on the command line.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPeer runs a server process until the test ends and waits until addr
// ("host:port" or "unix:/path") accepts connections.
func startPeer(t *testing.T, bin, logPath, addr string, args ...string) {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is required: %v (install it as .ci/deps does)", bin, err)
	}
	cmd := exec.Command(bin, args...)
	out, err := os.Create(logPath + ".out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		out.Close()
	})
	network, address := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", p
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout(network, address, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before listening on %s: %v\n%s", bin, addr, err, readLogs(logPath))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v\n%s", bin, addr, err, readLogs(logPath))
		}
	}
}

func readLogs(logPath string) string {
	var b strings.Builder
	for _, p := range []string{logPath, logPath + ".out"} {
		data, _ := os.ReadFile(p)
		b.Write(data)
	}
	return b.String()
}

// startUWSGI runs Debian's uWSGI with the python3 plugin serving a WSGI file
// from testdata. socketOpt is "socket" or "fastcgi-socket"; addr is
// "127.0.0.1:port" or "unix:/path" (passed to uWSGI without the prefix).
// It returns the path of uWSGI's log.
func startUWSGI(t *testing.T, socketOpt, addr, app string, extra ...string) string {
	t.Helper()
	appPath, err := filepath.Abs(filepath.Join("testdata", app))
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "uwsgi.log")
	args := []string{
		"--plugins", "python3",
		"--" + socketOpt, strings.TrimPrefix(addr, "unix:"),
		"--wsgi-file", appPath,
		"--threads", "4",
		"--logto", logPath,
	}
	startPeer(t, uwsgiBin, logPath, addr, append(args, extra...)...)
	return logPath
}

// nginxPeer is a real nginx running with a private prefix.
type nginxPeer struct {
	dir  string
	port int
}

// startNginx runs nginx in the foreground with the given http{} body; the
// strings LISTEN and PREFIX in it are replaced by the port nginx listens on
// and its prefix directory, which has an empty www/ for a root.
func startNginx(t *testing.T, httpBody string) *nginxPeer {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"logs", "tmp", "www"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := fmt.Sprintf(`worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
%[2]s
}
`, dir, strings.NewReplacer("LISTEN", fmt.Sprint(port), "PREFIX", dir).Replace(httpBody))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "error.log")
	startPeer(t, nginxBin, logPath, fmt.Sprintf("127.0.0.1:%d", port),
		"-p", dir, "-c", confPath,
		"-g", fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log %s warn;", dir, logPath))
	return &nginxPeer{dir: dir, port: port}
}

// errorLog returns nginx's error log so far.
func (n *nginxPeer) errorLog() string {
	data, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return string(data)
}
