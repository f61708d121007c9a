package crosscheck

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/confedit"
)

func TestDemoIsConsistent(t *testing.T) {
	_, id, nd := demo(t)
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Fatalf("the demo project has findings:\n%s", dump(r))
	}
}

// siteConf is an nginx.conf with the pass directive on line 12.
func siteConf(listen int, pass string) string {
	return fmt.Sprintf(`worker_processes 1;
events {}
http {
    include mime.types;
    server {
        listen 127.0.0.1:%d;
        server_name localhost;

        location / {
            include uwsgi_params;
            # the app
            %s;
        }
    }
}
`, listen, pass)
}

func TestProtocolMismatch(t *testing.T) {
	p := freePort(t)
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nhttp-socket = :%d\nbuffer-size = 32768\n", p)
	conf := siteConf(freePort(t), fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", p))
	_, id, nd := project(t, ini, conf)
	f := one(t, check(t, id, nd), KindProtocol)
	want := fmt.Sprintf("nginx.conf:12 uwsgi_pass 127.0.0.1:%d, but uwsgi.ini:3 http-socket = :%d speaks HTTP: use proxy_pass there, or socket = here.", p, p)
	if f.Message != want {
		t.Errorf("message\n%s\nwant\n%s", f.Message, want)
	}
	if f.Severity != confedit.Error || !hasLoc(f, "nginx.conf", 12) || !hasLoc(f, "uwsgi.ini", 3) || len(f.Fixes) != 2 {
		t.Fatalf("finding %+v", f)
	}

	// Fix 1: proxy_pass in nginx.conf.
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if got := string(nd.Bytes("")); !strings.Contains(got, fmt.Sprintf("            proxy_pass http://127.0.0.1:%d;\n", p)) || strings.Contains(got, "uwsgi_pass") {
		t.Errorf("after the fix:\n%s", got)
	}
	if r := check(t, id, nd); len(only(r, KindProtocol)) != 0 {
		t.Errorf("still a mismatch after the fix:\n%s", dump(r))
	}

	// Fix 2, on a fresh pair: socket = in uwsgi.ini.
	_, id, nd = project(t, ini, conf)
	f = one(t, check(t, id, nd), KindProtocol)
	if err := f.Fixes[1].Apply(); err != nil {
		t.Fatal(err)
	}
	if got := string(id.Bytes()); got != strings.Replace(ini, "http-socket", "socket", 1) {
		t.Errorf("after the fix:\n%s", got)
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s", dump(r))
	}
}

func TestProtocolMismatchProxyPassToUWSGISocket(t *testing.T) {
	p := freePort(t)
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = 127.0.0.1:%d\nbuffer-size = 32768\n", p)
	_, id, nd := project(t, ini, siteConf(freePort(t), fmt.Sprintf("proxy_pass http://localhost:%d", p)))
	f := one(t, check(t, id, nd), KindProtocol)
	if !strings.Contains(f.Message, "speaks the uwsgi protocol: use uwsgi_pass there, or http-socket = here.") || !strings.Contains(f.Message, "21573") {
		t.Errorf("message: %s", f.Message)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nd.Bytes("")), fmt.Sprintf("uwsgi_pass localhost:%d;", p)) {
		t.Errorf("after the fix:\n%s", nd.Bytes(""))
	}
}

func TestUpstreamGroup(t *testing.T) {
	p := freePort(t)
	conf := fmt.Sprintf(`events {}
http {
    upstream django {
        server 127.0.0.1:%d weight=2; # the app
    }
    server {
        listen 127.0.0.1:%d;
        location / {
            include uwsgi_params;
            uwsgi_pass django;
        }
    }
}
`, p, freePort(t))
	_, id, nd := project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\n", p), conf)
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Fatalf("findings for a matching upstream:\n%s", dump(r))
	}
	_, id, nd = project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nfastcgi-socket = :%d\nbuffer-size = 32768\n", p), conf)
	f := one(t, check(t, id, nd), KindProtocol)
	want := fmt.Sprintf("nginx.conf:10 uwsgi_pass django (nginx.conf:4 server 127.0.0.1:%d weight=2), but uwsgi.ini:3 fastcgi-socket = :%d speaks FastCGI: use fastcgi_pass there, or socket = here.", p, p)
	if f.Message != want {
		t.Errorf("message\n%s\nwant\n%s", f.Message, want)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	got := string(nd.Bytes(""))
	if !strings.Contains(got, "include fastcgi_params;\n            fastcgi_pass django;") {
		t.Errorf("after the fix:\n%s", got)
	}
	// The moved upstream server follows a port move.
	q := freePort(t)
	if err := MovePort(id, nd, p, q, Options{LookupHost: noDNS}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nd.Bytes("")), fmt.Sprintf("server 127.0.0.1:%d weight=2; # the app", q)) || !strings.Contains(string(id.Bytes()), fmt.Sprintf("fastcgi-socket = :%d\n", q)) {
		t.Errorf("after MovePort:\n%s\n%s", id.Bytes(), nd.Bytes(""))
	}
}

func TestUnixSockets(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	ini := "[uwsgi]\nmodule = wsgi\nsocket = %dapp.sock\nbuffer-size = 32768\n"
	conf := siteConf(freePort(t), "uwsgi_pass unix:"+sock)
	_, id, nd := project(t, ini, conf)
	// The project folder is another temp dir: write the files there.
	id2, nd2 := rehome(t, id, nd, dir)
	if r := check(t, id2, nd2); len(r.Findings) != 0 {
		t.Fatalf("findings for a matching unix socket:\n%s", dump(r))
	}
	conf = siteConf(freePort(t), "uwsgi_pass unix:"+filepath.Join(dir, "other.sock"))
	write(t, filepath.Join(dir, "nginx.conf"), conf)
	nd2.Revert()
	f := one(t, check(t, id2, nd2), KindAddress)
	if !strings.Contains(f.Message, "reaches nothing of this project: the app listens at uwsgi.ini:3 socket = %dapp.sock") &&
		!strings.Contains(f.Message, "uwsgi.ini:3 socket = "+dir) {
		t.Errorf("message: %s", f.Message)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nd2.Bytes("")), "uwsgi_pass unix:"+sock+";") {
		t.Errorf("after the fix:\n%s", nd2.Bytes(""))
	}
}

// rehome writes both documents' content into dir (with the stock files)
// and opens them there.
func rehome(t *testing.T, id *confedit.INIDoc, nd *confedit.NginxDoc, dir string) (*confedit.INIDoc, *confedit.NginxDoc) {
	t.Helper()
	write(t, filepath.Join(dir, "uwsgi.ini"), string(id.Bytes()))
	write(t, filepath.Join(dir, "nginx.conf"), string(nd.Bytes("")))
	for _, s := range []string{"uwsgi_params", "mime.types", "fastcgi_params"} {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(id.Path()), s))
		write(t, filepath.Join(dir, s), string(b))
	}
	return openDocs(t, dir)
}

func TestAddressMismatch(t *testing.T) {
	p, q := freePort(t), freePort(t)
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = 127.0.0.1:%d\nbuffer-size = 32768\n", p)
	_, id, nd := project(t, ini, siteConf(freePort(t), fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", q)))
	f := one(t, check(t, id, nd), KindAddress)
	want := fmt.Sprintf("nginx.conf:12 uwsgi_pass 127.0.0.1:%d reaches nothing of this project: the app listens at uwsgi.ini:3 socket = 127.0.0.1:%d. Point uwsgi_pass at 127.0.0.1:%d, or change the socket.", q, p, p)
	if f.Message != want {
		t.Errorf("message\n%s\nwant\n%s", f.Message, want)
	}
	if len(f.Fixes) != 2 {
		t.Fatalf("fixes: %v", f.Fixes)
	}
	if err := f.Fixes[1].Apply(); err != nil { // move the socket to nginx's address
		t.Fatal(err)
	}
	if !strings.Contains(string(id.Bytes()), fmt.Sprintf("socket = 127.0.0.1:%d\n", q)) {
		t.Errorf("after the fix:\n%s", id.Bytes())
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s", dump(r))
	}
}

func TestNoSocketAndNoPass(t *testing.T) {
	p := freePort(t)
	_, id, nd := project(t, "[uwsgi]\nmodule = wsgi\nbuffer-size = 32768\n", siteConf(freePort(t), fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", p)))
	f := one(t, check(t, id, nd), KindNoSocket)
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after adding the socket:\n%s\n%s", dump(r), id.Bytes())
	}

	conf := fmt.Sprintf("events {}\nhttp {\n    server {\n        listen 127.0.0.1:%d;\n        location /static/ { alias %s/; }\n    }\n}\n", freePort(t), t.TempDir())
	_, id, nd = project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = 127.0.0.1:%d\nbuffer-size = 32768\n", p), conf)
	f = one(t, check(t, id, nd), KindNoPass)
	if f.Severity != confedit.Warning || len(f.Fixes) != 1 {
		t.Fatalf("finding %+v", f)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if errs := confedit.Errors(nd.Validate()); len(errs) > 0 {
		t.Fatalf("the fix broke nginx.conf: %v\n%s", errs, nd.Bytes(""))
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s\n%s", dump(r), nd.Bytes(""))
	}
}

func TestBufferSize(t *testing.T) {
	p := freePort(t)
	pass := fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", p)
	// uWSGI's default 4096 against nginx's default 4 8k.
	_, id, nd := project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\n", p), siteConf(freePort(t), pass))
	f := one(t, check(t, id, nd), KindBufferSize)
	if !strings.Contains(f.Message, "nginx.conf:12 uwsgi_pass") || !strings.Contains(f.Message, "up to 32768 bytes (large_client_header_buffers 4 8k, nginx's default)") ||
		!strings.Contains(f.Message, "uwsgi.ini buffer-size is 4096 (uWSGI's default)") || !strings.HasSuffix(f.Message, "Set buffer-size = 32768.") {
		t.Errorf("message: %s", f.Message)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(id.Bytes()), "buffer-size = 32768\n") {
		t.Errorf("after the fix:\n%s", id.Bytes())
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s", dump(r))
	}

	// Bigger header buffers: capped at the 64k a uwsgi packet holds.
	conf := strings.Replace(siteConf(freePort(t), pass), "    include mime.types;\n", "    large_client_header_buffers 8 16k;\n", 1)
	_, id, nd = project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\n", p), conf)
	f = one(t, check(t, id, nd), KindBufferSize)
	if !strings.Contains(f.Message, "(nginx.conf:4 large_client_header_buffers 8 16k)") || !strings.Contains(f.Message, "uwsgi.ini:4 buffer-size = 32768") || !strings.HasSuffix(f.Message, "Set buffer-size = 65535.") {
		t.Errorf("message: %s", f.Message)
	}
	if !hasLoc(f, "nginx.conf", 4) || !hasLoc(f, "uwsgi.ini", 4) || !hasLoc(f, "nginx.conf", 12) {
		t.Errorf("locations %v", f.Locations)
	}

	// Small header buffers need no more than the default.
	conf = strings.Replace(siteConf(freePort(t), pass), "    include mime.types;\n", "    large_client_header_buffers 2 1k;\n", 1)
	_, id, nd = project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\n", p), conf)
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings:\n%s", dump(r))
	}
}

func TestStaticFolders(t *testing.T) {
	p := freePort(t)
	conf := fmt.Sprintf(`events {}
http {
    server {
        listen 127.0.0.1:%d;
        root html;
        location /static/ {
            alias static/;
        }
        location /media/ {
            alias %s/;
        }
        location / {
            root /nonexistent/but/passed;
            include uwsgi_params;
            uwsgi_pass 127.0.0.1:%d;
        }
    }
}
`, freePort(t), t.TempDir(), p)
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\nstatic-map = /assets=%%dassets\n", p)
	dir, id, nd := project(t, ini, conf)
	r := check(t, id, nd)
	fs := only(r, KindStatic)
	if len(fs) != 3 {
		t.Fatalf("%d static findings, want html, static/ and assets:\n%s", len(fs), dump(r))
	}
	want := []string{
		"nginx.conf:5 root html: " + filepath.Join(dir, "html") + " does not exist",
		"nginx.conf:7 alias static/: " + filepath.Join(dir, "static") + " does not exist, so requests for /static/ get 404",
		"uwsgi.ini:5 static-map = /assets=" + dir + "/assets: " + filepath.Join(dir, "assets") + " does not exist, so requests for /assets get 404",
	}
	for i, w := range want {
		if !strings.HasPrefix(fs[i].Message, w) {
			t.Errorf("finding %d:\n%s\nwant prefix\n%s", i, fs[i].Message, w)
		}
	}
	for _, d := range []string{"html", "static", "assets"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings once the folders exist:\n%s", dump(r))
	}
}

// procName is how the system names this test process (what gopsutil
// reads from /proc/PID/stat).
func procName(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestPortBusyNamesTheOwnerAndMovesBothFiles(t *testing.T) {
	// The engine's port is taken by this test process.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := ln.Addr().(*net.TCPAddr).Port
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = 127.0.0.1:%d\nbuffer-size = 32768\n", p)
	_, id, nd := project(t, ini, siteConf(freePort(t), fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", p)))
	f := one(t, check(t, id, nd), KindPortBusy)
	if f.Port != p || len(f.Owners) != 1 || int(f.Owners[0].PID) != os.Getpid() || f.Owners[0].Name != procName(t) {
		t.Fatalf("owners %v of port %d; want pid %d (%s)", f.Owners, f.Port, os.Getpid(), procName(t))
	}
	wantStart := fmt.Sprintf("uwsgi.ini:3 socket = 127.0.0.1:%d: port %d is in use by pid %d (%s), this program itself: is the project already running? Stop it, or move to port ", p, p, os.Getpid(), procName(t))
	if !strings.HasPrefix(f.Message, wantStart) {
		t.Errorf("message\n%s\nwant prefix\n%s", f.Message, wantStart)
	}
	if len(f.Fixes) != 1 || !strings.Contains(f.Fixes[0].Summary, "and point nginx.conf:12 there") {
		t.Fatalf("fixes %+v", f.Fixes)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	// Both files moved to the same new port, which is free.
	e, _ := id.Get("socket")
	np := e.Value[strings.LastIndexByte(e.Value, ':')+1:]
	if np == fmt.Sprint(p) || !strings.Contains(string(nd.Bytes("")), "uwsgi_pass 127.0.0.1:"+np+";") {
		t.Fatalf("after the fix: socket = %s\n%s", e.Value, nd.Bytes(""))
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s", dump(r))
	}
	saveBoth(t, id, nd)
}

func TestPortBusyOnNginxListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := ln.Addr().(*net.TCPAddr).Port
	a := freePort(t)
	_, id, nd := project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\n", a), siteConf(p, fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", a)))
	f := one(t, check(t, id, nd), KindPortBusy)
	if !hasLoc(f, "nginx.conf", 6) || !strings.HasPrefix(f.Message, fmt.Sprintf("nginx.conf:6 listen 127.0.0.1:%d: port %d is in use by pid %d", p, p, os.Getpid())) {
		t.Errorf("finding: %s %v", f.Message, f.Locations)
	}
	before := string(id.Bytes())
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if string(id.Bytes()) != before || strings.Contains(string(nd.Bytes("")), fmt.Sprintf("listen 127.0.0.1:%d;", p)) {
		t.Errorf("the fix should move nginx's listen only:\n%s", nd.Bytes(""))
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s", dump(r))
	}
}

func TestPortClash(t *testing.T) {
	p := freePort(t)
	// uWSGI's http-socket wants nginx's port.
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nhttp-socket = :%d\nbuffer-size = 32768\n", p)
	_, id, nd := project(t, ini, siteConf(p, fmt.Sprintf("proxy_pass http://127.0.0.1:%d", p)))
	r := check(t, id, nd)
	f := one(t, r, KindPortClash)
	if !strings.Contains(f.Message, fmt.Sprintf("uwsgi.ini:3 http-socket = :%d and nginx.conf:6 listen 127.0.0.1:%d both want port %d", p, p, p)) {
		t.Errorf("message: %s", f.Message)
	}
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if r := check(t, id, nd); len(r.Findings) != 0 {
		t.Errorf("findings after the fix:\n%s\n%s\n%s", dump(r), id.Bytes(), nd.Bytes(""))
	}
}

func TestNamesResolve(t *testing.T) {
	p := freePort(t)
	ini := fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\n", p)
	_, id, nd := project(t, ini, siteConf(freePort(t), fmt.Sprintf("uwsgi_pass appserver.invalid:%d", p)))
	f := one(t, check(t, id, nd), KindResolve)
	if !strings.HasPrefix(f.Message, fmt.Sprintf(`nginx.conf:12 uwsgi_pass appserver.invalid:%d: the host name "appserver.invalid" does not resolve`, p)) {
		t.Errorf("message: %s", f.Message)
	}
	// A bare name is an upstream that is not defined.
	_, id, nd = project(t, ini, siteConf(freePort(t), "uwsgi_pass django"))
	f = one(t, check(t, id, nd), KindTarget)
	if !strings.Contains(f.Message, `uwsgi_pass django names no upstream {} group called "django"`) {
		t.Errorf("message: %s", f.Message)
	}
	// localhost resolves through the real resolver and reaches ":PORT".
	_, id, nd = project(t, ini, siteConf(freePort(t), fmt.Sprintf("uwsgi_pass localhost:%d", p)))
	r, err := Check(id, nd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 {
		t.Errorf("findings for localhost:\n%s", dump(r))
	}
}

func TestParamsMissing(t *testing.T) {
	p := freePort(t)
	conf := strings.Replace(siteConf(freePort(t), fmt.Sprintf("uwsgi_pass 127.0.0.1:%d", p)), "            include uwsgi_params;\n", "", 1)
	_, id, nd := project(t, fmt.Sprintf("[uwsgi]\nmodule = wsgi\nsocket = :%d\nbuffer-size = 32768\n", p), conf)
	f := one(t, check(t, id, nd), KindParams)
	if err := f.Fixes[0].Apply(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nd.Bytes("")), "            include uwsgi_params;\n            # the app\n            uwsgi_pass") {
		t.Errorf("after the fix:\n%s", nd.Bytes(""))
	}
}

// TestFixAllRepairsEverything breaks the demo every way at once, lets
// FixAll repair it, saves, and runs the real nginx -t on the result.
func TestFixAllRepairsEverything(t *testing.T) {
	dir, id, nd := demo(t)
	e, _ := id.Get("socket")
	app := e.Value
	ln, err := net.Listen("tcp", app) // the app's port is taken
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	id.Edit(func(f *confedit.INI) error {
		f.RenameAt(e.Line, "http-socket") // wrong protocol
		f.Remove("buffer-size")           // default 4096
		return nil
	})
	if r := check(t, id, nd); len(r.Findings) < 3 {
		t.Fatalf("expected several findings:\n%s", dump(r))
	}
	applied, r, err := FixAll(id, nd, Options{LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 {
		t.Fatalf("findings left after %v:\n%s", applied, dump(r))
	}
	saveBoth(t, id, nd)
	out, ok := nginxT(t, dir)
	if !ok {
		t.Fatalf("real nginx -t refused the fixed config:\n%s\n%s", out, nd.Bytes(""))
	}
}

func TestMovePortNothingThere(t *testing.T) {
	_, id, nd := demo(t)
	if err := MovePort(id, nd, 1, 2, Options{LookupHost: noDNS}); err == nil {
		t.Error("moving an unused port succeeded")
	}
	if id.Dirty() || nd.Dirty() {
		t.Error("a failed move edited the documents")
	}
}
