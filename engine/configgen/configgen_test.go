package configgen

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/atomicfile"
)

var update = flag.Bool("update", false, "rewrite assets/demo's generated files from DemoConfig")

func prodConfig() Config {
	return Config{
		Name:        "shop",
		App:         App{Module: "shop.wsgi"},
		Chdir:       "/srv/shop",
		Venv:        "/srv/shop/.venv",
		Static:      []StaticMap{{URL: "/static", Dir: "/srv/shop/staticfiles"}},
		ServerNames: []string{"example.com", "www.example.com"},
	}
}

func mustGenerate(t *testing.T, p Profile, c Config) Files {
	t.Helper()
	f, err := Generate(p, c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lines returns the trimmed, non-comment lines of a generated file.
func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func hasLine(b []byte, want string) bool {
	for _, l := range lines(b) {
		if l == want {
			return true
		}
	}
	return false
}

func assertLines(t *testing.T, name string, b []byte, want ...string) {
	t.Helper()
	for _, w := range want {
		if !hasLine(b, w) {
			t.Errorf("%s lacks the line %q:\n%s", name, w, b)
		}
	}
}

func refuteLines(t *testing.T, name string, b []byte, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if hasLine(b, w) {
			t.Errorf("%s has the line %q", name, w)
		}
	}
}

func TestLocalFiles(t *testing.T) {
	f := mustGenerate(t, Local, DemoConfig())
	if got := strings.Join(f.Names(), " "); got != "mime.types nginx.conf uwsgi.ini uwsgi_params" {
		t.Fatalf("files = %s", got)
	}
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni],
		"[uwsgi]", "plugins = python3", "chdir = %d", "module = wsgi:application",
		"master = true", "processes = 2", "harakiri = 30", "socket = 127.0.0.1:3031",
		"stats = 127.0.0.1:9191", "buffer-size = 32768", "py-autoreload = 1",
		"touch-reload = %p", "disable-logging = false")
	assertLines(t, "nginx.conf", f[FileNginxConf],
		"events {", "http {", "include mime.types;", "listen 127.0.0.1:8080;",
		"location /static/ {", "alias static/;", "location / {", "include uwsgi_params;",
		"uwsgi_pass 127.0.0.1:3031;", "access_log /dev/stdout;")
	for name, stock := range map[string]string{FileMimeTypes: "mime.types", FileUWSGIPar: "uwsgi_params"} {
		want, err := Stock(stock)
		if err != nil || string(f[name]) != string(want) {
			t.Errorf("%s is not the stock file (%v)", name, err)
		}
	}
}

func TestLocalPaths(t *testing.T) {
	c := DemoConfig()
	c.Chdir = "src"
	c.Venv = ".venv"
	c.PythonPath = []string{"lib", "/opt/shared"}
	c.Static = []StaticMap{{URL: "/media", Dir: "/home/ada/media"}, {URL: "/static/", Dir: "./assets/"}}
	c.Env = []string{"GREETING=100%"}
	f := mustGenerate(t, Local, c)
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni],
		"chdir = %dsrc", "home = %d.venv", "pythonpath = %dlib", "pythonpath = /opt/shared",
		"env = GREETING=100%%")
	assertLines(t, "nginx.conf", f[FileNginxConf],
		"location /media/ {", "alias /home/ada/media/;", "location /static/ {", "alias assets/;")
}

func TestPercentInPathIsEscaped(t *testing.T) {
	c := DemoConfig()
	c.Chdir = "/home/ada/100%done"
	f := mustGenerate(t, Local, c)
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni], "chdir = /home/ada/100%%done")
}

func TestFactoryIsCalledByUWSGI(t *testing.T) {
	c := prodConfig()
	c.App = App{Module: "flaskr", Callable: "create_app", Factory: true}
	f := mustGenerate(t, Production, c)
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni], "module = flaskr:create_app()")
}

func TestProductionFiles(t *testing.T) {
	f := mustGenerate(t, Production, prodConfig())
	if got := strings.Join(f.Names(), " "); got != "README.md nginx-site.conf shop.service uwsgi.ini" {
		t.Fatalf("files = %s", got)
	}
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni],
		"strict = true", "plugins = python3", "chdir = /srv/shop", "module = shop.wsgi:application",
		"home = /srv/shop/.venv", "master = true", "processes = %k", "socket = /run/shop/uwsgi.sock",
		"chmod-socket = 660", "vacuum = true", "die-on-term = true", "harakiri = 30",
		"max-requests = 5000", "need-app = true", "buffer-size = 32768")
	site := f[FileNginxSite]
	assertLines(t, "nginx-site.conf", site,
		"listen 80;", "listen [::]:80;", "server_name example.com www.example.com;",
		"location /static/ {", "alias /srv/shop/staticfiles/;", "expires 30d;",
		"uwsgi_pass unix:/run/shop/uwsgi.sock;", "include uwsgi_params;",
		"client_max_body_size 10m;", "gzip on;",
		`add_header X-Content-Type-Options "nosniff" always;`,
		"access_log /var/log/nginx/shop.access.log;")
	refuteLines(t, "nginx-site.conf", site, "listen 443 ssl http2;", `add_header Strict-Transport-Security "max-age=31536000" always;`)
	if strings.Contains(string(site), "return 301") {
		t.Error("a plain-HTTP site must not redirect")
	}
	assertLines(t, "shop.service", f["shop.service"],
		"[Service]", "Type=notify", "User=www-data", "Group=www-data", "RuntimeDirectory=shop",
		"WorkingDirectory=/srv/shop", "ExecStart=/usr/bin/uwsgi --ini /etc/uwsgi/apps-available/shop.ini",
		"ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM", "WantedBy=multi-user.target")
	readme := string(f[FileReadme])
	// The steps must come in this order: each needs the one before.
	order := []string{"apt install nginx uwsgi-core uwsgi-plugin-python3", "rsync", "python3 -m venv /srv/shop/.venv",
		"install -D -m 644 uwsgi.ini /etc/uwsgi/apps-available/shop.ini", "systemctl enable --now shop.service",
		"ln -sf ../sites-available/shop /etc/nginx/sites-enabled/shop", "nginx -t", "systemctl reload nginx", "curl -I http://example.com/"}
	at := 0
	for _, step := range order {
		i := strings.Index(readme[at:], step)
		if i < 0 {
			t.Fatalf("README lacks %q after byte %d:\n%s", step, at, readme)
		}
		at += i + len(step)
	}
	if strings.Contains(readme, "collectstatic") {
		t.Error("README for a non-Django app mentions collectstatic")
	}
}

func TestProductionTLS(t *testing.T) {
	c := prodConfig()
	c.TLSCert, c.TLSKey = "/etc/ssl/certs/shop.pem", "/etc/ssl/private/shop.key"
	f := mustGenerate(t, Production, c)
	site := f[FileNginxSite]
	assertLines(t, "nginx-site.conf", site,
		"listen 443 ssl http2;", "listen [::]:443 ssl http2;", "ssl_certificate /etc/ssl/certs/shop.pem;",
		"ssl_certificate_key /etc/ssl/private/shop.key;", "return 301 https://$host$request_uri;",
		`add_header Strict-Transport-Security "max-age=31536000" always;`)
	c.HTTPSPort = 8443
	f = mustGenerate(t, Production, c)
	assertLines(t, "nginx-site.conf", f[FileNginxSite], "listen 8443 ssl http2;", "return 301 https://$host:8443$request_uri;")
}

func TestProductionOptions(t *testing.T) {
	c := prodConfig()
	c.PipUWSGI = true
	c.Processes = 4
	c.Threads = 2
	c.Harakiri = 120
	c.Socket = "/var/run/shop.sock"
	c.Framework = "Django"
	f := mustGenerate(t, Production, c)
	refuteLines(t, "uwsgi.ini", f[FileUWSGIIni], "plugins = python3")
	assertLines(t, "uwsgi.ini", f[FileUWSGIIni], "processes = 4", "threads = 2", "harakiri = 120", "socket = /var/run/shop.sock")
	// nginx must outwait harakiri so uWSGI, which logs why, gives up first.
	assertLines(t, "nginx-site.conf", f[FileNginxSite], "uwsgi_read_timeout 130s;", "uwsgi_pass unix:/var/run/shop.sock;")
	unit := f["shop.service"]
	assertLines(t, "shop.service", unit, "ExecStart=/srv/shop/.venv/bin/uwsgi --ini /etc/uwsgi/apps-available/shop.ini")
	if strings.Contains(string(unit), "RuntimeDirectory") {
		t.Error("a socket outside /run/NAME/ must not get a RuntimeDirectory")
	}
	readme := string(f[FileReadme])
	if !strings.Contains(readme, "manage.py collectstatic --noinput") {
		t.Error("README for Django lacks collectstatic")
	}
	// pip's uWSGI goes into the virtualenv, after it is made.
	venv, pip := strings.Index(readme, "python3 -m venv /srv/shop/.venv"), strings.Index(readme, "/srv/shop/.venv/bin/pip install uwsgi")
	if venv < 0 || pip < venv || strings.Contains(readme, "uwsgi-plugin-python3") {
		t.Errorf("README installs uWSGI wrongly for pip:\n%s", readme)
	}
}

func TestValidationNamesEveryField(t *testing.T) {
	c := Config{
		Name:      "my app",
		App:       App{Module: "my-app.py", Callable: "create_app()"},
		Static:    []StaticMap{{URL: "static", Dir: "s"}, {URL: "/", Dir: "s"}},
		Env:       []string{"NOEQUALS"},
		ProxyPort: 8080,
		AppPort:   8080,
		StatsPort: 70000,
	}
	err := Validate(Local, c)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, fe := range ve.Fields {
		got[fe.Field] = true
	}
	for _, want := range []string{"Name", "App.Module", "App.Callable", "Chdir", "Static[0].URL", "Static[1].URL", "Env[0]", "AppPort", "StatsPort"} {
		if !got[want] {
			t.Errorf("no error for %s in:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), `App.Module "my-app.py": must be a dotted Python module name`) {
		t.Errorf("message does not name the field and value:\n%v", err)
	}
	if _, err := Generate(Local, c); !errors.As(err, &ve) {
		t.Errorf("Generate did not validate: %v", err)
	}
}

func TestValidationProduction(t *testing.T) {
	c := prodConfig()
	c.Chdir = "srv/shop"
	c.ServerNames = nil
	c.TLSCert = "/etc/ssl/x.pem"
	c.Socket = "/run/" + strings.Repeat("x", 120) + "/uwsgi.sock"
	c.ClientMaxBodySize = "ten megs"
	c.StaticExpires = "forever"
	c.User = "Root User"
	err := Validate(Production, c)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, fe := range ve.Fields {
		got[fe.Field] = true
	}
	for _, want := range []string{"Chdir", "ServerNames", "TLSKey", "Socket", "ClientMaxBodySize", "StaticExpires", "User"} {
		if !got[want] {
			t.Errorf("no error for %s in:\n%v", want, err)
		}
	}
	if err := Validate(Production, prodConfig()); err != nil {
		t.Errorf("a good config fails: %v", err)
	}
	if err := Validate("staging", prodConfig()); err == nil {
		t.Error("an unknown profile validates")
	}
}

func TestStock(t *testing.T) {
	for _, name := range []string{"mime.types", "uwsgi_params", "fastcgi_params"} {
		b, err := Stock(name)
		if err != nil || len(b) == 0 {
			t.Errorf("Stock(%q) = %d bytes, %v", name, len(b), err)
		}
	}
	if b, _ := Stock("uwsgi_params"); !strings.Contains(string(b), "uwsgi_param  HTTP_HOST        $host;") {
		t.Error("uwsgi_params is not Debian's (it sets HTTP_HOST to $host)")
	}
	if _, err := Stock("../templates.go"); err == nil {
		t.Error("Stock reads outside stock/")
	}
}

// The demo's shipped configs are exactly what the local templates make of
// DemoConfig. After changing either: go test ./engine/configgen -run TestDemoInSync -update
func TestDemoInSync(t *testing.T) {
	f := mustGenerate(t, Local, DemoConfig())
	for _, name := range f.Names() {
		if *update {
			if err := os.WriteFile(filepath.Join("..", "..", "assets", "demo", name), f[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		shipped, err := fs.ReadFile(assets.Demo, name)
		if err != nil {
			t.Errorf("assets/demo/%s: %v (run with -update)", name, err)
			continue
		}
		if string(shipped) != string(f[name]) {
			t.Errorf("assets/demo/%s differs from the local templates' output; run: go test ./engine/configgen -run TestDemoInSync -update", name)
		}
	}
}

func TestWriteDirKeepsBackups(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	c := DemoConfig()
	if err := WriteDir(dir, mustGenerate(t, Local, c), nil); err != nil {
		t.Fatal(err)
	}
	c.AppPort = 4040
	if err := WriteDir(dir, mustGenerate(t, Local, c), nil); err != nil {
		t.Fatal(err)
	}
	ini, _ := os.ReadFile(filepath.Join(dir, FileUWSGIIni))
	assertLines(t, "uwsgi.ini", ini, "socket = 127.0.0.1:4040")
	bs, err := atomicfile.Backups(filepath.Join(dir, FileUWSGIIni))
	if err != nil || len(bs) != 1 {
		t.Fatalf("backups of uwsgi.ini = %v, %v", bs, err)
	}
	old, _ := os.ReadFile(bs[0].Path)
	assertLines(t, "backup", old, "socket = 127.0.0.1:3031")
	if bs, _ := atomicfile.Backups(filepath.Join(dir, FileMimeTypes)); len(bs) != 0 {
		t.Errorf("an unchanged file got a backup: %v", bs)
	}
}
