package deck_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
	"github.com/wsgideck/wsgideck/ui/editor"
	"github.com/wsgideck/wsgideck/ui/internal/uitest"
)

// harness is a Deck in a test window over the real backend, with the demo
// project in a temp settings folder and moved to free ports (the shipped
// 8080 and 3031 may be taken on a shared machine).
type harness struct {
	t         *testing.T
	app       *uitest.App
	win       fyne.Window
	b         *backend.Backend
	d         *deck.Deck
	proj      deck.Project
	proxyPort int
	engPort   int
	opened    []string
	notes     []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessAt(t, freePort(t), freePort(t), nil)
}

// newHarnessAt is newHarness with the demo on the given ports, and the
// backend's clock set to now (nil: time.Now).
func newHarnessAt(t *testing.T, proxyPort, enginePort int, now func() time.Time) *harness {
	t.Helper()
	h := &harness{t: t}
	h.app = uitest.New(test.NewTempApp(t))
	b, err := backend.New(backend.Options{ConfigDir: t.TempDir(), DataDir: t.TempDir(), SampleInterval: 200 * time.Millisecond, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	h.b = b
	h.proj = b.Project(backend.DemoID)
	h.proxyPort, h.engPort = proxyPort, enginePort
	moveDemoPorts(t, h.proj, h.proxyPort, h.engPort)
	h.openWindow(fyne.NewSize(1200, 760))
	return h
}

// openWindow shows a Deck over h.b in a test window of the given size,
// shut down when the test ends.
func (h *harness) openWindow(size fyne.Size) {
	t := h.t
	h.win = test.NewTempWindow(t, nil)
	h.d = deck.New(deck.Options{
		App: h.app, Window: h.win, Backend: h.b, Tick: -1,
		Go:      func(work func()) { work() },
		OpenURL: func(u *url.URL) error { h.opened = append(h.opened, u.String()); return nil },
		Notify:  func(title, content string) { h.notes = append(h.notes, title+": "+content) },
	})
	h.win.SetContent(h.d.Content())
	h.win.Resize(size)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// moveDemoPorts edits the demo's files through the documents.
func moveDemoPorts(t *testing.T, p deck.Project, proxyPort, enginePort int) {
	t.Helper()
	ini, err := p.Ini()
	must(t, err)
	must(t, ini.Set("socket", "127.0.0.1:"+strconv.Itoa(enginePort)))
	must(t, ini.Set("stats", ""))
	must(t, ini.Save())
	ngx, err := p.Nginx()
	must(t, err)
	must(t, ngx.SetDirective(deck.NginxPath{Location: -1, Upstream: -1, Name: "listen"}, "127.0.0.1:"+strconv.Itoa(proxyPort)))
	must(t, ngx.SetDirective(deck.NginxPath{Location: 1, Upstream: -1, Name: "uwsgi_pass"}, "127.0.0.1:"+strconv.Itoa(enginePort)))
	must(t, ngx.SetDirective(deck.NginxPath{Location: -1, Upstream: -1, Name: "access_log"}, "off"))
	must(t, ngx.Save())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// objects lists every object on screen, overlays (dialogs, pop-ups)
// included, in drawing order: hidden objects and everything inside them
// (the tabs not selected) are left out.
func (h *harness) objects() []fyne.CanvasObject {
	c := h.win.Canvas()
	var objs []fyne.CanvasObject
	walk(c.Content(), &objs)
	for _, o := range c.Overlays().List() {
		walk(o, &objs)
	}
	return objs
}

func walk(o fyne.CanvasObject, out *[]fyne.CanvasObject) {
	if o == nil || !o.Visible() {
		return
	}
	*out = append(*out, o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, out)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, out)
		}
	}
}

func visible(o fyne.CanvasObject) bool { return o.Visible() }

// button finds a visible button by its text.
func (h *harness) button(text string) *widget.Button {
	h.t.Helper()
	var found *widget.Button
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == text && visible(b) {
			found = b
		}
	}
	if found == nil {
		h.t.Fatalf("no button %q on screen", text)
	}
	return found
}

// buttonPrefix finds a visible button whose text starts with prefix.
func (h *harness) buttonPrefix(prefix string) *widget.Button {
	h.t.Helper()
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, prefix) && visible(b) {
			return b
		}
	}
	h.t.Fatalf("no button starting with %q on screen", prefix)
	return nil
}

// tap taps a button that must be enabled.
func (h *harness) tap(text string) {
	h.t.Helper()
	b := h.button(text)
	if b.Disabled() {
		h.t.Fatalf("button %q is disabled", text)
	}
	test.Tap(b)
}

// entryAfter finds the entry that follows a label with the given text, as
// a form lays them out.
func (h *harness) entryAfter(label string) *widget.Entry {
	h.t.Helper()
	return widgetAfter[*widget.Entry](h, "entry", label)
}

// selectAfter finds the select that follows a label with the given text.
func (h *harness) selectAfter(label string) *widget.Select {
	h.t.Helper()
	return widgetAfter[*widget.Select](h, "select", label)
}

// widgetAfter finds the first visible widget of type W (named kind in the
// failure) after the label with the given text, in the window's order.
func widgetAfter[W fyne.CanvasObject](h *harness, kind, label string) W {
	h.t.Helper()
	seen := false
	for _, o := range h.objects() {
		switch x := o.(type) {
		case *widget.Label:
			seen = seen || x.Text == label
		case *canvas.Text:
			seen = seen || x.Text == label
		}
		if w, ok := o.(W); ok && seen && visible(w) {
			return w
		}
	}
	h.t.Fatalf("no %s after the label %q:\n%s", kind, label, h.texts())
	var none W
	return none
}

// editor finds the visible source editor.
func (h *harness) editor() *editor.Editor {
	h.t.Helper()
	for _, o := range h.objects() {
		if e, ok := o.(*editor.Editor); ok && visible(e) {
			return e
		}
	}
	h.t.Fatal("no source editor on screen")
	return nil
}

// texts returns the text of every visible label and canvas text.
func (h *harness) texts() string {
	var b strings.Builder
	for _, o := range h.objects() {
		switch x := o.(type) {
		case *widget.Label:
			if visible(x) {
				b.WriteString(x.Text + "\n")
			}
		case *canvas.Text:
			if visible(x) {
				b.WriteString(x.Text + "\n")
			}
		}
	}
	return b.String()
}

func get(t *testing.T, u string) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// waitFor polls cond, refreshing the deck from the backend each time.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.app.Drain()
		h.d.Refresh()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// notifications returns the desktop notifications sent so far, as
// "title: content", after running what other goroutines queued for the
// window.
func (h *harness) notifications() []string {
	h.app.Drain()
	return append([]string(nil), h.notes...)
}

// processGone waits until process pid no longer exists, and reports
// whether it went.
func (h *harness) processGone(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
