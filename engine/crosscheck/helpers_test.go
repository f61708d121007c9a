package crosscheck

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
)

// project writes uwsgi.ini and nginx.conf (and nginx's stock
// uwsgi_params, mime.types) into a temp folder and opens them.
func project(t *testing.T, ini, conf string) (dir string, id *confedit.INIDoc, nd *confedit.NginxDoc) {
	t.Helper()
	dir = t.TempDir()
	write(t, filepath.Join(dir, "uwsgi.ini"), ini)
	write(t, filepath.Join(dir, "nginx.conf"), conf)
	for _, stock := range []string{"uwsgi_params", "mime.types", "fastcgi_params"} {
		b, err := configgen.Stock(stock)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, stock), string(b))
	}
	id, nd = openDocs(t, dir)
	return dir, id, nd
}

func openDocs(t *testing.T, dir string) (*confedit.INIDoc, *confedit.NginxDoc) {
	t.Helper()
	id, err := confedit.OpenINI(filepath.Join(dir, "uwsgi.ini"), confedit.INIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := confedit.OpenNginx(filepath.Join(dir, "nginx.conf"), confedit.NginxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return id, nd
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// noDNS is a resolver that knows localhost only, so tests never wait on
// the network.
func noDNS(_ context.Context, host string) ([]string, error) {
	if strings.EqualFold(host, "localhost") {
		return []string{"127.0.0.1", "::1"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func check(t *testing.T, id *confedit.INIDoc, nd *confedit.NginxDoc) *Report {
	t.Helper()
	r, err := Check(id, nd, Options{LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// only returns the findings of kind k.
func only(r *Report, k Kind) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

func dump(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  [%s] %s\n", f.Kind, f)
		for _, fx := range f.Fixes {
			fmt.Fprintf(&b, "      fix: %s\n", fx.Summary)
		}
	}
	return b.String()
}

// one returns the single finding of kind k, failing otherwise.
func one(t *testing.T, r *Report, k Kind) Finding {
	t.Helper()
	fs := only(r, k)
	if len(fs) != 1 {
		t.Fatalf("%d %s findings, want 1:\n%s", len(fs), k, dump(r))
	}
	return fs[0]
}

// saveBoth validates and saves both documents.
func saveBoth(t *testing.T, id *confedit.INIDoc, nd *confedit.NginxDoc) {
	t.Helper()
	if err := id.Save(); err != nil {
		t.Fatal(err)
	}
	if err := nd.Save(); err != nil {
		t.Fatal(err)
	}
}

// demo copies the demo project and moves its ports to free ones.
func demo(t *testing.T) (string, *confedit.INIDoc, *confedit.NginxDoc) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o644)
		}
		return err
	})
	id, nd := openDocs(t, dir)
	for _, p := range []int{8080, 3031, 9191} {
		if err := MovePort(id, nd, p, freePort(t), Options{LookupHost: noDNS}); err != nil {
			t.Fatal(err)
		}
	}
	saveBoth(t, id, nd)
	return dir, id, nd
}

func hasLoc(f Finding, file string, line int) bool {
	for _, l := range f.Locations {
		if filepath.Base(l.File) == file && l.Line == line {
			return true
		}
	}
	return false
}

// nginxT runs the real nginx -t on dir/nginx.conf with dir as the prefix,
// the way the demo's header says nginx runs it.
func nginxT(t *testing.T, dir string) (string, bool) {
	t.Helper()
	const bin = "/usr/sbin/nginx"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("nginx is needed: %v", err)
	}
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "pid "+dir+"/nginx.pid;").CombinedOutput()
	return string(out), err == nil
}
