package control

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

// The demo's requests through the real proxy and engine come back as
// traces with the right hops: the worker that served each (as the app's
// X-Worker-Pid header says), the app's time in the engine hop, a static
// file with no engine hop, and a 502 with no engine hop once the engine
// is stopped.
func TestTracesFollowRequestsThroughBothTiers(t *testing.T) {
	dir, proxyPort, _ := demoProject(t)
	r := newTestRunner(t, dir, nil)
	ctx := ctxFor(t)
	if err := r.Start(ctx, Both); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/", proxyPort)
	pids := map[string]int{}
	for _, p := range []string{"slow?s=0.3", "boom", "nope", "static/style.css"} {
		resp, _ := get(t, base+p)
		pids[p], _ = strconv.Atoi(resp.Header.Get("X-Worker-Pid"))
	}
	if err := r.Stop(ctx, Engine); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, base); resp.StatusCode != 502 {
		t.Fatalf("GET / with the engine stopped: %d", resp.StatusCode)
	}
	var trs []Trace
	deadline := time.Now().Add(10 * time.Second)
	for len(trs) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d traces after 10 s: %+v", len(trs), trs)
		}
		time.Sleep(20 * time.Millisecond)
		trs = r.Traces(0, 0)
	}
	if len(trs) != 5 {
		t.Fatalf("%d traces for 5 requests: %+v", len(trs), trs)
	}
	byURI := map[string]Trace{}
	for _, tr := range trs {
		byURI[tr.URI] = tr
		if tr.Method != "GET" || tr.Proxy == nil {
			t.Errorf("%s: method %q, proxy hop %v", tr.URI, tr.Method, tr.Proxy)
		}
	}
	slow := byURI["/slow?s=0.3"]
	if e := slow.Engine; e == nil || e.Worker < 1 || e.PID != pids["slow?s=0.3"] || slow.Status != 200 || e.Status != 200 {
		t.Fatalf("/slow?s=0.3: status %d, engine hop %+v (the app ran in pid %d)", slow.Status, e, pids["slow?s=0.3"])
	}
	if d := slow.Engine.Duration; d < 300*time.Millisecond || d > slow.Total {
		t.Errorf("/slow?s=0.3: the engine hop took %v of %v: want the app's 300 ms, inside the total", d, slow.Total)
	}
	if own := slow.Own(); own < 0 || own >= 100*time.Millisecond {
		t.Errorf("/slow?s=0.3: the proxy's own time is %v of %v: the sleep is the app's", own, slow.Total)
	}
	if b := byURI["/boom"]; b.Status != 500 || b.Engine == nil || b.Engine.Outcome != "exception" || b.Engine.Worker < 1 || b.Engine.PID <= 0 {
		t.Errorf("/boom: status %d, engine hop %+v", b.Status, b.Engine)
	}
	if n := byURI["/nope"]; n.Status != 404 || n.Engine == nil || n.Engine.Status != 404 {
		t.Errorf("/nope: status %d, engine hop %+v", n.Status, n.Engine)
	}
	if s := byURI["/static/style.css"]; s.Status != 200 || s.Engine != nil || s.Proxy.Upstream != "" {
		t.Errorf("/static/style.css, served by the proxy alone: status %d, engine hop %+v, upstream %q", s.Status, s.Engine, s.Proxy.Upstream)
	}
	if g := byURI["/"]; g.Status != 502 || g.Engine != nil || g.Proxy.Upstream == "" || g.Own() != g.Total {
		t.Errorf("/ with the engine stopped: status %d, engine hop %+v, upstream %q", g.Status, g.Engine, g.Proxy.Upstream)
	}
	if more := r.Traces(trs[4].Seq, 0); len(more) != 0 {
		t.Errorf("Traces after the last: %+v", more)
	}
}

// Two overlapping requests for the same URI pair each engine part with
// the proxied request it ran inside, whichever tier reports first; a half
// left alone becomes a trace of its own after pairWait.
func TestTracerPairsOverlappingRequests(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tr := newTracer(func() time.Time { return now }, 10)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	at := func(n int) time.Time { return now.Add(ms(n)) }
	// A: proxy 0..500 ms, engine 10..495 on worker 1 (reported first).
	// B: proxy 100..210 ms, engine 105..205 on worker 2 (reported after).
	tr.engine(&appserver.RequestEvent{Worker: 1, PID: 11, Start: at(10), Duration: ms(485), Method: "GET", URI: "/x", Status: 200})
	tr.proxy(&proxy.RequestRecord{Time: at(210), Duration: ms(110), Method: "GET", URI: "/x", Status: 200, Upstream: "127.0.0.1:1"}, true)
	tr.engine(&appserver.RequestEvent{Worker: 2, PID: 22, Start: at(105), Duration: ms(100), Method: "GET", URI: "/x", Status: 200})
	tr.proxy(&proxy.RequestRecord{Time: at(500), Duration: ms(500), Method: "GET", URI: "/x", Status: 200, Upstream: "127.0.0.1:1"}, true)
	got := tr.after(0, 0)
	if len(got) != 2 {
		t.Fatalf("%d traces: %+v", len(got), got)
	}
	for _, g := range got {
		want := map[time.Duration]int{ms(110): 2, ms(500): 1}[g.Total]
		if g.Engine == nil || g.Engine.Worker != want {
			t.Errorf("the %v request got engine hop %+v, want worker %d's", g.Total, g.Engine, want)
		}
	}
	// An engine request nobody proxied, and a proxied one the engine
	// never saw, each wait pairWait and then stand alone.
	tr.engine(&appserver.RequestEvent{Worker: 1, PID: 11, Start: at(600), Duration: ms(5), Method: "GET", URI: "/direct", Status: 200})
	tr.proxy(&proxy.RequestRecord{Time: at(600), Duration: ms(1), Method: "GET", URI: "/down", Status: 502, Upstream: "127.0.0.1:1"}, true)
	if n := len(tr.after(2, 0)); n != 0 {
		t.Fatalf("%d lone halves became traces before pairWait", n)
	}
	now = now.Add(pairWait + time.Second)
	lone := tr.after(2, 0)
	if len(lone) != 2 || lone[0].Proxy != nil || lone[0].Engine == nil || lone[1].Engine != nil || lone[1].Status != 502 {
		t.Fatalf("lone halves: %+v", lone)
	}
}

// With the client's address and port from both tiers (REMOTE_ADDR and
// REMOTE_PORT in uwsgi_params), two requests for the same URI at the same
// time are paired by their connection, where their times alone would
// swap them.
func TestTracerPairsByClientPort(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tr := newTracer(func() time.Time { return now }, 10)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	at := func(n int) time.Time { return now.Add(ms(n)) }
	// A: proxy 0..500 from port 1111, engine 10..495 on worker 1.
	// B: proxy 100..505 from port 2222, engine 105..500 on worker 2.
	// By time, A's proxy end (500) is nearest B's engine end (500).
	tr.engine(&appserver.RequestEvent{Worker: 2, PID: 22, Start: at(105), Duration: ms(395), Method: "GET", URI: "/x", Status: 200,
		RemoteAddr: "127.0.0.1", RemotePort: "2222"})
	tr.engine(&appserver.RequestEvent{Worker: 1, PID: 11, Start: at(10), Duration: ms(485), Method: "GET", URI: "/x", Status: 200,
		RemoteAddr: "127.0.0.1", RemotePort: "1111"})
	tr.proxy(&proxy.RequestRecord{Time: at(500), Duration: ms(500), Method: "GET", URI: "/x", Status: 200, Upstream: "127.0.0.1:1",
		RemoteAddr: "127.0.0.1", RemotePort: "1111"}, true)
	tr.proxy(&proxy.RequestRecord{Time: at(505), Duration: ms(405), Method: "GET", URI: "/x", Status: 200, Upstream: "127.0.0.1:1",
		RemoteAddr: "127.0.0.1", RemotePort: "2222"}, true)
	got := tr.after(0, 0)
	if len(got) != 2 {
		t.Fatalf("%d traces: %+v", len(got), got)
	}
	for _, g := range got {
		want := map[string]int{"127.0.0.1:1111": 1, "127.0.0.1:2222": 2}[g.Client]
		if g.Engine == nil || g.Engine.Worker != want {
			t.Errorf("the request from %s got engine hop %+v, want worker %d's", g.Client, g.Engine, want)
		}
	}
}

// While the engine does not run (a project without uwsgi.ini), a proxied
// request has no engine part to wait for: its trace is there at once,
// unless the engine reported it just before stopping.
func TestTracerEngineDown(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tr := newTracer(func() time.Time { return now }, 10)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	at := func(n int) time.Time { return now.Add(ms(n)) }
	tr.proxy(&proxy.RequestRecord{Time: at(20), Duration: ms(20), Method: "GET", URI: "/up/x", Status: 200, Upstream: "127.0.0.1:9"}, false)
	got := tr.after(0, 0)
	if len(got) != 1 || got[0].Engine != nil || got[0].Proxy == nil || got[0].Proxy.Upstream != "127.0.0.1:9" {
		t.Fatalf("with the engine down: %+v", got)
	}
	tr.engine(&appserver.RequestEvent{Worker: 1, PID: 11, Start: at(31), Duration: ms(8), Method: "GET", URI: "/last", Status: 200})
	tr.proxy(&proxy.RequestRecord{Time: at(40), Duration: ms(10), Method: "GET", URI: "/last", Status: 200, Upstream: "127.0.0.1:1"}, false)
	got = tr.after(1, 0)
	if len(got) != 1 || got[0].Engine == nil || got[0].Engine.Worker != 1 {
		t.Fatalf("the engine's last request was not paired: %+v", got)
	}
}
