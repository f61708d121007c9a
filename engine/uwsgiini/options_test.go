package uwsgiini

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestSupervisionOptionsAreKnown: the engine acts on these, so they are
// read without a warning, from a file and from the command line, and
// max-requests-delta (uWSGI 2.0.22's) is marked as newer than 2.0.21.
func TestSupervisionOptionsAreKnown(t *testing.T) {
	ini, err := Parse("u.ini", []byte("[uwsgi]\ncheaper-overload = 3\nstats-no-cores = true\nmax-requests-delta = 7\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ini.Warnings {
		t.Errorf("warning: %v", w)
	}
	args, err := FromArgs([]string{"--cheaper-overload", "3", "--stats-no-cores", "--max-requests-delta", "7", "--max-requests-d=8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range args.Warnings {
		t.Errorf("command line warning: %v", w)
	}
	if got, want := len(args.Options), 4; got != want {
		t.Fatalf("%d options, want %d: %+v", got, want, args.Options)
	}
	if o := args.Options[3]; o.Key != "max-requests-delta" || o.Value != "8" {
		t.Errorf("prefix --max-requests-d=8 read as %s = %s", o.Key, o.Value)
	}
	if !args.Bool("stats-no-cores") {
		t.Error("stats-no-cores is a flag")
	}
	s, ok := LookupSpec("max-requests-delta")
	if !ok || s.Since != "2.0.22" || s.Arg != ArgRequired {
		t.Errorf("max-requests-delta: %+v", s)
	}
	if s, _ := LookupSpec("stats-no-cores"); s.Arg != ArgNone || s.Since != "" {
		t.Errorf("stats-no-cores: %+v", s)
	}
}

// bloombergCheaper is the cheaper block of the widely copied production
// uwsgi.ini ("Configuring uWSGI for Production Deployment", Bloomberg).
const bloombergCheaper = `[uwsgi]
strict = true
cheaper-algo = busyness
processes = 128
cheaper = 8
cheaper-initial = 16
cheaper-overload = 1
cheaper-step = 16
cheaper-busyness-multiplier = 30
cheaper-busyness-min = 20
cheaper-busyness-max = 70
cheaper-busyness-backlog-alert = 16
cheaper-busyness-backlog-step = 2
`

// TestBusynessOptionsAreKnown: cheaper-algo and the cheaper_busyness
// plugin's options are known, so strict accepts the Bloomberg block with
// no warning; on the command line -verbose is a flag and the others take
// a value; the specs carry their units.
func TestBusynessOptionsAreKnown(t *testing.T) {
	ini, err := Parse("u.ini", []byte(bloombergCheaper), "")
	if err != nil {
		t.Fatalf("strict refused the Bloomberg block: %v", err)
	}
	for _, w := range ini.Warnings {
		t.Errorf("warning: %v", w)
	}
	if v, _ := ini.Get("cheaper-busyness-min"); v != "20" {
		t.Errorf("cheaper-busyness-min = %q", v)
	}
	args, err := FromArgs([]string{"--cheaper-algo", "busyness", "--cheaper-busyness-verbose", "--cheaper-busyness-backlog-nonzero", "5", "--cheaper-busyness-ma=60"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range args.Warnings {
		t.Errorf("command line warning: %v", w)
	}
	if len(args.Options) != 4 || !args.Bool("cheaper-busyness-verbose") {
		t.Fatalf("command line read as %+v", args.Options)
	}
	if v, _ := args.Get("cheaper-busyness-max"); v != "60" {
		t.Errorf("prefix --cheaper-busyness-ma=60 read as %q", v)
	}
	for name, unit := range map[string]Unit{
		"cheaper-busyness-min": UnitPercent, "cheaper-busyness-max": UnitPercent,
		"cheaper-busyness-backlog-nonzero": UnitSeconds, "cheaper-busyness-multiplier": UnitNone,
	} {
		s, ok := LookupSpec(name)
		if !ok || s.Unit != unit || s.Plugin != "cheaper_busyness" || !IsUWSGIOption(name) {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if s, _ := LookupSpec("cheaper-busyness-verbose"); s.Arg != ArgNone {
		t.Errorf("cheaper-busyness-verbose: %+v", s)
	}
	// A misspelt one is still refused under strict.
	if _, err := Parse("u.ini", []byte(bloombergCheaper+"cheaper-busyness-maxx = 3\n"), ""); err == nil || !strings.Contains(err.Error(), "u.ini:14") {
		t.Errorf("misspelt option under strict: %v", err)
	}
}

// TestPluginOptionsMatchInstalledUWSGI: every option the table gives a
// plugin is in the real uWSGI's --help once that plugin is loaded, and
// not without it (so the plugin, not the core, adds it).
func TestPluginOptionsMatchInstalledUWSGI(t *testing.T) {
	if _, err := os.Stat(uwsgiBinary); err != nil {
		t.Fatalf("%s is required (apt-get install uwsgi-core uwsgi-plugin-python3): %v", uwsgiBinary, err)
	}
	help := map[string]string{}
	listed := func(plugins, name string) bool {
		if _, ok := help[plugins]; !ok {
			out, _ := exec.Command(uwsgiBinary, "--plugins", plugins, "--help").CombinedOutput()
			help[plugins] = string(out)
		}
		return regexp.MustCompile(`(?m)^\s+--` + regexp.QuoteMeta(name) + `\s`).MatchString(help[plugins])
	}
	n := 0
	for _, s := range specs {
		if s.Plugin == "" {
			continue
		}
		n++
		if !listed("python3,http,"+s.Plugin, s.Name) {
			t.Errorf("%s: not in uwsgi --help with plugin %s", s.Name, s.Plugin)
		}
		if listed("python3,http", s.Name) {
			t.Errorf("%s: the core already has it; drop Plugin", s.Name)
		}
	}
	if n == 0 {
		t.Error("no plugin options in the table")
	}
}
