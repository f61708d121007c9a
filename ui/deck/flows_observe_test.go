package deck_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// observedFlaskApp adds routes that make the logs and figures move.
const observedFlaskApp = flaskApp + `

@app.route('/flood')
def flood():
    import sys
    for i in range(int(__import__('flask').request.args.get('n', '20000'))):
        print('flood line %d' % i, file=sys.stderr)
    print('FLOOD-END', file=sys.stderr, flush=True)
    return 'flooded'
`

// observedProject adds and starts a Flask project serving observedFlaskApp
// and returns its base URL.
func (h *harness) observedProject() (deck.Project, string) {
	h.t.Helper()
	dir := flaskDir(h.t)
	must(h.t, os.WriteFile(filepath.Join(dir, "app.py"), []byte(observedFlaskApp), 0o644))
	p := h.addProject(dir, nil)
	s := h.start()
	h.waitLoaded(2)
	return p, s.URL
}

// An app that floods its log: the window keeps a bounded number of
// lines, and the next refresh shows the newest lines the engine has, not
// lines from seconds ago that the window is still working through.
func TestFlowLogFloodShowsTheNewestLines(t *testing.T) {
	h := newFlowHarness(t)
	p, url := h.observedProject()
	h.d.SelectTab(deck.TabLogs)
	h.d.Refresh()
	if code, body, err := get(t, url+"flood?n=30000"); err != nil || code != 200 || body != "flooded" {
		t.Fatalf("GET /flood: %d %q %v", code, body, err)
	}
	// Wait for the backend to have the last line, without refreshing the
	// window: then one refresh, as one tick of the window does.
	deadline := time.Now().Add(20 * time.Second)
	for !hasLine(p.Logs(0, 0), "FLOOD-END") {
		if time.Now().After(deadline) {
			t.Fatal("the engine never logged FLOOD-END")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.app.Drain()
	h.d.Refresh()
	shown := h.d.VisibleLogLines()
	if len(shown) > deck.MaxLogLines {
		t.Fatalf("the Logs tab keeps %d lines, more than its bound %d", len(shown), deck.MaxLogLines)
	}
	found := false
	for _, s := range shown {
		found = found || s == "FLOOD-END"
	}
	if !found {
		t.Errorf("after the flood the Logs tab shows %d lines, the last %q: not the newest line FLOOD-END", len(shown), shown[len(shown)-1])
	}
	if txt := h.texts(); !strings.Contains(txt, "were dropped") {
		t.Errorf("the footer does not say lines were dropped:\n%s", txt)
	}
}

func hasLine(lines []deck.LogLine, text string) bool {
	for _, l := range lines {
		if l.Text == text {
			return true
		}
	}
	return false
}

// requestsList is the Requests tab's list: the visible list with n rows
// that is not the sidebar's.
func (h *harness) requestsList(n int) *widget.List {
	h.t.Helper()
	for _, o := range h.objects() {
		if l, ok := o.(*widget.List); ok && l.Length() == n && l.Length() != len(h.b.Projects()) {
			return l
		}
	}
	h.t.Fatalf("no list of %d requests on the Requests tab:\n%s", n, h.texts())
	return nil
}

// The Requests tab follows each request through its hops, as the user
// sent them: the app's time shows in the engine hop with the worker that
// ran it (the one the app names in X-Worker-Pid), a static file shows the
// proxy alone, and with the engine stopped the 502 says the engine did
// not answer.
func TestFlowRequestsTraceEveryHop(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	resp, err := http.Get(h.url() + "slow?s=0.3")
	must(t, err)
	resp.Body.Close()
	slowPID := resp.Header.Get("X-Worker-Pid")
	if code, _, err := get(t, h.url()+"static/style.css"); err != nil || code != 200 {
		t.Fatalf("GET /static/style.css: %d %v", code, err)
	}
	h.d.Stop(deck.Engine)
	if code, _, err := get(t, h.url()); err != nil || code != 502 {
		t.Fatalf("GET / with the engine stopped: %d %v", code, err)
	}
	h.d.SelectTab(deck.TabRequests)
	h.waitFor("3 requests on the Requests tab", func() bool { return len(h.d.VisibleRequests()) == 3 })
	rows := h.d.VisibleRequests()
	for i, want := range []string{"GET /slow?s=0.3  →  200", "proxy: GET /static/style.css  →  200", "proxy: GET /  →  502"} {
		if !strings.Contains(rows[i], want) {
			t.Errorf("row %d reads %q, want %q in it", i, rows[i], want)
		}
	}
	list := h.requestsList(3)
	before := h.d.Content().MinSize()

	list.Select(0)
	txt := h.texts()
	if strings.Contains(txt, "for a free worker") {
		t.Errorf("the /slow request, sent with both workers idle, is said to have waited for one:\n%s", txt)
	}
	m := regexp.MustCompile(`engine → worker (\d) \(pid (\d+)\) ran the app: ([\d.]+) ms`).FindStringSubmatch(txt)
	if m == nil {
		t.Fatalf("the /slow request's hops do not name its worker and time:\n%s", txt)
	}
	if m[2] != slowPID || !strings.HasPrefix(rows[0], "worker "+m[1]+":") {
		t.Errorf("the trace says worker %s pid %s (row %q); the app ran in pid %s", m[1], m[2], rows[0], slowPID)
	}
	if engMS, _ := strconv.ParseFloat(m[3], 64); engMS < 300 || engMS > 1000 {
		t.Errorf("the app hop of /slow?s=0.3 took %s ms", m[3])
	}
	own := regexp.MustCompile(`proxy 127\.0\.0\.1:\d+: ([\d.]+) ms of its own`).FindStringSubmatch(txt)
	if own == nil {
		t.Fatalf("no proxy hop for /slow:\n%s", txt)
	}
	if ms, _ := strconv.ParseFloat(own[1], 64); ms >= 100 {
		t.Errorf("the proxy's own share of /slow?s=0.3 is %s ms: the sleep is the app's", own[1])
	}

	// Long hop lines scroll: what the tab shows never raises the window's
	// minimum size (which Fyne grows the window to).
	if ms := h.d.Content().MinSize(); ms.Width > before.Width || ms.Height > before.Height {
		t.Errorf("the window's minimum size grew from %v to %v with a request's hops on screen", before, ms)
	}

	list.Select(1)
	if txt := h.texts(); !strings.Contains(txt, "answered 200 alone") || strings.Contains(txt, "ran the app") {
		t.Errorf("the static file's hops:\n%s", txt)
	}
	list.Select(2)
	if txt := h.texts(); !strings.Contains(txt, "answered 502: the engine at 127.0.0.1:"+strconv.Itoa(h.engPort)+" did not answer") {
		t.Errorf("the 502's hops:\n%s", txt)
	}
}

// With the demo's two workers, of three slow requests sent together the
// third waits in the engine for a worker: its trace shows the wait apart
// from the app's own time, instead of counting the wait as the app's.
func TestFlowRequestsShowTheWaitForAWorker(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := http.Get(h.url() + "slow?s=0.4"); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	h.d.SelectTab(deck.TabRequests)
	h.waitFor("3 requests on the Requests tab", func() bool { return len(h.d.VisibleRequests()) == 3 })
	list := h.requestsList(3)
	list.Select(2) // the one that finished last waited
	txt := h.texts()
	wait := regexp.MustCompile(`waited ([\d.]+) ms for a free worker`).FindStringSubmatch(txt)
	app := regexp.MustCompile(`engine → worker \d \(pid \d+\) ran the app: ([\d.]+) ms`).FindStringSubmatch(txt)
	if wait == nil || app == nil {
		t.Fatalf("the last request's hops do not show its wait and the app's time apart:\n%s", txt)
	}
	if ms, _ := strconv.ParseFloat(wait[1], 64); ms < 200 {
		t.Errorf("waited %s ms for a worker while both ran 400 ms requests", wait[1])
	}
	if ms, _ := strconv.ParseFloat(app[1], 64); ms < 380 || ms > 780 {
		t.Errorf("the app's own time is %s ms for a 400 ms sleep: the wait is counted in it, or lost", app[1])
	}
}
