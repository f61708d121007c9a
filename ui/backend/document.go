package backend

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// This file adapts engine/confedit's documents to deck.Document. The
// window's documents are confedit's, shared through engine/control's Deck:
// the lossless editors, validation with the engine's and nginx -t's rules,
// atomic saves with backups, and the conflict check against the disk.

// toProblems converts confedit's problems for the file at path: problems
// in other files (an included one) keep their location in the message.
func toProblems(path string, ps []confedit.Problem) []deck.Problem {
	out := make([]deck.Problem, 0, len(ps))
	for _, p := range ps {
		dp := deck.Problem{Message: p.Msg}
		switch p.Severity {
		case confedit.Error:
			dp.Severity = deck.SevError
		case confedit.Warning:
			dp.Severity = deck.SevWarning
		default:
			dp.Severity = deck.SevInfo
		}
		if p.File == "" || filepath.Clean(p.File) == filepath.Clean(path) {
			dp.Line = p.Line
		} else {
			dp.Message = p.String()
		}
		out = append(out, dp)
	}
	return out
}

// saveError turns confedit's save errors into the window's.
func saveError(path string, err error) error {
	var inv *confedit.InvalidError
	if errors.As(err, &inv) {
		return &deck.ProblemsError{File: filepath.Base(path), Problems: toProblems(path, inv.Problems)}
	}
	var conflict *confedit.ConflictError
	if errors.As(err, &conflict) {
		return fmt.Errorf("%s was not saved: %w; revert to take the version on disk, or save anyway to keep your edits", filepath.Base(path), deck.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	return nil
}

// diskListeners are the OnDiskChange callbacks of one document.
type diskListeners struct {
	mu  sync.Mutex
	fns []func()
}

func (l *diskListeners) add(fn func()) {
	l.mu.Lock()
	l.fns = append(l.fns, fn)
	l.mu.Unlock()
}

func (l *diskListeners) fire() {
	l.mu.Lock()
	fns := append([]func(){}, l.fns...)
	l.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
