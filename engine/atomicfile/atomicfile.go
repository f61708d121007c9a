package atomicfile

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// DefaultKeep is how many previous versions of a file a Saver keeps when
// its Keep field is zero.
const DefaultKeep = 5

// Logf is a printf-style logger.
type Logf func(format string, args ...any)

// A Saver writes files atomically and keeps backups. The zero value is
// ready to use: DefaultKeep generations in BackupDirFor(path), the real
// clock, no logging.
type Saver struct {
	// Keep is how many previous versions of each file are kept. Zero means
	// DefaultKeep; a negative value disables backups.
	Keep int

	// BackupDir returns the folder that keeps the backups of path. Nil
	// means BackupDirFor.
	BackupDir func(path string) string

	// Now is the clock that names backups. Nil means time.Now.
	Now func() time.Time

	// Logf reports problems that do not fail the save, such as an old
	// backup that could not be pruned. Nil discards them.
	Logf Logf

	// syncFile flushes a file to disk; tests replace it to inject a
	// failing fsync. Nil means (*os.File).Sync.
	syncFile func(*os.File) error
}

// WriteFile atomically replaces path with data using a zero Saver.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	var s Saver
	return s.WriteFile(path, data, perm)
}

// Write atomically replaces path with what fill writes, using a zero Saver.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) error {
	var s Saver
	return s.Write(path, perm, fill)
}

// ErrReadOnly is the error (wrapped) for a save over a file its owner
// made read-only, or that this process may not write: an atomic save
// replaces the file by a rename, which only needs the folder to be
// writable, so the file itself is checked first.
var ErrReadOnly = errors.New("the file is read-only")

// readOnlyError refuses a save over target (path as the caller named it)
// when the file is read-only: its owner took away the owner's write bit
// (a file made read-only is one its owner does not want changed, even
// root), or the kernel would not let this process open it for writing
// (someone else's file in a folder we may write).
func readOnlyError(path, target string, fi fs.FileInfo) error {
	if fi.IsDir() {
		return nil
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("save %s: %w (mode %04o): make it writable (chmod u+w %s) and save again", path, ErrReadOnly, fi.Mode().Perm(), path)
	}
	if err := canWrite(target); err != nil {
		return fmt.Errorf("save %s: %w for this user (%v; owner %s, mode %04o): ask its owner to let you write it, or save a copy elsewhere", path, ErrReadOnly, err, ownerName(fi), fi.Mode().Perm())
	}
	return nil
}

// WriteFile atomically replaces path with data, keeping the previous
// version as a backup. perm is used only when path does not exist yet;
// an existing file keeps its mode.
func (s *Saver) WriteFile(path string, data []byte, perm fs.FileMode) error {
	return s.Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write atomically replaces path with the bytes fill writes to w. If fill
// returns an error, or any later step fails, path is left exactly as it
// was and no temporary file remains.
func (s *Saver) Write(path string, perm fs.FileMode, fill func(w io.Writer) error) (err error) {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}

	mode := perm.Perm()
	old, statErr := os.Stat(target)
	switch {
	case statErr == nil && old.IsDir():
		return fmt.Errorf("save %s: it is a directory, not a file", path)
	case statErr == nil:
		if err := readOnlyError(path, target, old); err != nil {
			return err
		}
		mode = old.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	case !errors.Is(statErr, fs.ErrNotExist):
		return fmt.Errorf("save %s: %w", path, statErr)
	}

	tmp, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("save %s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				tmp.Close()
			}
			os.Remove(tmpName)
		}
	}()

	sum := sha256.New()
	if err = fill(io.MultiWriter(tmp, sum)); err != nil {
		return fmt.Errorf("save %s: write: %w", path, err)
	}
	if statErr == nil {
		keepOwner(tmp, old) // before Chmod: chown clears setuid bits
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("save %s: set mode %v: %w", path, mode, err)
	}
	if err = s.sync(tmp); err != nil {
		return fmt.Errorf("save %s: fsync: %w", path, err)
	}
	closed = true
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("save %s: close: %w", path, err)
	}

	if statErr == nil && s.keep() > 0 {
		same, cmpErr := sameContent(target, sum.Sum(nil))
		if cmpErr != nil {
			return fmt.Errorf("save %s: read the current version: %w", path, cmpErr)
		}
		if !same {
			if err = s.backup(target); err != nil {
				return fmt.Errorf("save %s: keep the previous version: %w (nothing was changed; free some space or disable backups)", path, err)
			}
		}
	}

	if err = os.Rename(tmpName, target); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save %s: the file is written but fsync of its folder failed: %w", path, err)
	}
	if statErr == nil && s.keep() > 0 {
		s.prune(target)
	}
	return nil
}

// tempInfix sits between the file name and the random digits of a
// temporary file: ".nginx.conf.tmp123456".
const tempInfix = ".tmp"

// IsTemp reports whether name (a base name) looks like one of the
// temporary files Write creates, so a folder watcher can ignore it.
func IsTemp(name string) bool {
	if !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(name, tempInfix)
	if i <= 1 {
		return false
	}
	digits := name[i+len(tempInfix):]
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// resolve follows a symlink at path so the link's target is replaced and
// the link itself survives. A dangling or missing path is used as given.
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		return "", fmt.Errorf("save %s: follow symlink: %w", path, err)
	}
	return target, nil
}

func (s *Saver) sync(f *os.File) error {
	if s.syncFile != nil {
		return s.syncFile(f)
	}
	return f.Sync()
}

// sameContent reports whether the file at path hashes to sum.
func sameContent(path string, sum []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return bytes.Equal(h.Sum(nil), sum), nil
}

// syncDir makes a rename in dir durable. File systems that cannot fsync a
// directory (some network and FUSE mounts) report EINVAL or ENOTSUP; the
// rename has still happened there, so those are not errors.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing; NTFS renames are journaled
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
