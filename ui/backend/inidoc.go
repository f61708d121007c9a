package backend

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// iniDocument is uwsgi.ini: confedit's lossless editor, as the window's
// IniDocument. Set edits one line; every other byte stays.
type iniDocument struct {
	doc       *confedit.INIDoc
	path      string
	listeners diskListeners

	mu sync.Mutex
	// removed remembers where a cleared option's line was, so that
	// clearing a form field and typing a new value puts the line back
	// where it was rather than at the end of the section.
	removed map[string]int
}

var _ deck.IniDocument = (*iniDocument)(nil)

func newIniDocument(doc *confedit.INIDoc) *iniDocument {
	return &iniDocument{doc: doc, path: doc.Path(), removed: map[string]int{}}
}

func (d *iniDocument) Name() string           { return filepath.Base(d.path) }
func (d *iniDocument) Path() string           { return d.path }
func (d *iniDocument) Text() string           { return string(d.doc.Bytes()) }
func (d *iniDocument) OnDiskChange(fn func()) { d.listeners.add(fn) }

// SetText replaces the text (an edit in the Source view). The lines
// remembered for cleared options may be elsewhere in the new text.
func (d *iniDocument) SetText(text string) {
	d.mu.Lock()
	d.removed = map[string]int{}
	d.mu.Unlock()
	d.doc.SetSource([]byte(text))
}
func (d *iniDocument) Dirty() bool { return d.doc.Dirty() }

// Validate checks text as if it were the file, on a scratch document: the
// editor validates what the user typed while the document may change.
func (d *iniDocument) Validate(text string) []deck.Problem {
	scratch, err := confedit.OpenINI(d.path, confedit.INIOptions{})
	if err != nil {
		return []deck.Problem{{Severity: deck.SevError, Message: err.Error()}}
	}
	scratch.SetSource([]byte(text))
	return toProblems(d.path, scratch.Validate())
}

func (d *iniDocument) Diff() string {
	s, err := d.doc.Diff()
	if err != nil {
		return "cannot compare with the file on disk: " + err.Error()
	}
	return s
}

func (d *iniDocument) Save() error      { return saveError(d.path, d.doc.Save()) }
func (d *iniDocument) ForceSave() error { return saveError(d.path, d.doc.ForceSave()) }

func (d *iniDocument) Revert() error {
	d.mu.Lock()
	d.removed = map[string]int{}
	d.mu.Unlock()
	return d.doc.Revert()
}

func (d *iniDocument) Get(key string) (string, bool) {
	e, ok := d.doc.Get(key)
	return e.Value, ok
}

// Set rewrites the value of key's effective line, adds it, or, for an
// empty value, removes that line.
//
// A value typed into a field just cleared goes back on the cleared line,
// even when another line of the option is left (uWSGI binds every socket
// line; workers and processes are one option): the form clears a field
// on its way to a new value (select all, type), and the value must not
// land on the other line, overwriting it.
func (d *iniDocument) Set(key, value string) error {
	if strings.ContainsAny(value, "\n\r") {
		return errors.New(key + ": a value cannot span lines")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.doc.Edit(func(f *confedit.INI) error {
		name := canonical(key)
		if line, ok := d.removed[name]; ok && value != "" {
			delete(d.removed, name)
			if err := f.InsertAt(line, key, value); err == nil {
				return nil
			}
		}
		e, ok := f.Get(key)
		switch {
		case ok && value == "":
			d.removed[e.Name] = e.Line
			return f.RemoveAt(e.Line)
		case ok:
			return f.SetAt(e.Line, value)
		case value == "":
			return nil
		}
		return f.Set(key, value)
	})
}

// canonical resolves an option's aliases ("workers" is "processes"), as
// confedit's Entry.Name does.
func canonical(key string) string {
	key = strings.TrimSpace(key)
	if s, ok := uwsgiini.LookupSpec(key); ok {
		return s.Name
	}
	return key
}
