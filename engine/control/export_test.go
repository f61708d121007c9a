package control

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/project"
)

// TestCheckExport exports the demo's production bundle (with HTTPS, on a
// machine that has no such certificate) and has the real nginx and uWSGI
// check it; a broken site file fails nginx -t with its message.
func TestCheckExport(t *testing.T) {
	for _, p := range []string{peertest.NginxPath, "/usr/bin/uwsgi"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (install it with .ci/deps): %v", p, err)
		}
	}
	d := newTestDeck(t)
	ctx := context.Background()
	files, cfg, _, err := d.Export(project.DemoID, project.ExportOptions{
		ServerNames: []string{"demo.example.com"},
		TLSCert:     "/etc/ssl/demo/nonexistent.crt", TLSKey: "/etc/ssl/demo/nonexistent.key",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		t.Error("the export has no name")
	}
	checks := d.CheckExport(ctx, files)
	if len(checks) != 2 {
		t.Fatalf("%d checks", len(checks))
	}
	for _, c := range checks {
		if !c.Installed || !c.OK {
			t.Errorf("%s on %s: installed %v ok %v\n%s", c.Tool, c.File, c.Installed, c.OK, c.Output)
		}
	}
	if !strings.Contains(checks[0].Output, "test is successful") || !strings.Contains(checks[0].Output, "throwaway self-signed") {
		t.Errorf("nginx -t output:\n%s", checks[0].Output)
	}

	bad := configgen.Files{configgen.FileNginxSite: []byte("server {\n    listen 80;\n    no_such_directive;\n}\n"),
		configgen.FileUWSGIIni: []byte("[uwsgi]\nplugins = python3\nno-such-option = 1\n")}
	checks = CheckExport(ctx, bad)
	if checks[0].OK || !strings.Contains(checks[0].Output, `unknown directive "no_such_directive"`) || !strings.Contains(checks[0].Output, configgen.FileNginxSite+":3") {
		t.Errorf("nginx -t on a broken site: ok %v\n%s", checks[0].OK, checks[0].Output)
	}
	if checks[1].OK || !strings.Contains(checks[1].Output, "no-such-option") {
		t.Errorf("uwsgi --strict on an unknown option: ok %v\n%s", checks[1].OK, checks[1].Output)
	}
}

// TestCheckExportWithoutThePrograms says so rather than passing.
func TestCheckExportWithoutThePrograms(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saveN, saveU := nginxPaths, uwsgiPaths
	nginxPaths, uwsgiPaths = nil, nil
	defer func() { nginxPaths, uwsgiPaths = saveN, saveU }()
	for _, c := range CheckExport(context.Background(), configgen.Files{
		configgen.FileNginxSite: []byte("server {}\n"), configgen.FileUWSGIIni: []byte("[uwsgi]\n")}) {
		if c.Installed || c.OK || !strings.Contains(c.Output, "not installed") {
			t.Errorf("%s: %+v", c.Tool, c)
		}
	}
}
