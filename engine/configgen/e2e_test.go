package configgen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/atomicfile"
)

// writeSelfSigned writes a fresh self-signed certificate for host and
// 127.0.0.1, and its key.
func writeSelfSigned(t *testing.T, certPath, keyPath, host string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func demoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(assets.Demo, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDemo exercises every page of the demo app through nginx and uWSGI.
func checkDemo(t *testing.T, base, host string, production bool) {
	t.Helper()
	resp, body := get(t, base+"/", host)
	wantStatus(t, "GET /", resp, 200, body)
	for _, want := range []string{"It works", "uWSGI 2.0", "Worker ", "Request headers", "WSGI environ", "/static/style.css"} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %q", want)
		}
	}
	if resp.Header.Get("X-Worker-Pid") == "" {
		t.Error("GET /: no X-Worker-Pid: not answered by the app")
	}

	resp, body = get(t, base+"/static/style.css", host)
	wantStatus(t, "GET /static/style.css", resp, 200, body)
	if body != demoFile(t, "static/style.css") {
		t.Error("/static/style.css is not the demo's stylesheet")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/css" && !strings.HasPrefix(ct, "text/css;") {
		t.Errorf("style.css Content-Type = %q", ct)
	}
	if resp.Header.Get("X-Worker-Pid") != "" {
		t.Error("a static file went through the app instead of nginx")
	}
	resp, body = get(t, base+"/static/logo.svg", host)
	wantStatus(t, "GET /static/logo.svg", resp, 200, body)
	if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("logo.svg Content-Type = %q", ct)
	}

	resp, body = get(t, base+"/whoami.json?x=1", host, "X-Trace", "abc")
	wantStatus(t, "GET /whoami.json", resp, 200, body)
	var who struct {
		Pid      int               `json:"pid"`
		WorkerID string            `json:"worker_id"`
		Server   string            `json:"server"`
		Query    string            `json:"query"`
		Headers  map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(body), &who); err != nil {
		t.Fatalf("whoami.json: %v\n%s", err, body)
	}
	if who.Pid <= 0 || who.WorkerID == "" || !strings.HasPrefix(who.Server, "uWSGI 2.0") || who.Query != "x=1" || who.Headers["X-Trace"] != "abc" {
		t.Errorf("whoami.json = %+v", who)
	}

	form := url.Values{"name": {"Ada Lovelace"}, "message": {"<b>hi</b>"}}
	req, _ := http.NewRequest("POST", base+"/form", strings.NewReader(form.Encode()))
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = do(t, req)
	wantStatus(t, "POST /form", resp, 200, body)
	if !strings.Contains(body, "Ada Lovelace") || !strings.Contains(body, "&lt;b&gt;hi&lt;/b&gt;") || strings.Contains(body, "<b>hi</b>") {
		t.Errorf("POST /form did not echo the fields, escaped:\n%s", body)
	}

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("name", "Grace")
	fw, _ := w.CreateFormFile("upload", "notes.txt")
	io.WriteString(fw, "hello world")
	w.Close()
	req, _ = http.NewRequest("POST", base+"/form", &mp)
	req.Host = host
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, body = do(t, req)
	wantStatus(t, "POST /form (multipart)", resp, 200, body)
	if !strings.Contains(body, "Grace") || !strings.Contains(body, "notes.txt") || !strings.Contains(body, "11 bytes") {
		t.Errorf("multipart POST /form not echoed:\n%s", body)
	}

	resp, body = get(t, base+"/slow?s=0.2", host)
	wantStatus(t, "GET /slow?s=0.2", resp, 200, body)
	if !strings.Contains(body, "slept 0.2 s") {
		t.Errorf("/slow page: %s", body)
	}
	resp, body = get(t, base+"/slow?s=abc", host)
	wantStatus(t, "GET /slow?s=abc", resp, 400, body)

	// uWSGI closes the connection when the app raises before
	// start_response, and nginx reports that as 502.
	resp, body = get(t, base+"/boom", host)
	wantStatus(t, "GET /boom", resp, 502, body)

	resp, body = get(t, base+"/no/such/page", host)
	wantStatus(t, "GET /no/such/page", resp, 404, body)
	if !strings.Contains(body, "Nothing lives at") {
		t.Errorf("404 page: %s", body)
	}

	if !production {
		return
	}
	resp, body = get(t, base+"/static/style.css", host, "Accept-Encoding", "gzip")
	wantStatus(t, "GET /static/style.css (gzip)", resp, 200, body)
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("style.css not gzipped: %v", resp.Header)
	}
	if resp.Header.Get("Expires") == "" || resp.Header.Get("Cache-Control") != "max-age=2592000" {
		t.Errorf("static file lacks expires: %v", resp.Header)
	}
	for _, path := range []string{"/", "/static/logo.svg"} {
		resp, _ = get(t, base+path, host)
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("%s lacks the security headers: %v", path, resp.Header)
		}
	}
}

// The local profile, as shipped with the demo, on real uWSGI and nginx:
// the whole flow works, the stats server answers, and py-autoreload
// reloads the app when its code changes.
func TestLocalProfileServesDemo(t *testing.T) {
	needPeers(t, nginxBin, uwsgiBin)
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	c := DemoConfig()
	c.ProxyPort, c.AppPort, c.StatsPort = freePort(t), freePort(t), freePort(t)
	if err := WriteDir(dir, mustGenerate(t, Local, c), &atomicfile.Saver{Keep: -1}); err != nil {
		t.Fatal(err)
	}
	uw := start(t, uwsgiBin, "--ini", filepath.Join(dir, FileUWSGIIni))
	args := []string{"-e", "stderr", "-p", dir + "/", "-c", filepath.Join(dir, FileNginxConf), "-g", "pid " + dir + "/nginx.pid;"}
	if os.Geteuid() == 0 {
		args[len(args)-1] += " user root;"
	}
	ng := start(t, nginxBin, args...)
	base := "http://127.0.0.1:" + itoa(c.ProxyPort)
	waitServing(t, base+"/whoami.json", "", uw, ng)
	checkDemo(t, base, "", false)

	stats, err := net.DialTimeout("tcp", "127.0.0.1:"+itoa(c.StatsPort), 5*time.Second)
	if err != nil {
		t.Fatalf("stats server: %v", err)
	}
	raw, _ := io.ReadAll(stats)
	stats.Close()
	var st struct {
		Workers []struct{ ID int } `json:"workers"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Workers) != 2 {
		t.Errorf("stats: %d workers, %v\n%s", len(st.Workers), err, raw)
	}

	// py-autoreload: change the code, and the next requests get the new
	// app. The file is rewritten (new mtime) until the reloader notices,
	// since its first scan may come after any single write.
	src := filepath.Join(dir, "wsgi.py")
	orig, _ := os.ReadFile(src)
	patched := append(append([]byte{}, orig...), []byte(`

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"reloaded"]
`)...)
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; ; n++ {
		if time.Now().After(deadline) {
			t.Fatal("py-autoreload never reloaded the changed wsgi.py")
		}
		if n%20 == 0 {
			writeFile(t, src, patched)
			when := time.Now().Add(time.Duration(n) * time.Millisecond)
			os.Chtimes(src, when, when)
		}
		resp, err := client.Get(base + "/whoami.json")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "reloaded" {
				break
			}
		}
		if uw.exited() {
			t.Fatalf("uWSGI exited instead of reloading:\n%s", uw.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(uw.out.String(), "has been modified") {
		t.Error("uWSGI's log does not show the autoreload")
	}
}

// The production bundle with TLS, installed under a temporary root, on
// real uWSGI and Debian's real nginx.conf: the demo app works over HTTPS,
// and plain HTTP redirects there.
func TestProductionBundleServesDemo(t *testing.T) {
	needPeers(t, nginxBin, uwsgiBin, debianConf)
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "srv", "demo"), assets.Demo); err != nil {
		t.Fatal(err)
	}
	c := Config{
		Name:        "demo",
		App:         App{Module: "wsgi"},
		Chdir:       "/srv/demo",
		Static:      []StaticMap{{URL: "/static/", Dir: "/srv/demo/static"}},
		ServerNames: []string{"demo.test"},
		HTTPPort:    freePort(t),
		HTTPSPort:   freePort(t),
		TLSCert:     "/etc/ssl/certs/demo.pem",
		TLSKey:      "/etc/ssl/private/demo.key",
		// Small, so the refused upload below fits in the socket buffers
		// and the client reads nginx's answer instead of a reset.
		ClientMaxBodySize: "4k",
	}
	cert := writeSelfSigned(t, root+c.TLSCert, root+c.TLSKey, "demo.test")
	uw, ng := bundle(t, root, c)

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	old := client.Transport
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "demo.test"}}
	t.Cleanup(func() { client.Transport = old })

	base := "https://127.0.0.1:" + itoa(c.HTTPSPort)
	waitServing(t, base+"/whoami.json", "demo.test", uw, ng)
	checkDemo(t, base, "demo.test", true)

	resp, _ := get(t, base+"/", "demo.test")
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("HTTPS response lacks Strict-Transport-Security")
	}
	resp, body := get(t, "http://127.0.0.1:"+itoa(c.HTTPPort)+"/form?a=1", "demo.test")
	wantStatus(t, "plain HTTP", resp, 301, body)
	if loc, want := resp.Header.Get("Location"), "https://demo.test:"+itoa(c.HTTPSPort)+"/form?a=1"; loc != want {
		t.Errorf("redirect to %q, want %q", loc, want)
	}

	// client_max_body_size: nginx refuses a big upload before uWSGI sees it.
	req, _ := http.NewRequest("POST", base+"/form", strings.NewReader(strings.Repeat("x", 8<<10)))
	req.Host = "demo.test"
	req.Header.Set("Content-Type", "text/plain")
	resp, body = do(t, req)
	wantStatus(t, "8 KB POST over client_max_body_size 4k", resp, 413, body)

	// processes = %k: one worker per online core, counted by uWSGI itself.
	out, err := exec.Command("getconf", "_NPROCESSORS_ONLN").Output()
	if err != nil {
		t.Fatal(err)
	}
	cores := strings.TrimSpace(string(out))
	log := uw.out.String()
	if !strings.Contains(log, "spawned uWSGI worker "+cores+" ") || strings.Contains(log, "spawned uWSGI worker "+cores+"1 ") {
		t.Errorf("uWSGI did not spawn %s workers (processes = %%k):\n%s", cores, log)
	}
}

// A Flask app built by a factory, from a virtualenv (uwsgi.ini's home),
// through the production bundle: module = flaskr:create_app() on real
// uWSGI, static files from the package's static folder by nginx.
func TestProductionBundleServesFlask(t *testing.T) {
	needPeers(t, nginxBin, uwsgiBin, pythonBin, debianConf)
	root := t.TempDir()
	app := filepath.Join(root, "srv", "flaskr")
	copyDir(t, filepath.Join("testdata", "flaskapp"), app)
	// A virtualenv that sees Debian's python3-flask, as uWSGI's home.
	if out, err := exec.Command(pythonBin, "-m", "venv", "--without-pip", "--system-site-packages", filepath.Join(app, ".venv")).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s", err, out)
	}
	c := Config{
		Name:        "flaskr",
		Framework:   "flask",
		App:         App{Module: "flaskr", Callable: "create_app", Factory: true},
		Chdir:       "/srv/flaskr",
		Venv:        "/srv/flaskr/.venv",
		Static:      []StaticMap{{URL: "/static/", Dir: "/srv/flaskr/flaskr/static"}},
		ServerNames: []string{"flask.test"},
		HTTPPort:    freePort(t),
		Processes:   2,
	}
	uw, ng := bundle(t, root, c)
	base := "http://127.0.0.1:" + itoa(c.HTTPPort)
	waitServing(t, base+"/", "flask.test", uw, ng)

	resp, body := get(t, base+"/", "flask.test")
	wantStatus(t, "GET /", resp, 200, body)
	if !strings.Contains(body, "Hello from Flask") || !strings.Contains(body, "/static/app.css") {
		t.Errorf("GET /: %s", body)
	}
	resp, body = get(t, base+"/static/app.css", "flask.test")
	wantStatus(t, "GET /static/app.css", resp, 200, body)
	want, _ := os.ReadFile(filepath.Join("testdata", "flaskapp", "flaskr", "static", "app.css"))
	if body != string(want) || resp.Header.Get("Expires") == "" {
		t.Errorf("app.css: %q, headers %v", body, resp.Header)
	}
	req, _ := http.NewRequest("POST", base+"/api/ada", strings.NewReader("lang=python"))
	req.Host = "flask.test"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = do(t, req)
	wantStatus(t, "POST /api/ada", resp, 200, body)
	var got struct {
		Hello, Method string
		Form          map[string]string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Hello != "ada" || got.Method != "POST" || got.Form["lang"] != "python" {
		t.Errorf("POST /api/ada = %s (%v)", body, err)
	}
	if !strings.Contains(uw.out.String(), "Set PythonHome to "+app+"/.venv") {
		t.Error("uWSGI did not use the virtualenv as its home")
	}
}
