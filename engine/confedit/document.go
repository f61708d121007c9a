package confedit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Document is a config file (with the files it includes, for nginx) as an
// editor holds it. INIDoc and NginxDoc implement it.
type Document interface {
	// Path is the main file.
	Path() string
	// Paths lists every file the document reads, the main file first.
	Paths() []string
	// Dirty reports unsaved edits.
	Dirty() bool
	// Validate lists every problem, errors first in file order.
	Validate() []Problem
	// Save validates, then writes the changed files atomically, each
	// replaced version kept as a backup. It writes nothing when there is
	// an error (*InvalidError) or a file changed on disk since it was
	// loaded (*ConflictError).
	Save() error
	// ForceSave is Save without the conflict check: the edits win.
	ForceSave() error
	// Diff is the unified diff from the files on disk to the edited ones.
	Diff() (string, error)
	// Revert discards the edits and reloads the files from disk.
	Revert() error
	// Refresh compares the files on disk with what the document last
	// loaded or saved, and reloads them when it has no unsaved edits.
	Refresh() (Refreshed, error)
}

var (
	_ Document = (*INIDoc)(nil)
	_ Document = (*NginxDoc)(nil)
)

// DiskState is what Refresh found.
type DiskState int

const (
	// Unchanged: the files on disk hold what the document last loaded or
	// saved (its own save, or a touch, changes nothing).
	Unchanged DiskState = iota
	// Reloaded: a file changed on disk and the document, which had no
	// unsaved edits, now holds the new content.
	Reloaded
	// Conflict: a file changed on disk while the document has unsaved
	// edits; the document keeps them. Revert takes the disk's version,
	// ForceSave the edits.
	Conflict
	// Removed: the main file is gone from disk. The document keeps its
	// content, now unsaved, so Save puts the file back.
	Removed
)

func (s DiskState) String() string {
	switch s {
	case Unchanged:
		return "unchanged"
	case Reloaded:
		return "reloaded"
	case Conflict:
		return "conflict"
	case Removed:
		return "removed"
	}
	return "DiskState(?)"
}

// Refreshed is the result of Refresh.
type Refreshed struct {
	State DiskState
	Paths []string // the files whose content on disk changed
}

// readDisk reads path; a missing file is (nil, false, nil).
func readDisk(path string) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// displayName names path in a diff: relative to dir when inside it.
func displayName(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}
