package deck

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestRequestsTab(t *testing.T) *requestsTab {
	t.Helper()
	a := test.NewTempApp(t)
	d := &Deck{app: a, busy: map[string]string{}, status: newStatusBar(), snaps: map[string]Snapshot{}}
	// The Requests tab is the one on screen, so pushes refresh it at once.
	d.tabs = container.NewAppTabs(container.NewTabItem(TabRequests, widget.NewLabel("")))
	return newRequestsTab(d)
}

func traces(from, n int) []Trace {
	out := make([]Trace, n)
	for i := range out {
		seq := from + i
		out[i] = Trace{Seq: uint64(seq), Start: time.Unix(1700000000, 0), Method: "GET", URI: "/r" + strconv.Itoa(seq), Status: 200,
			Proxy: &ProxyHop{Status: 200}}
	}
	return out
}

// A selected request stays selected while new ones arrive and older ones
// drop; when it drops out itself, the list and the hops no longer claim a
// selection (the row it sat on now holds another request).
func TestRequestsSelectionKeptUntilItsRequestDrops(t *testing.T) {
	r := newTestRequestsTab(t)
	r.push(traces(1, 10))
	r.list.Select(4)
	if r.sel != 5 || !strings.Contains(r.title.Text, "GET /r5 ") {
		t.Fatalf("selecting row 4 selected seq %d, titled %q", r.sel, r.title.Text)
	}
	// New requests: the selection stays on /r5, wherever its row is now.
	r.push(traces(11, MaxTraces-6))
	if r.sel != 5 || !strings.Contains(r.title.Text, "GET /r5 ") {
		t.Fatalf("after more requests the selection is seq %d, titled %q", r.sel, r.title.Text)
	}
	if i := r.index(5); i != 0 {
		t.Fatalf("/r5 sits at row %d, want 0", i)
	}
	// One more pushes /r5 out of the kept requests.
	r.push(traces(MaxTraces+5, 1))
	if r.index(5) >= 0 {
		t.Fatal("/r5 is still kept")
	}
	if r.sel != 0 {
		t.Errorf("the selection still names seq %d, which is gone", r.sel)
	}
	for _, o := range r.detail.Objects {
		if o == r.title {
			t.Errorf("the hops of the dropped request are still shown: %q", r.title.Text)
		}
	}
}
