package uwsgiini

import (
	"errors"
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/ini.v1"
)

// fuzzLoader touches no real file, environment or clock.
var fuzzLoader = &Loader{
	Getenv:     func(k string) (string, bool) { return "env-" + k, k != "UNSET" },
	Getwd:      func() (string, error) { return "/nonexistent-uwsgiini", nil },
	Hostname:   func() (string, error) { return "h", nil },
	NumCPU:     func() int { return 2 },
	Now:        func() time.Time { return time.Unix(1, 0) },
	Identity:   func() Identity { return Identity{"1", "u", "2", "g"} },
	Executable: func() (string, error) { return "/bin/x", nil },
	ReadFile:   func(string) ([]byte, error) { return nil, errors.New("no files while fuzzing") },
	Stat:       func(string) (fs.FileInfo, error) { return nil, errors.New("no files while fuzzing") },
	Glob:       func(string) ([]string, error) { return nil, nil },
	Environ:    func() []string { return nil },
}

var fuzzSeeds = []string{
	"[uwsgi]\nsocket = :3031\nprocesses = 4\nmaster\n",
	"  [uwsgi]  \r\n; c\n# c\nk = v ; x\nk = \"q\"\n=v\nbare\n[ uwsgi ]\nh = 1\n[uwsgi\n",
	"[uwsgi]\na = 50%\nb = %d%p%s%n%e%c%x%h%k%u%U%g%G%v%V%t%T%%%(%[%z\n",
	"[uwsgi]\nmyvar = hello-%n\nenv = FOO=%(myvar)-$(HOME)\nm = %(a + 1 * 2 ++)\nc = %(%(b))\nb = x%(b)\n",
	"[uwsgi]\nset-ph = p=1\nstrict = true\nx = %(p)\n",
	"[uwsgi]\nini = other.ini\n",
	"[uwsgi]\nv = @(f)\n",
	"[uwsgi]\nproccesses = 4\nthreads = 4 # four\n[dev]\nthreads = 2\n",
	"[uwsgi]\nif-env = HOME\nenv = H=%(_)\nendif =\nif-not-env = UNSET=x\nfor = a b\npp = %(_)\nendfor\nfor-times = 3\nx = %(_)\nend\n",
	"[uwsgi]\nif-opt = x=1\nfor-glob = *\nfor-readline = f\nif-exists = /\nif-dir = /\nendif\nif-hostname-match = (\n",
	plainSeed,
}

const plainSeed = "x = 0\n[uwsgi]\nsocket = :3031\nsocket = :3031\n  processes=4\n; c\n[other]\nx = 1\n[uwsgi]\nmaster = true\nenv = A=B\nsocket = /tmp/s.sock\n"

// TestINIv1Agrees makes sure the oracle in FuzzParse really runs.
func TestINIv1Agrees(t *testing.T) {
	if !plainINI.MatchString(plainSeed) {
		t.Fatal("the plain seed does not count as plain")
	}
	c, err := fuzzLoader.Parse("/nonexistent-uwsgiini/app.ini", []byte(plainSeed), "")
	if err != nil {
		t.Fatal(err)
	}
	compareWithINIv1(t, []byte(plainSeed), c)
	if got := strings.Join(c.All("socket"), ","); got != ":3031,:3031,/tmp/s.sock" {
		t.Errorf("sockets = %s", got)
	}
}

// plainINI matches files on which uWSGI's reader and gopkg.in/ini.v1 must
// agree: sections, comments and key=value lines without quotes, escapes,
// continuations, magic or expansion syntax.
var plainINI = regexp.MustCompile(`^(?:[ \t]*(?:\[[a-z]+\]|[;#][ -~]*|[a-z][a-z0-9_.-]*[ \t]*=[ \t]*[a-zA-Z0-9 _./:,=-]*)?[ \t]*\n)*$`)

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("[dev]\na = 1\n"), "dev")
	f.Fuzz(func(t *testing.T, data []byte, section string) {
		const name = "/nonexistent-uwsgiini/app.ini"
		c, err := fuzzLoader.Parse(name, data, section)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("error is not a *Error with a message: %#v", err)
			}
			return
		}
		again, err := fuzzLoader.Parse(name, data, section)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("parsing is not deterministic: %v", err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for i, o := range c.Options {
			if o.File != name || o.Line < 1 || o.Line > lines {
				t.Fatalf("option %d at %s:%d, outside the %d-line input", i, o.File, o.Line, lines)
			}
			if o.Key != canonical(o.name) {
				t.Fatalf("option %q has key %q", o.name, o.Key)
			}
			if o.Raw != strings.Trim(o.Raw, " \t\r") || strings.ContainsAny(o.Raw, "\n\x00") {
				t.Fatalf("untrimmed or multi-line key %q", o.Raw)
			}
			if last, _ := c.Get(o.Key); len(c.All(o.Key)) == 0 || c.All(o.Key)[len(c.All(o.Key))-1] != last {
				t.Fatalf("Get(%q) is not the last of All", o.Key)
			}
		}
		for _, w := range c.Warnings {
			if w.Line < 1 || w.Line > lines || w.Msg == "" {
				t.Fatalf("warning out of range: %v", w)
			}
		}
		if section == "" && plainINI.Match(data) {
			compareWithINIv1(t, data, c)
		}
	})
}

// compareWithINIv1 checks our reading of a plain file against
// gopkg.in/ini.v1 configured as close to uWSGI as it gets. ini.v1 drops a
// repeated identical value, so values are compared without duplicates.
func compareWithINIv1(t *testing.T, data []byte, c *Config) {
	f, err := ini.LoadSources(ini.LoadOptions{
		AllowShadows: true, IgnoreInlineComment: true, PreserveSurroundedQuote: true,
		KeyValueDelimiters: "=", IgnoreContinuation: true,
	}, data)
	if err != nil {
		t.Fatalf("ini.v1 rejects a plain file: %v", err)
	}
	want := map[string][]string{}
	var order []string
	if s, err := f.GetSection("uwsgi"); err == nil {
		for _, k := range s.Keys() {
			order = append(order, k.Name())
			want[k.Name()] = k.ValueWithShadows()
			if len(want[k.Name()]) == 0 {
				want[k.Name()] = []string{""} // ini.v1 lists no value for "a ="
			}
		}
	}
	got := map[string][]string{}
	var gotOrder []string
	for _, o := range c.Options {
		if _, seen := got[o.name]; !seen {
			gotOrder = append(gotOrder, o.name)
		}
		if !contains(got[o.name], o.Value) {
			got[o.name] = append(got[o.name], o.Value)
		}
	}
	if !reflect.DeepEqual(order, gotOrder) || (len(want) > 0 || len(got) > 0) && !reflect.DeepEqual(want, got) {
		t.Fatalf("ini.v1 reads %v %q, we read %v %q", order, want, gotOrder, got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func FuzzFromArgs(f *testing.F) {
	f.Add("--http\x00:9090\x00--wsgi-file\x00foobar.py\x00--master\x00--processes\x004")
	f.Add("-Mp4\x00-C\x00-C660\x00--set-ph\x00x=1\x00-S\x00y=%(x)\x00--\x00a.ini:dev")
	f.Add("--proc\x00--master=1\x00-k\x00x.py\x00--socket")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		c, err := fuzzLoader.FromArgs(args)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("error is not a *Error with a message: %#v", err)
			}
			return
		}
		for i, o := range c.Options {
			if o.File != "" || o.Line < 1 || o.Line > len(args) {
				t.Fatalf("option %+v outside the %d arguments", o, len(args))
			}
			if !IsUWSGIOption(o.name) && (i == 0 || c.Options[i-1].Key != "set") {
				t.Fatalf("option %q accepted on the command line without being a uWSGI option or a set-ph", o.name)
			}
		}
	})
}
