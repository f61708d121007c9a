package detect

import "testing"

func TestParsePyvenvCfg(t *testing.T) {
	got := parsePyvenvCfg([]byte("home = /usr/bin\nInclude-System-Site-Packages = false\nversion_info=3.12.1\nprompt = 'my = app'\n\ngarbage\n"))
	want := []cfgLine{{"home", "/usr/bin", 1}, {"include-system-site-packages", "false", 2}, {"version_info", "3.12.1", 3}, {"prompt", "'my = app'", 4}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if v := shortVersion("3.11.2.final.0"); v != "3.11.2" {
		t.Errorf("shortVersion = %s", v)
	}
}

func FuzzPyvenvCfg(f *testing.F) {
	f.Add([]byte("home = /usr/bin\nversion = 3.11.2\n"))
	f.Add([]byte("=\n==\nk=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range parsePyvenvCfg(data) {
			if l.key == "" || l.line < 1 {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
