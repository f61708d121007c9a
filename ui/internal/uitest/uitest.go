// Package uitest gives UI tests the real driver's threading rule under
// fyne.io/fyne/v2/test: widgets are touched by one goroutine only.
package uitest

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
)

// The test driver's fyne.Do runs its function at once, on the calling
// goroutine. The backend calls the deck's subscriber from goroutines of its
// own, so under the test driver the deck's event handling (notifications,
// reloading the editors after a change on disk) would run beside the test
// goroutine, which the real driver never does, and -race would rightly
// complain. App puts the real driver's rule back: one goroutine, the
// test's, owns the widgets; fyne.Do from any other goroutine queues its
// function until the test goroutine drains the queue (App.Drain; a test calls it
// before each look at the window).

// App is a test app whose driver queues fyne.Do from other goroutines
// for the owner goroutine.
type App struct {
	fyne.App
	drv *driver
}

// Driver returns the queuing driver.
func (a *App) Driver() fyne.Driver { return a.drv }

// Drain runs what other goroutines queued with fyne.Do, and what that
// queues in turn, on the calling (owner) goroutine.
func (a *App) Drain() { a.drv.drain() }

// driver is the test driver with fyne.Do queued for the owner goroutine.
type driver struct {
	fyne.Driver
	owner uint64 // the goroutine that owns the widgets

	mu    sync.Mutex
	queue []func()
}

// New wraps the test app a (test.NewTempApp's) and makes it current,
// owned by the calling goroutine.
func New(a fyne.App) *App {
	ua := &App{App: a, drv: &driver{Driver: a.Driver(), owner: goid()}}
	fyne.SetCurrentApp(ua)
	return ua
}

func (d *driver) DoFromGoroutine(f func(), wait bool) {
	if goid() == d.owner {
		f()
		return
	}
	if !wait {
		d.enqueue(f)
		return
	}
	done := make(chan struct{})
	d.enqueue(func() {
		defer close(done)
		f()
	})
	<-done
}

func (d *driver) enqueue(f func()) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
}

// drain runs the queued functions, and those they queue, on the owner
// goroutine.
func (d *driver) drain() {
	for {
		d.mu.Lock()
		q := d.queue
		d.queue = nil
		d.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

// goid is the calling goroutine's id, from the first line of its stack
// trace ("goroutine 42 [running]:").
func goid() uint64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		panic("goid: cannot parse the stack header: " + err.Error())
	}
	return id
}
