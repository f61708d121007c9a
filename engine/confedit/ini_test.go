package confedit

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// realINIs returns real-world uwsgi.ini files by name: the uWSGI docs'
// examples, Django's howto and the uWSGI Django tutorial (testdata/ini),
// the demo project's, and the production template's output.
func realINIs(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	files, err := filepath.Glob("testdata/ini/*.ini")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata inis: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	demo, err := fs.ReadFile(assets.Demo, "uwsgi.ini")
	if err != nil {
		t.Fatal(err)
	}
	out["demo.ini"] = demo
	c := configgen.Config{
		Name: "shop", Framework: "django", App: configgen.App{Module: "shop.wsgi"},
		Chdir: "/srv/shop", Venv: "/srv/shop/.venv", ServerNames: []string{"shop.example.org"},
		Env: []string{"DJANGO_SETTINGS_MODULE=shop.settings"}, Static: []configgen.StaticMap{{URL: "/static/", Dir: "/srv/shop/static"}},
	}
	prod, err := configgen.Generate(configgen.Production, c)
	if err != nil {
		t.Fatal(err)
	}
	out["production.ini"] = prod[configgen.FileUWSGIIni]
	return out
}

// variants adds CRLF and no-final-newline versions of each file.
func variants(files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for name, b := range files {
		out[name] = b
		out[name+" (crlf)"] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
		out[name+" (no final newline)"] = bytes.TrimRight(b, "\n")
	}
	return out
}

func TestINIRoundTrip(t *testing.T) {
	for name, src := range variants(realINIs(t)) {
		f := ParseINI(name, src, "")
		if got := f.Bytes(); !bytes.Equal(got, src) {
			t.Errorf("%s: round trip changed the file:\n%s", name, UnifiedDiff("want", "got", src, got))
		}
	}
}

// TestINIAgreesWithUWSGIReader checks that the editor sees the option
// lines uWSGI's reader (engine/uwsgiini) sees, with the same keys.
func TestINIAgreesWithUWSGIReader(t *testing.T) {
	for name, src := range variants(realINIs(t)) {
		if strings.Contains(name, "sections") {
			continue // its ini = lines read other files
		}
		cfg, err := uwsgiini.Parse(name, src, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byLine := map[int]Entry{}
		for _, e := range ParseINI(name, src, "").Entries() {
			byLine[e.Line] = e
		}
		seen := map[int]bool{}
		for _, o := range cfg.Options {
			if o.File != name || seen[o.Line] {
				continue
			}
			seen[o.Line] = true
			e, ok := byLine[o.Line]
			if !ok {
				t.Errorf("%s:%d: uWSGI reads option %s there, the editor sees none", name, o.Line, o.Key)
				continue
			}
			if e.Name != o.Key && o.Key != "set-placeholder" {
				t.Errorf("%s:%d: editor key %s (%s), uWSGI key %s", name, o.Line, e.Key, e.Name, o.Key)
			}
		}
		if len(seen) != len(byLine) {
			t.Errorf("%s: uWSGI reads %d option lines, the editor %d", name, len(seen), len(byLine))
		}
	}
}

// changedLines returns the lines a minimal line diff removes from old and
// adds in new. A line that only gained a line end (the last line, when a
// line is appended after it) does not count.
func changedLines(old, new []byte) (removed, added []string) {
	x, y := splitLines(old), splitLines(new)
	for _, o := range lineDiff(x, y) {
		switch o.kind {
		case opDelete:
			removed = append(removed, x[o.ai])
		case opInsert:
			added = append(added, y[o.bi])
		}
	}
	if len(removed) == 1 && len(added) == 2 && !strings.HasSuffix(removed[0], "\n") {
		for i, a := range added {
			if strings.TrimRight(a, "\r\n") == removed[0] {
				return nil, append(added[:i:i], added[i+1:]...)
			}
		}
	}
	return removed, added
}

func TestINIEdits(t *testing.T) {
	tests := []struct {
		name string
		src  string
		edit func(f *INI) error
		want string
	}{
		{"set in place keeps alignment",
			"[uwsgi]\nprocesses       = 10\nvacuum          = true           \n",
			func(f *INI) error { return f.Set("processes", "4") },
			"[uwsgi]\nprocesses       = 4\nvacuum          = true           \n"},
		{"set keeps trailing blanks after the value",
			"[uwsgi]\nchdir           = /path/to/your/project \n",
			func(f *INI) error { return f.Set("chdir", "/srv/app") },
			"[uwsgi]\nchdir           = /srv/app \n"},
		{"set through an alias",
			"[uwsgi]\nworkers = 3\nmaster = true\n",
			func(f *INI) error { return f.Set("processes", "8") },
			"[uwsgi]\nworkers = 8\nmaster = true\n"},
		{"set the effective, last occurrence",
			"[uwsgi]\nprocesses = 2\nprocesses = 3 \n",
			func(f *INI) error { return f.Set("processes", "5") },
			"[uwsgi]\nprocesses = 2\nprocesses = 5 \n"},
		{"set a missing key goes after the section's last option",
			"# head\n[uwsgi]\nmodule = wsgi\n\n# trailing comment\n[other]\nx = 1\n",
			func(f *INI) error { return f.Set("harakiri", "30") },
			"# head\n[uwsgi]\nmodule = wsgi\nharakiri = 30\n\n# trailing comment\n[other]\nx = 1\n"},
		{"set in a file written key=value",
			"[uwsgi]\nchdir=/p\nmodule=mysite.wsgi:application\n",
			func(f *INI) error { return f.Set("buffer-size", "32768") },
			"[uwsgi]\nchdir=/p\nmodule=mysite.wsgi:application\nbuffer-size=32768\n"},
		{"crlf kept",
			"[uwsgi]\r\nmodule = wsgi\r\n",
			func(f *INI) error { return f.Set("master", "true") },
			"[uwsgi]\r\nmodule = wsgi\r\nmaster = true\r\n"},
		{"no final newline",
			"[uwsgi]\nmodule = wsgi",
			func(f *INI) error { return f.Set("master", "true") },
			"[uwsgi]\nmodule = wsgi\nmaster = true\n"},
		{"no section yet",
			"# only a comment\n",
			func(f *INI) error { return f.Set("module", "wsgi") },
			"# only a comment\n\n[uwsgi]\nmodule = wsgi\n"},
		{"empty file",
			"",
			func(f *INI) error { return f.Set("module", "wsgi") },
			"[uwsgi]\nmodule = wsgi\n"},
		{"empty section",
			"[uwsgi]\n\n[app1]\nplugin = rack\n",
			func(f *INI) error { return f.Set("module", "wsgi") },
			"[uwsgi]\nmodule = wsgi\n\n[app1]\nplugin = rack\n"},
		{"last of several uwsgi sections",
			"[uwsgi]\na = 1\n[x]\nb = 2\n[uwsgi]\nc = 3\n[y]\n",
			func(f *INI) error { return f.Set("d", "4") },
			"[uwsgi]\na = 1\n[x]\nb = 2\n[uwsgi]\nc = 3\nd = 4\n[y]\n"},
		{"other sections untouched",
			"[app1]\nprocesses = 1\n[uwsgi]\nprocesses = 2\n",
			func(f *INI) error { return f.Set("processes", "9") },
			"[app1]\nprocesses = 1\n[uwsgi]\nprocesses = 9\n"},
		{"bare flag gets a value",
			"[uwsgi]\nmaster\nvacuum\n",
			func(f *INI) error { return f.Set("master", "false") },
			"[uwsgi]\nmaster = false\nvacuum\n"},
		{"empty value",
			"[uwsgi]\nenable-threads = true\n",
			func(f *INI) error { return f.Set("enable-threads", "") },
			"[uwsgi]\nenable-threads =\n"},
		{"add after the last occurrence",
			"[uwsgi]\nsocket = /tmp/uwsgi.sock\nsocket = 127.0.0.1:8000\nworkers = 3\n",
			func(f *INI) error { return f.Add("socket", "127.0.0.1:8001") },
			"[uwsgi]\nsocket = /tmp/uwsgi.sock\nsocket = 127.0.0.1:8000\nsocket = 127.0.0.1:8001\nworkers = 3\n"},
		{"add through an alias",
			"[uwsgi]\nuwsgi-socket = :1\nmaster = 1\n",
			func(f *INI) error { return f.Add("socket", ":2") },
			"[uwsgi]\nuwsgi-socket = :1\nsocket = :2\nmaster = 1\n"},
		{"remove one value",
			"[uwsgi]\nenv = A=1\nenv = B=2 ; not a comment\nenv = C=3\n",
			func(f *INI) error {
				if !f.RemoveValue("env", "B=2 ; not a comment") {
					t.Error("RemoveValue found nothing")
				}
				return nil
			},
			"[uwsgi]\nenv = A=1\nenv = C=3\n"},
		{"remove all",
			"[uwsgi]\n# sockets\nsocket = a\nmaster = 1\nsocket = b\n",
			func(f *INI) error {
				if n := f.Remove("uwsgi-socket"); n != 2 {
					t.Errorf("removed %d, want 2", n)
				}
				return nil
			},
			"[uwsgi]\n# sockets\nmaster = 1\n"},
		{"remove the unterminated last line",
			"[uwsgi]\na = 1\nb = 2",
			func(f *INI) error { f.Remove("b"); return nil },
			"[uwsgi]\na = 1\n"},
		{"rename a key in place",
			"[uwsgi]\nhttp-socket   = :3031 \n",
			func(f *INI) error { return f.RenameAt(2, "socket") },
			"[uwsgi]\nsocket   = :3031 \n"},
		{"insert at a line",
			"[uwsgi]\nmodule = wsgi\nmaster = 1\n",
			func(f *INI) error { return f.InsertAt(3, "chdir", "%d") },
			"[uwsgi]\nmodule = wsgi\nchdir = %d\nmaster = 1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseINI("t.ini", []byte(tc.src), "")
			if err := tc.edit(f); err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestINIEditErrors(t *testing.T) {
	f := ParseINI("t.ini", []byte("[uwsgi]\nmodule = wsgi\n# c\n"), "")
	before := string(f.Bytes())
	for _, bad := range []struct{ key, value string }{
		{"", "x"}, {"a=b", "x"}, {" a", "x"}, {"#a", "x"}, {"[a]", "x"}, {"a\nb", "x"},
		{"a", " x"}, {"a", "x\t"}, {"a", "x\ny"}, {"a", "x\x00"},
	} {
		if err := f.Set(bad.key, bad.value); err == nil {
			t.Errorf("Set(%q, %q) accepted", bad.key, bad.value)
		}
		if err := f.Add(bad.key, bad.value); err == nil {
			t.Errorf("Add(%q, %q) accepted", bad.key, bad.value)
		}
	}
	if err := f.SetAt(3, "x"); err == nil {
		t.Error("SetAt on a comment line accepted")
	}
	if err := f.RemoveAt(1); err == nil {
		t.Error("RemoveAt on a section header accepted")
	}
	if got := string(f.Bytes()); got != before {
		t.Errorf("failed edits changed the file:\n%s", got)
	}
}

// TestINIEditsOnRealFiles makes each kind of edit on every real file and
// checks that only the edited line changed and that uWSGI's reader sees
// the new value.
func TestINIEditsOnRealFiles(t *testing.T) {
	for name, src := range variants(realINIs(t)) {
		if strings.Contains(name, "sections") {
			continue
		}
		for _, key := range []string{"processes", "buffer-size", "chdir"} {
			f := ParseINI(name, src, "")
			if err := f.Set(key, "4242"); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out := f.Bytes()
			if del, ins := changedLines(src, out); len(del) > 1 || len(ins) != 1 || !strings.Contains(ins[0], "4242") {
				t.Errorf("%s: Set(%s) changed more than one line: -%q +%q", name, key, del, ins)
			}
			cfg, err := uwsgiini.Parse(name, out, "")
			if err != nil {
				t.Fatalf("%s after Set(%s): %v", name, key, err)
			}
			if v, _ := cfg.Get(key); v != "4242" {
				t.Errorf("%s: after Set(%s), uWSGI reads %q", name, key, v)
			}
		}
		f := ParseINI(name, src, "")
		if err := f.Add("env", "WSGIDECK=1"); err != nil {
			t.Fatal(err)
		}
		cfg, err := uwsgiini.Parse(name, f.Bytes(), "")
		if err != nil {
			t.Fatal(err)
		}
		if all := cfg.All("env"); len(all) == 0 || all[len(all)-1] != "WSGIDECK=1" {
			t.Errorf("%s: after Add(env), uWSGI reads env %q", name, all)
		}
		if !f.RemoveValue("env", "WSGIDECK=1") || !bytes.Equal(f.Bytes(), src) && !bytes.Equal(f.Bytes(), append(bytes.Clone(src), '\n')) {
			t.Errorf("%s: Add then RemoveValue did not give the file back:\n%s", name, UnifiedDiff("want", "got", src, f.Bytes()))
		}
	}
}

func FuzzINI(f *testing.F) {
	for _, b := range realINIs(f) {
		f.Add(b, "processes", "4")
	}
	f.Add([]byte("[uwsgi]\nmaster\r\n\x00x=y\n[uwsgi\n=\n"), "socket", ":0")
	f.Fuzz(func(t *testing.T, src []byte, key, value string) {
		ini := ParseINI("f.ini", src, "")
		if got := ini.Bytes(); !bytes.Equal(got, src) {
			t.Fatalf("round trip changed the file")
		}
		before := ini.Entries()
		if err := ini.Set(key, value); err != nil {
			if !bytes.Equal(ini.Bytes(), src) {
				t.Fatalf("a failed Set changed the file")
			}
			return
		}
		e, ok := ini.Get(key)
		if !ok || e.Value != value {
			t.Fatalf("Set(%q, %q), then Get gives %q (%v)", key, value, e.Value, ok)
		}
		after := ini.Entries()
		if len(after) != len(before) && len(after) != len(before)+1 {
			t.Fatalf("Set changed the number of options from %d to %d", len(before), len(after))
		}
		// The editor and uWSGI's reader agree on the value.
		if strings.ContainsAny(value+key, "%$@") {
			return // expanded by uWSGI
		}
		cfg, err := uwsgiini.Parse("f.ini", ini.Bytes(), "")
		if err != nil {
			return
		}
		if o, ok := cfg.Lookup(key); ok && o.File == "f.ini" && o.Line == e.Line && o.Value != value {
			t.Fatalf("uWSGI reads %q at line %d, the editor wrote %q", o.Value, e.Line, value)
		}
	})
}
