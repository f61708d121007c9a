package confedit

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnifiedDiffEqual(t *testing.T) {
	if d := UnifiedDiff("a", "b", []byte("x\ny\n"), []byte("x\ny\n")); d != "" {
		t.Errorf("equal inputs gave %q", d)
	}
}

// TestUnifiedDiffMatchesGNUDiff compares the output with diff -u on edits
// whose shortest diff is unique.
func TestUnifiedDiffMatchesGNUDiff(t *testing.T) {
	conf, err := os.ReadFile("testdata/nginx/debian/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	s := string(conf)
	cases := map[string]string{
		"one line":        strings.Replace(s, "worker_connections 768;", "worker_connections 1024;", 1),
		"insert":          strings.Replace(s, "\tsendfile on;\n", "\tsendfile on;\n\ttcp_nodelay on;\n", 1),
		"delete":          strings.Replace(s, "\tsendfile on;\n", "", 1),
		"two hunks":       strings.Replace(strings.Replace(s, "user www-data;", "user nobody;", 1), "gzip on;", "gzip off;", 1),
		"no final eol":    strings.TrimSuffix(s, "\n"),
		"at the start":    "# edited\n" + s,
		"crlf line":       strings.Replace(s, "worker_connections 768;\n", "worker_connections 768;\r\n", 1),
		"near each other": strings.Replace(strings.Replace(s, "\tsendfile on;", "\tsendfile off;", 1), "\ttcp_nopush on;", "\ttcp_nopush off;", 1),
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, edited := range cases {
		if edited == s {
			t.Fatalf("%s: the edit did not apply", name)
		}
		nw := filepath.Join(dir, "new")
		if err := os.WriteFile(nw, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command("diff", "-u", "--label", "a/nginx.conf", "--label", "b/nginx.conf", old, nw).Output()
		if got := UnifiedDiff("a/nginx.conf", "b/nginx.conf", conf, []byte(edited)); got != string(out) {
			t.Errorf("%s: got\n%s\ndiff -u says\n%s", name, got, out)
		}
	}
}

// TestUnifiedDiffAppliesWithPatch applies random edits' diffs with the
// real patch program and checks it rebuilds the edited file.
func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatal("patch is needed (apt-get install patch)")
	}
	base, err := os.ReadFile("testdata/nginx/debian/sites-available/default")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	dir := t.TempDir()
	for round := 0; round < 40; round++ {
		lines := splitLines(base)
		for k := rng.Intn(6) + 1; k > 0; k-- {
			i := rng.Intn(len(lines))
			switch rng.Intn(3) {
			case 0:
				lines = append(lines[:i], lines[i+1:]...)
			case 1:
				lines = append(lines[:i], append([]string{"# inserted " + string(rune('a'+k)) + "\n"}, lines[i:]...)...)
			default:
				lines[i] = "\tchanged " + lines[i]
			}
		}
		edited := strings.Join(lines, "")
		if rng.Intn(4) == 0 {
			edited = strings.TrimSuffix(edited, "\n")
		}
		d := UnifiedDiff("a/default", "b/default", base, []byte(edited))
		target := filepath.Join(dir, "default")
		if err := os.WriteFile(target, base, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("patch", "--quiet", "--force", target)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("round %d: patch failed: %v\n%s\ndiff:\n%s", round, err, out, d)
		}
		got, _ := os.ReadFile(target)
		if string(got) != edited {
			t.Fatalf("round %d: patch gave a different file; diff:\n%s", round, d)
		}
	}
}
