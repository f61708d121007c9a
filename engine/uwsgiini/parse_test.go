package uwsgiini

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testLoader is a Loader with a fixed host, clock, user and environment,
// rooted (as its current directory) at dir.
func testLoader(dir string, env map[string]string) *Loader {
	return &Loader{
		Getenv:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Getwd:      func() (string, error) { return dir, nil },
		Hostname:   func() (string, error) { return "testhost", nil },
		NumCPU:     func() int { return 8 },
		Now:        func() time.Time { return time.Unix(1700000000, 123456000) },
		Identity:   func() Identity { return Identity{UID: "1000", User: "alice", GID: "100", Group: "staff"} },
		Executable: func() (string, error) { return "/usr/bin/wsgideck", nil },
	}
}

// writeFiles creates files (name -> content) under a new temp dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// render lists options as "line:raw=value", one per line.
func render(c *Config) string {
	var b strings.Builder
	for _, o := range c.Options {
		file := o.File
		if file != "" {
			file = filepath.Base(file)
		}
		b.WriteString(Where(file, o.Line) + " " + o.Raw + "=" + o.Value + "\n")
	}
	return b.String()
}

func TestINIQuirks(t *testing.T) {
	for _, tc := range []struct{ name, ini, want string }{
		{"trim space tab CR", "[uwsgi]\r\n \t master = true \t\r\n", "app.ini:2 master=true\n"},
		{"comments only at line start", "[uwsgi]\n; a\n  # b\nk = v ; not a comment # nor this\n", "app.ini:4 k=v ; not a comment # nor this\n"},
		{"no quote handling", "[uwsgi]\nk = \"quoted\" 'x'\n", "app.ini:2 k=\"quoted\" 'x'\n"},
		{"split at first =", "[uwsgi]\nenv = A=B=C\n", "app.ini:2 env=A=B=C\n"},
		{"bare key has empty value", "[uwsgi]\nmaster\n", "app.ini:2 master=\n"},
		{"empty key", "[uwsgi]\n=v\n", "app.ini:2 =v\n"},
		{"inner spaces kept", "[uwsgi]\n  spaced key   =   spaced value  \n", "app.ini:2 spaced key=spaced value\n"},
		{"repeats accumulate in order", "[uwsgi]\nsocket = a\nprocesses = 2\nsocket = b\n", "app.ini:2 socket=a\napp.ini:3 processes=2\napp.ini:4 socket=b\n"},
		{"only the uwsgi section", "x = 0\n[app]\ny = 1\n[uwsgi]\nz = 2\n[other]\nw = 3\n[uwsgi]\nv = 4\n", "app.ini:5 z=2\napp.ini:9 v=4\n"},
		{"section names are not trimmed", "[ uwsgi ]\na = 1\n[uwsgi]\nb = 2\n", "app.ini:4 b=2\n"},
		{"last byte of a header is dropped", "[uwsgi\na = 1\n[uwsgix\nb = 2\n[uwsgi]x\nc = 3\n", "app.ini:4 b=2\n"},
		{"case-sensitive keys", "[uwsgi]\nMaster = 1\n", "app.ini:2 Master=1\n"},
		{"no trailing newline", "[uwsgi]\nk = v", "app.ini:2 k=v\n"},
		{"NUL ends a line", "[uwsgi]\nk = v\x00junk\n", "app.ini:2 k=v\n"},
		{"percent at line end joins lines", "[uwsgi]\na = 50%\nb = 1\nc = 2\n", "app.ini:2 a=50b = 1\napp.ini:4 c=2\n"},
		{"unknown magic letter vanishes", "[uwsgi]\na = x%zy%%z%(\n", "app.ini:2 a=xy%z%(\n"},
		{"percent at EOF vanishes", "[uwsgi]\na = 5%", "app.ini:2 a=5\n"},
		{"no continuation lines", "[uwsgi]\na = x \\\nb = y\n", "app.ini:2 a=x \\\napp.ini:3 b=y\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := testLoader(dir, nil).Parse(filepath.Join(dir, "app.ini"), []byte(tc.ini), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := render(c); got != tc.want {
				t.Errorf("got\n%swant\n%s", got, tc.want)
			}
		})
	}
}

func TestSectionSelection(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.ini": "[uwsgi]\na = main|%x\n[dev]\na = dev|%x\n"})
	l := testLoader(dir, nil)
	c, err := l.Load("app.ini:dev")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get("a"); got != "dev|dev" {
		t.Errorf("app.ini:dev: a = %q, want %q", got, "dev|dev")
	}
	c, _ = l.Load("app.ini")
	if got, _ := c.Get("a"); got != "main|" { // %x is empty unless a section was named
		t.Errorf("app.ini: a = %q", got)
	}
	c, _ = l.Load("app.ini:")
	if got, _ := c.Get("a"); got != "main|" {
		t.Errorf("app.ini: (empty section): a = %q", got)
	}
	c, err = l.Load("app.ini:UWSGI")
	if err != nil || len(c.Options) != 0 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Msg, "sections found: [uwsgi], [dev]") {
		t.Errorf("missing section: %v %+v", err, c)
	}
}

func TestMagicVariables(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"proj.d/conf/app.ini": "[uwsgi]\n" +
			"a = %d|%p|%s|%n|%e|%c|%x|%o\n" +
			"b = %h|%k|%u|%U|%g|%G|%v|%V|%t|%T|%b\n" +
			"c = %%|%(|%[|%q|%0|%1\n" +
			"ini = proj.d/conf/inc.ini\n",
		"proj.d/conf/inc.ini": "[uwsgi]\nd = %n|%x|%N|%X|%O|%S\n",
	})
	c, err := testLoader(dir, nil).Load("proj.d/conf/app.ini:uwsgi")
	if err != nil {
		t.Fatal(err)
	}
	real := func(p string) string { r, _ := filepath.EvalSymlinks(filepath.Join(dir, p)); return r }
	conf := real("proj.d/conf")
	parts := strings.Split(strings.Trim(conf, "/"), "/")
	want := map[string]string{
		"a": conf + "/|" + conf + "/app.ini|app.ini|app|ini|conf|uwsgi|proj.d/conf/app.ini",
		"b": "testhost|8|1000|alice|100|staff|" + dir + "|2.0.21|1700000000|1700000000123456|/usr/bin/wsgideck",
		"c": "%|%(|\x1b||" + parts[0] + "|" + parts[1],
		"d": "inc||app|uwsgi|proj.d/conf/app.ini|app.ini",
	}
	for k, v := range want {
		if got, _ := c.Get(k); got != v {
			t.Errorf("%s = %q\n want %q", k, got, v)
		}
	}
}

func TestSymlinkKeepsItsPath(t *testing.T) {
	dir := writeFiles(t, map[string]string{"real/app.ini": "[uwsgi]\np = %p\n"})
	if err := os.Symlink(filepath.Join(dir, "real/app.ini"), filepath.Join(dir, "link.ini")); err != nil {
		t.Fatal(err)
	}
	c, err := testLoader(dir, nil).Load("link.ini")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get("p"); got != dir+"/link.ini" {
		t.Errorf("%%p = %q, want the link's own path", got)
	}
}

func TestDJB33xMatchesUWSGI(t *testing.T) {
	// uwsgi 2.0.21 printed %j = 6CBD9121 for /tmp/uwprobe/dir.x/all.
	if got := djb33xHex("/tmp/uwprobe/dir.x/all"); got != "6CBD9121" {
		t.Errorf("got %s", got)
	}
}

func TestReferenceExample(t *testing.T) {
	// [EXP] in the shared reference: myvar = hello-%n, env = FOO=%(myvar)-$(HOME).
	dir := writeFiles(t, map[string]string{"uwsgi3.ini": "[uwsgi]\nmyvar = hello-%n\nenv = FOO=%(myvar)-$(HOME)\n"})
	c, err := testLoader(dir, map[string]string{"HOME": "/home/alice"}).Load("uwsgi3.ini")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.All("env"); len(got) != 1 || got[0] != "FOO=hello-uwsgi3-/home/alice" {
		t.Errorf("env = %q", got)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("myvar is a placeholder in use, not an unknown option: %v", c.Warnings)
	}
}

func TestExpansion(t *testing.T) {
	env := map[string]string{"A": "aa", "EMPTY": "", "NEST": "$(A)-%(b)", "SELF": "x$(SELF)"}
	for _, tc := range []struct{ name, ini, key, want string }{
		{"env", "v = $(A)", "v", "aa"},
		{"empty env", "v = [$(EMPTY)]", "v", "[]"},
		{"unset env left as is", "v = $(NOPE)", "v", "$(NOPE)"},
		{"dollar before", "v = $$(A)", "v", "$aa"},
		{"inserted text is not rescanned at its first byte", "v = $(NEST)\nb = x", "v", "$(A)-x"},
		{"option first value", "b = x\nb = y\nv = %(b)", "v", "x"},
		{"forward reference", "v = %(b)\nb = x", "v", "x"},
		{"aliases are distinct names", "workers = 3\nv = %(processes)|%(workers)", "v", "%(processes)|3"},
		{"unresolved left", "v = %(nope)", "v", "%(nope)"},
		{"empty key left", "v = %()", "v", "%()"},
		{"nested parens in key", "v = ((%(b)))%(\nb = x", "v", "((x))%("},
		{"symbol restarts a key", "v = %(%(b))\nb = x", "v", "%(x)"},
		{"chain expands", "c2 = z%(a)\na = %(b)\nb = x", "c2", "zx"},
		{"chain at value start stops (uWSGI quirk)", "c = %(a)\na = %(b)\nb = x", "c", "%(b)"},
		{"math", "n = 5\nv = %(n + 1)", "v", "6"},
		{"math pipeline left to right", "foo = 17\nbar = 30\nv = %(foo + bar + 3 * 2)", "v", "100"},
		{"concat", "foo = 2\nbar = 9\nv = %(foo bar ++)", "v", "30"},
		{"missing is empty in math", "v = %(nope + 5)", "v", "5"},
		{"non-number is zero", "b = x\nv = %(b ++)", "v", "1"},
		{"leading digits", "b = 12abc\nv = %(b * 2)", "v", "24"},
		{"division by zero", "v = %(7 / 0)", "v", "0"},
		{"decrement", "v = %(7 * 3 ++ --)", "v", "21"},
		{"operators alone", "v = %( + )", "v", "%( + )"},
		{"env inside placeholder", "b = $(A)\nv = %(b)", "v", "aa"},
		{"set-placeholder", "set-ph = ph=val\nv = %(ph)", "v", "val"},
		{"set with short alias", "set-placeholder = ph=1\nv = %(ph + 1)", "v", "2"},
		{"immediate options are not expanded", "set = p=$(A)\nv = %(p)", "v", "aa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := testLoader(dir, env).Parse(filepath.Join(dir, "e.ini"), []byte("[uwsgi]\n"+tc.ini+"\n"), "")
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Get(tc.key); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestFileValue(t *testing.T) {
	dir := writeFiles(t, map[string]string{"one.txt": "one\n", "two.txt": "two\n\n", "e.ini": "[uwsgi]\na = @(one.txt)|\nb = @(two.txt)|\nc = @(nope.txt)\n"})
	_, err := testLoader(dir, nil).Load("e.ini")
	var e *Error
	if !errors.As(err, &e) || e.Line != 4 || !strings.Contains(e.Msg, "nope.txt") {
		t.Fatalf("want an error at e.ini:4 naming nope.txt, got %v", err)
	}
	os.WriteFile(filepath.Join(dir, "nope.txt"), nil, 0o644)
	c, err := testLoader(dir, nil).Load("e.ini")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Get("a"); a != "one|" {
		t.Errorf("a = %q", a)
	}
	if b, _ := c.Get("b"); b != "two\n|" {
		t.Errorf("b = %q", b)
	}
}

func TestSelfReferenceIsAnError(t *testing.T) {
	dir := t.TempDir()
	_, err := testLoader(dir, nil).Parse(filepath.Join(dir, "x.ini"), []byte("[uwsgi]\na = 1\nb = x%(b)\n"), "")
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || !strings.Contains(e.Error(), "x.ini:3") {
		t.Fatalf("want an error at x.ini:3, got %v", err)
	}
}

func TestIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"app.ini":       "[uwsgi]\nprocesses = 1\nini = conf/base.ini\nini = :extra\nini = %dconf/rel.ini\nthreads = 4\n[extra]\nfrom_extra = %x\n",
		"conf/base.ini": "[uwsgi]\nprocesses = 2\nmaster = true\n[extra]\nbase_extra = 1\n",
		"conf/rel.ini":  "[uwsgi]\nrel = %n\n",
	})
	c, err := testLoader(dir, nil).Load("app.ini")
	if err != nil {
		t.Fatal(err)
	}
	// ":extra" reads the LAST file loaded (conf/base.ini), as uWSGI documents.
	want := "app.ini:2 processes=1\napp.ini:3 ini=conf/base.ini\nbase.ini:2 processes=2\nbase.ini:3 master=true\n" +
		"app.ini:4 ini=:extra\nbase.ini:5 base_extra=1\napp.ini:5 ini=" + dir + "/conf/rel.ini\nrel.ini:2 rel=rel\napp.ini:6 threads=4\n"
	if got := render(c); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	if n, _ := c.Int("processes", 0); n != 2 {
		t.Errorf("processes = %d, want the last value 2", n)
	}
}

func TestIncludeErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"loop.ini":     "[uwsgi]\nini = loop2.ini\n",
		"loop2.ini":    "[uwsgi]\n\nini = loop.ini\n",
		"sub/main.ini": "[uwsgi]\nini = side.ini\n",
		"sub/side.ini": "[uwsgi]\n",
		"bare.ini":     "[uwsgi]\nini = :dev\n",
	})
	l := testLoader(dir, nil)
	for _, tc := range []struct{ spec, where, msg string }{
		{"loop.ini", "loop2.ini:3", "include loop"},
		{"sub/main.ini", "sub/main.ini:2", "write %dside.ini"},
		{"missing.ini", "", "cannot read missing.ini"},
	} {
		_, err := l.Load(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.where) {
			t.Errorf("%s: got %v, want %q at %q", tc.spec, err, tc.msg, tc.where)
		}
	}
	// "ini = :dev" with nothing read before reads the same file again.
	if _, err := l.Parse("", []byte("[uwsgi]\nini = :dev\n"), ""); err == nil || !strings.Contains(err.Error(), "names only a section") {
		t.Errorf("got %v", err)
	}
}

func TestWarningsAndStrict(t *testing.T) {
	dir := t.TempDir()
	ini := "[uwsgi]\nproccesses = 4\nuid = www-data\nroute = ^/x break:404\nmyvar = 1\nenv = A=%(myvar)\nwsgi_file = app.py\n"
	c, err := testLoader(dir, nil).Parse(filepath.Join(dir, "w.ini"), []byte(ini), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, strings.TrimPrefix(w.String(), dir+"/"))
	}
	want := []string{
		`w.ini:2: unknown option "proccesses" (did you mean "processes"?): uWSGI keeps it only as a placeholder for %(...)`,
		`w.ini:3: uid is accepted but ignored: wsgideck runs everything as the current user`,
		`w.ini:4: route is a uWSGI option that wsgideck does not support; it is ignored`,
		`w.ini:7: unknown option "wsgi_file" (did you mean "wsgi-file"?): uWSGI keeps it only as a placeholder for %(...)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(c.Ignored) != 1 || c.Ignored[0].Key != "uid" {
		t.Errorf("ignored = %+v", c.Ignored)
	}
	// strict, even on the last line, turns unknown names (placeholders
	// included) into errors at their own line.
	_, err = testLoader(dir, nil).Parse(filepath.Join(dir, "w.ini"), []byte(ini+"strict = true\n"), "")
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || !strings.Contains(e.Msg, `did you mean "processes"`) {
		t.Fatalf("strict: got %v", err)
	}
	c, err = testLoader(dir, nil).Parse(filepath.Join(dir, "s.ini"), []byte("[uwsgi]\nstrict\nset-ph = p=1\nprocesses = %(p)\n"), "")
	if err != nil || len(c.Warnings) != 0 {
		t.Fatalf("declared placeholders are fine in strict mode: %v %v", err, c.Warnings)
	}
}

func TestAccessors(t *testing.T) {
	dir := t.TempDir()
	ini := "[uwsgi]\nworkers = 2\nprocesses = 3\nmaster\nvacuum = Off\nenable-threads = 0\nlazy-apps = yes\n" +
		"threads = 4 # four\nbuffer-size = 32k\nreload-on-rss = 256\nlimit-as = big\npost-buffering = 1G\nlisten =\n" +
		"pythonpath = a\npp = b\npython-path = c\n"
	c, err := testLoader(dir, nil).Parse(filepath.Join(dir, "a.ini"), []byte(ini), "")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get("workers"); v != "3" {
		t.Errorf("Get(workers) = %q, want the last of processes/workers", v)
	}
	if o, _ := c.Lookup("processes"); o.Line != 3 || o.Raw != "processes" {
		t.Errorf("Lookup = %+v", o)
	}
	if got := strings.Join(c.All("pythonpath"), ","); got != "a,b,c" {
		t.Errorf("All(pythonpath) = %q", got)
	}
	for key, want := range map[string]bool{"master": true, "vacuum": false, "enable-threads": false, "lazy-apps": true, "die-on-term": false} {
		if c.Bool(key) != want {
			t.Errorf("Bool(%s) = %v", key, !want)
		}
	}
	if n, err := c.Int("processes", 1); n != 3 || err != nil {
		t.Errorf("Int = %d, %v", n, err)
	}
	if n, err := c.Int("harakiri", 60); n != 60 || err != nil {
		t.Errorf("absent Int = %d, %v", n, err)
	}
	_, err = c.Int("threads", 1)
	if err == nil || !strings.Contains(err.Error(), "a.ini:8") || !strings.Contains(err.Error(), "no inline comments") {
		t.Errorf("Int(threads) error = %v", err)
	}
	if _, err := c.Int("listen", 100); err == nil || !strings.Contains(err.Error(), "a.ini:13") {
		t.Errorf("empty listen: %v", err)
	}
	// Suffixes read as meant; uWSGI 2.0.21 reads "32k" as 32 bytes, so
	// each one is also a warning on its line with the number to write.
	if n, err := c.Size("buffer-size", 4096); n != 32<<10 || err != nil {
		t.Errorf("Size = %d, %v", n, err)
	}
	if n, err := c.Size("post-buffering", 0); n != 1<<30 || err != nil {
		t.Errorf("Size(1G) = %d, %v", n, err)
	}
	var suffixWarnings []string
	for _, w := range c.Warnings {
		if strings.Contains(w.Msg, "no size suffix") {
			suffixWarnings = append(suffixWarnings, w.String())
		}
	}
	if len(suffixWarnings) != 2 || !strings.Contains(suffixWarnings[0], "a.ini:9") || !strings.Contains(suffixWarnings[0], "write buffer-size = 32768") ||
		!strings.Contains(suffixWarnings[1], "post-buffering = 1073741824") {
		t.Errorf("size suffix warnings: %q", suffixWarnings)
	}
	if n, err := c.Size("log-big", 7); n != 7 || err != nil {
		t.Errorf("absent Size = %d, %v", n, err)
	}
	if n, err := c.MB("reload-on-rss", 0); n != 256<<20 || err != nil {
		t.Errorf("MB = %d, %v", n, err)
	}
	if _, err := c.MB("limit-as", 0); err == nil || !strings.Contains(err.Error(), "a.ini:11") || !strings.Contains(err.Error(), `"big"`) {
		t.Errorf("MB(limit-as) error = %v", err)
	}
	for v, want := range map[string]bool{"": true, "true": true, "1": true, "FALSE": false, "off": false, "No": false, "0": false, "00": true, "nope": true} {
		if ParseBool(v) != want {
			t.Errorf("ParseBool(%q) = %v", v, !want)
		}
	}
}

func TestSpecs(t *testing.T) {
	s, ok := LookupSpec("venv")
	if !ok || s.Name != "home" || s.Short != 'H' || s.Arg != ArgRequired || s.List {
		t.Errorf("venv: %+v", s)
	}
	if s, _ := LookupSpec("master"); s.Arg != ArgNone {
		t.Errorf("master must be a flag: %+v", s)
	}
	if s, _ := LookupSpec("static-map"); !s.List {
		t.Errorf("static-map must be a list")
	}
	if s, _ := LookupSpec("plugins"); !s.Ignored || s.Note == "" {
		t.Errorf("plugins must be ignored with a note")
	}
	if s, _ := LookupSpec("reload-on-rss"); s.Unit != UnitMB {
		t.Errorf("reload-on-rss is in MB")
	}
	for _, s := range Specs() {
		if !IsUWSGIOption(s.Name) {
			t.Errorf("%s is not a uWSGI 2.0.21 option", s.Name)
		}
		if s.Short != 0 && realShort[s.Short].name != s.Name {
			t.Errorf("-%c is %s in uWSGI, not %s", s.Short, realShort[s.Short].name, s.Name)
		}
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{"proccesses": "processes", "porcesses": "processes", "wsgi_file": "wsgi-file", "enable_threads": "enable-threads", "harakri": "harakiri", "zzzzzzzz": ""} {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFlagWithInlineComment: "vacuum = false # off" is true to uWSGI (no
// inline comments); that surprise gets a warning ("true ; on" needs none).
func TestFlagWithInlineComment(t *testing.T) {
	dir := t.TempDir()
	c, err := testLoader(dir, nil).Parse(filepath.Join(dir, "a.ini"), []byte("[uwsgi]\nvacuum = false # off\nmaster = true ; on\nmodule = a # b\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Bool("vacuum") {
		t.Error("vacuum should read as true, as in uWSGI")
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Line != 2 || !strings.Contains(c.Warnings[0].Msg, "reads as true") {
		t.Errorf("warnings: %v", c.Warnings)
	}
}

// Under strict, a size suffix (read differently by uWSGI 2.0) is an error.
func TestSizeSuffixStrict(t *testing.T) {
	dir := t.TempDir()
	_, err := testLoader(dir, nil).Parse(filepath.Join(dir, "s.ini"), []byte("[uwsgi]\nstrict = true\nbuffer-size = 64k\n"), "")
	if err == nil || !strings.Contains(err.Error(), "s.ini:3") || !strings.Contains(err.Error(), "buffer-size = 65536") {
		t.Errorf("strict with buffer-size = 64k: %v", err)
	}
}
