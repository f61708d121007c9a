package deck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/detect"
)

// addProject asks for a folder, then shows what detection found there.
func (d *Deck) addProject() {
	if d.win == nil {
		return
	}
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			d.showError("Cannot open the folder", err)
			return
		}
		if u != nil {
			d.AddProjectDir(u.Path())
		}
	}, d.win)
}

// AddProjectDir detects what dir holds and shows the result in a dialog
// where the user corrects it before the project is created.
func (d *Deck) AddProjectDir(dir string) {
	d.status.working("Looking at " + dir + "…")
	b := d.b
	d.goAsync(func() {
		res, err := b.Detect(dir)
		pp, ep := b.FreePorts()
		fyne.Do(func() {
			d.status.done()
			if err != nil {
				d.showError("Cannot read "+filepath.Base(dir), err)
				return
			}
			d.status.show(SevInfo, "Detection done: check what it found, then add the project.")
			d.showDetection(dir, res, pp, ep)
		})
	})
}

// AddProject creates a project and selects it.
func (d *Deck) AddProject(np NewProject) { d.addProjectThen(np, nil) }

// addProjectThen is AddProject; retry, when set, shows the Add dialog again
// (with the user's values) after an error.
func (d *Deck) addProjectThen(np NewProject, retry func()) {
	d.run("", "Adding "+np.Name+"…", func(context.Context) error {
		_, err := d.b.AddProject(np)
		return err
	}, func(err error) {
		if err != nil {
			if retry != nil {
				retry()
			}
			d.showError("The project was not added", err)
			return
		}
		d.reloadProjects()
		for _, p := range d.projects {
			if p.Dir == np.Dir || filepath.Clean(p.Dir) == filepath.Clean(np.Dir) {
				d.SelectProject(p.ID)
			}
		}
		d.status.show(SevInfo, "Added "+np.Name+". Press Start to run it.")
	})
}

// appChoice is how an app candidate reads in the dialog.
func appChoice(a detect.App) string {
	s := a.Framework + ": " + a.UWSGIModule()
	if w := a.Where(); w != "" {
		s += "  (" + w + ")"
	}
	if !a.Servable {
		s += "  (cannot be served)"
	}
	return s
}

func (d *Deck) showDetection(dir string, res *detect.Result, proxyPort, enginePort int) {
	name := widget.NewEntry()
	name.SetText(filepath.Base(dir))
	module := widget.NewEntry()
	module.SetPlaceHolder("e.g. wsgi or mysite.wsgi")
	callable := widget.NewEntry()
	callable.SetPlaceHolder("application")
	factory := widget.NewCheck("The callable is a factory: call it to get the app", nil)
	pypath := widget.NewEntry()
	pypath.SetPlaceHolder("the project folder")
	framework := ""

	apps := res.Apps
	var choices []string
	for _, a := range apps {
		choices = append(choices, appChoice(a))
	}
	appNotes := container.NewVBox()
	pick := func(i int) {
		a := apps[i]
		module.SetText(a.Module)
		callable.SetText(a.Callable)
		factory.SetChecked(a.Factory)
		pypath.SetText(a.PythonPath)
		framework = string(a.Kind)
		if a.Kind != detect.KindFlask && a.Kind != detect.KindDjango {
			framework = ""
		}
		appNotes.RemoveAll()
		for _, n := range a.Notes {
			appNotes.Add(noteRow(n))
		}
	}
	appSel := widget.NewSelect(choices, func(s string) {
		for i, c := range choices {
			if c == s {
				pick(i)
			}
		}
	})
	if best, ok := res.Best(); ok {
		appSel.SetSelected(appChoice(best))
	} else if len(apps) > 0 {
		appSel.SetSelected(choices[0])
	}
	if len(apps) == 0 {
		appSel.PlaceHolder = "no WSGI app found: fill in the module below"
		appSel.Disable()
	}

	venvs := []string{"None (use the system Python)"}
	for _, v := range res.Venvs {
		label := v.Dir
		if v.Version != "" {
			label += " (Python " + v.Version + ")"
		}
		if !v.Usable {
			label += " (broken)"
		}
		venvs = append(venvs, label)
	}
	venvSel := widget.NewSelect(venvs, nil)
	venvSel.SetSelectedIndex(0)
	if v, ok := res.Venv(); ok {
		for i, x := range res.Venvs {
			if x.Dir == v.Dir {
				venvSel.SetSelectedIndex(i + 1)
			}
		}
	}

	static := widget.NewMultiLineEntry()
	static.SetPlaceHolder("/static/ static/")
	static.SetMinRowsVisible(2)
	if best, ok := res.Best(); ok {
		var lines []string
		for _, s := range best.Static {
			lines = append(lines, s.URL+" "+s.Dir)
		}
		static.SetText(strings.Join(lines, "\n"))
	}
	pport := widget.NewEntry()
	pport.SetText(strconv.Itoa(proxyPort))
	eport := widget.NewEntry()
	eport.SetText(strconv.Itoa(enginePort))

	// Files of the folder's own that generating would replace: the user
	// is told before, not after.
	var found []string
	for _, f := range []string{configgen.FileUWSGIIni, configgen.FileNginxConf} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			found = append(found, f)
		}
	}
	replaced := widget.NewLabel("")
	replaced.Importance = widget.WarningImportance
	replaced.Wrapping = fyne.TextWrapWord
	warnReplaced := func(generate bool) {
		if !generate || len(found) == 0 {
			replaced.Hide()
			return
		}
		what := "The folder's " + strings.Join(found, " and ") + " will be replaced by a generated one"
		if len(found) > 1 {
			what = "The folder's " + strings.Join(found, " and ") + " will be replaced by generated ones"
		}
		replaced.SetText(what + "; the current version is kept in .wsgideck/backups.")
		replaced.Show()
	}
	existing := widget.NewCheck("Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)", func(on bool) { warnReplaced(!on) })
	if len(found) == 2 {
		existing.SetChecked(true)
	} else {
		existing.Hide()
	}
	warnReplaced(!existing.Checked)

	notes := container.NewVBox()
	for _, n := range res.Notes {
		notes.Add(noteRow(n))
	}
	if len(res.Notes) == 0 && len(apps) > 0 {
		notes.Add(widget.NewLabel("Detection had no doubts."))
	}

	form := widget.NewForm(
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Detected app", appSel),
		widget.NewFormItem("Module", module),
		widget.NewFormItem("Callable", callable),
		widget.NewFormItem("", factory),
		widget.NewFormItem("Python path", pypath),
		widget.NewFormItem("Virtualenv", venvSel),
		&widget.FormItem{Text: "Static files", Widget: static, HintText: "one per line: URL prefix, then folder"},
		&widget.FormItem{Text: "Proxy port", Widget: pport, HintText: "the browser address: http://127.0.0.1:PORT/"},
		&widget.FormItem{Text: "Engine port", Widget: eport, HintText: "the uwsgi socket the proxy passes requests to"},
		widget.NewFormItem("", existing),
		widget.NewFormItem("", replaced),
	)
	folder := widget.NewLabel(dir)
	folder.Importance = widget.LowImportance
	folder.Truncation = fyne.TextTruncateEllipsis
	content := container.NewVScroll(container.NewVBox(folder, form, appNotes,
		widget.NewLabelWithStyle("What detection found", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), notes))

	collect := func() (NewProject, error) {
		np := NewProject{
			Dir: dir, Name: strings.TrimSpace(name.Text), Framework: framework,
			App:        configgen.App{Module: strings.TrimSpace(module.Text), Callable: strings.TrimSpace(callable.Text), Factory: factory.Checked},
			PythonPath: strings.TrimSpace(pypath.Text), UseExisting: existing.Visible() && existing.Checked,
		}
		if np.Name == "" {
			return np, errors.New("the Name field is empty: type the name the project list shows")
		}
		// uWSGI's own spelling, module = wsgi:application, typed whole
		// into the Module field.
		if mod, call, ok := strings.Cut(np.App.Module, ":"); ok {
			np.App.Module, np.App.Callable = strings.TrimSpace(mod), strings.TrimSpace(call)
			np.App.Factory = strings.HasSuffix(np.App.Callable, "()")
			np.App.Callable = strings.TrimSuffix(np.App.Callable, "()")
			module.SetText(np.App.Module)
			callable.SetText(np.App.Callable)
			factory.SetChecked(np.App.Factory)
		}
		if m := np.App.Module; m != "" && !dottedName.MatchString(m) {
			return np, fmt.Errorf("Module %q is not a Python module name: write it as package.module, e.g. wsgi or mysite.wsgi", m)
		}
		if c := np.App.Callable; c != "" && !pyName.MatchString(c) {
			return np, fmt.Errorf("Callable %q is not a Python name: write the name of the app object, e.g. application or app (tick the factory box for create_app)", c)
		}
		if i := venvSel.SelectedIndex(); i > 0 {
			np.Venv = res.Venvs[i-1].Dir
		}
		for i, line := range strings.Split(static.Text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			// Spaces or tabs between the two, as in uwsgi.ini's static-map
			// written out; a folder with a space in it is not supported.
			f := strings.Fields(line)
			if len(f) != 2 {
				return np, fmt.Errorf("Static files, line %d: %q is not a URL prefix and a folder; write the prefix, a space, then the folder: /static/ static/", i+1, line)
			}
			np.Static = append(np.Static, configgen.StaticMap{URL: f[0], Dir: f[1]})
		}
		var err error
		if np.ProxyPort, err = portField("Proxy port", pport.Text); err != nil {
			return np, err
		}
		if np.EnginePort, err = portField("Engine port", eport.Text); err != nil {
			return np, err
		}
		if np.ProxyPort == np.EnginePort {
			return np, fmt.Errorf("Proxy port and Engine port are both %d: each needs a port of its own", np.ProxyPort)
		}
		return np, nil
	}
	// The dialog comes back with the user's values after any error, so
	// that a typo does not cost them their corrections.
	var open func()
	submit := func(ok bool) {
		if !ok {
			return
		}
		np, err := collect()
		if err != nil {
			open()
			d.showError("The project was not added", err)
			return
		}
		d.addProjectThen(np, open)
	}
	open = func() {
		dlg := dialog.NewCustomConfirm("Add a project", "Add project", "Cancel", content, submit, d.win)
		dlg.Resize(fyne.NewSize(720, 620))
		dlg.Show()
	}
	open()
}

var (
	pyName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dottedName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

// portField reads a port number the user typed in the field named label.
func portField(label, text string) (int, error) {
	text = strings.TrimSpace(text)
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s %q is not a port: type a number from 1 to 65535", label, text)
	}
	return n, nil
}

// noteRow shows one detection note with its level.
func noteRow(n detect.Note) fyne.CanvasObject {
	var icon fyne.Resource
	switch n.Level {
	case detect.Problem:
		icon = theme.NewErrorThemedResource(theme.ErrorIcon())
	case detect.Unsure:
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	default:
		icon = theme.InfoIcon()
	}
	text := n.Message
	for _, e := range n.Evidence {
		text += "\n    " + e.String()
	}
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, l)
}
