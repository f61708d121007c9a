package project

import (
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/configgen"
)

func TestExportDemo(t *testing.T) {
	s := openStore(t, t.TempDir(), t.TempDir())
	demo, _ := s.Demo()
	c, notes, err := ProductionConfig(demo.Dir, ExportOptions{ServerNames: []string{"demo.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "demo" || c.Chdir != "/srv/demo" || c.App != (configgen.App{Module: "wsgi", Callable: "application"}) {
		t.Errorf("config %+v", c)
	}
	if len(c.Static) != 1 || c.Static[0] != (configgen.StaticMap{URL: "/static/", Dir: "/srv/demo/static"}) {
		t.Errorf("static %+v", c.Static)
	}
	if c.ClientMaxBodySize != "10m" || c.BufferSize != 32768 || c.Harakiri != 30 {
		t.Errorf("limits %+v", c)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v", notes)
	}
	files, _, _, err := Export(demo.Dir, ExportOptions{ServerNames: []string{"demo.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[configgen.FileNginxSite]), "alias /srv/demo/static/;") {
		t.Errorf("site:\n%s", files[configgen.FileNginxSite])
	}
}

func TestExportMovesProjectPaths(t *testing.T) {
	dir := files(t, map[string]string{
		"src/shop/__init__.py": "",
		"src/shop/wsgi.py":     "def application(e, s):\n    s('200 OK', [])\n    return [b'']\n",
		"uwsgi.ini":            "[uwsgi]\nchdir = %d\npythonpath = %dsrc\nwsgi-file = src/shop/wsgi.py\nhome = /opt/venvs/shop\nstatic-map = /media=%dmedia\nenv = A=1\nthreads = 4\n",
		"nginx.conf":           "events {}\nhttp {\n  client_max_body_size 20m;\n  server {\n    listen 8080;\n    location /assets/ { root public; }\n    location / { uwsgi_pass 127.0.0.1:3031; }\n  }\n}\n",
	})
	c, notes, err := ProductionConfig(dir, ExportOptions{Name: "shop", AppDir: "/var/www/shop", ServerNames: []string{"shop.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Chdir != "/var/www/shop" || strings.Join(c.PythonPath, ",") != "/var/www/shop/src" || c.App.Module != "src.shop.wsgi" || c.Venv != "/var/www/shop/.venv" {
		t.Errorf("config %+v", c)
	}
	if c.Threads != 4 || strings.Join(c.Env, ",") != "A=1" || c.ClientMaxBodySize != "20m" {
		t.Errorf("config %+v", c)
	}
	want := []configgen.StaticMap{{URL: "/media/", Dir: "/var/www/shop/media"}, {URL: "/assets/", Dir: "/var/www/shop/public/assets"}}
	if len(c.Static) != 2 || c.Static[0] != want[0] || c.Static[1] != want[1] {
		t.Errorf("static %+v", c.Static)
	}
	all := strings.Join(notes, "\n")
	if !strings.Contains(all, "/opt/venvs/shop is outside the project") || !strings.Contains(all, "module = src.shop.wsgi") {
		t.Errorf("notes:\n%s", all)
	}
	if _, err := configgen.Generate(configgen.Production, c); err != nil {
		t.Error(err)
	}
}
