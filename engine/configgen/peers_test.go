package configgen

// Tests against the real peers: Debian 12's nginx and uWSGI run the files
// Generate makes, with their absolute paths moved under a temporary root.

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	nginxBin   = "/usr/sbin/nginx"
	uwsgiBin   = "/usr/bin/uwsgi"
	pythonBin  = "/usr/bin/python3" // Debian's, with python3-flask
	debianConf = "/etc/nginx/nginx.conf"
)

// needPeers fails (never skips) when a peer is missing: .ci/deps installs
// them, and a skip would hide a broken install step.
func needPeers(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (install it with .ci/deps): %v", p, err)
		}
	}
}

// freePort picks a loopback port that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func hasIPv6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A proc is a peer process started by a test, stopped by its cleanup.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start runs a peer in its own process group, so the cleanup can stop it
// and every worker it forked, and logs its output if the test failed.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(name), cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		pgid := p.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- %s output:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// client never follows redirects, so tests see them.
var client = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// waitServing polls url until it answers with a status other than 502 (the
// app server not up yet) or a peer exits.
func waitServing(t *testing.T, url string, host string, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited while starting:\n%s", p.name, p.out.String())
			}
		}
		req, _ := http.NewRequest("GET", url, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never served (last: %s)", url, last)
}

// rootedPaths moves a generated file's absolute server paths under root.
func rootedPaths(root string, b []byte) []byte {
	r := strings.NewReplacer(
		"/srv/", root+"/srv/",
		"/run/", root+"/run/",
		"/var/log/nginx", root+"/var/log/nginx",
		"/etc/ssl/", root+"/etc/ssl/",
		"/etc/uwsgi/", root+"/etc/uwsgi/",
	)
	s := r.Replace(string(b))
	if !hasIPv6() {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "listen [::]") {
				keep = append(keep, l)
			}
		}
		s = strings.Join(keep, "\n")
	}
	return []byte(s)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// debianNginx lays out root/etc/nginx as Debian does, from this machine's
// real /etc/nginx/nginx.conf with its paths moved under root, our stock
// mime.types and uwsgi_params beside it, and the site file installed the
// way the README says (sites-available, linked from sites-enabled). It
// returns the prefix folder and the main config's path.
func debianNginx(t *testing.T, root, name string, site []byte) (prefix, conf string) {
	t.Helper()
	main, err := os.ReadFile(debianConf)
	if err != nil {
		t.Fatalf("Debian's nginx.conf: %v", err)
	}
	prefix = filepath.Join(root, "etc", "nginx")
	s := strings.NewReplacer(
		"/etc/nginx/", prefix+"/",
		"/var/log/nginx/", root+"/var/log/nginx/",
		"/run/nginx.pid", root+"/run/nginx.pid",
	).Replace(string(main))
	// Dynamic modules stay where the package put them.
	s = strings.ReplaceAll(s, prefix+"/modules-enabled/", "/etc/nginx/modules-enabled/")
	// Workers must read files in the test's private temp folders.
	userLine := "user root;"
	if os.Geteuid() != 0 {
		userLine = ""
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "user ") {
			l = userLine
		}
		out = append(out, l)
	}
	conf = filepath.Join(prefix, "nginx.conf")
	writeFile(t, conf, []byte(strings.Join(out, "\n")))
	for _, stock := range []string{"mime.types", "uwsgi_params"} {
		b, err := Stock(stock)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(prefix, stock), b)
	}
	for _, d := range []string{"conf.d", "sites-enabled", "../../var/log/nginx", "../../run"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(prefix, "sites-available", name), rootedPaths(root, site))
	if err := os.Symlink("../sites-available/"+name, filepath.Join(prefix, "sites-enabled", name)); err != nil {
		t.Fatal(err)
	}
	return prefix, conf
}

// nginxTest runs the real `nginx -t` on conf.
func nginxTest(t *testing.T, prefix, conf string) (string, error) {
	t.Helper()
	out, err := exec.Command(nginxBin, "-t", "-e", "stderr", "-p", prefix+"/", "-c", conf).CombinedOutput()
	return string(out), err
}

func TestProductionSitePassesNginxT(t *testing.T) {
	needPeers(t, nginxBin, debianConf)
	variants := map[string]func(*Config){
		"plain": func(*Config) {},
		"tls": func(c *Config) {
			c.TLSCert, c.TLSKey = "/etc/ssl/certs/shop.pem", "/etc/ssl/private/shop.key"
		},
		"options": func(c *Config) {
			c.PipUWSGI, c.Threads, c.Harakiri = true, 4, 300
			c.Static = append(c.Static, StaticMap{URL: "/media/", Dir: "/srv/shop/media"})
			c.ServerNames = []string{"shop.example.org", "*.shop.example.org"}
			c.ClientMaxBodySize, c.StaticExpires = "0", "max"
			c.HTTPPort, c.HTTPSPort = 8080, 8443
			c.TLSCert, c.TLSKey = "/etc/ssl/certs/shop.pem", "/etc/ssl/private/shop.key"
		},
	}
	for name, tweak := range variants {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			c := prodConfig()
			tweak(&c)
			f := mustGenerate(t, Production, c)
			if c.TLSCert != "" {
				writeSelfSigned(t, root+c.TLSCert, root+c.TLSKey, "example.com")
			}
			prefix, conf := debianNginx(t, root, c.Name, f[FileNginxSite])
			if out, err := nginxTest(t, prefix, conf); err != nil {
				t.Fatalf("nginx -t failed: %v\n%s\nsite file:\n%s", err, out, f[FileNginxSite])
			} else if !strings.Contains(out, "test is successful") {
				t.Fatalf("nginx -t said:\n%s", out)
			}
		})
	}
	// The check can fail: a broken site file must not pass.
	t.Run("broken", func(t *testing.T) {
		root := t.TempDir()
		site := mustGenerate(t, Production, prodConfig())[FileNginxSite]
		broken := bytes.Replace(site, []byte("client_max_body_size 10m;"), []byte("client_max_body_size 10m"), 1)
		prefix, conf := debianNginx(t, root, "shop", broken)
		if out, err := nginxTest(t, prefix, conf); err == nil {
			t.Fatalf("nginx -t accepted a broken site:\n%s", out)
		}
	})
}

// bundle generates the production profile and installs it under root the
// way README.md says, with the server paths moved under root: uwsgi.ini at
// IniPath, the socket folder systemd would create, and the nginx site in
// Debian's layout. It returns the uWSGI and nginx processes, running.
func bundle(t *testing.T, root string, c Config) (uw, ng *proc) {
	t.Helper()
	f := mustGenerate(t, Production, c)
	c = c.WithDefaults(Production)
	ini := root + c.IniPath
	writeFile(t, ini, rootedPaths(root, f[FileUWSGIIni]))
	if err := os.MkdirAll(filepath.Dir(root+c.Socket), 0o755); err != nil { // RuntimeDirectory
		t.Fatal(err)
	}
	prefix, conf := debianNginx(t, root, c.Name, f[FileNginxSite])
	if out, err := nginxTest(t, prefix, conf); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	uw = start(t, uwsgiBin, "--ini", ini)
	ng = start(t, nginxBin, "-e", "stderr", "-p", prefix+"/", "-c", conf, "-g", "daemon off;")
	return uw, ng
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url, host string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, b.String()
}

func wantStatus(t *testing.T, what string, resp *http.Response, code int, body string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status %s, want %d\n%s", what, resp.Status, code, body)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
