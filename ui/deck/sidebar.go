package deck

import (
	"context"
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
)

// sidebar lists the projects with their status dots, and adds and removes
// them.
type sidebar struct {
	d      *Deck
	list   *widget.List
	add    *widget.Button
	remove *widget.Button
	root   fyne.CanvasObject
	// syncing is set while the list selection follows Deck.SelectProject,
	// so that OnSelected does not select again.
	syncing bool
	sig     string // what the rows showed at the last refresh
	// gone holds the projects whose folder was missing at the last update.
	gone map[string]bool
}

func newSidebar(d *Deck) *sidebar {
	s := &sidebar{d: d, gone: map[string]bool{}}
	s.list = widget.NewList(
		func() int { return len(d.projects) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("project", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			sub := widget.NewLabel("state")
			sub.SizeName = theme.SizeNameCaptionText
			sub.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, container.NewCenter(newDot(Stopped)), nil,
				container.New(&tightVBox{}, name, sub))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(d.projects) {
				return
			}
			p := d.projects[i]
			c := o.(*fyne.Container)
			texts := c.Objects[0].(*fyne.Container)
			dotBox := c.Objects[1].(*fyne.Container)
			snap := d.snaps[p.ID]
			_, busy := d.busy[p.ID]
			dotBox.Objects[0].(*dot).setState(projectState(snap, busy))
			name := texts.Objects[0].(*widget.Label)
			setLabel(name, p.Name, name.Importance)
			sub := texts.Objects[1].(*widget.Label)
			line := stateWord(snap.State, busy)
			if label, ok := d.busy[p.ID]; ok {
				line = label
			} else if snap.State == Running && snap.URL != "" {
				line = "running · " + trimScheme(snap.URL)
			} else if p.Builtin {
				line = stateWord(snap.State, busy) + " · built in"
			} else if s.gone[p.ID] {
				line = "folder missing · " + filepath.Base(p.Dir)
			} else {
				line = stateWord(snap.State, busy) + " · " + filepath.Base(p.Dir)
			}
			setLabel(sub, line, sub.Importance)
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) {
		if s.syncing || i >= len(d.projects) {
			return
		}
		d.SelectProject(d.projects[i].ID)
	}
	s.add = widget.NewButtonWithIcon("Add…", theme.ContentAddIcon(), d.addProject)
	s.remove = widget.NewButtonWithIcon("Remove", theme.ContentRemoveIcon(), s.confirmRemove)
	title := widget.NewLabelWithStyle("Projects", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.root = container.NewBorder(title, container.NewGridWithColumns(2, s.add, s.remove), nil, nil, s.list)
	return s
}

// projectState is the dot of a project: busy work shows as starting.
func projectState(s Snapshot, busy bool) State {
	if busy && (s.State == Stopped || s.State == Failed || s.State == Running) {
		return Starting
	}
	return s.State
}

func trimScheme(u string) string {
	if len(u) > 7 && u[:7] == "http://" {
		u = u[7:]
	}
	if n := len(u); n > 0 && u[n-1] == '/' {
		u = u[:n-1]
	}
	return u
}

func (s *sidebar) refresh() {
	s.list.Refresh()
	s.selectID(s.d.selected)
}

// update refreshes the rows when a project's dot or caption would change.
func (s *sidebar) update() {
	var b strings.Builder
	for _, p := range s.d.projects {
		snap := s.d.snaps[p.ID]
		gone := folderGone(p) != nil
		s.gone[p.ID] = gone
		fmt.Fprintf(&b, "%s|%s|%d|%s|%s|%t;", p.ID, p.Name, snap.State, snap.URL, s.d.busy[p.ID], gone)
	}
	if sig := b.String(); sig != s.sig {
		s.sig = sig
		s.list.Refresh()
	}
}

func (s *sidebar) selectID(id string) {
	for i, p := range s.d.projects {
		if p.ID == id {
			s.syncing = true
			s.list.Select(i)
			s.syncing = false
			if p.Builtin {
				s.remove.Disable()
			} else {
				s.remove.Enable()
			}
			return
		}
	}
}

func (s *sidebar) confirmRemove() {
	d := s.d
	var info ProjectInfo
	for _, p := range d.projects {
		if p.ID == d.selected {
			info = p
		}
	}
	if info.ID == "" {
		return
	}
	if info.Builtin {
		// The menu's Remove is not disabled with the button.
		d.status.show(SevInfo, info.Name+" is built in and cannot be removed; it stays so that there is always a project to try.")
		return
	}
	remove := func() {
		id := info.ID
		d.run(id, "Removing "+info.Name+"…", func(ctx context.Context) error { return d.b.RemoveProject(ctx, id) }, func(err error) {
			if err != nil {
				return
			}
			d.ini.forget(id)
			d.ngx.forget(id)
			d.reloadProjects()
			if len(d.projects) > 0 {
				d.SelectProject(d.projects[0].ID)
			}
			d.status.show(SevInfo, "Removed "+info.Name+"; its folder and files were left as they are.")
		})
	}
	if d.win == nil {
		remove()
		return
	}
	msg := "The project leaves the list and stops if it runs.\nIts folder and files stay as they are:\n" + info.Dir
	if unsaved := unsavedDocs(d.b.Project(info.ID)); len(unsaved) > 0 {
		msg += "\n\nYour unsaved edits to " + strings.Join(unsaved, " and ") + " will be lost.\nTo keep them, choose No and save first."
	}
	dialog.ShowConfirm("Remove "+info.Name+"?", msg,
		func(ok bool) {
			if ok {
				remove()
			}
		}, d.win)
}

// unsavedDocs names the config files of p with unsaved edits.
func unsavedDocs(p Project) []string {
	if p == nil {
		return nil
	}
	var names []string
	if doc, err := p.Ini(); err == nil && doc.Dirty() {
		names = append(names, doc.Name())
	}
	if doc, err := p.Nginx(); err == nil && doc.Dirty() {
		names = append(names, doc.Name())
	}
	return names
}

// folderGone returns an error saying so when project p's folder is gone
// (deleted, moved, an unmounted disk), or nil. The demo's folder is the
// app's own.
func folderGone(p ProjectInfo) error {
	if p.Builtin || p.Dir == "" {
		return nil
	}
	if _, err := os.Stat(p.Dir); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("the folder of %s, %s, is gone: it was deleted or moved. Put it back, or remove the project (Remove, below the project list)", p.Name, p.Dir)
}

// tightVBox stacks objects with no padding between them: a name over its
// caption.
type tightVBox struct{}

func (tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	total := float32(0)
	for _, o := range objs {
		total += o.MinSize().Height
	}
	// Pull the labels together: each has its own inner padding.
	overlap := theme.InnerPadding() * 0.6
	y = (size.Height - total + overlap*float32(len(objs)-1)) / 2
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - overlap
	}
}

func (tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objs {
		m := o.MinSize()
		w = fyne.Max(w, m.Width)
		h += m.Height
	}
	return fyne.NewSize(w, h-theme.InnerPadding()*0.6*float32(len(objs)-1))
}
