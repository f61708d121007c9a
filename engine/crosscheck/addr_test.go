package crosscheck

import (
	"strconv"
	"testing"
)

func TestReplaceTargetPort(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1:3031", "127.0.0.1:4000"},
		{":3031", ":4000"},
		{"3031", "4000"},
		{"[::1]:3031", "[::1]:4000"},
		{"http://127.0.0.1:3031/app/x:3031", "http://127.0.0.1:4000/app/x:3031"},
		{"uwsgi://localhost:3031", "uwsgi://localhost:4000"},
		{"*:3031", "*:4000"},
	} {
		got, ok := replaceTargetPort(c.in, 3031, 4000)
		if !ok || got != c.want {
			t.Errorf("replaceTargetPort(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"127.0.0.1:30311", "[::3031]:80", "unix:/run/3031", "django", "http://h:3031x/"} {
		if got, ok := replaceTargetPort(in, 3031, 4000); ok {
			t.Errorf("replaceTargetPort(%q) = %q, want no change", in, got)
		}
	}
}

func TestNginxListen(t *testing.T) {
	for in, want := range map[string]string{
		"8080":           ":8080",
		"127.0.0.1:8080": "127.0.0.1:8080",
		"*:80":           "*:80",
		"[::]:443":       "[::]:443",
		"localhost":      "localhost:80",
		"[::1]":          "[::1]:80",
	} {
		ep, ok := nginxListen("/p", in)
		if !ok || ep.String() != want {
			t.Errorf("nginxListen(%q) = %v, %v; want %s", in, ep, ok, want)
		}
	}
	if ep, _ := nginxListen("/p", "unix:sock"); ep.unix != "/p/sock" {
		t.Errorf("relative unix listen: %v", ep)
	}
}

// FuzzAddresses feeds arbitrary words to the address readers: nothing
// panics, and a port rewrite undoes cleanly.
func FuzzAddresses(f *testing.F) {
	for _, s := range []string{"127.0.0.1:3031", ":3031", "[::1]:3031", "http://unix:/run/a.sock:/x", "uwsgi://h:1", "unix:/run/x", "80", "*:80", "[::]:"} {
		f.Add(s, 3031, 4000)
	}
	f.Fuzz(func(t *testing.T, word string, old, new int) {
		nginxListen("/p", word)
		uwsgiAddr("/p", word)
		parseHostPort(word)
		if old < 1 || old > 65535 || new < 1 || new > 65535 || old == new {
			return
		}
		got, ok := replaceTargetPort(word, old, new)
		if !ok {
			if got != word {
				t.Fatalf("a failed rewrite changed %q to %q", word, got)
			}
			return
		}
		back, ok := replaceTargetPort(got, new, old)
		if !ok || back != word {
			t.Fatalf("%q -> %q -> %q (%v)", word, got, back, ok)
		}
		if ep, ok := parseHostPort(got); ok && ep.port != new && ep.port != old {
			t.Fatalf("%q: port %d after moving %s to %s", got, ep.port, strconv.Itoa(old), strconv.Itoa(new))
		}
	})
}
