package deck

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/engine/configgen"
)

// exportField is one production option of the Export form.
type exportField struct {
	label, field, hint string
	get                func(c *configgen.Config) string
	set                func(c *configgen.Config, v string) error
}

func intField(p *int) func(string) error {
	return func(v string) error {
		v = strings.TrimSpace(v)
		if v == "" {
			*p = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("a whole number, or empty for the default")
		}
		*p = n
		return nil
	}
}

func itoaOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

var exportFields = []exportField{
	{"Name", "Name", "names the socket, unit and site",
		func(c *configgen.Config) string { return c.Name },
		func(c *configgen.Config, v string) error { c.Name = strings.TrimSpace(v); return nil }},
	{"Server names", "ServerNames", "host names, separated by spaces",
		func(c *configgen.Config) string { return strings.Join(c.ServerNames, " ") },
		func(c *configgen.Config, v string) error { c.ServerNames = strings.Fields(v); return nil }},
	{"App folder", "Chdir", "absolute, on the server",
		func(c *configgen.Config) string { return c.Chdir },
		func(c *configgen.Config, v string) error { c.Chdir = strings.TrimSpace(v); return nil }},
	{"Virtualenv", "Venv", "on the server; empty: system Python",
		func(c *configgen.Config) string { return c.Venv },
		func(c *configgen.Config, v string) error { c.Venv = strings.TrimSpace(v); return nil }},
	{"Processes", "Processes", "empty: one per CPU core of the server",
		func(c *configgen.Config) string { return itoaOrEmpty(c.Processes) },
		func(c *configgen.Config, v string) error { return intField(&c.Processes)(v) }},
	{"Threads", "Threads", "per process; empty: none",
		func(c *configgen.Config) string { return itoaOrEmpty(c.Threads) },
		func(c *configgen.Config, v string) error { return intField(&c.Threads)(v) }},
	{"Harakiri (s)", "Harakiri", "empty: 30",
		func(c *configgen.Config) string { return itoaOrEmpty(c.Harakiri) },
		func(c *configgen.Config, v string) error { return intField(&c.Harakiri)(v) }},
	{"Max requests", "MaxRequests", "empty: 5000",
		func(c *configgen.Config) string { return itoaOrEmpty(c.MaxRequests) },
		func(c *configgen.Config, v string) error { return intField(&c.MaxRequests)(v) }},
	{"Socket", "Socket", "empty: /run/NAME/uwsgi.sock",
		func(c *configgen.Config) string { return c.Socket },
		func(c *configgen.Config, v string) error { c.Socket = strings.TrimSpace(v); return nil }},
	{"User", "User", "runs uWSGI; empty: www-data",
		func(c *configgen.Config) string { return c.User },
		func(c *configgen.Config, v string) error { c.User = strings.TrimSpace(v); return nil }},
	{"Group", "Group", "owns the socket; nginx's user joins it",
		func(c *configgen.Config) string { return c.Group },
		func(c *configgen.Config, v string) error { c.Group = strings.TrimSpace(v); return nil }},
	{"HTTP port", "HTTPPort", "empty: 80",
		func(c *configgen.Config) string { return itoaOrEmpty(c.HTTPPort) },
		func(c *configgen.Config, v string) error { return intField(&c.HTTPPort)(v) }},
	{"HTTPS port", "HTTPSPort", "empty: 443",
		func(c *configgen.Config) string { return itoaOrEmpty(c.HTTPSPort) },
		func(c *configgen.Config, v string) error { return intField(&c.HTTPSPort)(v) }},
	{"TLS certificate", "TLSCert", "with a key: HTTPS, and HTTP redirects",
		func(c *configgen.Config) string { return c.TLSCert },
		func(c *configgen.Config, v string) error { c.TLSCert = strings.TrimSpace(v); return nil }},
	{"TLS key", "TLSKey", "path on the server",
		func(c *configgen.Config) string { return c.TLSKey },
		func(c *configgen.Config, v string) error { c.TLSKey = strings.TrimSpace(v); return nil }},
}

// exportTab generates the production bundle: options, a preview of every
// file, a check with the real programs, and writing to a folder.
type exportTab struct {
	d       *Deck
	proj    Project
	cfg     configgen.Config
	files   configgen.Files
	loaded  bool
	loading bool

	notes []string // what the project's files could not pass on as is
	// typed holds what the user typed in each field since the project was
	// selected: the project's files are read again each time the tab is
	// shown (they may have been edited and saved meanwhile), and these stay
	// over them. bad holds the fields whose text is not a valid value,
	// with the problem: they block the export, or the bundle would quietly
	// carry the field's previous value.
	typed   map[string]string
	pipSet  *bool
	bad     map[string]string
	checked configgen.Files // the files the results below are for
	notYet  *widget.Label
	items   map[string]*widget.FormItem
	entries map[string]*widget.Entry
	form    *widget.Form
	pip     *widget.Check
	fileSel *widget.Select
	preview *widget.TextGrid
	state   *widget.Label
	results *fyne.Container
	checkB  *widget.Button
	writeB  *widget.Button
	act     *widget.Activity
	root    fyne.CanvasObject
}

func newExportTab(d *Deck) *exportTab {
	e := &exportTab{d: d, items: map[string]*widget.FormItem{}, entries: map[string]*widget.Entry{},
		typed: map[string]string{}, bad: map[string]string{}}
	e.form = widget.NewForm()
	for _, f := range exportFields {
		f := f
		en := widget.NewEntry()
		en.OnChanged = func(v string) {
			if e.loading {
				return
			}
			e.typed[f.field] = v
			e.setField(f, v)
			e.regenerate()
		}
		item := widget.NewFormItem(f.label, en)
		item.HintText = f.hint
		e.items[f.field], e.entries[f.field] = item, en
		e.form.AppendItem(item)
	}
	e.pip = widget.NewCheck("uWSGI from pip", func(on bool) {
		if e.loading {
			return
		}
		e.cfg.PipUWSGI = on
		e.pipSet = &on
		e.regenerate()
	})
	e.form.AppendItem(&widget.FormItem{Text: "uWSGI", Widget: e.pip, HintText: "pip's has Python built in: no plugins line"})

	e.fileSel = widget.NewSelect(nil, func(string) { e.showFile() })
	e.preview = widget.NewTextGrid()
	e.preview.ShowLineNumbers = true
	e.state = widget.NewLabel("")
	e.state.Wrapping = fyne.TextWrapWord
	e.results = container.NewVBox()
	e.act = widget.NewActivity()
	e.act.Hide()
	e.checkB = widget.NewButtonWithIcon("Check with nginx and uWSGI", theme.ConfirmIcon(), e.check)
	e.writeB = widget.NewButtonWithIcon("Write to folder…", theme.FolderOpenIcon(), e.writeDialog)
	e.writeB.Importance = widget.HighImportance

	intro := widget.NewLabel("The production profile: uWSGI on a unix socket under systemd, and an nginx site in front of it, for a Debian or Ubuntu server.")
	intro.Wrapping = fyne.TextWrapWord
	intro.Importance = widget.LowImportance
	left := container.NewVScroll(container.NewPadded(container.NewVBox(intro, e.form)))
	previewBox := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Preview", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, e.fileSel),
		nil, nil, nil, container.NewScroll(e.preview))
	checksHead := widget.NewLabelWithStyle("Checks with the real programs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	e.notYet = widget.NewLabel(notCheckedYet)
	e.notYet.Wrapping = fyne.TextWrapWord
	e.notYet.Importance = widget.LowImportance
	e.results.Add(e.notYet)
	checksBox := container.NewBorder(container.NewVBox(checksHead, container.NewHBox(e.checkB, e.act)), nil, nil, nil,
		container.NewVScroll(e.results))
	right := container.NewVSplit(previewBox, checksBox)
	right.Offset = 0.62
	split := container.NewHSplit(left, right)
	split.Offset = 0.4
	bottom := container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, nil, e.writeB, e.state))
	e.root = container.NewBorder(nil, container.NewPadded(bottom), nil, nil, split)
	return e
}

// Texts of the checks pane before a check of the files on screen.
const (
	notCheckedYet    = "Not checked yet: Check runs nginx -t and uWSGI (in strict mode) on these files."
	changedSinceLast = "The files changed since the last check: Check runs nginx -t and uWSGI (in strict mode) on them again."
)

func (e *exportTab) setProject(p Project) {
	if p != e.proj {
		// What was typed and checked belongs to the previous project.
		e.typed, e.bad, e.pipSet = map[string]string{}, map[string]string{}, nil
		e.checked = nil
		e.setNotChecked(notCheckedYet)
	}
	e.proj, e.loaded = p, false
	if e.d.CurrentTab() == TabExport {
		e.shown()
	}
}

// shown fills the form from the project's files each time the tab comes
// on screen: the files may have changed on the config tabs since. What
// the user typed on this form stays over them.
func (e *exportTab) shown() {
	if e.proj == nil {
		return
	}
	cfg, notes, err := e.proj.ExportConfig()
	if err != nil {
		e.loaded = false
		e.files = nil
		enable(e.checkB, false)
		enable(e.writeB, false)
		e.state.Importance = widget.DangerImportance
		e.state.SetText("The production profile cannot be prepared: " + plainError(err))
		return
	}
	e.cfg, e.loaded, e.notes = cfg, true, notes
	e.loading = true
	for _, f := range exportFields {
		v, ok := e.typed[f.field]
		if ok {
			e.setField(f, v)
		} else {
			v = f.get(&e.cfg)
		}
		if e.entries[f.field].Text != v {
			e.entries[f.field].SetText(v)
		}
	}
	if e.pipSet != nil {
		e.cfg.PipUWSGI = *e.pipSet
	}
	e.pip.SetChecked(e.cfg.PipUWSGI)
	e.loading = false
	e.regenerate()
}

// setField sets field f of the configuration from text v, or notes why v
// is not a value for it.
func (e *exportTab) setField(f exportField, v string) {
	if err := f.set(&e.cfg, v); err != nil {
		e.bad[f.field] = err.Error()
		return
	}
	delete(e.bad, f.field)
}

// setNotChecked empties the checks pane but for msg.
func (e *exportTab) setNotChecked(msg string) {
	e.notYet.SetText(msg)
	if len(e.results.Objects) != 1 || e.results.Objects[0] != e.notYet {
		e.results.Objects = []fyne.CanvasObject{e.notYet}
		e.results.Refresh()
	}
}

// sameFiles reports whether a and b hold the same files with the same
// contents.
func sameFiles(a, b configgen.Files) bool {
	if len(a) != len(b) {
		return false
	}
	for name, data := range a {
		if other, ok := b[name]; !ok || string(other) != string(data) {
			return false
		}
	}
	return true
}

// regenerate renders the bundle and shows problems on their fields.
func (e *exportTab) regenerate() {
	for _, f := range exportFields {
		e.items[f.field].HintText = f.hint
	}
	files, err := configgen.Generate(configgen.Production, e.cfg)
	var ve *configgen.ValidationError
	// A field that holds no valid value comes first: the configuration
	// still has that field's previous value.
	var badDetails []string
	for _, f := range exportFields {
		if msg, ok := e.bad[f.field]; ok {
			e.items[f.field].HintText = "⚠ " + msg
			badDetails = append(badDetails, f.label+": "+msg)
		}
	}
	if !errors.As(err, &ve) && len(badDetails) > 0 {
		ve, err = &configgen.ValidationError{}, nil
	}
	switch {
	case ve != nil:
		details := badDetails
		nFields := len(badDetails)
		for _, fe := range ve.Fields {
			field := strings.SplitN(fe.Field, "[", 2)[0]
			if _, isBad := e.bad[field]; isBad {
				continue // its typed text is the problem, said above
			}
			nFields++
			if it, ok := e.items[field]; ok {
				// A hint does not wrap: under the field goes the problem's
				// first clause, and the whole sentence goes below.
				short, _, _ := strings.Cut(fe.Problem, ": ")
				it.HintText = "⚠ " + short
				details = append(details, exportLabel(field)+": "+fe.Problem)
			} else {
				details = append(details, fe.Error())
			}
		}
		msg := fmt.Sprintf("Fix %d option%s before exporting. %s.", nFields, plural(nFields),
			strings.TrimSuffix(strings.Join(details, "; "), "."))
		e.state.Importance = widget.DangerImportance
		e.state.SetText(msg)
		e.files = nil
		enable(e.checkB, false)
		enable(e.writeB, false)
	case err != nil:
		e.state.Importance = widget.DangerImportance
		e.state.SetText(plainError(err))
		e.files = nil
		enable(e.checkB, false)
		enable(e.writeB, false)
	default:
		if e.checked != nil && !sameFiles(files, e.checked) {
			// The results shown are for other files.
			e.checked = nil
			e.setNotChecked(changedSinceLast)
		}
		e.files = files
		e.state.Importance = widget.MediumImportance
		msg := fmt.Sprintf("%d files: %s.", len(files), strings.Join(files.Names(), ", "))
		if len(e.notes) > 0 {
			msg += " Note: " + strings.Join(e.notes, " ")
		}
		e.state.SetText(msg)
		enable(e.checkB, true)
		enable(e.writeB, true)
		names := files.Names()
		sel := e.fileSel.Selected
		e.fileSel.Options = names
		if !containsString(names, sel) {
			sel = configgen.FileNginxSite
		}
		e.fileSel.SetSelected(sel)
		e.fileSel.Refresh()
	}
	e.form.Refresh()
	e.showFile()
}

// exportLabel is the form's label of an export field.
func exportLabel(field string) string {
	for _, f := range exportFields {
		if f.field == field {
			return f.label
		}
	}
	return field
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (e *exportTab) showFile() {
	if e.files == nil {
		// Without this the preview is a blank pane beside "(Select one)",
		// which reads as broken rather than as waiting for the form.
		if e.fileSel.Selected != "" {
			e.fileSel.ClearSelected() // calls showFile again, with nothing selected
			return
		}
		e.fileSel.Options = nil
		e.fileSel.PlaceHolder = "(no files yet)"
		e.fileSel.Refresh()
		e.preview.ShowLineNumbers = false
		e.preview.SetText("The files appear here once the options on the left are valid:\nsee the message below the form.")
		return
	}
	e.preview.ShowLineNumbers = true
	e.preview.SetText(strings.TrimRight(string(e.files[e.fileSel.Selected]), "\n"))
}

// check runs the real programs on the bundle.
func (e *exportTab) check() {
	files := e.files
	if files == nil {
		return
	}
	e.results.RemoveAll()
	e.act.Show()
	e.act.Start()
	enable(e.checkB, false)
	b := e.d.b
	e.d.goAsync(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		res := b.CheckExport(ctx, files)
		cancel()
		fyne.Do(func() {
			e.act.Stop()
			e.act.Hide()
			enable(e.checkB, e.files != nil)
			if e.files == nil || !sameFiles(files, e.files) {
				// The form changed while the programs ran: these
				// results are not for the files on screen.
				e.setNotChecked(changedSinceLast)
				return
			}
			e.checked = files
			e.showResults(res)
		})
	})
}

func (e *exportTab) showResults(res []ExportCheck) {
	e.results.RemoveAll()
	for _, r := range res {
		var icon fyne.Resource
		head := r.Tool + " on " + r.File + ": "
		if r.Installed && strings.Contains(r.Output, "chdir()") {
			r.Output += "\n(The app folder exists on the server, not here: uWSGI only read the options.)"
		}
		switch {
		case !r.Installed:
			icon = theme.NewWarningThemedResource(theme.WarningIcon())
			head += "not checked"
		case r.OK:
			icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
			head += "passed"
		default:
			icon = theme.NewErrorThemedResource(theme.ErrorIcon())
			head += "FAILED"
		}
		out := widget.NewLabelWithStyle(r.Output, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		out.Wrapping = fyne.TextWrapWord
		out.Importance = widget.LowImportance
		e.results.Add(container.NewBorder(nil, nil, container.NewCenter(widget.NewIcon(icon)), nil,
			container.NewVBox(widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), out)))
	}
}

// writeDialog asks for a folder and writes the bundle there.
func (e *exportTab) writeDialog() {
	if e.files == nil || e.d.win == nil {
		return
	}
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			e.d.showError("Cannot open the folder", err)
			return
		}
		if u == nil {
			return
		}
		e.WriteTo(u.Path())
	}, e.d.win)
}

// WriteTo writes the bundle into dir, atomically, keeping the versions it
// replaces.
func (e *exportTab) WriteTo(dir string) {
	files := e.files
	if files == nil {
		return
	}
	if err := configgen.WriteDir(dir, files, nil); err != nil {
		e.d.showError("The bundle was not written", err)
		return
	}
	e.d.status.show(SevInfo, fmt.Sprintf("Wrote %d files to %s; README.md there lists the deploy steps.", len(files), dir))
}
