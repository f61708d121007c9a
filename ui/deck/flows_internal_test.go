package deck

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2/test"
)

// countingDoc is an IniDocument that counts the listeners registered for
// changes on disk (a real document cannot forget one).
type countingDoc struct {
	IniDocument
	path      string
	text      string
	listeners []func()
}

func (c *countingDoc) Name() string              { return "uwsgi.ini" }
func (c *countingDoc) Path() string              { return c.path }
func (c *countingDoc) Text() string              { return c.text }
func (c *countingDoc) Dirty() bool               { return false }
func (c *countingDoc) Validate(string) []Problem { return nil }
func (c *countingDoc) Get(string) (string, bool) { return "", false }
func (c *countingDoc) OnDiskChange(fn func())    { c.listeners = append(c.listeners, fn) }
func (c *countingDoc) fire() {
	for _, fn := range c.listeners {
		fn()
	}
}
func (c *countingDoc) SetText(s string) { c.text = s }

type docProject struct {
	Project
	info ProjectInfo
	doc  *countingDoc
}

func (p *docProject) Info() ProjectInfo         { return p.info }
func (p *docProject) Ini() (IniDocument, error) { return p.doc, nil }

// Switching between two projects many times registers one disk listener
// per document, not one per visit, and the listener still reloads the
// editor once the project is shown again.
func TestFlowConfigTabListensOncePerDocument(t *testing.T) {
	test.NewTempApp(t)
	d := &Deck{busy: map[string]string{}, status: newStatusBar()}
	tab := newIniTab(d)
	a := &docProject{info: ProjectInfo{ID: "a", IniPath: "/a/uwsgi.ini"}, doc: &countingDoc{path: "/a/uwsgi.ini", text: "[uwsgi]\nprocesses = 2\n"}}
	b := &docProject{info: ProjectInfo{ID: "b", IniPath: "/b/uwsgi.ini"}, doc: &countingDoc{path: "/b/uwsgi.ini", text: "[uwsgi]\nprocesses = 3\n"}}
	for i := 0; i < 20; i++ {
		for _, p := range []*docProject{a, b} {
			d.gen++
			tab.setProject(p)
			tab.shown()
		}
	}
	if n := len(a.doc.listeners); n != 1 {
		t.Errorf("project a's document has %d disk listeners after 20 visits, want 1", n)
	}
	// b is on screen; a change on a's disk leaves the editor alone, one on
	// b's shows it.
	a.doc.text = "[uwsgi]\nprocesses = 9\n"
	a.doc.fire()
	if got := tab.editor.Text(); got != b.doc.text {
		t.Errorf("a's change on disk reached the editor showing b: %q", got)
	}
	b.doc.text = "[uwsgi]\nprocesses = 4\n"
	b.doc.fire()
	if got := tab.editor.Text(); got != b.doc.text {
		t.Errorf("b's change on disk did not reach its editor: %q", got)
	}
}

// A save refused for want of permission names the folder and says how to
// fix it.
func TestFlowSaveFailureNamesTheFolder(t *testing.T) {
	err := fmt.Errorf("save uwsgi.ini: %w", &fs.PathError{Op: "open", Path: "/srv/shop/.uwsgi.ini.tmp1", Err: syscall.EACCES})
	got := saveFailure("/srv/shop/uwsgi.ini", err).Error()
	for _, want := range []string{"/srv/shop/uwsgi.ini cannot be written", "its folder /srv/shop", "chmod u+w /srv/shop"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
	other := errors.New("disk full")
	if saveFailure("/srv/shop/uwsgi.ini", other) != other {
		t.Error("another error was reworded")
	}
}
