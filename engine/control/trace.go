package control

import (
	"net"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

// Trace is one request followed through the hops it took: the proxy, and
// the engine with the worker that ran the app. The two tiers report their
// requests separately; the Runner pairs them by the client's address and
// port, which the proxy passes to the engine (REMOTE_ADDR and REMOTE_PORT
// in nginx's uwsgi_params), with the method and URI; without them, by
// method, URI and time (a proxied request's engine part runs inside the
// proxy's).
type Trace struct {
	Seq    uint64 // 1, 2, 3... per Runner, in the order requests finished
	Start  time.Time
	Method string
	URI    string
	// Client is the client's address and port ("127.0.0.1:53422"), when
	// the first hop knew them.
	Client string
	// Status is what the client got: the proxy's status, or the engine's
	// for a request that came to the engine directly.
	Status int
	// Total is the request's time as its first hop saw it: from its first
	// byte to its response (nginx's $request_time for the proxy).
	Total time.Duration
	// Proxy is nil for a request sent straight to the engine.
	Proxy *ProxyHop
	// Engine is nil when the proxy answered alone: a static file, a
	// return, or an error because the engine did not answer.
	Engine *EngineHop
}

// ProxyHop is the proxy's part of a trace.
type ProxyHop struct {
	Status   int
	Duration time.Duration
	Bytes    int64
	// Upstream is $upstream_addr: the engine address(es) it tried, ""
	// when it answered alone.
	Upstream string
}

// EngineHop is the engine's part of a trace: from the master accepting
// the request to the worker's last byte, the wait for a free worker
// included.
type EngineHop struct {
	Start    time.Time
	Duration time.Duration
	Wait     time.Duration // of Duration, the wait for a free worker
	Worker   int           // 0: the master answered (static-map, refusals)
	PID      int
	Status   int
	Bytes    int64
	Outcome  string // as in Request.Outcome
}

// Own is the time the proxy spent on its own: its total minus the
// engine's time, or the total when the engine was not involved.
func (t *Trace) Own() time.Duration {
	switch {
	case t.Proxy == nil:
		return 0
	case t.Engine == nil:
		return t.Total
	case t.Engine.Duration > t.Total:
		return 0
	}
	return t.Total - t.Engine.Duration
}

// DefaultTraces is how many traces a Runner keeps.
const DefaultTraces = 1000

// pairWait is how long a finished request of one tier waits for its
// other half before it becomes a trace on its own. The engine reports a
// request when its last byte is written, the proxy when the client has
// it: either may come first, by microseconds, not by this much.
const pairWait = 500 * time.Millisecond

// maxPending bounds the halves waiting for their pair.
const maxPending = 512

// tracer pairs the two tiers' finished requests into traces.
type tracer struct {
	mu   sync.Mutex
	now  func() time.Time
	eng  []engineHalf // engine requests not yet paired, oldest first
	px   []proxyHalf  // proxied requests not yet paired, oldest first
	ring seqRing[Trace]
}

type engineHalf struct {
	at     time.Time // when it arrived, for pairWait
	method string
	uri    string
	client string // REMOTE_ADDR:REMOTE_PORT, "" without both
	hop    EngineHop
}

// clientKey is "addr:port", or "" when either is unknown.
func clientKey(addr, port string) string {
	if addr == "" || port == "" {
		return ""
	}
	return net.JoinHostPort(addr, port)
}

type proxyHalf struct {
	at    time.Time
	trace Trace
}

func newTracer(now func() time.Time, capacity int) *tracer {
	if capacity <= 0 {
		capacity = DefaultTraces
	}
	return &tracer{now: now, ring: newSeqRing[Trace](capacity)}
}

// engine takes one request the engine finished.
func (t *tracer) engine(ev *appserver.RequestEvent) {
	h := engineHalf{at: t.now(), method: ev.Method, uri: ev.URI, client: clientKey(ev.RemoteAddr, ev.RemotePort), hop: EngineHop{Start: ev.Start, Duration: ev.Duration, Wait: ev.Wait,
		Worker: ev.Worker, PID: ev.PID, Status: ev.Status, Bytes: ev.BodyBytes, Outcome: ev.Outcome}}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(h.at)
	for i := range t.px {
		if pairs(&t.px[i].trace, &h) {
			tr := t.px[i].trace
			t.px = append(t.px[:i], t.px[i+1:]...)
			tr.Engine = &h.hop
			t.add(tr)
			return
		}
	}
	if len(t.eng) == maxPending {
		t.alone(t.eng[0])
		t.eng = t.eng[1:]
	}
	t.eng = append(t.eng, h)
}

// proxy takes one request the proxy finished. engineUp says whether the
// engine runs: when it does not, a proxied request's engine part is one
// already reported or none (it went to another server, or got a 502),
// and the trace is complete at once.
func (t *tracer) proxy(rec *proxy.RequestRecord, engineUp bool) {
	tr := Trace{Start: rec.Time.Add(-rec.Duration), Method: rec.Method, URI: rec.URI, Client: clientKey(rec.RemoteAddr, rec.RemotePort),
		Status: rec.Status, Total: rec.Duration,
		Proxy: &ProxyHop{Status: rec.Status, Duration: rec.Duration, Bytes: rec.BodyBytesSent, Upstream: rec.Upstream}}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	if rec.Upstream == "" {
		t.add(tr)
		return
	}
	// The closest engine request with the same method and URI that ran
	// inside this one.
	best := -1
	for i := range t.eng {
		if pairs(&tr, &t.eng[i]) && (best < 0 || gap(&tr, &t.eng[i]) < gap(&tr, &t.eng[best])) {
			best = i
		}
	}
	if best >= 0 {
		h := t.eng[best]
		t.eng = append(t.eng[:best], t.eng[best+1:]...)
		tr.Engine = &h.hop
		t.add(tr)
		return
	}
	if !engineUp {
		t.add(tr)
		return
	}
	if len(t.px) == maxPending {
		t.add(t.px[0].trace)
		t.px = t.px[1:]
	}
	t.px = append(t.px, proxyHalf{at: now, trace: tr})
}

// pairs reports whether engine request h can be the engine part of the
// proxied request tr: same method and URI, from the same client address
// and port when both tiers know them (then it is that request, or one
// before it on the same keep-alive connection, which gap tells apart),
// and no longer than it (with a little slack for the two clocks'
// readings).
func pairs(tr *Trace, h *engineHalf) bool {
	const slack = 50 * time.Millisecond
	if tr.Client != "" && h.client != "" && tr.Client != h.client {
		return false
	}
	return tr.Method == h.method && tr.URI == h.uri && h.hop.Duration <= tr.Total+slack
}

// gap is how far apart the ends of tr and its candidate engine part are.
func gap(tr *Trace, h *engineHalf) time.Duration {
	d := tr.Start.Add(tr.Total).Sub(h.hop.Start.Add(h.hop.Duration))
	if d < 0 {
		d = -d
	}
	return d
}

// expire turns halves that waited pairWait into traces of their own.
func (t *tracer) expire(now time.Time) {
	k := 0
	for k < len(t.eng) && now.Sub(t.eng[k].at) >= pairWait {
		t.alone(t.eng[k])
		k++
	}
	t.eng = t.eng[k:]
	k = 0
	for k < len(t.px) && now.Sub(t.px[k].at) >= pairWait {
		t.add(t.px[k].trace)
		k++
	}
	t.px = t.px[k:]
}

// alone makes a trace of an engine request nobody proxied.
func (t *tracer) alone(h engineHalf) {
	hop := h.hop
	t.add(Trace{Start: hop.Start, Method: h.method, URI: h.uri, Client: h.client, Status: hop.Status, Total: hop.Duration, Engine: &hop})
}

func (t *tracer) add(tr Trace) {
	t.ring.add(func(seq uint64) Trace { tr.Seq = seq; return tr })
}

// after returns up to max traces with Seq > after, oldest first (all when
// max <= 0). Halves that waited long enough for their pair are finished
// first.
func (t *tracer) after(after uint64, max int) []Trace {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(t.now())
	return t.ring.after(after, max)
}

// Traces returns up to max traces with Seq > after, oldest first (all
// when max <= 0). A caller that fell behind gets the oldest still kept
// (DefaultTraces); Seq says how many it missed. A request's trace is
// there once both its hops reported it: at once for most, within half a
// second for a request only one tier saw.
func (r *Runner) Traces(after uint64, max int) []Trace { return r.traces.after(after, max) }
