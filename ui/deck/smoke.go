package deck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The smoke run drives the real window for .ci/smoke-inner: it opens the
// demo project, starts it, sends real requests, then shows every view in
// turn. For each it writes DIR/NN-name.ready once the view is on screen and
// waits for DIR/NN-name.png (the script's screenshot) before going on. It
// ends with DIR/done, or DIR/failed holding the reason, and then quits.

// smokeStep is one view to screenshot.
type smokeStep struct {
	name string
	show func(d *Deck)
}

var smokeSteps = []smokeStep{
	{"overview", func(d *Deck) { d.SelectTab(TabOverview) }},
	{"workers", func(d *Deck) {
		d.SelectTab(TabWorkers)
		if len(d.workers.rows) > 0 {
			d.workers.table.Select(widget.TableCellID{Row: 0, Col: 0})
		}
	}},
	{"graphs", func(d *Deck) { d.SelectTab(TabGraphs) }},
	{"uwsgi-ini-form", func(d *Deck) { d.SelectTab(TabIni); d.ini.SetView(ViewForm) }},
	{"uwsgi-ini-source", func(d *Deck) { d.SelectTab(TabIni); d.ini.SetView(ViewSource) }},
	{"nginx-conf-form", func(d *Deck) { d.SelectTab(TabNginx); d.ngx.SetView(ViewForm) }},
	{"nginx-conf-source", func(d *Deck) { d.SelectTab(TabNginx); d.ngx.SetView(ViewSource) }},
	{"logs", func(d *Deck) { d.SelectTab(TabLogs) }},
	{"requests", func(d *Deck) {
		d.SelectTab(TabRequests)
		if n := len(d.requests.traces); n > 0 {
			d.requests.list.Select(n - 1)
		}
	}},
	{"export", func(d *Deck) { d.SelectTab(TabExport) }},
}

// RunSmoke starts the smoke run on a goroutine of its own; quit ends the
// app when it is over (it is called on the Fyne goroutine).
func (d *Deck) RunSmoke(dir string, quit func()) {
	go func() {
		err := d.smoke(dir)
		if err != nil {
			os.WriteFile(filepath.Join(dir, "failed"), []byte(err.Error()+"\n"), 0o644)
		} else {
			os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
		}
		fyne.Do(quit)
	}()
}

func (d *Deck) smoke(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "smoke.started"), nil, 0o644); err != nil {
		return err
	}
	ui := func(fn func()) { fyne.DoAndWait(fn) }
	var proj Project
	ui(func() {
		if len(d.projects) > 0 {
			d.SelectProject(d.projects[0].ID)
			d.SelectTab(TabOverview)
		}
		proj = d.proj
	})
	if proj == nil {
		return errors.New("no project to open: the demo is missing")
	}

	// A shared machine may hold the demo's ports: use the product's own
	// fix, as a user would.
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		fs := proj.Check(ctx)
		cancel()
		var fix *Finding
		for _, f := range fs {
			if f.Fix != nil && f.Severity == SevError {
				fix = &f
				break
			}
		}
		if fix == nil {
			break
		}
		fmt.Fprintf(os.Stderr, "smoke: %s; fixing: %s\n", fix.Message, fix.FixLabel)
		ui(func() { d.overview.applyFix(fix.FixLabel, fix.Fix) })
		if err := d.waitIdle(time.Minute); err != nil {
			return err
		}
	}

	ui(func() { d.Start(Both) })
	if err := d.waitIdle(2 * time.Minute); err != nil {
		return err
	}
	snap := proj.Snapshot()
	if snap.Engine.State != Running || snap.Proxy.State != Running {
		return fmt.Errorf("the demo did not start: engine %s (%s), proxy %s (%s)",
			snap.Engine.State, snap.Engine.Message, snap.Proxy.State, snap.Proxy.Message)
	}
	if err := smokeRequests(snap.URL); err != nil {
		return fmt.Errorf("the demo did not serve: %w", err)
	}
	// Keep traffic flowing while the views are shown, so the graphs and
	// the table move.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		smokeLoad(snap.URL, stop)
	}()
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(3 * time.Second) // a few samples for the graphs

	for i, step := range smokeSteps {
		ui(func() { step.show(d) })
		if step.name == "export" {
			ui(func() { d.export.check() })
			time.Sleep(2 * time.Second)
		}
		if err := d.waitPainted(); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
		base := filepath.Join(dir, fmt.Sprintf("%02d-%s", i+1, step.name))
		if err := os.WriteFile(base+".ready", nil, 0o644); err != nil {
			return err
		}
		if err := waitFile(base+".png", 60*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// waitPainted waits until the window has painted the frames that show
// what was just changed (twice: a change can take a second frame to lay
// out, such as a list filling its rows).
func (d *Deck) waitPainted() error {
	for i := 0; i < 2; i++ {
		var n uint64
		fyne.DoAndWait(func() { n = d.status.probe.mark() })
		deadline := time.Now().Add(30 * time.Second)
		for !d.status.probe.paintedSince(n) {
			if time.Now().After(deadline) {
				return errors.New("the window painted no frame for 30 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// waitIdle waits until no command runs for the selected project.
func (d *Deck) waitIdle(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		busy := ""
		fyne.DoAndWait(func() { busy = d.Busy() })
		if busy == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %q after %s", busy, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitFile(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no screenshot %s after %s", filepath.Base(path), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// smokeRequests sends real requests through the proxy and checks the
// answers: the app, a static file, an app error.
func smokeRequests(base string) error {
	if base == "" {
		return errors.New("the proxy has no address")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	check := func(path string, want int, contains string) error {
		resp, err := client.Get(base + strings.TrimPrefix(path, "/"))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if contains != "" && !strings.Contains(string(body), contains) {
			return fmt.Errorf("GET %s: the answer lacks %q", path, contains)
		}
		return nil
	}
	for i := 0; i < 10; i++ {
		if err := check("/", 200, "</html>"); err != nil {
			return err
		}
	}
	if err := check("/static/style.css", 200, ""); err != nil {
		return err
	}
	if err := check("/whoami.json", 200, "{"); err != nil {
		return err
	}
	if err := check("/boom", 500, ""); err != nil {
		return err
	}
	return check("/nope", 404, "")
}

// smokeLoad requests pages until stop is closed.
func smokeLoad(base string, stop <-chan struct{}) {
	client := &http.Client{Timeout: 10 * time.Second}
	paths := []string{"", "whoami.json", "static/style.css", "", "slow?s=0.05", "", "form"}
	t := time.NewTicker(60 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if resp, err := client.Get(base + paths[i%len(paths)]); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}
