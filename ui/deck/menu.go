package deck

import (
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Keyboard shortcuts. They live in the main menu, so they work wherever
// the keyboard focus is, even in a text field.
var (
	ShortcutStart  = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	ShortcutStop   = &desktop.CustomShortcut{KeyName: fyne.KeyPeriod, Modifier: fyne.KeyModifierShortcutDefault}
	ShortcutReload = &desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault}
	ShortcutSave   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	ShortcutApply  = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	ShortcutFind   = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	ShortcutOpen   = &desktop.CustomShortcut{KeyName: fyne.KeyB, Modifier: fyne.KeyModifierShortcutDefault}
)

func item(label string, sc fyne.Shortcut, fn func()) *fyne.MenuItem {
	i := fyne.NewMenuItem(label, fn)
	i.Shortcut = sc
	return i
}

// MainMenu is the window's menu bar, with the keyboard shortcuts.
func (d *Deck) MainMenu() *fyne.MainMenu {
	project := fyne.NewMenu("Project",
		item("Start", ShortcutStart, func() { d.Start(Both) }),
		item("Stop", ShortcutStop, func() { d.Stop(Both) }),
		item("Reload (graceful)", ShortcutReload, func() { d.Reload(Both) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Start engine only", func() { d.Start(Engine) }),
		fyne.NewMenuItem("Start proxy only", func() { d.Start(Proxy) }),
		fyne.NewMenuItem("Stop engine only", func() { d.Stop(Engine) }),
		fyne.NewMenuItem("Stop proxy only", func() { d.Stop(Proxy) }),
		fyne.NewMenuItemSeparator(),
		item("Open in browser", ShortcutOpen, d.OpenInBrowser),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Add project…", d.addProject),
		fyne.NewMenuItem("Remove project…", d.sidebar.confirmRemove),
	)
	edit := fyne.NewMenu("Edit",
		item("Save", ShortcutSave, d.Save),
		item("Save and apply", ShortcutApply, d.Apply),
		item("Find", ShortcutFind, d.Find),
	)
	var tabs []*fyne.MenuItem
	for i, name := range Tabs {
		name := name
		tabs = append(tabs, item(name, &desktop.CustomShortcut{KeyName: fyne.KeyName(strconv.Itoa(i + 1)), Modifier: fyne.KeyModifierShortcutDefault},
			func() { d.SelectTab(name) }))
	}
	return fyne.NewMainMenu(project, edit, fyne.NewMenu("View", tabs...))
}

// configTabShown returns the config tab on screen, or nil.
func (d *Deck) configTabShown() *configTab {
	switch d.CurrentTab() {
	case TabIni:
		return d.ini
	case TabNginx:
		return d.ngx
	}
	return nil
}

// Save saves the config file on screen (Ctrl+S).
func (d *Deck) Save() {
	if t := d.configTabShown(); t != nil {
		t.Save(false)
		return
	}
	d.status.show(SevInfo, "Nothing to save here: Save works on the uwsgi.ini and nginx.conf tabs.")
}

// Apply saves the config file on screen and reloads its server.
func (d *Deck) Apply() {
	if t := d.configTabShown(); t != nil {
		t.Save(true)
		return
	}
	d.status.show(SevInfo, "Nothing to apply here: Apply works on the uwsgi.ini and nginx.conf tabs.")
}

// Find searches the config source on a config tab, and the logs elsewhere
// (Ctrl+F).
func (d *Deck) Find() {
	if t := d.configTabShown(); t != nil {
		t.SetView(ViewSource)
		t.editor.ShowFind()
		return
	}
	d.SelectTab(TabLogs)
	d.logs.FocusSearch()
}

// ConfirmQuit calls quit, after asking when config files have unsaved
// edits: the window's close button and Quit (the app's close intercept)
// call it, so that closing the window does not drop edits silently.
func (d *Deck) ConfirmQuit(quit func()) {
	unsaved := d.UnsavedFiles()
	if len(unsaved) == 0 || d.win == nil {
		quit()
		return
	}
	msg := "These files have edits that are not saved:\n\n    " + strings.Join(unsaved, "\n    ") +
		"\n\nQuit and lose them? To keep them, choose Cancel, then Save on their tab."
	dialog.ShowCustomConfirm("Quit with unsaved edits?", "Quit anyway", "Cancel", widget.NewLabel(msg), func(ok bool) {
		if ok {
			quit()
		}
	}, d.win)
}

// UnsavedFiles lists the config files opened in the window that have
// unsaved edits, as full paths.
func (d *Deck) UnsavedFiles() []string {
	var out []string
	for _, t := range []*configTab{d.ini, d.ngx} {
		for doc := range t.watched {
			if doc.Dirty() {
				out = append(out, doc.Path())
			}
		}
	}
	sort.Strings(out)
	return out
}
