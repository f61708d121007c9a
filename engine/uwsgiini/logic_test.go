package uwsgiini

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// logicIni exercises every block kind uWSGI 2.0.21 has, true and false.
const logicIni = `[uwsgi]
o1 = first
o1 = second
if-env = QX_A
e1 = %(_)
endif =
if-env = QX_A=aa
e2 = %(_)
end-if =
if-env = QX_A=bb
e3 = no
endif =
if-not-env = QX_UNSET
e4 = %(_)
endif =
if-not-env = QX_A=bb
e5 = %(_)
endif
if-not-env = QX_A
e6 = no
endif =
if-opt = o1
e7 = %(_)
e7b = %(_)
endif =
if-not-opt = nope
e8 = %(_)
endif =
if-not-opt = o1=zzz
e8b = %(_)
endif =
if-exists = a.txt
e9 = %(_)
endif =
if-not-exists = zz.txt
e10 = %(_)
endif =
if-file = sub
e11 = no
endif =
if-dir = sub
e12 = %(_)
endif =
ifdir = sub
e12b = %(_)
endif =
if-not-dir = a.txt
e12c = %(_)
endif =
if-not-file = sub
e12d = %(_)
endif =
for = x y  z
f1 = %(_)-v
f1b = w%(_)
endfor =
for-glob = *.txt
f2 = %(_)
end-for =
for-glob = s*
f2b = %(_)
end =
for-glob = nomatch*
f2c = %(_)
endfor =
for-times = 3
f3 = %(_)
endfor =
for-readline = lines.txt
f4 = [%(_)]
endfor =
if-plugin = python
p1 = %(_)
endif =
if-not-plugin = python
p2 = %(_)
endif =
if-hostname = %h
h1 = %(_)
endif =
if-not-hostname = %h
h2 = %(_)
endif =
if-not-reload =
r1 = %(_)
endif =
if-reload = x
r2 = %(_)
endif =
ifenv = QX_A
e13 = %(_)
endif =
if-env = QX_EMPTY
e14 = [%(_)]
endif =
if-env = $(QX_A)
e15 = immediate: never expanded
endif =
if-env = QX_A
env = A=%(o1)-%(_)-$(QX_A)
endif =
after = 1
`

// TestLogicMatchesRealUWSGI compares if-X / for-X blocks with uwsgi
// 2.0.21's --show-config: what is stored, in order, after expansion.
func TestLogicMatchesRealUWSGI(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"logic.ini": logicIni,
		"a.txt":     "", "b.txt": "", "sub/keep": "",
		"lines.txt": "l1\nl2 x\n\nl3",
		// an ini = inside a true block: the included file skips the
		// block tests (its endif is an option), and the block goes on.
		"nest.ini": "[uwsgi]\nif-env = QX_A\nini = inc.ini\nn1 = %(_)\nendif =\n" +
			// a block inside a failed block is dropped with it, so its
			// endif closes the outer block and x2 is stored.
			"if-env = QX_UNSET\nif-env = QX_A\nx1 = 1\nendif =\nx2 = 2\nendif =\nx3 = 3\n" +
			// a block left open runs into what is read next
			"if-env = QX_UNSET\n",
		"inc.ini":   "[uwsgi]\ninc = %(_)\nendif =\ninc2 = 2\n",
		"after.ini": "[uwsgi]\nhidden = 1\nendif =\nshown = 1\n",
	})
	env := map[string]string{"QX_A": "aa", "QX_EMPTY": ""}
	for _, args := range [][]string{
		{"--plugins", "python3", "--ini", "logic.ini"},
		{"--ini", "nest.ini", "--ini", "after.ini"},
		{"--if-env", "QX_A", "--env", "X=%(_)", "--endif", "--for", "1 2", "--static-map", "/p%(_)=/d", "--end-for"},
	} {
		want := uwsgiShowConfig(t, dir, env, args)
		got := ourShowConfig(t, dir, env, args)
		if got != want {
			t.Errorf("%q:\n--- uwsgi 2.0.21\n%s--- ours\n%s", args, want, got)
		}
	}
}

// TestNestedLogicIsAnError: uWSGI exits on a block opened inside a block
// whose test passed; we return an error naming both lines.
func TestNestedLogicIsAnError(t *testing.T) {
	dir := writeFiles(t, map[string]string{"n.ini": "[uwsgi]\nfor = a b\nif-env = QX_A\ny = 1\nendfor =\n"})
	cmd := exec.Command(uwsgiBinary, "--ini", "n.ini")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "QX_A=1"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "recursive logic in options is not supported") {
		t.Fatalf("uwsgi: %v\n%s", err, out)
	}
	l := &Loader{Getenv: func(k string) (string, bool) { return "1", k == "QX_A" }, Getwd: func() (string, error) { return dir, nil }}
	_, err = l.Load(filepath.Join(dir, "n.ini"))
	if err == nil || !strings.Contains(err.Error(), "n.ini:3") || !strings.Contains(err.Error(), "n.ini:2") {
		t.Fatalf("Load: %v", err)
	}
}

// TestLogicOptionsAreKnown: the block options raise no "unsupported"
// warning, and a for-readline file that cannot be read is a warning.
func TestLogicOptionsAreKnown(t *testing.T) {
	dir := t.TempDir()
	c, err := testLoader(dir, nil).Parse(filepath.Join(dir, "a.ini"), []byte("[uwsgi]\nmodule = app\nif-exists = /\nprocesses = 2\nendif =\nfor-readline = missing.txt\npythonpath = %(_)\nend-for =\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Line != 6 || !strings.Contains(c.Warnings[0].Msg, "missing.txt") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if v, _ := c.Get("processes"); v != "2" {
		t.Errorf("processes = %q", v)
	}
	if len(c.All("pythonpath")) != 0 {
		t.Errorf("pythonpath: %q", c.All("pythonpath"))
	}
}
