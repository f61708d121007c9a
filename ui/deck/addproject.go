package deck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
func (d *Deck) AddProject(np NewProject) { d.addProjectThen(np, nil, nil) }

// addProjectThen is AddProject; retry, when set, shows the Add dialog again
// (with the user's values) after an error.
//
// check, when set, runs first on the same goroutine: the dialog's check
// of the folder, which may ask the project's Python whether the module is
// installed (a process start), so it stays off the Fyne goroutine.
func (d *Deck) addProjectThen(np NewProject, retry func(), check func() error) {
	d.run("", "Adding "+np.Name+"…", func(context.Context) error {
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
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
	static := widget.NewMultiLineEntry()
	static.SetPlaceHolder("/static/ static/")
	static.SetMinRowsVisible(2)

	apps := res.Apps
	var choices []string
	for _, a := range apps {
		choices = append(choices, appChoice(a))
	}
	// The framework starts as the picked app's; the user corrects it when
	// detection took the app for another kind. Choosing one fills in the
	// static folders that framework's app serves, when none are set.
	picking := false
	framework := widget.NewSelect(frameworkNames, func(name string) {
		if picking {
			return
		}
		if a, ok := firstOfKind(apps, frameworkKind(name)); ok && strings.TrimSpace(static.Text) == "" {
			static.SetText(staticText(a))
		}
	})
	picking = true
	framework.SetSelected(frameworkOf(detect.KindWSGI))
	picking = false
	appNotes := container.NewVBox()
	pick := func(i int) {
		a := apps[i]
		module.SetText(a.Module)
		callable.SetText(a.Callable)
		factory.SetChecked(a.Factory)
		pypath.SetText(a.PythonPath)
		picking = true
		framework.SetSelected(frameworkOf(a.Kind))
		picking = false
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

	if best, ok := res.Best(); ok {
		static.SetText(staticText(best))
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
	// With the folder's own files nothing is generated, so the fields
	// that only feed the generated files are disabled rather than left
	// to be edited for nothing; the app is the one the files name.
	generated := []fyne.Disableable{appSel, module, callable, factory, pypath, venvSel, static, pport, eport}
	useOwn := func(on bool) {
		warnReplaced(!on)
		for _, w := range generated {
			if on {
				w.Disable()
			} else {
				w.Enable()
			}
		}
		if !on && len(apps) == 0 {
			appSel.Disable()
		}
	}
	existing := widget.NewCheck("Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)", useOwn)
	if len(found) == 2 {
		existing.SetChecked(true)
	} else {
		existing.Hide()
	}
	useOwn(existing.Visible() && existing.Checked)

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
		&widget.FormItem{Text: "Framework", Widget: framework, HintText: "correct it if detection took the app for another kind"},
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

	// collect reads the fields; the check of the folder they name comes
	// back as a function for addProjectThen's goroutine.
	collect := func() (NewProject, func() error, error) {
		np := NewProject{
			Dir: dir, Name: strings.TrimSpace(name.Text), Framework: frameworkValue(framework.Selected),
			App:        configgen.App{Module: strings.TrimSpace(module.Text), Callable: strings.TrimSpace(callable.Text), Factory: factory.Checked},
			PythonPath: strings.TrimSpace(pypath.Text), UseExisting: existing.Visible() && existing.Checked,
		}
		if np.Name == "" {
			return np, nil, errors.New("the Name field is empty: type the name the project list shows")
		}
		if np.UseExisting {
			// The folder's files say the rest; the engine checks them at
			// Start, naming their lines.
			np.App, np.PythonPath = configgen.App{}, ""
			return np, nil, nil
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
		if i := venvSel.SelectedIndex(); i > 0 {
			np.Venv = res.Venvs[i-1].Dir
		}
		if np.Framework == "django" {
			if sm := settingsModule(apps, np.App); sm != "" {
				np.Env = []string{"DJANGO_SETTINGS_MODULE=" + sm}
			}
		}
		var staticLines []int // the line of each Static entry, for errors
		for i, line := range strings.Split(static.Text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			// Spaces or tabs between the two, as in uwsgi.ini's static-map
			// written out; a folder with a space in it is not supported.
			f := strings.Fields(line)
			if len(f) != 2 {
				return np, nil, fmt.Errorf("Static files, line %d: %q is not a URL prefix and a folder; write the prefix, a space, then the folder: /static/ static/", i+1, line)
			}
			np.Static = append(np.Static, configgen.StaticMap{URL: f[0], Dir: f[1]})
			staticLines = append(staticLines, i+1)
		}
		var err error
		if np.ProxyPort, err = portField("Proxy port", pport.Text); err != nil {
			return np, nil, err
		}
		if np.EnginePort, err = portField("Engine port", eport.Text); err != nil {
			return np, nil, err
		}
		// Everything else is configgen's check of the config these values
		// make, against the folder, worded with this dialog's fields.
		return np, func() error { return dialogError(configgen.CheckLocal(dir, np.config()), staticLines) }, nil
	}
	// The dialog comes back with the user's values after any error, so
	// that a typo does not cost them their corrections.
	var open func()
	submit := func(ok bool) {
		if !ok {
			return
		}
		np, check, err := collect()
		if err != nil {
			open()
			d.showError("The project was not added", err)
			return
		}
		d.addProjectThen(np, open, check)
	}
	open = func() {
		dlg := dialog.NewCustomConfirm("Add a project", "Add project", "Cancel", content, submit, d.win)
		dlg.Resize(fyne.NewSize(720, 620))
		dlg.Show()
	}
	open()
}

// portField reads a port number the user typed in the field named label;
// configgen checks its range.
func portField(label, text string) (int, error) {
	text = strings.TrimSpace(text)
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a port: type a number from 1 to 65535", label, text)
	}
	return n, nil
}

// config is the local configgen.Config np makes, as AddProject writes it.
// The name is left to the backend, which makes the project's name into a
// file name.
func (np NewProject) config() configgen.Config {
	c := configgen.Config{
		Name: "project", Framework: np.Framework, App: np.App, Chdir: ".", Venv: np.Venv,
		Env: np.Env, Static: np.Static, ProxyPort: np.ProxyPort, AppPort: np.EnginePort,
	}
	if np.PythonPath != "" {
		c.PythonPath = []string{np.PythonPath}
	}
	return c
}

// dialogFields names configgen's Config fields as the Add dialog labels
// them.
var dialogFields = map[string]string{
	"App.Module": "Module", "App.Callable": "Callable", "App.Factory": "the factory box",
	"Framework": "Framework", "PythonPath[0]": "Python path", "Venv": "Virtualenv",
	"ProxyPort": "Proxy port", "AppPort": "Engine port", "Env[0]": "Framework",
}

var dialogWords = func() *strings.Replacer {
	var pairs []string
	for f, label := range dialogFields {
		pairs = append(pairs, f, label)
	}
	return strings.NewReplacer(pairs...)
}()

// dialogError words configgen's check for the dialog: each problem names
// the dialog's field (a static folder by its line), not the Config's.
func dialogError(err error, staticLines []int) error {
	var ve *configgen.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	for _, f := range ve.Fields {
		label, ok := dialogFields[f.Field]
		switch i, static := staticIndex(f.Field); {
		case ok:
		case f.Field == "Name":
			continue // the backend makes the name a file name itself
		case static && i < len(staticLines):
			label = fmt.Sprintf("Static files, line %d", staticLines[i])
		default:
			label = f.Field
		}
		msg := label + ": " + dialogWords.Replace(f.Problem)
		if f.Value != "" {
			msg = fmt.Sprintf("%s %q: %s", label, f.Value, dialogWords.Replace(f.Problem))
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// staticIndex reads the i of "Static[i].URL" or "Static[i].Dir".
func staticIndex(field string) (i int, ok bool) {
	rest, ok := strings.CutPrefix(field, "Static[")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "].")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// The framework choices, as the dialog shows them.
var frameworkNames = []string{"Flask", "Django", "Plain WSGI"}

func frameworkOf(k detect.Kind) string {
	switch k {
	case detect.KindFlask:
		return "Flask"
	case detect.KindDjango:
		return "Django"
	}
	return "Plain WSGI"
}

func frameworkKind(name string) detect.Kind {
	switch name {
	case "Flask":
		return detect.KindFlask
	case "Django":
		return detect.KindDjango
	}
	return detect.KindWSGI
}

// frameworkValue is NewProject.Framework for a choice.
func frameworkValue(name string) string {
	switch name {
	case "Flask":
		return "flask"
	case "Django":
		return "django"
	}
	return ""
}

// firstOfKind is the first servable detected app of kind k.
func firstOfKind(apps []detect.App, k detect.Kind) (detect.App, bool) {
	for _, a := range apps {
		if a.Kind == k && a.Servable {
			return a, true
		}
	}
	return detect.App{}, false
}

// settingsModule is the Django settings module for app: its own when
// detection found it a Django app, else the Django project's detection
// found beside it (a middleware in front of a Django site).
func settingsModule(apps []detect.App, app configgen.App) string {
	for _, a := range apps {
		if a.Kind == detect.KindDjango && a.Module == app.Module && a.SettingsModule != "" {
			return a.SettingsModule
		}
	}
	if a, ok := firstOfKind(apps, detect.KindDjango); ok {
		return a.SettingsModule
	}
	return ""
}

// staticText is the Static files field for app's static folders.
func staticText(a detect.App) string {
	var lines []string
	for _, s := range a.Static {
		lines = append(lines, s.URL+" "+s.Dir)
	}
	return strings.Join(lines, "\n")
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
