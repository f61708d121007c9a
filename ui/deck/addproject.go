package deck

import (
	"context"
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
func (d *Deck) AddProject(np NewProject) {
	d.run("", "Adding "+np.Name+"…", func(context.Context) error {
		_, err := d.b.AddProject(np)
		return err
	}, func(err error) {
		if err != nil {
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

	existing := widget.NewCheck("Use the folder's own uwsgi.ini and nginx.conf (nothing is generated)", nil)
	_, errIni := os.Stat(filepath.Join(dir, configgen.FileUWSGIIni))
	_, errNgx := os.Stat(filepath.Join(dir, configgen.FileNginxConf))
	if errIni == nil && errNgx == nil {
		existing.SetChecked(true)
	} else {
		existing.Hide()
	}

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
	)
	folder := widget.NewLabel(dir)
	folder.Importance = widget.LowImportance
	folder.Truncation = fyne.TextTruncateEllipsis
	content := container.NewVScroll(container.NewVBox(folder, form, appNotes,
		widget.NewLabelWithStyle("What detection found", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), notes))

	dlg := dialog.NewCustomConfirm("Add a project", "Add project", "Cancel", content, func(ok bool) {
		if !ok {
			return
		}
		np := NewProject{
			Dir: dir, Name: strings.TrimSpace(name.Text), Framework: framework,
			App:        configgen.App{Module: strings.TrimSpace(module.Text), Callable: strings.TrimSpace(callable.Text), Factory: factory.Checked},
			PythonPath: strings.TrimSpace(pypath.Text), UseExisting: existing.Visible() && existing.Checked,
		}
		if i := venvSel.SelectedIndex(); i > 0 {
			np.Venv = res.Venvs[i-1].Dir
		}
		for _, line := range strings.Split(static.Text, "\n") {
			f := strings.Fields(line)
			if len(f) == 2 {
				np.Static = append(np.Static, configgen.StaticMap{URL: f[0], Dir: f[1]})
			}
		}
		var err error
		if np.ProxyPort, err = strconv.Atoi(strings.TrimSpace(pport.Text)); err != nil {
			d.showError("The project was not added", fmt.Errorf("proxy port %q is not a number", pport.Text))
			return
		}
		if np.EnginePort, err = strconv.Atoi(strings.TrimSpace(eport.Text)); err != nil {
			d.showError("The project was not added", fmt.Errorf("engine port %q is not a number", eport.Text))
			return
		}
		d.AddProject(np)
	}, d.win)
	dlg.Resize(fyne.NewSize(720, 620))
	dlg.Show()
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
