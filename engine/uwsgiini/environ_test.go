package uwsgiini

import (
	"strings"
	"testing"
)

// TestEnvironOptionsMatchRealUWSGI: uWSGI takes every UWSGI_NAME variable
// (but a few of its own) as the option name-with-dashes, before the command
// line; UWSGI_INI reads a file at once.
func TestEnvironOptionsMatchRealUWSGI(t *testing.T) {
	dir := writeFiles(t, map[string]string{"pos.ini": "[uwsgi]\nprocesses = 5\nenv = P=%(processes)\n"})
	env := map[string]string{
		"UWSGI_PROCESSES": "3", "UWSGI_MASTER": "1", "UWSGI_BOGUS_THING": "x", "UWSGI_INI": "pos.ini",
		"UWSGI_RELOADS": "2", "UWSGI_ORIGINAL_PROC_NAME": "p", "UWSGI_Chdir": "/tmp", "UWSGI_ENV": "A=$(QX_A)",
		"uwsgi_lower": "1", "QX_A": "aa", "UWSGI_VASSAL_X": "1",
	}
	args := []string{"--processes", "2", "--env", "B=%(bogus-thing)"}
	want := uwsgiShowConfig(t, dir, env, args)
	got := ourShowConfig(t, dir, env, args)
	if got != want {
		t.Errorf("--- uwsgi 2.0.21\n%s--- ours\n%s", want, got)
	}

	// An option from the environment names its variable in messages.
	l := &Loader{Environ: func() []string { return []string{"UWSGI_PROCESSES=x", "UWSGI_PROCESES=2"} }}
	c, err := l.FromArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0].String(), "environment variable $UWSGI_PROCESES: unknown option") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if _, err := c.Int("processes", 1); err == nil || !strings.HasPrefix(err.Error(), "environment variable $UWSGI_PROCESSES: ") {
		t.Errorf("Int: %v", err)
	}
}
