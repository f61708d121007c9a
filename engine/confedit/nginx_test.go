package confedit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/assets"
	"os/exec"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// nginxFiles lists the real-world nginx files in testdata: Debian 12's
// nginx.conf, site and snippets, and the nginx, uWSGI and Flask docs'
// examples.
func nginxFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.WalkDir("testdata/nginx", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if len(out) < 10 {
		t.Fatalf("testdata/nginx holds %d files", len(out))
	}
	return out
}

func TestNginxRoundTrip(t *testing.T) {
	for _, p := range nginxFiles(t) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ctx := nginxconf.CtxHTTP
		if filepath.Base(p) == "nginx.conf" || strings.Contains(p, "full-example") {
			ctx = 0
		}
		doc, err := OpenNginx(p, NginxOptions{Context: ctx})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := doc.Bytes(""); !bytes.Equal(got, src) {
			t.Errorf("%s: round trip changed the file", p)
		}
		if d, err := doc.Diff(); err != nil || d != "" {
			t.Errorf("%s: Diff of an unedited document: %q, %v", p, d, err)
		}
		if doc.Dirty() {
			t.Errorf("%s: unedited document is dirty", p)
		}
	}
}

// copyDemo puts the demo project in a temp folder and returns it.
func copyDemo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	return dir
}

// onlyChanged fails unless going from old to new removed exactly the lines
// want removed and added exactly want added (each given without line ends,
// blanks trimmed).
func onlyChanged(t *testing.T, what string, old, new []byte, removed, added []string) {
	t.Helper()
	r, a := changedLines(old, new)
	trim := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			out = append(out, strings.TrimSpace(l))
		}
		return out
	}
	if strings.Join(trim(r), "|") != strings.Join(removed, "|") || strings.Join(trim(a), "|") != strings.Join(added, "|") {
		t.Errorf("%s: removed %q added %q; want removed %q added %q\n%s", what, trim(r), trim(a), removed, added, UnifiedDiff("old", "new", old, new))
	}
}

func TestNginxHelpersOnDebianSite(t *testing.T) {
	path := "testdata/nginx/debian/sites-available/default"
	orig, _ := os.ReadFile(path)
	open := func() (*NginxDoc, *nginxconf.Directive) {
		doc, err := OpenNginx(path, NginxOptions{Context: nginxconf.CtxHTTP, Prefix: "testdata/nginx/debian"})
		if err != nil {
			t.Fatal(err)
		}
		srv := Servers(doc.Config())
		if len(srv) != 1 {
			t.Fatalf("%d servers, want 1", len(srv))
		}
		return doc, srv[0]
	}
	steps := []struct {
		name           string
		edit           func(srv *nginxconf.Directive) error
		removed, added []string
	}{
		{"listen", func(s *nginxconf.Directive) error { return SetListen(s, "80", "8080") },
			[]string{"listen 80 default_server;"}, []string{"listen 8080 default_server;"}},
		{"listen v6", func(s *nginxconf.Directive) error { return SetListen(s, "[::]:80", "[::]:8080") },
			[]string{"listen [::]:80 default_server;"}, []string{"listen [::]:8080 default_server;"}},
		{"server_name", func(s *nginxconf.Directive) error { return SetServerName(s, "example.test", "www.example.test") },
			[]string{"server_name _;"}, []string{"server_name example.test www.example.test;"}},
		{"add location", func(s *nginxconf.Directive) error {
			_, err := AddLocation(s, "/static/", nginxconf.NewDirective("alias", "/srv/app/static/"), nginxconf.NewDirective("expires", "30d"))
			return err
		}, nil, []string{"location /static/ {", "alias /srv/app/static/;", "expires 30d;", "}"}},
		{"uwsgi_pass", func(s *nginxconf.Directive) error {
			loc, err := FindLocation(s, "/")
			if err != nil || loc == nil {
				t.Fatalf("no location /: %v", err)
			}
			return SetPass(loc, UWSGIPass, "127.0.0.1:3031")
		}, nil, []string{"include uwsgi_params;", "uwsgi_pass 127.0.0.1:3031;"}},
		{"root", func(s *nginxconf.Directive) error { _, err := SetDirective(s, "root", "/srv/app/html"); return err },
			[]string{"root /var/www/html;"}, []string{"root /srv/app/html;"}},
	}
	for _, st := range steps {
		doc, srv := open()
		if err := doc.Edit(func(*nginxconf.Config) error { return st.edit(srv) }); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		onlyChanged(t, st.name, orig, doc.Bytes(""), st.removed, st.added)
		if errs := Errors(doc.Validate()); len(errs) > 0 {
			t.Errorf("%s: the edited file does not validate: %v", st.name, errs)
		}
	}

	// Every edit in one go, then removing the location again.
	doc, srv := open()
	err := doc.Edit(func(*nginxconf.Config) error {
		for _, st := range steps {
			if err := st.edit(srv); err != nil {
				return err
			}
		}
		return RemoveLocation(srv, "/static/")
	})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := doc.Diff()
	if strings.Contains(d, "static") || !strings.Contains(d, "+\t\tuwsgi_pass 127.0.0.1:3031;") {
		t.Errorf("diff after all edits:\n%s", d)
	}
	// A duplicate location is refused, as nginx refuses it.
	if _, err := AddLocation(srv, "/", nginxconf.NewDirective("return", "204")); err == nil {
		t.Error("a second location / was accepted")
	}
}

func TestSetPassSwitchesProtocol(t *testing.T) {
	src := "server {\n    listen 80;\n    location / {\n        include uwsgi_params;\n        uwsgi_pass 127.0.0.1:3031;\n    }\n}\n"
	path := filepath.Join(t.TempDir(), "site.conf")
	os.WriteFile(path, []byte(src), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(path), "uwsgi_params"), []byte("uwsgi_param QUERY_STRING $query_string;\n"), 0o644)
	doc, err := OpenNginx(path, NginxOptions{Context: nginxconf.CtxHTTP})
	if err != nil {
		t.Fatal(err)
	}
	srv := Servers(doc.Config())[0]
	loc, _ := FindLocation(srv, "/")
	if err := doc.Edit(func(*nginxconf.Config) error { return SetPass(loc, ProxyPass, "127.0.0.1:3031") }); err != nil {
		t.Fatal(err)
	}
	want := "server {\n    listen 80;\n    location / {\n        include uwsgi_params;\n        proxy_pass http://127.0.0.1:3031;\n    }\n}\n"
	if got := string(doc.Bytes("")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// And back: the include is already there, so none is added.
	if err := doc.Edit(func(*nginxconf.Config) error { return SetPass(loc, UWSGIPass, "unix:/run/app.sock") }); err != nil {
		t.Fatal(err)
	}
	if got := string(doc.Bytes("")); strings.Count(got, "include") != 1 || !strings.Contains(got, "uwsgi_pass unix:/run/app.sock;") || strings.Contains(got, "proxy_pass") {
		t.Errorf("got\n%s", got)
	}
}

// TestEditedDemoPassesRealNginx makes every structured edit on the demo's
// nginx.conf, saves it, and runs the real nginx -t on the result.
func TestEditedDemoPassesRealNginx(t *testing.T) {
	dir := copyDemo(t)
	conf := filepath.Join(dir, "nginx.conf")
	doc, err := OpenNginx(conf, NginxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = doc.Edit(func(c *nginxconf.Config) error {
		srv := Servers(c)[0]
		if err := SetListen(srv, "", "127.0.0.1:18080"); err != nil {
			return err
		}
		if err := SetServerName(srv, "demo.test"); err != nil {
			return err
		}
		if _, err := AddLocation(srv, "= /favicon.ico", nginxconf.NewDirective("return", "204")); err != nil {
			return err
		}
		api, err := AddLocation(srv, "/api/")
		if err != nil {
			return err
		}
		if err := SetPass(api, FastCGIPass, "127.0.0.1:9000"); err != nil {
			return err
		}
		return RemoveLocation(srv, "/static/")
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "fastcgi_params"), []byte("fastcgi_param QUERY_STRING $query_string;\n"), 0o644)
	doc.ReloadIncludes()
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	out, ok := nginxT(t, dir, conf)
	if !ok {
		saved, _ := os.ReadFile(conf)
		t.Fatalf("real nginx -t refused the edited file:\n%s\n%s", out, saved)
	}
}

// nginxT runs the real nginx -t on a complete config (the demo's sets
// daemon and error_log itself), with prefix as nginx's -p, the way the
// demo's header comment says to run it.
func nginxT(t *testing.T, prefix, conf string) (string, bool) {
	t.Helper()
	if _, err := os.Stat(peertest.NginxPath); err != nil {
		t.Fatalf("nginx is needed: %v", err)
	}
	out, err := exec.Command(peertest.NginxPath, "-t", "-p", prefix, "-c", conf, "-g", "pid "+prefix+"/nginx.pid;").CombinedOutput()
	return string(out), err == nil
}

// FuzzNginxHelpers runs the structured edits on arbitrary site files: an
// edit either fails and changes nothing, or gives a file that parses with
// the same servers, the edit in place.
func FuzzNginxHelpers(f *testing.F) {
	for _, p := range []string{"testdata/nginx/debian/sites-available/default", "testdata/nginx/docs/uwsgi-django-tutorial.conf", "testdata/nginx/docs/flask-uwsgi.conf"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "127.0.0.1:8081", "/x/")
	}
	f.Add([]byte("server{listen 80;location /{}}"), "[::]:1", "~* \\.png$")
	f.Fuzz(func(t *testing.T, src []byte, addr, match string) {
		cfg, _ := nginxconf.LoadSource("/fuzz/site.conf", src, &nginxconf.Options{Context: nginxconf.CtxHTTP, ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }})
		if cfg.Main.Err != nil {
			return
		}
		servers := Servers(cfg)
		if len(servers) == 0 || servers[0].File != cfg.Main {
			return
		}
		srv := servers[0]
		before := cfg.Main.Bytes()
		check := func(what string) {
			g, err := nginxconf.Parse("/fuzz/site.conf", cfg.Main.Bytes())
			if err != nil {
				t.Fatalf("%s gave a file that does not parse: %v\n%s", what, err, cfg.Main.Bytes())
			}
			n := 0
			for _, d := range g.Block.Directives {
				if d.Name == "server" && d.Block != nil {
					n++
				}
			}
			want := 0
			for _, d := range cfg.Main.Block.Directives {
				if d.Name == "server" && d.Block != nil {
					want++
				}
			}
			if n != want {
				t.Fatalf("%s: %d servers after, %d in the tree", what, n, want)
			}
		}
		if err := SetListen(srv, "", addr); err != nil {
			if !bytes.Equal(before, cfg.Main.Bytes()) {
				t.Fatalf("a failed SetListen changed the file")
			}
		} else {
			check("SetListen")
			if got := srv.Block.Find("listen"); len(got) == 0 || got[0].Arg(0) != addr {
				t.Fatalf("SetListen(%q) did not take", addr)
			}
		}
		if _, _, err := ParseMatch(match); err != nil {
			return
		}
		if loc, err := AddLocation(srv, match, nginxconf.NewDirective("return", "204")); err == nil {
			check("AddLocation")
			if again, _ := FindLocation(srv, match); again != loc {
				t.Fatalf("the added location %q is not found", match)
			}
			if err := RemoveLocation(srv, match); err != nil {
				t.Fatal(err)
			}
			check("RemoveLocation")
		}
	})
}
