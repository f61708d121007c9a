package deck_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// Golden images of the window's views in states that need no running
// engine: the demo project stopped, its forms, the export preview. The
// window is drawn at a fixed size with the test theme. What depends on the
// machine or the clock is masked in the drawn labels (never in the files
// or the backend): the temp folder the demo lives in, the free ports the
// Overview test moves it to, the time of the last check. The running
// states are tested on values instead (workers_test.go, notify_test.go).
//
// To accept a changed view, look at testdata/failed/deck/<name>.png and
// copy it over testdata/deck/<name>.png.

// goldenSize is the window size of the golden images. The tabs whose
// scrolled content holds entries are drawn tall enough to show all of it:
// the test painter does not clip a scroll inside a scroll (an entry in a
// scrolled form) to the outer one, so a half-scrolled entry would be drawn
// past its form's edge, which the real painter never does.
var (
	goldenSize     = fyne.NewSize(1200, 760)
	goldenTallSize = fyne.NewSize(1200, 1600) // the whole uwsgi.ini form
	goldenSrcSize  = fyne.NewSize(1200, 960)  // the demo's uwsgi.ini, every line
)

// goldenNow is the backend's clock in golden tests: nothing runs, so the
// only times on screen are "stopped for 0 s" (since the demo was opened).
func goldenNow() time.Time { return time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC) }

// newGoldenHarness is a harness with the demo stopped, on its shipped
// ports (8080 and 3031: nothing is started, so nothing binds them), the
// backend's clock stopped, and the window at goldenSize.
func newGoldenHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarnessAt(t, 8080, 3031, goldenNow)
	h.win.Resize(goldenSize)
	return h
}

// mask replaces machine-dependent text in every label on screen. Only
// labels are masked: an entry's text is the document's, and changing it
// would edit the file.
func (h *harness) mask(pairs ...string) {
	h.t.Helper()
	r := strings.NewReplacer(pairs...)
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok {
			if s := r.Replace(l.Text); s != l.Text {
				l.SetText(s)
			}
		}
	}
}

// maskPaths masks the demo's folder, a temp folder, as /data/demo.
func (h *harness) maskPaths() {
	h.mask(h.proj.Info().Dir, "/data/demo")
}

// assertGolden draws the window and compares it with testdata/deck/name.
func (h *harness) assertGolden(name string) {
	h.t.Helper()
	h.app.Drain()
	test.AssertImageMatches(h.t, filepath.Join("deck", name), h.win.Canvas().Capture())
}

// The Overview of the stopped demo: both tiers stopped at their
// addresses, the check passed, the shortcuts.
func TestGoldenOverviewStopped(t *testing.T) {
	// Free ports, so that the check finds nothing in use whatever else
	// runs on this machine; the drawn labels show the shipped ones.
	h := newHarnessAt(t, freePort(t), freePort(t), goldenNow)
	h.win.Resize(goldenSize)
	h.d.SelectTab(deck.TabOverview)
	h.tap("Check again")
	if !strings.Contains(h.texts(), "No problems") {
		t.Fatalf("the check of the stopped demo found problems:\n%s", h.texts())
	}
	checked := ""
	for _, line := range strings.Split(h.texts(), "\n") {
		if strings.HasPrefix(line, "checked at ") {
			checked = line
		}
	}
	if checked == "" {
		t.Fatal("the Overview does not say when it checked")
	}
	h.mask(
		"127.0.0.1:"+strconv.Itoa(h.proxyPort), "127.0.0.1:8080",
		"127.0.0.1:"+strconv.Itoa(h.engPort), "127.0.0.1:3031",
		checked, "checked at 12:00:00",
	)
	h.maskPaths()
	txt := h.texts()
	for _, want := range []string{"not running", "proxy on 127.0.0.1:8080", "engine on 127.0.0.1:3031", "uwsgi.ini", "nginx.conf"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the Overview does not show %q:\n%s", want, txt)
		}
	}
	h.assertGolden("overview_stopped.png")
}

// The Workers tab of a stopped engine says how to see its workers, and
// offers no action.
func TestGoldenWorkersStopped(t *testing.T) {
	h := newGoldenHarness(t)
	h.d.SelectTab(deck.TabWorkers)
	if !strings.Contains(h.texts(), "The engine is not running. Start it to see its workers here.") {
		t.Errorf("no hint to start the engine:\n%s", h.texts())
	}
	for _, b := range []string{"Reload all", "Chain reload", "Add worker", "Remove worker", "Graceful reload", "Kill"} {
		if !h.button(b).Disabled() {
			t.Errorf("%q is enabled with the engine stopped", b)
		}
	}
	h.maskPaths()
	h.assertGolden("workers_stopped.png")
}

// The Logs tab before anything ran.
func TestGoldenLogsEmpty(t *testing.T) {
	h := newGoldenHarness(t)
	h.d.SelectTab(deck.TabLogs)
	if n := len(h.d.VisibleLogLines()); n != 0 {
		t.Fatalf("%d log lines before anything ran: %q", n, h.d.VisibleLogLines())
	}
	if !strings.Contains(h.texts(), "No log lines yet") {
		t.Errorf("the empty list does not say why it is empty:\n%s", h.texts())
	}
	h.maskPaths()
	h.assertGolden("logs_empty.png")
}

// The uwsgi.ini form shows the demo's settings, grouped.
func TestGoldenIniForm(t *testing.T) {
	h := newGoldenHarness(t)
	h.win.Resize(goldenTallSize)
	h.d.SelectTab(deck.TabIni)
	h.tap(deck.ViewForm)
	if e := h.entryAfter("Worker processes"); e.Text != "2" {
		t.Errorf("Worker processes shows %q, want the file's 2", e.Text)
	}
	h.maskPaths()
	h.assertGolden("ini_form.png")
}

// The uwsgi.ini source view: the file with line numbers.
func TestGoldenIniSource(t *testing.T) {
	h := newGoldenHarness(t)
	h.win.Resize(goldenSrcSize)
	h.d.SelectTab(deck.TabIni)
	h.tap(deck.ViewSource)
	if ed := h.editor(); ed.Text() != readFile(t, h.proj.Info().IniPath) {
		t.Error("the source view does not show the file")
	}
	h.maskPaths()
	h.assertGolden("ini_source.png")
}

// The nginx.conf form shows the server, its locations and their handlers.
func TestGoldenNginxForm(t *testing.T) {
	h := newGoldenHarness(t)
	h.d.SelectTab(deck.TabNginx)
	h.tap(deck.ViewForm)
	if e := h.entryAfter("server_name"); e.Text != "localhost" {
		t.Errorf("server_name shows %q, want the file's localhost", e.Text)
	}
	h.maskPaths()
	h.assertGolden("nginx_form.png")
}

// The Export tab first asks for the site's name, then previews the
// production files.
func TestGoldenExport(t *testing.T) {
	h := newGoldenHarness(t)
	h.d.SelectTab(deck.TabExport)
	h.maskPaths()
	h.assertGolden("export_no_server_name.png")

	test.Type(h.entryAfter("Server names"), "demo.example.org")
	if b := h.button("Check with nginx and uWSGI"); b.Disabled() {
		t.Error("Check stays disabled with a server name")
	}
	h.maskPaths()
	h.assertGolden("export_preview.png")
}
