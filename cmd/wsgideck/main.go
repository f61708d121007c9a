// Command wsgideck is the desktop app. It is the only package that imports
// fyne.io/fyne/v2/app, so every UI package can be tested without cgo.
//
// With WSGIDECK_SMOKE_DIR set it runs the smoke mode .ci/smoke-inner
// drives: the demo project is opened from a fresh settings folder inside
// that directory, started, sent requests, and every view is shown in turn
// for a screenshot (see deck.RunSmoke).
//
// With WSGIDECK_FIRST_FRAME=FILE set (the startup benchmark,
// .ci/uibench/startup) it writes the wall-clock time of its first painted
// frame, in Unix nanoseconds, to FILE and quits; its settings then live in
// FILE's folder. With WSGIDECK_GRAPHS_BENCH=DIR set (.ci/uibench/graphs-cpu)
// it runs the demo with 16 workers, shows the Graphs tab, and writes the
// demo's URL to DIR/ready for the script to load and measure it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/godbus/dbus/v5"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// Preference keys.
const (
	prefWidth   = "window.width"
	prefHeight  = "window.height"
	prefProject = "project"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wsgideck:", err)
		os.Exit(1)
	}
}

// trayAvailable reports whether a system tray can be used. On Linux and
// the BSDs the tray is a D-Bus service: without a session bus, Fyne 2.7.1's
// systray fails to connect and then crashes the app when it quits (it
// closes the connection it never got), so the tray is left out there.
func trayAvailable() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
	default:
		return true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func run() error {
	stopProfile := func() {}
	if path := os.Getenv("WSGIDECK_CPUPROFILE"); path != "" {
		// For the benchmarks: where the app's own CPU goes.
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			var once sync.Once
			stopProfile = func() { once.Do(func() { pprof.StopCPUProfile(); f.Close() }) }
			defer stopProfile()
		}
	}
	smokeDir := os.Getenv("WSGIDECK_SMOKE_DIR")
	firstFrame := os.Getenv("WSGIDECK_FIRST_FRAME")
	graphsBench := os.Getenv("WSGIDECK_GRAPHS_BENCH")
	opts := backend.Options{Logf: func(f string, args ...any) { fmt.Fprintf(os.Stderr, "wsgideck: "+f+"\n", args...) }}
	scratch := smokeDir
	if firstFrame != "" {
		scratch = filepath.Dir(firstFrame)
	}
	if graphsBench != "" {
		scratch = graphsBench
	}
	if scratch != "" {
		// A settings folder of its own: a test run must not touch the
		// user's. Fyne keeps its preferences under os.UserConfigDir, which
		// is XDG_CONFIG_HOME when set, so test runs side by side no longer
		// read each other's half-written preferences file either.
		opts.ConfigDir = filepath.Join(scratch, "config")
		opts.DataDir = filepath.Join(scratch, "data")
		os.Setenv("XDG_CONFIG_HOME", filepath.Join(scratch, "xdg-config"))
	}
	a := app.NewWithID("io.github.wsgideck")
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)

	b, err := backend.New(opts)
	if err != nil {
		return err
	}

	w := a.NewWindow("wsgideck")
	w.SetIcon(icon)
	prefs := a.Preferences()
	d := deck.New(deck.Options{
		App: a, Window: w, Backend: b,
		OnSelect: func(id string) {
			if scratch == "" {
				prefs.SetString(prefProject, id)
			}
		},
	})
	w.SetContent(d.Content())
	w.SetMainMenu(d.MainMenu())
	w.SetMaster()

	width := float32(prefs.FloatWithFallback(prefWidth, 1180))
	height := float32(prefs.FloatWithFallback(prefHeight, 760))
	if scratch != "" {
		width, height = 1240, 760
	} else if id := prefs.String(prefProject); id != "" {
		d.SelectProject(id)
	}
	w.Resize(fyne.NewSize(width, height))

	// Every way to quit but a signal comes here: the window's close
	// button, the menu's Quit (Fyne closes the windows, which the
	// intercept catches) and the tray's. It remembers the window's size
	// and asks first when config files have unsaved edits.
	quit := func() {
		if scratch == "" {
			s := w.Canvas().Size()
			prefs.SetFloat(prefWidth, float64(s.Width))
			prefs.SetFloat(prefHeight, float64(s.Height))
		}
		d.ConfirmQuit(a.Quit)
	}
	w.SetCloseIntercept(quit)

	if desk, ok := a.(desktop.App); ok && trayAvailable() {
		// Fyne's own tray Quit would end the app without the question.
		trayQuit := fyne.NewMenuItem("Quit", func() { w.Show(); quit() })
		trayQuit.IsQuit = true
		desk.SetSystemTrayIcon(icon)
		desk.SetSystemTrayMenu(fyne.NewMenu("wsgideck",
			fyne.NewMenuItem("Show window", func() { w.Show(); w.RequestFocus() }),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Start all projects", d.StartAll),
			fyne.NewMenuItem("Stop all projects", d.StopAll),
			fyne.NewMenuItemSeparator(),
			trayQuit,
		))
	}

	// Ctrl+C or a kill from a terminal ends the app the same way.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sig
		// The benchmarks end the app with a signal: write the profile
		// first, so that it is whole even if quitting goes wrong (Fyne
		// 2.7.1 can panic quitting a window whose loop has just ended).
		stopProfile()
		fyne.Do(a.Quit)
	}()

	if smokeDir != "" {
		a.Lifecycle().SetOnStarted(func() { d.RunSmoke(smokeDir, a.Quit) })
	}
	if graphsBench != "" {
		tab := os.Getenv("WSGIDECK_BENCH_TAB")
		if tab == "" {
			tab = deck.TabGraphs
		}
		a.Lifecycle().SetOnStarted(func() { d.RunGraphsBench(graphsBench, 16, tab) })
	}
	if firstFrame != "" {
		go func() {
			t := <-d.FirstFrame()
			os.WriteFile(firstFrame, []byte(fmt.Sprintf("%d\n", t.UnixNano())), 0o644)
			// Quitting within the first frames can race GLFW's pending
			// input events (Fyne 2.7.1 then dereferences the closed
			// window): let the start settle first.
			time.Sleep(500 * time.Millisecond)
			fyne.Do(a.Quit)
		}()
	}
	w.ShowAndRun()

	// The loop has ended: stop everything this app started, and say so if
	// something would not stop.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = d.Shutdown(ctx)
	if cerr := b.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stopping the projects: %w (some processes may still run)", err)
	}
	return nil
}
