package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/crosscheck"
)

// appendTo adds text at the end of the file at path.
func appendTo(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// missingErrors lists the *MissingConfigError in err's tree.
func missingErrors(err error) []*MissingConfigError {
	if me, ok := err.(*MissingConfigError); ok {
		return []*MissingConfigError{me}
	}
	var out []*MissingConfigError
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, missingErrors(e)...)
		}
	case interface{ Unwrap() error }:
		out = missingErrors(u.Unwrap())
	}
	return out
}

// wantMissing checks that err reports tier's file as missing, by name,
// with the way out.
func wantMissing(t *testing.T, err error, tier Tier, name string) {
	t.Helper()
	found := false
	for _, me := range missingErrors(err) {
		found = found || me.Tier == tier
	}
	if !found {
		t.Fatalf("error %v, want the %s's missing %s", err, tier, name)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v does not wrap fs.ErrNotExist", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, name+" is missing") || !strings.Contains(msg, "generate a new "+name) || !strings.Contains(msg, "put the file back") {
		t.Errorf("the error does not name %s and the way out: %s", name, msg)
	}
}

// TestEngineAloneWithoutNginxConf runs a project that has only a
// uwsgi.ini: Start of Both starts the engine, which serves on its HTTP
// socket, and reports nginx.conf missing by name; the proxy is Failed
// with that message; Reload and Stop of the engine work; Start of the
// proxy alone says the same again.
func TestEngineAloneWithoutNginxConf(t *testing.T) {
	dir, _, _ := demoProject(t)
	httpPort := freePort(t)
	appendTo(t, filepath.Join(dir, "uwsgi.ini"), fmt.Sprintf("http-socket = 127.0.0.1:%d\n", httpPort))
	if err := os.Remove(filepath.Join(dir, "nginx.conf")); err != nil {
		t.Fatal(err)
	}
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)

	err := r.Start(ctx, Both)
	wantMissing(t, err, Proxy, "nginx.conf")
	var ce *ConfigError
	if errors.As(err, &ce) {
		t.Errorf("a missing file is reported as a config with errors: %v", ce)
	}
	snap := r.Snapshot()
	if snap.Engine.State != Running {
		t.Fatalf("engine %s %q, want running", snap.Engine.State, snap.Engine.Message)
	}
	if snap.Proxy.State != Failed || !strings.Contains(snap.Proxy.Message, "nginx.conf is missing") {
		t.Errorf("proxy %s %q, want failed naming nginx.conf", snap.Proxy.State, snap.Proxy.Message)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
	resp, body := get(t, base)
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Fatalf("GET %s = %d\n%.300s", base, resp.StatusCode, body)
	}
	logged := false
	for _, l := range r.Logs(0, 0) {
		if l.Source == LogProxyError && l.Level == LevelError && strings.Contains(l.Text, "nginx.conf is missing") {
			logged = true
		}
	}
	if !logged {
		t.Error("the proxy's log does not say nginx.conf is missing")
	}

	// Reload of Both acts on what runs: the engine.
	el, cancel := collect(r)
	defer cancel()
	if err := r.Reload(ctx, Both); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	el.waitFor(t, "the engine's reload done", func(ev Event) bool { return ev.Kind == EventReloadDone && ev.Tier == Engine })
	if resp, _ := get(t, base); resp.StatusCode != 200 {
		t.Fatalf("GET after the reload = %d", resp.StatusCode)
	}
	wantMissing(t, r.Start(ctx, Proxy), Proxy, "nginx.conf")
	if s := r.Snapshot(); s.Engine.State != Running {
		t.Errorf("starting the proxy alone touched the engine: %s %q", s.Engine.State, s.Engine.Message)
	}

	if err := r.Stop(ctx, Engine); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot(); s.Engine.State != Stopped || len(s.Workers) != 0 {
		t.Fatalf("after Stop: engine %s with %d workers", s.Engine.State, len(s.Workers))
	}
	if _, err := client.Get(base); err == nil {
		t.Error("the engine's HTTP socket still answers after Stop")
	}
	if err := r.Start(ctx, Engine); err != nil {
		t.Fatalf("Start of the engine alone: %v", err)
	}
	if resp, _ := get(t, base); resp.StatusCode != 200 {
		t.Fatalf("GET after the second start = %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "nginx.conf")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nginx.conf was written: %v", err)
	}
}

// TestProxyAloneWithoutUwsgiIni runs a project that has only an
// nginx.conf: Start of Both starts the proxy, which serves a static file
// and proxies to an HTTP server, and reports uwsgi.ini missing by name.
func TestProxyAloneWithoutUwsgiIni(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "upstream saw %s", req.URL.Path)
	}))
	defer upstream.Close()
	ngx := filepath.Join(dir, "nginx.conf")
	replaceIn(t, ngx, "        location /static/ {", fmt.Sprintf("        location /up/ {\n            proxy_pass http://%s;\n        }\n\n        location /static/ {", upstream.Listener.Addr()))
	if err := os.Remove(filepath.Join(dir, "uwsgi.ini")); err != nil {
		t.Fatal(err)
	}
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)

	el, cancel := collect(r)
	defer cancel()
	wantMissing(t, r.Start(ctx, Both), Engine, "uwsgi.ini")
	snap := r.Snapshot()
	if snap.Proxy.State != Running {
		t.Fatalf("proxy %s %q, want running", snap.Proxy.State, snap.Proxy.Message)
	}
	if snap.Engine.State != Failed || !strings.Contains(snap.Engine.Message, "uwsgi.ini is missing") {
		t.Errorf("engine %s %q, want failed naming uwsgi.ini", snap.Engine.State, snap.Engine.Message)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	want, err := os.ReadFile(filepath.Join(dir, "static", "style.css"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, base+"static/style.css"); resp.StatusCode != 200 || body != string(want) {
		t.Fatalf("GET /static/style.css = %d %.100q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"up/x"); resp.StatusCode != 200 || body != "upstream saw /up/x" {
		t.Fatalf("GET /up/x = %d %q", resp.StatusCode, body)
	}
	// Its trace has no engine hop to wait for.
	el.waitFor(t, "the proxy's request event", func(ev Event) bool {
		return ev.Kind == EventRequest && ev.Request.Tier == Proxy && ev.Request.URI == "/up/x"
	})
	var trace *Trace
	for _, tr := range r.Traces(0, 0) {
		if tr.URI == "/up/x" {
			trace = &tr
		}
	}
	if trace == nil || trace.Proxy == nil || trace.Engine != nil || trace.Proxy.Upstream != upstream.Listener.Addr().String() {
		t.Errorf("the trace of /up/x: %+v", trace)
	}
	if err := r.Reload(ctx, Proxy); err != nil {
		t.Fatalf("Reload of the proxy: %v", err)
	}
	wantMissing(t, r.Start(ctx, Engine), Engine, "uwsgi.ini")
	if err := r.Stop(ctx, Both); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(base); err == nil {
		t.Error("the proxy still answers after Stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "uwsgi.ini")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("uwsgi.ini was written: %v", err)
	}
}

// TestReloadWithAFileDeleted deletes nginx.conf under a running project:
// Reload of Both reloads the engine, and the proxy keeps serving its
// configuration, the error naming nginx.conf.
func TestReloadWithAFileDeleted(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "nginx.conf")); err != nil {
		t.Fatal(err)
	}
	el, cancel := collect(r)
	defer cancel()
	err := r.Reload(ctx, Both)
	wantMissing(t, err, Proxy, "nginx.conf")
	if !strings.Contains(err.Error(), "the proxy was not reloaded and keeps its configuration") {
		t.Errorf("Reload = %v", err)
	}
	el.waitFor(t, "the engine's reload done", func(ev Event) bool { return ev.Kind == EventReloadDone && ev.Tier == Engine })
	el.waitFor(t, "the proxy's reload failed", func(ev Event) bool {
		return ev.Kind == EventReloadFailed && ev.Tier == Proxy && strings.Contains(ev.Message, "nginx.conf is missing")
	})
	if s := r.Snapshot(); s.State != Running {
		t.Errorf("after the reload: %s (engine %q, proxy %q)", s.State, s.Engine.Message, s.Proxy.Message)
	}
	if resp, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)); resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Fatalf("GET / after the reload = %d", resp.StatusCode)
	}
}

// TestCheckWithOneFileMissing checks a project without nginx.conf: the
// report names the missing file as an error, has no finding that
// compares the two files, still finds uwsgi.ini's busy port, and its fix
// rewrites uwsgi.ini alone.
func TestCheckWithOneFileMissing(t *testing.T) {
	dir, _, enginePort := demoProject(t)
	ini, ngx := filepath.Join(dir, "uwsgi.ini"), filepath.Join(dir, "nginx.conf")
	ngxText, err := os.ReadFile(ngx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(ngx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", enginePort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := newTestRunner(t, dir, nil)
	// An editor's new nginx.conf is validated in place of the missing one.
	if errs := errorsOf(r.ValidateNginx(string(ngxText))); len(errs) > 0 {
		t.Errorf("ValidateNginx of the demo's nginx.conf: %+v", errs)
	}
	bad := strings.Replace(string(ngxText), "events {", "no_such_directive on;\nevents {", 1)
	if errs := errorsOf(r.ValidateNginx(bad)); len(errs) == 0 || errs[0].File != ngx || errs[0].Line == 0 {
		t.Errorf("ValidateNginx of a bad nginx.conf: %+v", errs)
	}
	rep, err := r.Check(ctxFor(t))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	named := false
	for _, p := range rep.Problems {
		if p.File == ngx && strings.Contains(p.Msg, "missing") && strings.Contains(p.Msg, "generate a new nginx.conf") {
			named = true
		}
	}
	if !named || !rep.HasErrors() {
		t.Errorf("the report does not name the missing nginx.conf: %+v", rep.Problems)
	}
	var fix *crosscheck.Fix
	for _, f := range rep.Findings {
		for _, l := range f.Locations {
			if l.File != ini {
				t.Errorf("a finding about another file than uwsgi.ini: %s", f.Message)
			}
		}
		if f.Kind == crosscheck.KindNoPass {
			t.Errorf("a cross-tier finding against the missing file: %s", f.Message)
		}
		if f.Kind == crosscheck.KindPortBusy && f.Port == enginePort && len(f.Fixes) > 0 {
			fix = &f.Fixes[0]
		}
	}
	if fix == nil {
		t.Fatalf("no fixable busy-port finding for the engine's port %d: %+v", enginePort, rep.Findings)
	}
	if err := rep.Apply(*fix); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	b, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), fmt.Sprintf("socket = 127.0.0.1:%d\n", enginePort)) {
		t.Errorf("the fix did not move the socket:\n%s", b)
	}
	if _, err := os.Stat(ngx); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("applying the fix wrote nginx.conf: %v", err)
	}
	// Both missing: two errors, and nothing else to say.
	if err := os.Remove(ini); err != nil {
		t.Fatal(err)
	}
	rep, err = r.Check(ctxFor(t))
	if err != nil {
		t.Fatalf("Check with both files missing: %v", err)
	}
	if len(rep.Problems) != 2 || len(rep.Findings) != 0 {
		t.Errorf("with both files missing: %+v %+v", rep.Problems, rep.Findings)
	}
	err = r.Start(ctxFor(t), Both)
	wantMissing(t, err, Engine, "uwsgi.ini")
	wantMissing(t, err, Proxy, "nginx.conf")
	if s := r.Snapshot(); s.Engine.State != Failed || s.Proxy.State != Failed {
		t.Errorf("with both files missing: engine %s, proxy %s", s.Engine.State, s.Proxy.State)
	}
}
