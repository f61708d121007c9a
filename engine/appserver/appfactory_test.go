package appserver

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// TestAppFactoryLikeUWSGI: "module = pkg:create_app()" calls the factory
// with no arguments and serves what it returns, as uWSGI does; it is the
// form detection proposes and configgen writes for Flask app factories.
// A factory that returns something that is not callable does not load.
func TestAppFactoryLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"fapp.py": `
def create_app():
    def app(e, s):
        s('200 OK', [('Content-Type', 'text/plain')])
        return [b'made by the factory']
    return app

def make_nothing():
    return 3
`})
	ini := func(sock, module string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nchdir = %s\nmodule = %s\nhttp-socket = %s\nmaster = true\n", dir, module, sock)
	}
	body := func(url string) string {
		t.Helper()
		resp, b := get(t, url)
		return fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	theirs := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, ini(theirs, "fapp:create_app()"))
	want := body("http://" + theirs + "/")
	if want != "200 made by the factory" {
		t.Fatalf("uWSGI: %q", want)
	}

	for _, c := range []struct{ module, want string }{
		{"fapp:create_app()", want},
		{"fapp:make_nothing()", "500"},
	} {
		ours := peertest.FreeAddr(t)
		parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini(ours, c.module)), "")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := FromINI(parsed)
		if err != nil {
			t.Fatal(err)
		}
		_, log := startServer(t, cfg)
		if got := body("http://" + ours + "/"); !strings.HasPrefix(got, c.want) {
			t.Errorf("module = %s: got %q, want %q (as uWSGI)\n%s", c.module, got, c.want, log.String())
		}
	}
}
