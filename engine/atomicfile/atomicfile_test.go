package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeClock returns a clock that advances one second per call, so backup
// names are distinct and ordered.
func fakeClock() func() time.Time {
	t := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entries lists the names in dir, the backup folder included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, n := range entries(t, dir) {
		if IsTemp(n) || strings.Contains(n, tempInfix) {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
}

func TestWriteFileCreatesWithPerm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uwsgi.ini")
	if err := WriteFile(path, []byte("[uwsgi]\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "[uwsgi]\n" {
		t.Fatalf("content = %q", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	if _, err := os.Stat(BackupDirFor(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new file needs no backup folder, got %v", err)
	}
	assertNoTemp(t, dir)
}

func TestWriteFileKeepsModeAndBacksUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Saver{Now: fakeClock()}
	if err := s.WriteFile(path, []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "v2" {
		t.Fatalf("content = %q", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want the old file's 0600", fi.Mode().Perm())
	}
	bs, err := s.Backups(path)
	if err != nil || len(bs) != 1 {
		t.Fatalf("backups = %v, %v", bs, err)
	}
	if got := readFile(t, bs[0].Path); got != "v1" {
		t.Errorf("backup holds %q, want v1", got)
	}
	wantName := "nginx.conf.20260102T150406.000000000Z.bak"
	if filepath.Base(bs[0].Path) != wantName || filepath.Dir(bs[0].Path) != filepath.Join(dir, ".wsgideck", "backups") {
		t.Errorf("backup path = %s, want .wsgideck/backups/%s", bs[0].Path, wantName)
	}
	assertNoTemp(t, dir)
}

func TestIdenticalSaveMakesNoBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ini")
	s := &Saver{Now: fakeClock()}
	for _, v := range []string{"one", "one", "two", "two", "two"} {
		if err := s.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, _ := s.Backups(path)
	if len(bs) != 1 || readFile(t, bs[0].Path) != "one" {
		t.Fatalf("want exactly one backup holding %q, got %v", "one", bs)
	}
}

func TestGenerationsArePruned(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	// A neighbour whose name extends ours must not be counted or pruned.
	other := filepath.Join(dir, "nginx.conf.d")
	s := &Saver{Keep: 3, Now: fakeClock()}
	for i := range 6 {
		if err := s.WriteFile(path, []byte{byte('a' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteFile(other, []byte{byte('A' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := s.Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, readFile(t, b.Path))
	}
	if strings.Join(got, "") != "edc" {
		t.Errorf("backups newest first = %v, want [e d c]", got)
	}
	if ob, _ := s.Backups(other); len(ob) != 3 || readFile(t, ob[0].Path) != "E" {
		t.Errorf("neighbour's backups disturbed: %v", ob)
	}
}

func TestSameInstantBackupsDoNotCollide(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.conf")
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Saver{Now: func() time.Time { return fixed }}
	for _, v := range []string{"1", "2", "3"} {
		if err := s.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, _ := s.Backups(path)
	if len(bs) != 2 || readFile(t, bs[0].Path) != "2" || readFile(t, bs[1].Path) != "1" {
		t.Fatalf("backups = %v", bs)
	}
}

func TestKeepNegativeDisablesBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.conf")
	s := &Saver{Keep: -1}
	for _, v := range []string{"1", "2"} {
		if err := s.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(BackupDirFor(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup folder exists with backups disabled: %v", err)
	}
}

// The failure the issue names: a write that fails half-way leaves the old
// file intact, makes no backup and leaves no temporary file.
func TestWriteFailingHalfWayKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uwsgi.ini")
	old := "[uwsgi]\nsocket = 127.0.0.1:3031\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	diskFull := errors.New("no space left on device")
	err := Write(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte("[uwsgi]\nsock")); err != nil {
			return err
		}
		return diskFull
	})
	if !errors.Is(err, diskFull) {
		t.Fatalf("err = %v, want the writer's error", err)
	}
	if got := readFile(t, path); got != old {
		t.Fatalf("old file changed to %q", got)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only uwsgi.ini", got)
	}
}

func TestFailingFsyncKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	eio := errors.New("input/output error")
	s := &Saver{syncFile: func(*os.File) error { return eio }}
	if err := s.WriteFile(path, []byte("new"), 0o644); !errors.Is(err, eio) {
		t.Fatalf("err = %v", err)
	}
	if got := readFile(t, path); got != "old" {
		t.Fatalf("old file changed to %q", got)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only nginx.conf", got)
	}
}

// A failing backup must stop the save: replacing the file without keeping
// the old version would break the "nothing is lost" promise.
func TestFailingBackupStopsTheSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file where the backup folder should be makes MkdirAll fail, even as root.
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Saver{BackupDir: func(string) string { return filepath.Join(blocker, "backups") }}
	err := s.WriteFile(path, []byte("new"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "keep the previous version") {
		t.Fatalf("err = %v", err)
	}
	if got := readFile(t, path); got != "old" {
		t.Fatalf("old file changed to %q", got)
	}
	assertNoTemp(t, dir)
}

func TestWriteOverDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conf")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("err = %v", err)
	}
	assertNoTemp(t, dir)
}

func TestMissingFolderFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "x.conf")
	if err := WriteFile(path, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}

func TestSymlinkIsFollowed(t *testing.T) {
	dir := t.TempDir()
	avail := filepath.Join(dir, "sites-available")
	enabled := filepath.Join(dir, "sites-enabled")
	for _, d := range []string{avail, enabled} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	real := filepath.Join(avail, "app")
	link := filepath.Join(enabled, "app")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sites-available/app", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file: %v %v", fi, err)
	}
	if got := readFile(t, real); got != "new" {
		t.Errorf("target holds %q", got)
	}
	bs, _ := Backups(link)
	if len(bs) != 1 || filepath.Dir(bs[0].Path) != BackupDirFor(real) {
		t.Errorf("backups = %v, want one beside the link's target", bs)
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uwsgi.ini")
	s := &Saver{Now: fakeClock()}
	for _, v := range []string{"good", "bad"} {
		if err := s.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs, _ := s.Backups(path)
	if err := s.Restore(path, bs[0]); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "good" {
		t.Fatalf("restored %q", got)
	}
	bs, _ = s.Backups(path)
	if len(bs) != 2 || readFile(t, bs[0].Path) != "bad" {
		t.Errorf("the restore did not keep the version it replaced: %v", bs)
	}
}

func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, ".nginx.conf"+tempInfix+"*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if name := filepath.Base(f.Name()); !IsTemp(name) {
		t.Errorf("IsTemp(%q) = false", name)
	}
	for _, name := range []string{"nginx.conf", ".nginx.conf", ".tmp123", ".x.tmp", ".x.tmpabc", "x.tmp123"} {
		if IsTemp(name) {
			t.Errorf("IsTemp(%q) = true", name)
		}
	}
}

// A file its owner made read-only is not replaced: the rename would work
// (the folder is writable), but the mode says the file is not to change.
func TestReadOnlyFileIsNotReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "uwsgi.ini")
	if err := os.WriteFile(path, []byte("[uwsgi]\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("[uwsgi]\nprocesses = 4\n"), 0o644)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "chmod u+w "+path) {
		t.Fatalf("WriteFile over a read-only file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "[uwsgi]\n" {
		t.Errorf("the read-only file changed: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
