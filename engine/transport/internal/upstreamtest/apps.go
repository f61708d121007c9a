package upstreamtest

import (
	"embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// apps are the WSGI apps the transports are tested with: echo.py reports
// its environ and body (and answers /raise, /sleep?S and /big-header?N);
// flaskapp.py is a small Flask app.
//
//go:embed testdata/*.py
var apps embed.FS

// StartUWSGI runs Debian's uWSGI with the python3 plugin and 4 threads
// (peertest.StartUWSGI) serving app, one of the apps in testdata, on the
// socket option opt ("socket" or "fastcgi-socket") at addr ("127.0.0.1:port"
// or "unix:/path"). extra are more ini lines ("buffer-size = 32768").
func StartUWSGI(t testing.TB, opt, addr, app string, extra ...string) *peertest.UWSGI {
	t.Helper()
	src, err := apps.ReadFile("testdata/" + app)
	if err != nil {
		t.Fatal(err)
	}
	appPath := filepath.Join(t.TempDir(), app)
	if err := os.WriteFile(appPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	ini := []string{
		"[uwsgi]",
		"plugins = python3",
		opt + " = " + strings.TrimPrefix(addr, "unix:"),
		"wsgi-file = " + appPath,
		"threads = 4",
	}
	return peertest.StartUWSGI(t, strings.Join(append(ini, extra...), "\n")+"\n")
}

// Fetch runs r through rt and reads the whole response body, failing the
// test on any error.
func Fetch(t testing.TB, rt http.RoundTripper, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := rt.RoundTrip(r)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, body
}

// EchoReport is what testdata/echo.py answers: its str environ and body.
type EchoReport struct {
	Environ map[string]string `json:"environ"`
	Body    string            `json:"body"`
}

// FetchEcho runs r through rt to echo.py and decodes its report.
func FetchEcho(t testing.TB, rt http.RoundTripper, r *http.Request) (*http.Response, EchoReport) {
	t.Helper()
	resp, data := Fetch(t, rt, r)
	var rep EchoReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("status %d, body %q is not the echo report: %v", resp.StatusCode, data, err)
	}
	return resp, rep
}

// WantEnv checks one variable of the app's environ.
func WantEnv(t testing.TB, rep EchoReport, key, want string) {
	t.Helper()
	got, ok := rep.Environ[key]
	if !ok {
		t.Errorf("environ has no %s, want %q", key, want)
	} else if got != want {
		t.Errorf("environ %s = %q, want %q", key, got, want)
	}
}

// WantUpstreamError checks that err is an *upstream.Error with nginx's
// status and log message, and returns it.
func WantUpstreamError(t testing.TB, err error, status int, message string) *upstream.Error {
	t.Helper()
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		t.Fatalf("got error %v (%T), want *Error", err, err)
	}
	if ue.Status != status || ue.Message() != message {
		t.Errorf("got %d %q, want %d %q", ue.Status, ue.Message(), status, message)
	}
	return ue
}
