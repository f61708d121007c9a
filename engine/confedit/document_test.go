package confedit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestINIDocSaveKeepsBackup(t *testing.T) {
	dir := copyDemo(t)
	path := filepath.Join(dir, "uwsgi.ini")
	orig := readString(t, path)
	doc, err := OpenINI(path, INIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps := doc.Validate(); len(Errors(ps)) > 0 {
		t.Fatalf("the demo's uwsgi.ini does not validate: %v", ps)
	}
	if err := doc.Set("processes", "4"); err != nil {
		t.Fatal(err)
	}
	if !doc.Dirty() {
		t.Error("edited document is not dirty")
	}
	d, err := doc.Diff()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d, "--- a/uwsgi.ini\n+++ b/uwsgi.ini\n") || !strings.Contains(d, "\n-processes = 2\n+processes = 4\n") {
		t.Errorf("diff:\n%s", d)
	}
	if readString(t, path) != orig {
		t.Fatal("the file changed before Save")
	}
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != strings.Replace(orig, "processes = 2\n", "processes = 4\n", 1) {
		t.Errorf("saved file:\n%s", got)
	}
	if doc.Dirty() {
		t.Error("saved document is dirty")
	}
	backups, err := atomicfile.Backups(path)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups: %v, %v", backups, err)
	}
	if readString(t, backups[0].Path) != orig {
		t.Error("the backup is not the previous version")
	}
	if d, _ := doc.Diff(); d != "" {
		t.Errorf("diff after save: %q", d)
	}
}

func TestINIDocRefusesInvalid(t *testing.T) {
	dir := copyDemo(t)
	path := filepath.Join(dir, "uwsgi.ini")
	orig := readString(t, path)
	doc, err := OpenINI(path, INIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Set("buffer-size", "100000"); err != nil {
		t.Fatal(err)
	}
	line := 0
	for _, e := range doc.Entries() {
		if e.Name == "buffer-size" {
			line = e.Line
		}
	}
	errs := Errors(doc.Validate())
	if len(errs) != 1 || errs[0].File != path || errs[0].Line != line || !strings.Contains(errs[0].Msg, "65535") {
		t.Fatalf("problems: %v (buffer-size is on line %d)", errs, line)
	}
	var inv *InvalidError
	if err := doc.Save(); !errors.As(err, &inv) {
		t.Fatalf("Save of an invalid file: %v", err)
	}
	if !strings.Contains(inv.Error(), filepath.Base(path)+":") {
		t.Errorf("error does not name the file and line: %v", inv)
	}
	if readString(t, path) != orig {
		t.Error("an invalid document was written")
	}

	// An unknown option is a warning with uWSGI's did-you-mean; it saves.
	doc.Revert()
	doc.Set("proceses", "3")
	ps := doc.Validate()
	found := false
	for _, p := range ps {
		found = found || p.Severity == Warning && strings.Contains(p.String(), `"proceses" (did you mean "processes"?)`)
	}
	if len(Errors(ps)) != 0 || !found {
		t.Errorf("problems for a misspelt option: %v", ps)
	}
	if err := doc.Save(); err != nil {
		t.Errorf("a file with warnings only was not saved: %v", err)
	}
}

// TestINIDocFailedSaveKeepsFile makes the save fail half-way (the backup
// folder cannot be created) and checks the file is intact.
func TestINIDocFailedSaveKeepsFile(t *testing.T) {
	dir := copyDemo(t)
	path := filepath.Join(dir, "uwsgi.ini")
	orig := readString(t, path)
	blocker := filepath.Join(dir, "not-a-folder")
	os.WriteFile(blocker, []byte("x"), 0o644)
	saver := &atomicfile.Saver{BackupDir: func(string) string { return filepath.Join(blocker, "backups") }}
	doc, err := OpenINI(path, INIOptions{Saver: saver})
	if err != nil {
		t.Fatal(err)
	}
	doc.Set("processes", "7")
	if err := doc.Save(); err == nil {
		t.Fatal("Save succeeded without its backup folder")
	}
	if readString(t, path) != orig {
		t.Error("a failed save changed the file")
	}
	if !doc.Dirty() {
		t.Error("the edits were lost after a failed save")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestINIDocExternalChanges(t *testing.T) {
	dir := copyDemo(t)
	path := filepath.Join(dir, "uwsgi.ini")
	orig := readString(t, path)
	doc, _ := OpenINI(path, INIOptions{})

	// A clean document reloads.
	changed := strings.Replace(orig, "harakiri = 30", "harakiri = 60", 1)
	os.WriteFile(path, []byte(changed), 0o644)
	r, err := doc.Refresh()
	if err != nil || r.State != Reloaded {
		t.Fatalf("Refresh: %v, %v", r, err)
	}
	if e, _ := doc.Get("harakiri"); e.Value != "60" {
		t.Errorf("after reload harakiri = %q", e.Value)
	}
	// Its own save is not a change.
	doc.Set("processes", "3")
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	if r, _ := doc.Refresh(); r.State != Unchanged {
		t.Errorf("Refresh after own save: %v", r.State)
	}
	// Unsaved edits and an outside change conflict.
	doc.Set("processes", "5")
	os.WriteFile(path, []byte(orig), 0o644)
	if r, _ := doc.Refresh(); r.State != Conflict {
		t.Fatalf("Refresh with unsaved edits: %v", r.State)
	}
	if e, _ := doc.Get("processes"); e.Value != "5" {
		t.Error("a conflict dropped the edits")
	}
	var ce *ConflictError
	if err := doc.Save(); !errors.As(err, &ce) {
		t.Fatalf("Save over an outside change: %v", err)
	}
	if readString(t, path) != orig {
		t.Error("a conflicting save wrote the file")
	}
	if err := doc.ForceSave(); err != nil {
		t.Fatal(err)
	}
	if e, _ := doc.Get("processes"); e.Value != "5" || !strings.Contains(readString(t, path), "processes = 5") {
		t.Error("ForceSave did not write the edits")
	}
	// Revert takes the disk's version.
	doc.Set("processes", "9")
	doc.Revert()
	if doc.Dirty() {
		t.Error("dirty after Revert")
	}
	// A deleted file is reported; saving puts it back.
	os.Remove(path)
	if r, _ := doc.Refresh(); r.State != Removed || !doc.Dirty() {
		t.Fatalf("Refresh after delete: %v, dirty %v", r.State, doc.Dirty())
	}
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readString(t, path), "processes = 5") {
		t.Error("Save did not put the deleted file back")
	}
}

func TestNginxDocEditsIncludedFile(t *testing.T) {
	dir := copyDemo(t)
	conf := filepath.Join(dir, "nginx.conf")
	params := filepath.Join(dir, "uwsgi_params")
	origConf, origParams := readString(t, conf), readString(t, params)
	doc, err := OpenNginx(conf, NginxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths()) != 3 {
		t.Fatalf("paths %v: want nginx.conf, mime.types, uwsgi_params", doc.Paths())
	}
	err = doc.Edit(func(c *nginxconf.Config) error {
		f := c.File(params)
		if _, err := f.Block.Append(nginxconf.NewDirective("uwsgi_param", "HTTP_X_DEMO", "1")); err != nil {
			return err
		}
		return SetListen(Servers(c)[0], "", "127.0.0.1:8081")
	})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := doc.Diff()
	if !strings.Contains(d, "+++ b/uwsgi_params") || !strings.Contains(d, "+++ b/nginx.conf") || strings.Contains(d, "mime.types") {
		t.Errorf("diff:\n%s", d)
	}
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, params); !strings.HasSuffix(got, "uwsgi_param HTTP_X_DEMO 1;\n") || !strings.HasPrefix(got, origParams) {
		t.Errorf("uwsgi_params:\n%s", got)
	}
	if got := readString(t, conf); got != strings.Replace(origConf, "listen 127.0.0.1:8080;", "listen 127.0.0.1:8081;", 1) {
		t.Errorf("nginx.conf:\n%s", got)
	}
	for _, p := range []string{conf, params} {
		if b, _ := atomicfile.Backups(p); len(b) != 1 {
			t.Errorf("%s: %d backups", p, len(b))
		}
	}
	if b, _ := atomicfile.Backups(filepath.Join(dir, "mime.types")); len(b) != 0 {
		t.Error("an unchanged file was rewritten")
	}
}

func TestNginxDocRefusesInvalid(t *testing.T) {
	dir := copyDemo(t)
	conf := filepath.Join(dir, "nginx.conf")
	orig := readString(t, conf)
	doc, _ := OpenNginx(conf, NginxOptions{})
	broken := strings.Replace(orig, "client_max_body_size 10m;", "client_max_body_size 10m", 1)
	if err := doc.SetSource("", []byte(broken)); err != nil {
		t.Fatal(err)
	}
	errs := Errors(doc.Validate())
	if len(errs) == 0 || errs[0].File != conf || errs[0].Line == 0 {
		t.Fatalf("problems: %v", errs)
	}
	var inv *InvalidError
	if err := doc.Save(); !errors.As(err, &inv) {
		t.Fatalf("Save: %v", err)
	}
	if readString(t, conf) != orig {
		t.Error("an invalid config was written")
	}
}

func TestNginxDocExternalChanges(t *testing.T) {
	dir := copyDemo(t)
	conf := filepath.Join(dir, "nginx.conf")
	params := filepath.Join(dir, "uwsgi_params")
	doc, _ := OpenNginx(conf, NginxOptions{})
	// An included file changed outside: a clean document reloads it.
	os.WriteFile(params, []byte("uwsgi_param A b;\n"), 0o644)
	r, err := doc.Refresh()
	if err != nil || r.State != Reloaded || len(r.Paths) != 1 || r.Paths[0] != params {
		t.Fatalf("Refresh: %+v %v", r, err)
	}
	if string(doc.Bytes(params)) != "uwsgi_param A b;\n" {
		t.Error("the included file was not reloaded")
	}
	// Edits in the main file, an outside change in the include: conflict.
	doc.Edit(func(c *nginxconf.Config) error { return SetServerName(Servers(c)[0], "x.test") })
	os.WriteFile(params, []byte("uwsgi_param A c;\n"), 0o644)
	if r, _ := doc.Refresh(); r.State != Conflict {
		t.Fatalf("Refresh: %v", r.State)
	}
	var ce *ConflictError
	if err := doc.Save(); !errors.As(err, &ce) {
		t.Fatalf("Save: %v", err)
	}
	if err := doc.Revert(); err != nil {
		t.Fatal(err)
	}
	if doc.Dirty() || string(doc.Bytes(params)) != "uwsgi_param A c;\n" {
		t.Error("Revert did not take the disk's version")
	}
}
