package nginxconf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadIncludes(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"nginx.conf": "events {}\nhttp {\n  include conf.d/*.conf;\n  server {\n    listen 127.0.0.1:8080;\n" +
			"    location /a { include snippets/common.conf; }\n    location /b { include snippets/common.conf; }\n  }\n}\n",
		"conf.d/b.conf":        "gzip on;\n",
		"conf.d/a.conf":        "default_type text/plain;\ninclude snippets/mime.conf;\n",
		"conf.d/.hidden.conf":  "bogus;\n",
		"snippets/mime.conf":   "types { text/html html; }\n",
		"snippets/common.conf": "# shared\nuwsgi_pass unix:/tmp/app.sock;\n",
	})
	cfg, err := Load(filepath.Join(dir, "nginx.conf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range cfg.Files {
		paths = append(paths, strings.TrimPrefix(f.Path, dir+"/"))
	}
	want := []string{"nginx.conf", "conf.d/a.conf", "snippets/mime.conf", "conf.d/b.conf", "snippets/common.conf"}
	if !slices.Equal(paths, want) {
		t.Errorf("files read: %v, want %v", paths, want)
	}
	http := cfg.Main.Block.Get("http")
	var names []string
	for _, d := range http.Block.Expand() {
		names = append(names, d.Name+"@"+filepath.Base(d.File.Path))
	}
	if got := strings.Join(names, " "); got != "default_type@a.conf types@mime.conf gzip@b.conf server@nginx.conf" {
		t.Errorf("expanded http block: %s", got)
	}
	srv := http.Block.Get("server")
	a, b := srv.Block.Find("location")[0], srv.Block.Find("location")[1]
	pa, pb := a.Block.Get("uwsgi_pass"), b.Block.Get("uwsgi_pass")
	if pa == nil || pa != pb || pa.File != cfg.File(filepath.Join(dir, "snippets/common.conf")) {
		t.Errorf("the shared snippet should be one file, read once: %v %v", pa, pb)
	}
	if inc := a.Block.Directives[0]; !inc.IsInclude() || len(inc.Included) != 1 || inc.IncludeErr != nil {
		t.Errorf("include directive: %+v", inc)
	}
	if got := cfg.IncludePath("x/y.conf"); got != dir+"/x/y.conf" {
		t.Errorf("IncludePath = %q", got)
	}
}

func TestLoadIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"nginx.conf": "events {}\nhttp { include a.conf; }\n",
		"a.conf":     "include b.conf;\n",
		"b.conf":     "gzip on;\ninclude *.conf;\n",
	})
	cfg, err := Load(filepath.Join(dir, "nginx.conf"), nil)
	if err == nil {
		t.Fatal("an include cycle loaded without error")
	}
	want := `recursive include of "` + dir + `/a.conf" in ` + dir + "/b.conf:2"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// The expansion terminates and holds what could be read.
	var names []string
	for _, d := range cfg.Main.Block.Get("http").Block.Expand() {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, " "); got != "gzip" {
		t.Errorf("expanded: %q", got)
	}
}

func TestLoadSourceAndOptions(t *testing.T) {
	files := map[string]string{
		"/virtual/sites/app.conf": "location / { uwsgi_pass unix:/tmp/app.sock; }\n",
	}
	opts := &Options{
		Prefix:  "/virtual",
		Context: CtxServer,
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		},
		Glob: func(pattern string) ([]string, error) {
			var out []string
			for p := range files {
				if ok, _ := filepath.Match(pattern, p); ok {
					out = append(out, p)
				}
			}
			slices.Sort(out)
			return out, nil
		},
	}
	cfg, err := LoadSource("/unsaved/server.conf", []byte("listen 127.0.0.1:8080;\ninclude sites/*.conf;\naccess_log /dev/null custom;\n"), opts)
	if err != nil {
		t.Fatalf("LoadSource: %v", err)
	}
	if cfg.Prefix != "/virtual/" || len(cfg.Files) != 2 {
		t.Errorf("prefix %q, %d files", cfg.Prefix, len(cfg.Files))
	}
	if loc := cfg.Main.Block.Get("location"); loc == nil || loc.File.Path != "/virtual/sites/app.conf" {
		t.Errorf("location not read through the virtual file system: %v", loc)
	}
	// A missing file is reported at the include.
	_, err = LoadSource("/unsaved/server.conf", []byte("\ninclude nope.conf;\n"), opts)
	if err == nil || !strings.HasPrefix(err.Error(), `open() "/virtual/nope.conf" failed (`) || !strings.HasSuffix(err.Error(), "in /unsaved/server.conf:2") {
		t.Errorf("missing include: %v", err)
	}
	// The main file cannot be read.
	if _, err := Load(filepath.Join(t.TempDir(), "none.conf"), nil); err == nil ||
		!strings.Contains(err.Error(), "failed (2: No such file or directory)") {
		t.Errorf("missing main file: %v", err)
	}
}

func TestReloadAfterEditingInclude(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"nginx.conf": "events {}\nhttp { include a.conf; }\n",
		"a.conf":     "gzip on;\n",
		"b.conf":     "gzip maybe;\n",
	})
	cfg, err := Load(filepath.Join(dir, "nginx.conf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// An edit made in memory to an included file survives the reload.
	a := cfg.File(filepath.Join(dir, "a.conf"))
	if err := a.Block.Directives[0].SetArg(0, "off"); err != nil {
		t.Fatal(err)
	}
	inc := cfg.Main.Block.Get("http").Block.Directives[0]
	if err := inc.SetArgs("*.conf"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Reload(); err == nil || !strings.HasPrefix(err.Error(), "recursive include") {
		t.Errorf("including *.conf from nginx.conf: %v", err)
	}
	if cfg.File(filepath.Join(dir, "a.conf")) != a || string(a.Bytes()) != "gzip off;\n" {
		t.Errorf("the in-memory a.conf was not kept: %q", a.Bytes())
	}
	if err := inc.SetArg(0, "b.conf"); err != nil {
		t.Fatal(err)
	}
	err = cfg.Reload()
	if err == nil || err.Error() != `invalid value "maybe" in "gzip" directive, it must be "on" or "off" in `+dir+"/b.conf:1" {
		t.Errorf("after pointing the include at b.conf: %v", err)
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.conf", "B.conf", "a_b.conf", "a.b.conf", ".hidden.conf", "x[1].conf", "sub/c.conf", "sub2/d.conf", "sub/.e.conf"} {
		writeTree(t, dir, map[string]string{name: ""})
	}
	tests := []struct {
		pattern string
		want    []string
	}{
		{"*.conf", []string{"B.conf", "a.b.conf", "a.conf", "a_b.conf", "x[1].conf"}},
		{".*.conf", []string{".hidden.conf"}},
		{"a?conf", []string{"a.conf"}},
		{"[aB].conf", []string{"B.conf", "a.conf"}},
		{"[!a].conf", []string{"B.conf"}},
		{"[^a].conf", []string{"B.conf"}},
		{"[[:upper:]]*", []string{"B.conf"}},
		{"a[._]b.conf", []string{"a.b.conf", "a_b.conf"}},
		{`x\[1\].conf`, []string{"x[1].conf"}},
		{"sub*/*.conf", []string{"sub/c.conf", "sub2/d.conf"}},
		{"*/c.conf", []string{"sub/c.conf"}},
		{"none/*.conf", nil},
		{"a.conf", []string{"a.conf"}},
		{"missing.conf", nil},
	}
	for _, tt := range tests {
		got, err := Glob(filepath.Join(dir, tt.pattern))
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i] = strings.TrimPrefix(got[i], dir+"/")
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Glob(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestCheckDocsExamples(t *testing.T) {
	for _, tc := range []struct {
		file string
		ctx  Context
	}{
		{"testdata/docs/nginx-full-example.conf", CtxMain},
		{"testdata/docs/gunicorn.conf", CtxMain},
		{"testdata/docs/uwsgi-django-tutorial.conf", CtxHTTP},
		{"testdata/docs/flask-uwsgi.conf", CtxServer},
		{"testdata/debian/nginx.conf", CtxMain},
		{"testdata/debian/sites-available/default", CtxHTTP},
		{"testdata/debian/mime.types", CtxHTTP},
		{"testdata/debian/snippets/fastcgi-php.conf", CtxLocation},
		{"testdata/debian/uwsgi_params", CtxLocation},
		{"testdata/edge.conf", CtxHTTP},
	} {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(tc.file, src)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckFile(f, tc.ctx).Err(); err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}

// A load_module only warns (wsgideck loads no modules), and the
// directives such a module would bring stay unknown: nginx's error.
func TestLoadModuleKeepsUnknownDirectivesErrors(t *testing.T) {
	src := "stream { server { listen 12345; } }\n"
	f, _ := Parse("a.conf", []byte(src))
	if err := CheckFile(f, CtxMain).Err(); err == nil || err.Error() != `unknown directive "stream" in a.conf:1` {
		t.Errorf("without load_module: %v", err)
	}
	f, _ = Parse("b.conf", []byte("load_module modules/ngx_stream_module.so;\n"+src))
	ds := CheckFile(f, CtxMain)
	if err := ds.Err(); err == nil || err.Error() != `unknown directive "stream" in b.conf:2` {
		t.Errorf("with load_module: %v", ds)
	}
	if w := ds.Warnings(); len(w) != 1 || !strings.Contains(w[0].Msg, `"load_module" directive has no effect in wsgideck`) {
		t.Errorf("with load_module, warnings: %v", w)
	}
}
