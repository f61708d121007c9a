package crosscheck

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wsgideck/wsgideck/engine/confedit"
)

// Kind names what a Finding is about, for a UI that groups or filters.
type Kind string

const (
	KindProtocol   Kind = "protocol"    // the pass and the socket speak different protocols
	KindAddress    Kind = "address"     // the pass reaches no socket of the engine
	KindNoSocket   Kind = "no-socket"   // uwsgi.ini has no socket at all
	KindNoPass     Kind = "no-pass"     // nginx.conf passes nothing to the engine
	KindParams     Kind = "params"      // uwsgi_pass/fastcgi_pass without the parameters
	KindBufferSize Kind = "buffer-size" // buffer-size below what nginx may send
	KindStatic     Kind = "static"      // a static folder does not exist
	KindPortBusy   Kind = "port-busy"   // another process holds a port
	KindPortClash  Kind = "port-clash"  // two listeners of the project want one port
	KindResolve    Kind = "resolve"     // a host or upstream name does not resolve
	KindTarget     Kind = "target"      // a pass target nginx cannot use
)

// Location is a line in one of the files.
type Location struct {
	File string // absolute path
	Line int    // 1-based; 0 for the file as a whole (a default value)
}

func (l Location) String() string {
	if l.Line == 0 {
		return l.File
	}
	return fmt.Sprintf("%s:%d", l.File, l.Line)
}

// A Finding is one mismatch between the files.
type Finding struct {
	Severity  confedit.Severity
	Kind      Kind
	Message   string     // names both files and lines (relative to the project folder)
	Locations []Location // every line the message names, nginx.conf's first
	Fixes     []Fix      // ways to resolve it, the preferred one first; may be empty

	// Port and Owners are set for KindPortBusy: the port, and the
	// processes listening on it (empty when they cannot be seen, such as
	// another user's processes without root).
	Port   int
	Owners []Owner
}

// Owner is a process holding a port.
type Owner struct {
	PID  int32
	Name string // the process name ("python3"), "" if unreadable
}

func (o Owner) String() string {
	if o.Name == "" {
		return fmt.Sprintf("pid %d", o.PID)
	}
	return fmt.Sprintf("pid %d (%s)", o.PID, o.Name)
}

func (f Finding) String() string {
	return f.Severity.String() + ": " + f.Message
}

// A Fix resolves a Finding by editing the documents Check read, in
// memory, through engine/confedit's lossless editors. Apply it, then
// review (Diff), Validate and Save the documents; Check again afterwards,
// since line numbers in other findings may have moved.
type Fix struct {
	Summary string // "move port 8080 to 8081 in nginx.conf and uwsgi.ini"
	apply   func() error
}

// Apply makes the edits.
func (f Fix) Apply() error { return f.apply() }

// Report is the result of Check.
type Report struct {
	Findings []Finding
}

// Worst returns the highest severity among the findings that count
// (errors, then warnings), and false when there are none.
func (r *Report) Worst() (confedit.Severity, bool) {
	worst, any := confedit.Info, false
	for _, f := range r.Findings {
		if f.Severity == confedit.Error {
			return confedit.Error, true
		}
		if f.Severity == confedit.Warning {
			worst, any = confedit.Warning, true
		}
	}
	return worst, any
}

// namer spells file paths relative to the project folder.
type namer struct{ dir string }

func (n namer) name(path string) string {
	if rel, err := filepath.Rel(n.dir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}

func (n namer) at(path string, line int) string {
	if line == 0 {
		return n.name(path)
	}
	return fmt.Sprintf("%s:%d", n.name(path), line)
}

// sentence upper-cases the first letter.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
