package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/confedit"
)

// waitTimeout bounds how long a test waits for an event that should come;
// events normally arrive within the debounce time.
const waitTimeout = 10 * time.Second

func demo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, assets.Demo); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o644)
		}
		return err
	})
	return dir
}

func start(t *testing.T, dir string, opts Options) *Watcher {
	t.Helper()
	w, err := New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func next(t *testing.T, w *Watcher) Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("no event")
	}
	return Event{}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// saveLikeAnEditor writes a new file and renames it over path, as vim
// and most editors do.
func saveLikeAnEditor(t *testing.T, path, s string) {
	t.Helper()
	tmp := path + ".swp-new"
	writeFile(t, tmp, s)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestExternalChangeReloadsCleanDocument(t *testing.T) {
	dir := demo(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	doc, err := confedit.OpenINI(ini, confedit.INIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := start(t, dir, Options{})
	w.Track(doc)
	orig, _ := os.ReadFile(ini)
	changed := strings.Replace(string(orig), "processes = 2", "processes = 3", 1)
	saveLikeAnEditor(t, ini, changed)
	ev := next(t, w)
	if ev.Kind != Changed || ev.Path != ini || ev.Doc != confedit.Document(doc) {
		t.Fatalf("event %+v", ev)
	}
	if string(doc.Bytes()) != changed {
		t.Error("the document did not reload")
	}
}

// TestOwnSaveIsNotReported saves through the document (atomicfile's
// temporary file, the backups in .wsgideck), then changes another file:
// the first event must be about that other file.
func TestOwnSaveIsNotReported(t *testing.T) {
	dir := demo(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	doc, _ := confedit.OpenINI(ini, confedit.INIOptions{})
	w := start(t, dir, Options{})
	w.Track(doc)
	if err := doc.Set("processes", "4"); err != nil {
		t.Fatal(err)
	}
	if err := doc.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".wsgideck", "backups")); err != nil {
		t.Fatalf("the save made no backup: %v", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	b, _ := os.ReadFile(conf)
	writeFile(t, conf, string(b)+"# edited outside\n")
	ev := next(t, w)
	if ev.Path != conf || ev.Kind != Changed || ev.Doc != nil {
		t.Fatalf("first event %+v; want the outside change of nginx.conf", ev)
	}
}

func TestConflictKeepsEdits(t *testing.T) {
	dir := demo(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	doc, _ := confedit.OpenINI(ini, confedit.INIOptions{})
	w := start(t, dir, Options{})
	w.Track(doc)
	doc.Set("processes", "8")
	mine := string(doc.Bytes())
	b, _ := os.ReadFile(ini)
	saveLikeAnEditor(t, ini, string(b)+"enable-threads = true\n")
	ev := next(t, w)
	if ev.Kind != Conflict || ev.Path != ini {
		t.Fatalf("event %+v", ev)
	}
	if string(doc.Bytes()) != mine {
		t.Error("the conflict dropped the unsaved edits")
	}
	d, _ := doc.Diff()
	if !strings.Contains(d, "-enable-threads = true") || !strings.Contains(d, "+processes = 8") {
		t.Errorf("diff against the changed file:\n%s", d)
	}
}

func TestIncludedFileChanges(t *testing.T) {
	dir := demo(t)
	// An include outside the project folder is watched too.
	other := t.TempDir()
	extra := filepath.Join(other, "extra.conf")
	writeFile(t, extra, "add_header X-Demo 1;\n")
	conf := filepath.Join(dir, "nginx.conf")
	b, _ := os.ReadFile(conf)
	writeFile(t, conf, strings.Replace(string(b), "charset utf-8;", "charset utf-8;\n        include "+extra+";", 1))
	doc, err := confedit.OpenNginx(conf, confedit.NginxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := start(t, dir, Options{})
	w.Track(doc)

	params := filepath.Join(dir, "uwsgi_params")
	pb, _ := os.ReadFile(params)
	writeFile(t, params, string(pb)+"uwsgi_param HTTP_X_DEMO 1;\n")
	ev := next(t, w)
	if ev.Kind != Changed || ev.Path != params || ev.Doc != confedit.Document(doc) {
		t.Fatalf("event %+v", ev)
	}
	if !strings.HasSuffix(string(doc.Bytes(params)), "HTTP_X_DEMO 1;\n") {
		t.Error("the included file was not reloaded")
	}
	saveLikeAnEditor(t, extra, "add_header X-Demo 2;\n")
	ev = next(t, w)
	if ev.Kind != Changed || ev.Path != extra {
		t.Fatalf("event %+v", ev)
	}
	os.Remove(conf)
	ev = next(t, w)
	if ev.Kind != Removed || ev.Path != conf {
		t.Fatalf("event %+v", ev)
	}
}

func TestBurstIsDebounced(t *testing.T) {
	dir := demo(t)
	ini := filepath.Join(dir, "uwsgi.ini")
	w := start(t, dir, Options{Debounce: 300 * time.Millisecond})
	const writes = 30
	for i := range writes {
		writeFile(t, ini, strings.Repeat("#\n", i+1))
	}
	conf := filepath.Join(dir, "nginx.conf")
	b, _ := os.ReadFile(conf)
	writeFile(t, conf, string(b)+"#\n")
	n := 0
	for {
		ev := next(t, w)
		if ev.Path == conf {
			break
		}
		if ev.Path != ini || ev.Kind != Changed {
			t.Fatalf("event %+v", ev)
		}
		n++
	}
	if n == 0 || n > 3 {
		t.Errorf("%d events for a burst of %d writes", n, writes)
	}
}

func TestUntrackedNames(t *testing.T) {
	dir := demo(t)
	w := start(t, dir, Options{Names: []string{"uwsgi.ini"}})
	// Not a watched name: no event. A temporary file of atomicfile's: no event.
	writeFile(t, filepath.Join(dir, "wsgi.py"), "application = None\n")
	writeFile(t, filepath.Join(dir, ".uwsgi.ini.tmp123"), "x")
	ini := filepath.Join(dir, "uwsgi.ini")
	b, _ := os.ReadFile(ini)
	os.Chtimes(ini, time.Now(), time.Now()) // a touch is not a change
	writeFile(t, ini, string(b)+"# x\n")
	ev := next(t, w)
	if ev.Path != ini || ev.Kind != Changed {
		t.Fatalf("event %+v", ev)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok {
		t.Error("events still open after Close")
	}
}
