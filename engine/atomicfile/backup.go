package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// BackupDirName is the folder, beside a saved file, that keeps its
// previous versions.
const BackupDirName = ".wsgideck/backups"

// backupStamp is the UTC time layout in backup names: sortable as text,
// and free of ':' so the names are valid on Windows too.
const backupStamp = "20060102T150405.000000000Z"

const backupSuffix = ".bak"

// A Backup is one kept previous version of a file.
type Backup struct {
	Path string    // the backup file
	Time time.Time // when it was replaced (UTC)
}

// BackupDirFor returns the default backup folder for path:
// ".wsgideck/backups" in the same folder.
func BackupDirFor(path string) string {
	return filepath.Join(filepath.Dir(path), filepath.FromSlash(BackupDirName))
}

// Backups lists the kept versions of path, newest first, using a zero Saver.
func Backups(path string) ([]Backup, error) {
	var s Saver
	return s.Backups(path)
}

// Backups lists the kept versions of path, newest first. A file that was
// never replaced has none (and no error).
func (s *Saver) Backups(path string) ([]Backup, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	dir := s.backupDir(target)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", path, err)
	}
	prefix := filepath.Base(target) + "."
	var out []Backup
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, backupSuffix) {
			continue
		}
		stamp := strings.TrimSuffix(strings.TrimPrefix(name, prefix), backupSuffix)
		t, err := time.Parse(backupStamp, stamp)
		if err != nil {
			continue // another file's backup ("a.conf" vs "a.conf.d"), or not ours
		}
		out = append(out, Backup{Path: filepath.Join(dir, name), Time: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, nil
}

// Restore puts backup b back at path with an atomic save, which in turn
// keeps the version being replaced, so a restore can itself be undone.
func (s *Saver) Restore(path string, b Backup) error {
	data, err := os.ReadFile(b.Path)
	if err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	return s.WriteFile(path, data, 0o644)
}

func (s *Saver) keep() int {
	switch {
	case s.Keep == 0:
		return DefaultKeep
	case s.Keep < 0:
		return 0
	}
	return s.Keep
}

func (s *Saver) backupDir(target string) string {
	if s.BackupDir != nil {
		return s.BackupDir(target)
	}
	return BackupDirFor(target)
}

func (s *Saver) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Saver) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// backup keeps the current content of target in the backup folder. A hard
// link costs nothing and is exactly the old bytes once the rename moves
// the name to the new file; where links are not possible (another file
// system, FAT), the bytes are copied and fsynced.
func (s *Saver) backup(target string) error {
	dir := s.backupDir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t := s.now().UTC()
	for range 100 {
		name := filepath.Join(dir, filepath.Base(target)+"."+t.Format(backupStamp)+backupSuffix)
		err := os.Link(target, name)
		if err == nil {
			return syncDir(dir)
		}
		if errors.Is(err, fs.ErrExist) {
			t = t.Add(time.Nanosecond) // two saves within one clock tick
			continue
		}
		if err := copyFile(target, name); err != nil {
			if errors.Is(err, fs.ErrExist) {
				t = t.Add(time.Nanosecond)
				continue
			}
			return err
		}
		return syncDir(dir)
	}
	return fmt.Errorf("no free backup name in %s", dir)
}

func copyFile(from, to string) (err error) {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(to)
		}
	}()
	if _, err = io.Copy(dst, src); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	return dst.Close()
}

// prune removes all but the newest keep() backups of target. Failures are
// logged, not returned: the save itself has succeeded.
func (s *Saver) prune(target string) {
	list, err := s.Backups(target)
	if err != nil {
		s.logf("atomicfile: %v", err)
		return
	}
	for _, b := range list[min(len(list), s.keep()):] {
		if err := os.Remove(b.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.logf("atomicfile: prune old backup: %v", err)
		}
	}
}
