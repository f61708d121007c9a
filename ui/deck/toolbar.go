package deck

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// toolbar is the selected project's name, state and commands.
type toolbar struct {
	d        *Deck
	dot      *dot
	name     *widget.Label
	state    *widget.Label
	start    *splitButton
	stop     *splitButton
	reload   *splitButton
	browse   *widget.Button
	ports    *widget.Label
	activity *widget.Activity
	busy     *widget.Label
	root     fyne.CanvasObject
}

func newToolbar(d *Deck) *toolbar {
	t := &toolbar{d: d, dot: newDot(Stopped)}
	t.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.name.SizeName = theme.SizeNameSubHeadingText
	t.state = widget.NewLabel("")
	t.start = newSplitButton("Start", theme.MediaPlayIcon(), func() { d.Start(Both) }, []*fyne.MenuItem{
		fyne.NewMenuItem("Start proxy and engine", func() { d.Start(Both) }),
		fyne.NewMenuItem("Start engine only", func() { d.Start(Engine) }),
		fyne.NewMenuItem("Start proxy only", func() { d.Start(Proxy) }),
	})
	t.start.main.Importance = widget.HighImportance
	t.stop = newSplitButton("Stop", theme.MediaStopIcon(), func() { d.Stop(Both) }, []*fyne.MenuItem{
		fyne.NewMenuItem("Stop proxy and engine", func() { d.Stop(Both) }),
		fyne.NewMenuItem("Stop engine only", func() { d.Stop(Engine) }),
		fyne.NewMenuItem("Stop proxy only", func() { d.Stop(Proxy) }),
	})
	t.reload = newSplitButton("Reload", theme.ViewRefreshIcon(), func() { d.Reload(Both) }, []*fyne.MenuItem{
		fyne.NewMenuItem("Reload proxy and engine (graceful)", func() { d.Reload(Both) }),
		fyne.NewMenuItem("Reload engine only", func() { d.Reload(Engine) }),
		fyne.NewMenuItem("Reload proxy only", func() { d.Reload(Proxy) }),
	})
	t.browse = widget.NewButtonWithIcon("Open in browser", theme.ComputerIcon(), d.OpenInBrowser)
	t.ports = widget.NewLabel("")
	t.ports.Importance = widget.LowImportance
	t.ports.Truncation = fyne.TextTruncateEllipsis
	t.activity = widget.NewActivity()
	t.busy = widget.NewLabel("")
	t.busy.Importance = widget.HighImportance

	left := container.NewHBox(container.NewCenter(t.dot), t.name, t.state)
	buttons := container.NewHBox(t.start.root, t.stop.root, t.reload.root, widget.NewSeparator(), t.browse)
	working := container.NewHBox(t.activity, t.busy)
	row := container.NewBorder(nil, nil, container.NewHBox(left, buttons, working), nil, t.ports)
	t.root = container.NewVBox(container.NewPadded(row), widget.NewSeparator())
	t.update()
	return t
}

func (t *toolbar) update() {
	d := t.d
	var info ProjectInfo
	for _, p := range d.projects {
		if p.ID == d.selected {
			info = p
		}
	}
	snap := d.snaps[d.selected]
	label, busy := d.busy[d.selected]
	t.dot.setState(projectState(snap, busy))
	setLabel(t.name, info.Name, t.name.Importance)
	setLabel(t.state, stateWord(snap.State, busy), stateImportance(snap.State))

	e, p := snap.Engine.State, snap.Proxy.State
	up := func(s State) bool { return s == Running || s == Degraded }
	anyUp := up(e) || up(p)
	setEnabled(t.start, !busy && d.proj != nil && !(up(e) && up(p)))
	setEnabled(t.stop, !busy && (anyUp || e == Failed || p == Failed))
	setEnabled(t.reload, !busy && anyUp)
	if !busy && up(p) && snap.URL != "" {
		t.browse.Enable()
	} else {
		t.browse.Disable()
	}
	if busy {
		setLabel(t.busy, label, t.busy.Importance)
		t.activity.Show()
		t.activity.Start()
		t.busy.Show()
	} else {
		t.activity.Stop()
		t.activity.Hide()
		t.busy.Hide()
	}
	setLabel(t.ports, portsLine(snap), t.ports.Importance)
}

// refused says why verb ("Starting", "Stopping", "Reloading") of tier t
// has nothing to do in state s, or "": the keyboard shortcuts and the
// menu reach the commands whose buttons are disabled, and must not report
// "Started" for a project that was running already.
func refused(verb string, t Tier, s Snapshot, name string) string {
	up := func(st State) bool { return st == Running || st == Degraded }
	var tiers []State
	switch t {
	case Engine:
		tiers = []State{s.Engine.State}
	case Proxy:
		tiers = []State{s.Proxy.State}
	default:
		tiers = []State{s.Engine.State, s.Proxy.State}
	}
	all, any, anyFailed := true, false, false
	for _, st := range tiers {
		all = all && up(st)
		any = any || up(st)
		anyFailed = anyFailed || st == Failed
	}
	what := name
	if t != Both {
		what = "the " + t.String() + " of " + name
	}
	switch {
	case verb == "Starting" && all:
		return "Nothing to start: " + what + " is running already."
	case verb == "Stopping" && !any && !anyFailed:
		return "Nothing to stop: " + what + " is not running."
	case verb == "Reloading" && !any:
		return "Nothing to reload: " + what + " is not running. Start it first."
	}
	return ""
}

// portsLine is the request path in one line: "127.0.0.1:8080 → 127.0.0.1:3031".
func portsLine(s Snapshot) string {
	if len(s.Proxy.Addrs) == 0 && len(s.Engine.Addrs) == 0 {
		return ""
	}
	return "proxy " + strings.Join(s.Proxy.Addrs, ", ") + "  →  engine " + strings.Join(s.Engine.Addrs, ", ")
}

func setEnabled(b *splitButton, on bool) {
	if on {
		b.main.Enable()
		b.more.Enable()
	} else {
		b.main.Disable()
		b.more.Disable()
	}
}

// splitButton is a button with a small menu button beside it, for the
// variants of a command (proxy only, engine only).
type splitButton struct {
	main *widget.Button
	more *widget.Button
	root fyne.CanvasObject
}

func newSplitButton(label string, icon fyne.Resource, tapped func(), items []*fyne.MenuItem) *splitButton {
	b := &splitButton{main: widget.NewButtonWithIcon(label, icon, tapped)}
	b.more = widget.NewButtonWithIcon("", theme.MenuDropDownIcon(), nil)
	b.more.OnTapped = func() {
		c := fyne.CurrentApp().Driver().CanvasForObject(b.more)
		if c == nil {
			return
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b.main)
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos.Add(fyne.NewPos(0, b.main.Size().Height)))
	}
	b.root = container.New(&joinLayout{}, b.main, b.more)
	return b
}

// joinLayout places buttons side by side with no gap.
type joinLayout struct{}

func (joinLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for i, o := range objs {
		w := o.MinSize().Width
		if i == len(objs)-1 {
			w = size.Width - x
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w
	}
}

func (joinLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objs {
		m := o.MinSize()
		w += m.Width
		h = fyne.Max(h, m.Height)
	}
	return fyne.NewSize(w, h)
}
