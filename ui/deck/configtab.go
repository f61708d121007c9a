package deck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/editor"
)

// View names of a config tab.
const (
	ViewForm   = "Form"
	ViewSource = "Source"
)

// formView is the Form view of one kind of config file.
type formView interface {
	object() fyne.CanvasObject
	// load rebuilds the form from the document's current text.
	load(doc Document)
	// outdated reports, once, whether a field's edit left the document
	// saying something the form does not show (a cleared field with
	// another line of its option left); the form is rebuilt when it is
	// next shown, not while the user types in it.
	outdated() bool
}

// configTab edits one config file, uwsgi.ini or nginx.conf, in two views
// over the same Document: a form of the common settings and the source.
// Both edit the document's text; the source editor validates while typing,
// and Save validates again before writing.
type configTab struct {
	d      *Deck
	tier   Tier // what Apply reloads
	name   string
	open   func(Project) (Document, error)
	proj   Project
	doc    Document
	loaded bool

	editor   *editor.Editor
	form     formView
	view     string
	formB    *widget.Button
	sourceB  *widget.Button
	path     *widget.Label
	dirty    *widget.Label
	problems *widget.Label
	toSource *widget.Button
	banner   *fyne.Container
	saveB    *widget.Button
	applyB   *widget.Button
	revertB  *widget.Button
	diffB    *widget.Button
	body     *fyne.Container
	errLabel *widget.Label
	root     fyne.CanvasObject

	formStale bool // the source changed since the form was built
	// watched holds the documents this tab listens to for changes on
	// disk, with their project's id.
	watched map[Document]string
}

func newConfigTab(d *Deck, name string, tier Tier, form formView, open func(Project) (Document, error)) *configTab {
	t := &configTab{d: d, name: name, tier: tier, form: form, open: open, view: ViewForm, watched: map[Document]string{}}
	t.editor = editor.New()
	t.editor.OnChanged = t.sourceEdited
	t.editor.OnChecked = t.checked
	t.formB = widget.NewButton(ViewForm, func() { t.SetView(ViewForm) })
	t.sourceB = widget.NewButton(ViewSource, func() { t.SetView(ViewSource) })
	t.path = widget.NewLabel("")
	t.path.Importance = widget.LowImportance
	t.path.Truncation = fyne.TextTruncateEllipsis
	t.dirty = widget.NewLabel("")
	t.dirty.Importance = widget.WarningImportance
	t.problems = widget.NewLabel("")
	t.problems.Importance = widget.DangerImportance
	t.problems.Wrapping = fyne.TextWrapWord
	t.toSource = widget.NewButton("Show in source", func() {
		t.SetView(ViewSource)
		if ps := t.editor.Problems(); len(ps) > 0 {
			t.editor.GoToLine(ps[0].Line)
		}
	})
	t.toSource.Importance = widget.LowImportance
	t.banner = container.NewVBox()
	t.saveB = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { t.Save(false) })
	t.applyB = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), func() { t.Save(true) })
	t.applyB.Importance = widget.HighImportance
	t.revertB = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), t.Revert)
	t.diffB = widget.NewButtonWithIcon("Changes", theme.ListIcon(), t.ShowDiff)
	t.errLabel = widget.NewLabel("")
	t.errLabel.Wrapping = fyne.TextWrapWord

	views := container.New(&joinLayout{}, t.formB, t.sourceB)
	actions := container.NewHBox(t.dirty, t.diffB, t.revertB, t.saveB, t.applyB)
	top := container.NewBorder(nil, nil, views, actions, t.path)
	problemRow := container.NewBorder(nil, nil, nil, t.toSource, t.problems)
	t.body = container.NewStack()
	t.root = container.NewBorder(container.NewVBox(container.NewPadded(top), t.banner, problemRow, widget.NewSeparator()), nil, nil, nil, t.body)
	t.SetView(ViewForm)
	t.updateState()
	return t
}

func newIniTab(d *Deck) *configTab {
	f := newIniForm()
	t := newConfigTab(d, "uwsgi.ini", Engine, f, func(p Project) (Document, error) { return p.Ini() })
	f.edited = t.formEdited
	return t
}

func newNginxTab(d *Deck) *configTab {
	f := newNginxForm()
	t := newConfigTab(d, "nginx.conf", Proxy, f, func(p Project) (Document, error) { return p.Nginx() })
	f.edited = t.formEdited
	f.toSource = func(line int) {
		t.SetView(ViewSource)
		if line > 0 {
			t.editor.GoToLine(line)
		}
	}
	return t
}

// Editor returns the source editor, for tests.
func (t *configTab) Editor() *editor.Editor { return t.editor }

// Document returns the document being edited, or nil.
func (t *configTab) Document() Document { return t.doc }

func (t *configTab) setProject(p Project) {
	t.proj, t.doc, t.loaded = p, nil, false
	t.banner.RemoveAll()
	if p != nil {
		t.path.SetText(t.pathOf(p))
	}
	if t.d.CurrentTab() == t.name {
		t.shown()
	}
}

func (t *configTab) pathOf(p Project) string {
	if t.tier == Engine {
		return p.Info().IniPath
	}
	return p.Info().NginxPath
}

// shown loads the document the first time the tab is shown.
func (t *configTab) shown() {
	if t.loaded && t.formStale && t.view == ViewForm {
		t.SetView(ViewForm) // rebuilt from the document, see formView.outdated
		return
	}
	if t.loaded || t.proj == nil {
		return
	}
	doc, err := t.open(t.proj)
	if err != nil {
		t.doc = nil
		msg, gone := t.openFailure(err)
		t.errLabel.SetText(msg)
		buttons := container.NewHBox(widget.NewButtonWithIcon("Open again", theme.ViewRefreshIcon(), t.shown))
		if gone {
			gen := widget.NewButtonWithIcon("Generate a new "+t.name, theme.DocumentCreateIcon(), t.generate)
			gen.Importance = widget.HighImportance
			buttons.Add(gen)
		}
		t.body.Objects = []fyne.CanvasObject{container.NewPadded(container.NewVBox(t.errLabel, buttons))}
		t.body.Refresh()
		t.updateState()
		return
	}
	t.doc, t.loaded = doc, true
	// A project's document is the same every time it is opened, and it
	// cannot forget a listener: listen once per document, not once per
	// visit, or every switch back to a project would add one more.
	if _, ok := t.watched[doc]; !ok {
		t.watched[doc] = t.proj.Info().ID
		doc.OnDiskChange(func() {
			fyne.Do(func() {
				if t.doc == doc {
					t.diskChanged()
				}
			})
		})
	}
	t.editor.Validate = func(text string) []editor.Problem { return toEditorProblems(doc.Validate(text)) }
	t.reloadFromDoc()
	t.SetView(t.view)
}

// forget drops what the tab keeps of project id, removed.
func (t *configTab) forget(id string) {
	for doc, pid := range t.watched {
		if pid == id {
			delete(t.watched, doc)
		}
	}
}

// openFailure says why the file cannot be opened, and what to do; gone
// is true when the tab's own file is missing, which Generate can put
// back. A deleted folder shows as a missing file; the other config file
// is not this tab's business (it opens on its own).
func (t *configTab) openFailure(err error) (msg string, gone bool) {
	info := t.proj.Info()
	if g := folderGone(info); g != nil {
		return plainError(g), false
	}
	path := t.pathOf(t.proj)
	if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
		return fmt.Sprintf("%s cannot be opened: %s is missing (deleted or moved?). Put it back and press Open again, or press Generate a new %s to write a fresh one from the project's settings (the %s tab is not affected).",
			t.name, path, t.name, t.other()), true
	}
	return fmt.Sprintf("%s cannot be opened: %s", t.name, plainError(err)), false
}

// other names the other config file.
func (t *configTab) other() string {
	if t.tier == Engine {
		return "nginx.conf"
	}
	return "uwsgi.ini"
}

// generate writes a new file in place of the missing one and opens it.
func (t *configTab) generate() {
	p := t.proj
	if p == nil {
		return
	}
	if err := p.GenerateConfig(t.tier); err != nil {
		t.d.showError(t.name+" was not generated", err)
		return
	}
	t.d.status.show(SevInfo, "Generated a new "+t.name+" from the project's settings.")
	t.shown()
	// The other tab may hold its file opened alone; with both files back
	// it reopens the pair, unless it has edits, which stay where they are.
	if o := t.d.otherConfigTab(t); o != nil && o.proj == p && (o.doc == nil || !o.doc.Dirty()) {
		o.setProject(p)
	}
}

// reloadFromDoc shows the document's text in both views (after a revert,
// a fix, a reload from disk).
func (t *configTab) reloadFromDoc() {
	if t.doc == nil {
		return
	}
	t.editor.SetText(t.doc.Text())
	t.editor.Check()
	t.form.load(t.doc)
	t.formStale = false
	t.updateState()
}

func toEditorProblems(ps []Problem) []editor.Problem {
	out := make([]editor.Problem, 0, len(ps))
	for _, p := range ps {
		sev := editor.Error
		switch p.Severity {
		case SevWarning:
			sev = editor.Warning
		case SevInfo:
			sev = editor.Info
		}
		out = append(out, editor.Problem{Line: p.Line, Col: p.Col, Severity: sev, Message: p.Message})
	}
	return out
}

// View returns the view on screen.
func (t *configTab) View() string { return t.view }

// SetView switches between the Form and Source views.
func (t *configTab) SetView(v string) {
	t.view = v
	if v == ViewSource {
		t.formB.Importance, t.sourceB.Importance = widget.MediumImportance, widget.HighImportance
	} else {
		t.formB.Importance, t.sourceB.Importance = widget.HighImportance, widget.MediumImportance
		if t.formStale && t.doc != nil {
			t.form.load(t.doc)
			t.formStale = false
		}
	}
	t.formB.Refresh()
	t.sourceB.Refresh()
	if t.doc == nil {
		return
	}
	if v == ViewSource {
		t.body.Objects = []fyne.CanvasObject{t.editor}
	} else {
		t.body.Objects = []fyne.CanvasObject{t.form.object()}
	}
	t.body.Refresh()
	t.updateState()
}

// sourceEdited: the user typed in the source view.
func (t *configTab) sourceEdited(text string) {
	if t.doc == nil {
		return
	}
	t.doc.SetText(text)
	t.formStale = true
	t.updateState()
}

// formEdited: a form field changed the document.
func (t *configTab) formEdited() {
	if t.doc == nil {
		return
	}
	t.editor.SetText(t.doc.Text())
	if t.form.outdated() {
		t.formStale = true
	}
	t.updateState()
}

func (t *configTab) checked([]editor.Problem) { t.updateState() }

func (t *configTab) updateState() {
	hasDoc := t.doc != nil
	dirty := hasDoc && t.doc.Dirty()
	if dirty {
		t.dirty.SetText("● unsaved changes")
		t.dirty.Show()
	} else {
		t.dirty.Hide()
	}
	enable(t.saveB, dirty)
	enable(t.revertB, dirty)
	enable(t.diffB, dirty)
	enable(t.applyB, hasDoc)
	var errs []editor.Problem
	for _, p := range t.editor.Problems() {
		if p.Severity == editor.Error {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 && t.view == ViewForm {
		msg := errs[0].String()
		if len(errs) > 1 {
			msg = fmt.Sprintf("%s (and %d more)", msg, len(errs)-1)
		}
		t.problems.SetText(t.name + ", " + msg)
		t.problems.Show()
		t.toSource.Show()
	} else {
		t.problems.Hide()
		t.toSource.Hide()
	}
}

// Save validates, shows the changes against the file on disk, and saves
// when confirmed; apply also reloads the running server.
func (t *configTab) Save(apply bool) {
	d := t.d
	if t.doc == nil {
		return
	}
	ps := t.editor.Check()
	var errs []string
	firstLine := 0
	for _, p := range ps {
		if p.Severity == editor.Error {
			errs = append(errs, p.String())
			if firstLine == 0 {
				firstLine = p.Line
			}
		}
	}
	if len(errs) > 0 {
		t.SetView(ViewSource)
		if firstLine > 0 {
			t.editor.GoToLine(firstLine)
		}
		d.status.show(SevError, t.name+" was not saved: "+errs[0])
		d.showError(t.name+" was not saved", errors.New("Fix these first:\n\n"+strings.Join(errs, "\n")))
		return
	}
	diff := t.doc.Diff()
	if diff == "" {
		if apply {
			t.applySaved()
		} else {
			d.status.show(SevInfo, t.name+" has no changes to save.")
		}
		return
	}
	if err := writable(t.doc.Path()); err != nil {
		d.status.show(SevError, t.name+" was not saved: "+plainError(err))
		d.showError(t.name+" was not saved", err)
		return
	}
	verb := "Save"
	if apply {
		verb = "Save and apply"
	}
	confirm := func() {
		err := writable(t.doc.Path())
		if err == nil {
			err = t.doc.Save()
		}
		if err != nil {
			if errors.Is(err, ErrConflict) && d.win != nil {
				t.confirmOverwrite(apply)
				return
			}
			err = saveFailure(t.doc.Path(), err)
			d.status.show(SevError, t.name+" was not saved: "+plainError(err))
			d.showError(t.name+" was not saved", err)
			return
		}
		t.updateState()
		d.status.show(SevInfo, "Saved "+filepath.Base(t.doc.Path())+"; the previous version is kept in .wsgideck/backups.")
		if apply {
			t.applySaved()
		}
	}
	if d.win == nil {
		confirm()
		return
	}
	dlg := dialog.NewCustomConfirm(verb+" "+t.name+"?", verb, "Cancel", diffView(diff), func(ok bool) {
		if ok {
			confirm()
		}
	}, d.win)
	dlg.Resize(fyne.NewSize(760, 480))
	dlg.Show()
}

// confirmOverwrite asks before saving over a file that changed on disk.
func (t *configTab) confirmOverwrite(apply bool) {
	dialog.ShowConfirm(t.name+" changed on disk",
		"Someone changed "+t.name+" outside wsgideck since you opened it.\nSave your version over theirs? (Theirs is kept in .wsgideck/backups.)",
		func(ok bool) {
			if !ok {
				return
			}
			err := writable(t.doc.Path())
			if err == nil {
				err = t.doc.ForceSave()
			}
			if err != nil {
				t.d.showError(t.name+" was not saved", saveFailure(t.doc.Path(), err))
				return
			}
			t.banner.RemoveAll()
			t.updateState()
			t.d.status.show(SevInfo, "Saved "+t.name+" over the version on disk (kept in .wsgideck/backups).")
			if apply {
				t.applySaved()
			}
		}, t.d.win)
}

// applySaved reloads the tier that reads this file, if it runs.
func (t *configTab) applySaved() {
	s := t.d.Snapshot()
	st := s.Engine.State
	if t.tier == Proxy {
		st = s.Proxy.State
	}
	if st != Running && st != Degraded {
		t.d.status.show(SevInfo, t.name+" is saved; the "+t.tier.String()+" is not running, so there is nothing to reload.")
		return
	}
	t.d.Reload(t.tier)
}

// ShowDiff shows the unsaved changes.
func (t *configTab) ShowDiff() {
	if t.doc == nil || t.d.win == nil {
		return
	}
	diff := t.doc.Diff()
	if diff == "" {
		diff = "No changes: the text is the same as the file on disk."
	}
	dlg := dialog.NewCustom("Changes to "+t.name+" (not saved yet)", "Close", diffView(diff), t.d.win)
	dlg.Resize(fyne.NewSize(760, 480))
	dlg.Show()
}

// Revert drops the unsaved edits, after asking.
func (t *configTab) Revert() {
	if t.doc == nil || !t.doc.Dirty() {
		return
	}
	revert := func() {
		if err := t.doc.Revert(); err != nil {
			t.d.showError("Revert failed", err)
			return
		}
		t.reloadFromDoc()
		t.d.status.show(SevInfo, t.name+": edits dropped; showing the file on disk.")
	}
	if t.d.win == nil {
		revert()
		return
	}
	dialog.ShowConfirm("Drop your edits to "+t.name+"?", "The editor goes back to the file on disk.", func(ok bool) {
		if ok {
			revert()
		}
	}, t.d.win)
}

// diskChanged: the file changed outside the app. A document without
// edits has already reloaded itself.
func (t *configTab) diskChanged() {
	if !t.doc.Dirty() {
		t.reloadFromDoc()
		t.d.status.show(SevInfo, t.name+" changed on disk; showing the new version.")
		return
	}
	msg := widget.NewLabel(t.name + " changed on disk while you have unsaved edits.")
	msg.Importance = widget.WarningImportance
	load := widget.NewButton("Load the file from disk", func() {
		t.banner.RemoveAll()
		if err := t.doc.Revert(); err == nil {
			t.reloadFromDoc()
		}
	})
	keep := widget.NewButton("Keep my edits", func() { t.banner.RemoveAll() })
	t.banner.RemoveAll()
	t.banner.Add(container.NewPadded(container.NewBorder(nil, nil, widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon())),
		container.NewHBox(load, keep), msg)))
}

// writable returns why the file at path must not be saved over, or nil.
// The atomic save renames a new file over the old one, which needs only
// its folder to be writable: without this check a file the user made
// read-only would be replaced as if it were not.
func writable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // saving creates it, or says what is wrong
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%s is read-only, so wsgideck leaves it as it is. Make it writable (chmod u+w %s), then save again; your edits are kept until then", path, path)
	}
	return nil
}

// saveFailure words a failed save: a folder the user may not write to is
// named, with the way out.
func saveFailure(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		dir := filepath.Dir(path)
		return fmt.Errorf("%s cannot be written: you may not write in its folder %s (permission denied). Make the folder writable (chmod u+w %s), then save again; your edits are kept until then", path, dir, dir)
	}
	return err
}

// diffView shows a unified diff, coloured by line.
func diffView(diff string) fyne.CanvasObject {
	g := widget.NewTextGrid()
	g.ShowLineNumbers = false
	g.SetText(strings.TrimRight(diff, "\n"))
	mono := fyne.TextStyle{Monospace: true}
	add := &widget.CustomTextGridStyle{FGColor: theme.Color(theme.ColorNameSuccess), TextStyle: mono}
	del := &widget.CustomTextGridStyle{FGColor: theme.Color(theme.ColorNameError), TextStyle: mono}
	hunk := &widget.CustomTextGridStyle{FGColor: theme.Color(theme.ColorNamePrimary), TextStyle: mono}
	for i, line := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			g.SetRowStyle(i, &widget.CustomTextGridStyle{TextStyle: fyne.TextStyle{Bold: true, Monospace: true}})
		case strings.HasPrefix(line, "+"):
			g.SetRowStyle(i, add)
		case strings.HasPrefix(line, "-"):
			g.SetRowStyle(i, del)
		case strings.HasPrefix(line, "@@"):
			g.SetRowStyle(i, hunk)
		}
	}
	return container.NewScroll(g)
}

// otherConfigTab is the config tab that is not t.
func (d *Deck) otherConfigTab(t *configTab) *configTab {
	if t == d.ini {
		return d.ngx
	}
	return d.ini
}

// configMissing says which config file tier t reads is missing from disk,
// so that the action ("start") cannot be done, and how to get the file
// back; or it returns nil: the engine's own error would
// only say "file does not exist".
func configMissing(p ProjectInfo, t Tier, action string) error {
	if p.Dir == "" {
		return nil
	}
	check := []struct{ path, name string }{{p.IniPath, "uwsgi.ini"}, {p.NginxPath, "nginx.conf"}}
	switch t {
	case Engine:
		check = check[:1]
	case Proxy:
		check = check[1:]
	}
	for _, c := range check {
		if c.path == "" {
			continue
		}
		if _, err := os.Stat(c.path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot %s %s: its %s, %s, is missing (deleted or moved?). Put it back, or press Generate a new %s on the %s tab", action, p.Name, c.name, c.path, c.name, c.name)
		}
	}
	return nil
}
