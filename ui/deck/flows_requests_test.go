package deck_test

import (
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// The hops shown are those of a request of the project on screen: after
// switching to another project, the Requests tab does not go on showing
// the previous project's selected request.
func TestFlowRequestsDetailFollowsTheProject(t *testing.T) {
	h := newHarness(t)
	h.startDemo(2)
	for range 2 {
		if code, _, err := get(t, h.url()+"static/style.css"); err != nil || code != 200 {
			t.Fatalf("GET /static/style.css: %d %v", code, err)
		}
	}
	h.d.SelectTab(deck.TabRequests)
	h.waitFor("the requests on the Requests tab", func() bool { return len(h.d.VisibleRequests()) == 2 })
	h.requestsList(2).Select(0)
	if txt := h.texts(); !strings.Contains(txt, "GET /static/style.css") {
		t.Fatalf("the selected request's hops are not shown:\n%s", txt)
	}
	other := h.addProject(flaskDir(t), nil)
	h.d.SelectTab(deck.TabRequests)
	if h.d.Selected() != other.Info().ID {
		t.Fatalf("the new project is not selected")
	}
	if txt := h.texts(); strings.Contains(txt, "style.css") || strings.Contains(txt, "answered 200 alone") {
		t.Errorf("the new project's Requests tab shows the demo's request:\n%s", txt)
	}
	h.selectProject(backend.DemoID)
	h.waitFor("the demo's requests again", func() bool { return len(h.d.VisibleRequests()) == 2 })
	if txt := h.texts(); strings.Contains(txt, "answered 200 alone") {
		t.Errorf("back on the demo, the hops show with no request selected:\n%s", txt)
	}
}
