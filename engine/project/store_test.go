package project

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/atomicfile"
)

func openStore(t *testing.T, cfg, data string) *Store {
	t.Helper()
	s, err := OpenStore(StoreOptions{ConfigDir: cfg, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDemoIsMaterialisedAndKept(t *testing.T) {
	cfg, data := t.TempDir(), t.TempDir()
	s := openStore(t, cfg, data)
	list := s.Projects()
	if len(list) != 1 || !list[0].Builtin() || list[0].Dir != filepath.Join(data, "demo") {
		t.Fatalf("projects %+v", list)
	}
	demo := list[0]
	// Every shipped file is there, byte for byte.
	fs.WalkDir(assets.Demo, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := fs.ReadFile(assets.Demo, name)
		got, err := os.ReadFile(filepath.Join(demo.Dir, name))
		if err != nil || string(got) != string(want) {
			t.Errorf("demo file %s: %v", name, err)
		}
		return nil
	})
	// The user edits it; a deleted file comes back; the edit stays.
	edited := "# mine\n"
	os.WriteFile(demo.Ini, []byte(edited), 0o644)
	os.Remove(filepath.Join(demo.Dir, "static", "style.css"))
	s = openStore(t, cfg, data)
	if got, _ := os.ReadFile(demo.Ini); string(got) != edited {
		t.Error("reopening the store replaced the user's edit")
	}
	if _, err := os.Stat(filepath.Join(demo.Dir, "static", "style.css")); err != nil {
		t.Error("a deleted demo file was not put back")
	}
	os.RemoveAll(demo.Dir)
	if _, err := s.Demo(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(demo.Ini); err != nil {
		t.Error("Demo() did not put the deleted folder back")
	}
	// ResetDemo restores the shipped file and keeps the edit as a backup.
	os.WriteFile(demo.Ini, []byte(edited), 0o644)
	if err := s.ResetDemo(); err != nil {
		t.Fatal(err)
	}
	want, _ := fs.ReadFile(assets.Demo, "uwsgi.ini")
	if got, _ := os.ReadFile(demo.Ini); string(got) != string(want) {
		t.Error("ResetDemo did not restore uwsgi.ini")
	}
	b, _ := atomicfile.Backups(demo.Ini)
	if len(b) != 1 {
		t.Fatalf("backups %v", b)
	}
	if got, _ := os.ReadFile(b[0].Path); string(got) != edited {
		t.Error("the backup is not the user's edit")
	}
	if err := s.Remove(DemoID); err == nil {
		t.Error("the demo was removed")
	}
}

func TestAddRenameRemovePersist(t *testing.T) {
	cfg, data := t.TempDir(), t.TempDir()
	s := openStore(t, cfg, data)
	app := t.TempDir()
	p, err := s.Add(Project{Name: "Shop", Dir: app, Python: "/usr/bin/python3"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || p.Ini != filepath.Join(app, "uwsgi.ini") || p.Nginx != filepath.Join(app, "nginx.conf") {
		t.Fatalf("added %+v", p)
	}
	if _, err := s.Add(Project{Name: "shop", Dir: t.TempDir()}); err == nil {
		t.Error("a second project called shop was added")
	}
	if _, err := s.Add(Project{Name: "Other", Dir: app}); err == nil {
		t.Error("the same folder was added twice")
	}
	if _, err := s.Add(Project{Name: "Gone", Dir: filepath.Join(app, "missing")}); err == nil {
		t.Error("a missing folder was added")
	}
	if err := s.Rename(p.ID, "Shop 2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(p.ID, "Demo"); err == nil {
		t.Error("renamed to the demo's name")
	}
	if err := s.Rename(p.ID, "bad\nname"); err == nil {
		t.Error("a name with a line break was accepted")
	}
	if err := s.Update(DemoID, func(p *Project) error { p.Python = "/opt/py/bin/python3"; return nil }); err != nil {
		t.Fatal(err)
	}

	// Everything survives a restart.
	s = openStore(t, cfg, data)
	list := s.Projects()
	if len(list) != 2 || list[0].ID != DemoID || list[0].Python != "/opt/py/bin/python3" || list[1].Name != "Shop 2" || list[1].ID != p.ID || list[1].Python != "/usr/bin/python3" {
		t.Fatalf("after reopening: %+v", list)
	}
	if err := s.Remove(p.ID); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, cfg, data)
	if len(s.Projects()) != 1 {
		t.Errorf("removed project came back: %+v", s.Projects())
	}
	if _, err := os.Stat(app); err != nil {
		t.Error("Remove deleted the project's folder")
	}
	if b, _ := atomicfile.Backups(s.ListPath()); len(b) == 0 {
		t.Error("no previous version of projects.json was kept")
	}
}

func TestBrokenListIsNotOverwritten(t *testing.T) {
	cfg, data := t.TempDir(), t.TempDir()
	list := filepath.Join(cfg, ListFile)
	bad := "[\n  {\"id\": \"x\", \"name\": \"X\",\n   \"dir\": }\n]\n"
	os.WriteFile(list, []byte(bad), 0o644)
	_, err := OpenStore(StoreOptions{ConfigDir: cfg, DataDir: data})
	if err == nil || !strings.Contains(err.Error(), list+":3:") {
		t.Fatalf("error %v; want one naming %s:3", err, list)
	}
	if got, _ := os.ReadFile(list); string(got) != bad {
		t.Error("the broken list was changed")
	}
}

func TestDefaultDirs(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/tmp/xdg-config")
	t.Setenv("XDG_DATA_HOME", "/tmp/xdg-data")
	c, d, err := DefaultDirs()
	if err != nil || c != "/tmp/xdg-config/wsgideck" || d != "/tmp/xdg-data/wsgideck" {
		t.Errorf("DefaultDirs = %q, %q, %v", c, d, err)
	}
}
