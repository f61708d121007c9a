package deck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// BenchFloor, as RunGraphsBench's tab, is the benchmark's floor: the demo
// runs with its workers and the script loads it as for the Graphs tab (the
// in-process engine, proxy, sampler and poller all at work), but the window
// shows only a label that changes once a second. What the Graphs tab
// costs above it is the tab's own cost; the floor itself is what Fyne's
// loop, one small repaint a second and serving the load cost.
const BenchFloor = "floor"

// RunGraphsBench prepares the Graphs-tab benchmark (.ci/uibench/graphs-cpu):
// it sets the demo's uwsgi.ini to the given number of workers, starts the
// demo, shows the tab (Graphs; another tab, or BenchFloor, for a baseline), and writes
// the proxy's URL to DIR/ready; the script then loads the workers and
// measures this process. Errors go to DIR/failed.
func (d *Deck) RunGraphsBench(dir string, workers int, tab string) {
	go func() {
		if err := d.graphsBench(workers, tab); err != nil {
			os.WriteFile(filepath.Join(dir, "failed"), []byte(err.Error()+"\n"), 0o644)
			return
		}
		os.WriteFile(filepath.Join(dir, "ready"), []byte(d.proj.Snapshot().URL+"\n"), 0o644)
	}()
}

func (d *Deck) graphsBench(workers int, tab string) error {
	var proj Project
	fyne.DoAndWait(func() {
		if len(d.projects) > 0 {
			d.SelectProject(d.projects[0].ID)
		}
		proj = d.proj
	})
	if proj == nil {
		return errors.New("no demo project")
	}
	ini, err := proj.Ini()
	if err != nil {
		return err
	}
	if err := ini.Set("processes", strconv.Itoa(workers)); err != nil {
		return err
	}
	if err := ini.Save(); err != nil {
		return err
	}
	fyne.DoAndWait(func() { d.Start(Both) })
	if err := d.waitIdle(2 * time.Minute); err != nil {
		return err
	}
	s := proj.Snapshot()
	if s.State != Running {
		return fmt.Errorf("the demo did not start: %s %s", s.Engine.Message, s.Proxy.Message)
	}
	if tab == BenchFloor {
		label := widget.NewLabel("")
		fyne.DoAndWait(func() { d.opts.Window.SetContent(label) })
		go func() {
			for t := range time.Tick(time.Second) {
				fyne.Do(func() { label.SetText(t.Format(time.TimeOnly)) })
			}
		}()
		return nil
	}
	fyne.DoAndWait(func() { d.SelectTab(tab) })
	return d.waitPainted()
}
