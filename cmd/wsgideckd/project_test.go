package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/configgen"
)

// run runs a wsgideckd command in this process.
func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = dispatch(args, &o, &e)
	return code, o.String(), e.String()
}

// projFiles writes a project (slash paths -> content) into a temp folder.
func projFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func projPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// demoCopy copies the demo project with its ports moved to free ones.
func demoCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"uwsgi.ini", "nginx.conf"} {
		p := filepath.Join(dir, f)
		b, _ := os.ReadFile(p)
		s := strings.NewReplacer(
			"127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", projPort(t)),
			"127.0.0.1:3031", "127.0.0.1:APP",
			"127.0.0.1:9191", fmt.Sprintf("127.0.0.1:%d", projPort(t)),
		).Replace(string(b))
		os.WriteFile(p, []byte(s), 0o644)
	}
	app := fmt.Sprint(projPort(t))
	for _, f := range []string{"uwsgi.ini", "nginx.conf"} {
		p := filepath.Join(dir, f)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.ReplaceAll(b, []byte("127.0.0.1:APP"), []byte("127.0.0.1:"+app)), 0o644)
	}
	return dir
}

func TestCheckDemoIsClean(t *testing.T) {
	dir := demoCopy(t)
	code, out, errOut := run("check", dir)
	if code != exitOK || !strings.Contains(out, "ok: uwsgi.ini and nginx.conf are valid and agree") {
		t.Fatalf("check = %d\n%s%s", code, out, errOut)
	}
}

func TestCheckMismatchedPairExits2NamingBothFiles(t *testing.T) {
	p := projPort(t)
	dir := projFiles(t, map[string]string{
		"wsgi.py":   "def application(e, s):\n    s('200 OK', [])\n    return [b'']\n",
		"uwsgi.ini": fmt.Sprintf("[uwsgi]\nmodule = wsgi\nhttp-socket = :%d\nbuffer-size = 32768\n", p),
		"nginx.conf": fmt.Sprintf("events {}\nhttp {\n    include uwsgi_params;\n    server {\n        listen 127.0.0.1:%d;\n        location / {\n            uwsgi_pass 127.0.0.1:%d;\n        }\n    }\n}\n",
			projPort(t), p),
		"uwsgi_params": "uwsgi_param PATH_INFO $document_uri;\n",
	})
	code, out, errOut := run("check", dir)
	want := fmt.Sprintf("error: nginx.conf:7 uwsgi_pass 127.0.0.1:%d, but uwsgi.ini:3 http-socket = :%d speaks HTTP: use proxy_pass there, or socket = here.", p, p)
	if code != exitErrors || !strings.Contains(out, want) || !strings.Contains(out, "1 error(s)") {
		t.Fatalf("check = %d; want 2 and\n%s\ngot:\n%s%s", code, want, out, errOut)
	}
	// A syntax error is reported with its file:line, as nginx -t words it.
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte("events {}\nhttp {\n    server {\n        listen 80\n    }\n}\n"), 0o644)
	code, out, _ = run("check", dir)
	if code != exitErrors || !strings.Contains(out, "nginx.conf:5: error: ") {
		t.Errorf("check = %d\n%s", code, out)
	}
}

func TestCheckWarningsExit1AndFix(t *testing.T) {
	dir := demoCopy(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	b, _ := os.ReadFile(ini)
	os.WriteFile(ini, bytes.Replace(b, []byte("buffer-size = 32768\n"), nil, 1), 0o644)
	code, out, _ := run("check", dir)
	if code != exitWarnings || !strings.Contains(out, "Set buffer-size = 32768.") || !strings.Contains(out, "fix: set buffer-size = 32768 in uwsgi.ini") {
		t.Fatalf("check = %d\n%s", code, out)
	}
	code, out, errOut := run("check", "--fix", dir)
	if code != exitOK || !strings.Contains(out, "+buffer-size = 32768") || !strings.Contains(out, "saved uwsgi.ini") {
		t.Fatalf("check --fix = %d\n%s%s", code, out, errOut)
	}
	if bs, _ := atomicfile.Backups(ini); len(bs) != 1 {
		t.Errorf("backups: %v", bs)
	}
}

func TestCheckFixMovesBusyPortInBothFiles(t *testing.T) {
	dir := demoCopy(t)
	b, _ := os.ReadFile(filepath.Join(dir, "uwsgi.ini"))
	var app string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "socket = "); ok {
			app = v
		}
	}
	ln, err := net.Listen("tcp", app)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, out, _ := run("check", dir)
	if code != exitErrors || !strings.Contains(out, fmt.Sprintf("is in use by pid %d", os.Getpid())) {
		t.Fatalf("check = %d\n%s", code, out)
	}
	code, out, errOut := run("check", dir, "--fix")
	if code != exitOK {
		t.Fatalf("check --fix = %d\n%s%s", code, out, errOut)
	}
	ini, _ := os.ReadFile(filepath.Join(dir, "uwsgi.ini"))
	conf, _ := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	var moved string
	for _, l := range strings.Split(string(ini), "\n") {
		if v, ok := strings.CutPrefix(l, "socket = "); ok {
			moved = v
		}
	}
	if moved == app || !strings.Contains(string(conf), "uwsgi_pass "+moved+";") {
		t.Errorf("after --fix: socket %s, nginx.conf:\n%s", moved, conf)
	}
}

func TestCheckUsage(t *testing.T) {
	if code, _, errOut := run("check", t.TempDir()); code != exitErrors || !strings.Contains(errOut, "wsgideckd init") {
		t.Errorf("check on an empty folder = %d: %s", code, errOut)
	}
	if code, _, _ := run("check", "a", "b"); code != exitErrors {
		t.Errorf("two folders = %d", code)
	}
	if code, _, _ := run("check", "--nope"); code != exitErrors {
		t.Errorf("unknown flag = %d", code)
	}
}

func TestInitCommand(t *testing.T) {
	dir := projFiles(t, map[string]string{
		"hello/app.py":       "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'hi'\n",
		"hello/static/x.css": "",
		"other/wsgi.py":      "import os\n",
	})
	code, out, errOut := run("init", dir)
	if code != exitOK {
		t.Fatalf("init = %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"* app: Flask app:app at hello/app.py:2", "static /static/ -> hello/static", "wrote mime.types, nginx.conf, uwsgi.ini, uwsgi_params"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := run("check", "--skip-ports", dir); code == exitErrors {
		t.Errorf("check after init = %d\n%s", code, out)
	}
	// A second init keeps the files.
	os.WriteFile(filepath.Join(dir, "uwsgi.ini"), append(mustRead(t, filepath.Join(dir, "uwsgi.ini")), "# mine\n"...), 0o644)
	code, out, _ = run("init", dir)
	if code != exitOK || !strings.Contains(out, "kept the existing uwsgi.ini, nginx.conf") || !strings.HasSuffix(string(mustRead(t, filepath.Join(dir, "uwsgi.ini"))), "# mine\n") {
		t.Errorf("second init = %d\n%s", code, out)
	}
}

func TestInitCommandRefusesToGuess(t *testing.T) {
	app := "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'x']\n"
	dir := projFiles(t, map[string]string{"a/wsgi.py": app, "b/wsgi.py": app})
	code, out, errOut := run("init", dir)
	if code != exitWarnings || !strings.Contains(out, "unsure (please confirm):") || !strings.Contains(errOut, "detection could not choose") {
		t.Fatalf("init = %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "uwsgi.ini")); err == nil {
		t.Fatal("init wrote a guess")
	}
	code, out, errOut = run("init", "--module", "wsgi:application", dir)
	if code != exitOK {
		t.Fatalf("init --module = %d\n%s%s", code, out, errOut)
	}
	// FastAPI is explained, not configured.
	dir = projFiles(t, map[string]string{"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
	code, _, errOut = run("init", dir)
	if code != exitWarnings || !strings.Contains(errOut, "ASGI") {
		t.Errorf("init on FastAPI = %d: %s", code, errOut)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rooted moves a production file's server paths under root, as the
// server's layout would be in a private prefix.
func rooted(root string, b []byte) []byte {
	return []byte(strings.NewReplacer(
		"/srv/", root+"/srv/",
		"/run/", root+"/run/",
		"/var/log/nginx", root+"/var/log/nginx",
		"/etc/ssl/", root+"/etc/ssl/",
	).Replace(string(b)))
}

// nginxTestSite runs the real nginx -t on a main config (in a private
// prefix) that includes the exported site file, as Debian's nginx.conf
// includes sites-enabled/*.
func nginxTestSite(t *testing.T, root string, site []byte) (string, error) {
	t.Helper()
	prefix := filepath.Join(root, "etc", "nginx")
	for _, d := range []string{prefix + "/sites-enabled", root + "/var/log/nginx", root + "/run"} {
		os.MkdirAll(d, 0o755)
	}
	for _, s := range []string{"mime.types", "uwsgi_params"} {
		b, _ := configgen.Stock(s)
		os.WriteFile(filepath.Join(prefix, s), b, 0o644)
	}
	os.WriteFile(filepath.Join(prefix, "sites-enabled", "site"), rooted(root, site), 0o644)
	main := fmt.Sprintf("user root;\npid %s/run/nginx.pid;\nerror_log %s/var/log/nginx/error.log;\nevents {}\nhttp {\n    include mime.types;\n    include %s/sites-enabled/*;\n}\n", root, root, prefix)
	conf := filepath.Join(prefix, "nginx.conf")
	os.WriteFile(conf, []byte(main), 0o644)
	out, err := exec.Command("/usr/sbin/nginx", "-t", "-p", prefix+"/", "-c", conf).CombinedOutput()
	return string(out), err
}

// selfSigned writes a certificate and key for nginx -t to load.
func selfSigned(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"shop.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.MkdirAll(filepath.Dir(certPath), 0o755)
	os.MkdirAll(filepath.Dir(keyPath), 0o755)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

func TestExportPassesRealNginxT(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/nginx"); err != nil {
		t.Fatal("nginx is needed (apt-get install nginx)")
	}
	dir := demoCopy(t)
	for name, extra := range map[string][]string{
		"plain": nil,
		"tls":   {"--tls-cert", "/etc/ssl/certs/shop.pem", "--tls-key", "/etc/ssl/private/shop.key"},
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"export", dir, "--profile", "production", "--out", out, "--server-name", "shop.test,www.shop.test", "--name", "shop"}, extra...)
			code, stdout, stderr := run(args...)
			if code != exitOK {
				t.Fatalf("export = %d\n%s%s", code, stdout, stderr)
			}
			var names []string
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if strings.Join(names, ",") != "README.md,nginx-site.conf,shop.service,uwsgi.ini" {
				t.Fatalf("files %v", names)
			}
			site := mustRead(t, filepath.Join(out, "nginx-site.conf"))
			if !strings.Contains(string(site), "server_name shop.test www.shop.test;") || !strings.Contains(string(site), "alias /srv/shop/static/;") {
				t.Errorf("site:\n%s", site)
			}
			root := t.TempDir()
			if name == "tls" {
				selfSigned(t, root+"/etc/ssl/certs/shop.pem", root+"/etc/ssl/private/shop.key")
			}
			if nout, err := nginxTestSite(t, root, site); err != nil || !strings.Contains(nout, "test is successful") {
				t.Fatalf("real nginx -t: %v\n%s\n%s", err, nout, site)
			}
		})
	}
	// The check can fail: a broken site does not pass.
	root := t.TempDir()
	if out, err := nginxTestSite(t, root, []byte("server { listen 80 }\n")); err == nil {
		t.Fatalf("nginx -t passed a broken site:\n%s", out)
	}
}

func TestExportUsage(t *testing.T) {
	dir := demoCopy(t)
	if code, _, errOut := run("export", dir); code != exitErrors || !strings.Contains(errOut, "--out OUT is required") {
		t.Errorf("no --out = %d: %s", code, errOut)
	}
	if code, _, errOut := run("export", dir, "--out", t.TempDir()); code != exitWarnings || !strings.Contains(errOut, "ServerNames") {
		t.Errorf("no --server-name = %d: %s", code, errOut)
	}
	if code, _, _ := run("export", dir, "--out", t.TempDir(), "--profile", "staging"); code != exitErrors {
		t.Errorf("bad profile = %d", code)
	}
	out := t.TempDir()
	if code, stdout, stderr := run("export", dir, "--profile", "local", "--out", out); code != exitOK {
		t.Fatalf("local export = %d\n%s%s", code, stdout, stderr)
	}
	var n int
	fs.WalkDir(os.DirFS(out), ".", func(string, fs.DirEntry, error) error { n++; return nil })
	if n != 5 { // ".", and the four local files
		t.Errorf("local export wrote %d entries", n-1)
	}
}
