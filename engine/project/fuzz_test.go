package project

import (
	"regexp"
	"testing"
)

// configName is configgen's rule for Config.Name.
var configName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// FuzzParseModule checks the reader of uWSGI's module spelling: what it
// reads, spelt back, reads the same; and portOf stays in range.
func FuzzParseModule(f *testing.F) {
	for _, s := range []string{"mysite.wsgi:application", "wsgi", "flaskr:create_app()", ":x", "a:b:c", "x:()", "127.0.0.1:3031", ":65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if p := portOf(spec); p < 0 || p > 65535 {
			t.Fatalf("portOf(%q) = %d", spec, p)
		}
		app := ParseModule(spec)
		spelt := app.Module
		if app.Callable != "" || app.Factory {
			spelt += ":" + app.Callable
		}
		if app.Factory {
			spelt += "()"
		}
		if again := ParseModule(spelt); again != app {
			t.Fatalf("%q -> %+v -> %q -> %+v", spec, app, spelt, again)
		}
		if s := Slug(spec); !configName.MatchString(s) {
			t.Fatalf("Slug(%q) = %q, which configgen refuses", spec, s)
		}
	})
}
