package uwsgiini

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// uwsgiShowConfig runs the real uWSGI with args plus --show-config in dir
// and returns the "key = value" block it prints: every option it stored,
// in order, after expansion. With no socket configured uWSGI exits right
// after printing it.
func uwsgiShowConfig(t *testing.T, dir string, env map[string]string, args []string) string {
	t.Helper()
	if _, err := os.Stat(uwsgiBinary); err != nil {
		t.Fatalf("%s is required (apt-get install uwsgi-core): %v", uwsgiBinary, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, uwsgiBinary, append([]string{"--show-config"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, sortedEnv(env)...)
	out, _ := cmd.CombinedOutput() // exits 1: "The -s/--socket option is missing"
	const begin, end = "\n;uWSGI instance configuration\n[uwsgi]\n", ";end of configuration\n"
	s := string(out)
	i := strings.Index(s, begin)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("uwsgi %q printed no configuration:\n%s", args, s)
	}
	return s[i+len(begin) : j]
}

// ourShowConfig renders our reading of the same command line the way
// uWSGI's show_config() does.
func ourShowConfig(t *testing.T, dir string, env map[string]string, args []string) string {
	t.Helper()
	l := &Loader{
		Getenv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Getwd:   func() (string, error) { return dir, nil },
		Environ: func() []string { return append([]string{"PATH=/usr/bin:/bin"}, sortedEnv(env)...) },
	}
	c, err := l.FromArgs(append([]string{"--show-config"}, args...))
	if err != nil {
		t.Fatalf("FromArgs(%q): %v", args, err)
	}
	var b strings.Builder
	for _, o := range c.Options {
		b.WriteString(o.name + " = " + o.Value + "\n")
	}
	return b.String()
}

// sortedEnv renders env as "K=V" in key order: uWSGI reads UWSGI_*
// variables in the environment's order.
func sortedEnv(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// TestMatchesRealUWSGI feeds the same files and command lines to Debian's
// uwsgi 2.0.21 and to this package and compares every stored option.
func TestMatchesRealUWSGI(t *testing.T) {
	env := map[string]string{"HOME": "/home/alice", "QX_A": "aa", "QX_EMPTY": "", "QX_NEST": "$(QX_A)-%(b)"}
	files := map[string]string{
		"quirks.ini": "  [uwsgi]  \r\n; comment\n  # comment\nk1 = v ; not a comment # nor this\nk2 = \"quoted\" 'x'\n" +
			"k3 = a=b=c\nbare\n=onlyval\n   spaced key   =   spaced value   \ntab\t=\tx\t\npct = 50%\njoined = yes\n" +
			"gone = x%zy%%z%(\ncr = v\r\nnul = v\x00junk\ncont = x \\\n[ uwsgi ]\nhidden = 1\n[uwsgi\nhidden2 = 1\n" +
			"[uwsgix\nshown = 1\n[uwsgi]x\nhidden3 = 1\n[other]\nhidden4 = 1\n[uwsgi]\nback = 1\nlast = 5%",
		"proj.d/conf/app.ini": "[uwsgi]\nfile = %d|%p|%s|%n|%e|%c|%x|%o|%i|%j\nupper = %D|%P|%S|%N|%E|%C|%X|%O|%I|%J\n" +
			"host = %h|%k|%u|%U|%g|%G|%v|%0|%1|%[\nini = proj.d/conf/inc.ini\nini = :extra\nini = %dinc.ini:extra\nafter = %n\n" +
			"[extra]\nextra = %x|%n\n",
		"proj.d/conf/inc.ini": "[uwsgi]\ninc = %n|%x|%X|%N|%O|%p|%P\n[extra]\ninc_extra = %x|%X|%n|%N\n",
		"expand.ini": "[uwsgi]\nmyvar = hello-%n\nenv = FOO=%(myvar)-$(HOME)\nc = %(a)\nc2 = z%(a)\na = %(b)\nb = x\n" +
			"m1 = %(b ++)\nm2 = %(nope + 5)\nm3 = %( + )\nm4 = %(b 12abc + 1)\nm5 = %(n1 / n0)\nn1 = 7\nn0 = 0\n" +
			"m6 = %(n1 - -1)\nm7 = %(n1 * 3 ++ --)\nm8 = %(n1 b n0)\ne1 = $(QX_A)\ne2 = $(QX_EMPTY)|$(QX_UNSET)\ne3 = $$(QX_A)\n" +
			"e4 = $(QX_NEST)\ne5 = ((%(b)))%(\ne6 = %(%(b))\ne7 = %(b)(x)\nworkers = 3\nal = %(processes)|%(workers)\n" +
			"set-ph = ph1=val1\nph2 = %(ph1)\nf1 = @(one.txt)|\nf2 = @(two.txt)|\nenvfile = @(env.txt)\n",
		"one.txt": "one\n", "two.txt": "two\n\n", "env.txt": "$(QX_A)",
		"pos.ini":    "[uwsgi]\nprocesses = 2\n[dev]\ndev = 1\n",
		"real/l.ini": "[uwsgi]\nv = %d|%p|%s|%n|%e|%c|%x|%o|%j\n",
	}
	dir := writeFiles(t, files)
	if err := os.Symlink(filepath.Join(dir, "real/l.ini"), filepath.Join(dir, "link.ini")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--ini", "quirks.ini"},
		{"--ini", "proj.d/conf/app.ini"},
		{"--ini", "proj.d/conf/app.ini:uwsgi"},
		{"--ini", "link.ini"},
		{"--ini", "proj.d/../expand.ini"},
		{"--ini", "pos.ini:dev", "--ini", ":uwsgi"},
		{"--master", "--processes", "4", "--threads=2", "-Mp4", "-T", "-L", "--max-requests=5", "--processe", "3",
			"-C", "-C660", "--set-ph", "x=1", "-S", "y=%(x)", "--env", "Y=%(y)-$(QX_A)", "pos.ini", "--vacuum", "--", "pos.ini"},
	} {
		want := uwsgiShowConfig(t, dir, env, args)
		got := ourShowConfig(t, dir, env, args)
		if testing.Verbose() {
			t.Logf("%q:\n%s", args, got)
		}
		if got != want {
			t.Errorf("%q:\n--- uwsgi 2.0.21\n%s--- ours\n%s", args, want, got)
		}
	}
}
