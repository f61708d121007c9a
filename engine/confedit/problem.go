package confedit

import (
	"fmt"
	"strings"
)

// Severity grades a Problem.
type Severity int

const (
	// Error stops the file from being saved: the real server would refuse it.
	Error Severity = iota
	// Warning is accepted, but worth telling the user (an unknown uWSGI
	// option, a pass to an address nothing serves).
	Warning
	// Info is neither: an option that is valid for the real server but
	// that wsgideck ignores as meaningless here (plugins, uid) or does not
	// act on yet, or an nginx directive the proxy does not act on. It
	// never changes a check's outcome.
	Info
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return "error"
}

// A Problem is one validation finding, located in a file.
type Problem struct {
	Severity Severity
	File     string // the file's path
	Line     int    // 1-based; 0 when the problem is about the whole file
	Msg      string // what is wrong and how to fix it
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Severity, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Severity, p.Msg)
}

// Errors returns the error-severity problems of ps.
func Errors(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Severity == Error {
			out = append(out, p)
		}
	}
	return out
}

// InvalidError is what Save returns for a document that does not
// validate: nothing was written.
type InvalidError struct {
	Path     string
	Problems []Problem // the errors (warnings do not stop a save)
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "not saving %s: it has %d error(s); fix them first:", e.Path, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ConflictError is what Save returns when the file changed on disk since
// the document loaded or last saved it: saving would throw those changes
// away. Revert takes the disk's version; ForceSave keeps the edits.
type ConflictError struct {
	Path string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("not saving %s: it was changed outside wsgideck since it was opened; review the difference, then revert to the file's version or save anyway", e.Path)
}
