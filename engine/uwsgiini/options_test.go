package uwsgiini

import "testing"

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
