package appserver

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// RequestEvent describes one finished request, for Server.OnRequest and
// EventRequest (per-request traces, metrics).
type RequestEvent struct {
	Worker   int // worker number (1-based); 0 for the master (static files, refusals)
	PID      int // the process that served it
	Core     int
	Socket   int // index of the listening socket in Config.Sockets
	Start    time.Time
	Duration time.Duration
	// Wait is the part of Duration the request spent queued for a worker
	// core because every core was busy; 0 when one was free at once.
	Wait       time.Duration
	Method     string
	URI        string
	RemoteAddr string
	// RemotePort is REMOTE_PORT: behind a proxy that passes it (nginx's
	// uwsgi_params does), the client's port as the proxy saw it, which
	// ties this request to the proxy's record of it.
	RemotePort string
	Status     int
	BodyBytes  int64
	// Outcome: "ok", "exception" (500 before headers), "aborted" (exception
	// after headers: connection cut), "no-app", "worker-lost" (the worker
	// died under it: 502), "harakiri" (it ran over harakiri: 504),
	// "client-gone", "no-worker" (server stopping), "too-large" (over
	// limit-post: 413), "static".
	Outcome string
	Static  bool
}

func outcomeName(x *exchange, rq *request) string {
	switch {
	case rq.via != "":
		return "static"
	case x.harakiri:
		return "harakiri"
	case x.workerErr != nil:
		return "worker-lost"
	case x.refused:
		return "no-worker"
	case x.tooLarge:
		return "too-large"
	case x.outcome == workerproto.OutcomeError:
		return "exception"
	case x.outcome == workerproto.OutcomeAbort:
		return "aborted"
	case x.outcome == workerproto.OutcomeNoApp:
		return "no-app"
	case x.clientErr != nil:
		return "client-gone"
	}
	return "ok"
}

// EventKind says what an Event is about.
type EventKind int

const (
	// EventSpawned: a worker process started. Reason says why ("start",
	// "respawn", "reload", "recycle: max-requests", "cheaper", ...).
	EventSpawned EventKind = iota + 1
	// EventReady: a worker finished loading. Reason holds the app's load
	// error when the app did not load (the worker then answers 500).
	EventReady
	// EventDied: a worker died without being asked to. Reason says how
	// (and why, when known: harakiri, the app's load error); ExitCode and
	// Signal give the raw status. A respawn follows (maybe after
	// EventBackoff).
	EventDied
	// EventBackoff: the respawn of a worker that keeps dying on start is
	// delayed by Delay; Reason repeats why it dies.
	EventBackoff
	// EventHarakiri: a request ran over harakiri; Request describes it,
	// and its worker is being killed (EventDied follows).
	EventHarakiri
	// EventRecycled: a worker is being replaced on purpose; Reason says
	// why (max-requests, reload-on-rss, max-worker-lifetime, limit-as, the
	// API). The old process keeps serving until its replacement is ready.
	EventRecycled
	// EventExited: a worker that was retired (reload, recycle, cheaper,
	// stop) has exited. Reason is what retired it.
	EventExited
	// EventCheaped: the cheaper algorithm (or RemoveWorker) stopped a
	// worker; its slot stays empty until load comes back.
	EventCheaped
	// EventReloadStarted and EventReloadFinished bracket a reload of Mode.
	// Finished's Reason is non-empty when it ended otherwise than with
	// every worker replaced (superseded by another reload, the server
	// stopping).
	EventReloadStarted
	EventReloadFinished
	// EventRequest: a request finished; Request describes it.
	EventRequest
	// EventStopping and EventStopped bracket a stop (Reason: "graceful" or
	// "brutal").
	EventStopping
	EventStopped
	// EventDaemonSpawned and EventDaemonExited: an external daemon's
	// process (attach-daemon and friends) started, or ended. Daemon is
	// its DaemonState.ID; Spawned's Reason is "start", "respawn" or
	// "reload", Exited's says how it ended (ExitCode, Signal).
	EventDaemonSpawned
	EventDaemonExited
)

var eventNames = [...]string{
	EventSpawned: "spawned", EventReady: "ready", EventDied: "died", EventBackoff: "backoff",
	EventHarakiri: "harakiri", EventRecycled: "recycled", EventExited: "exited", EventCheaped: "cheaped",
	EventReloadStarted: "reload-started", EventReloadFinished: "reload-finished",
	EventRequest: "request", EventStopping: "stopping", EventStopped: "stopped",
	EventDaemonSpawned: "daemon-spawned", EventDaemonExited: "daemon-exited",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "event(?)"
}

// Event is something the master did or saw, for the UI (Server.Subscribe).
type Event struct {
	Kind       EventKind
	Time       time.Time
	Worker     int // worker number; 0 for events about the whole server
	Daemon     int // EventDaemonSpawned, EventDaemonExited: the daemon's ID
	PID        int // the worker process concerned
	Generation int // reload generation of the worker (or of the reload)
	Reason     string
	Mode       ReloadMode    // reload events
	ExitCode   int           // EventDied: the exit status; -1 when a signal killed it
	Signal     int           // EventDied: the signal that killed it; 0 for none
	Delay      time.Duration // EventBackoff
	Request    *RequestEvent // EventRequest, EventHarakiri
	// Dropped is how many events this subscriber lost just before this
	// one because it fell more than MaxEventBacklog events behind.
	Dropped int
}

// MaxEventBacklog is how many events a subscriber may have waiting; past
// that, new events are dropped (and counted in the next Event.Dropped)
// rather than slowing the server down.
const MaxEventBacklog = 16384

// Subscribe calls fn with every event of the given kinds (of every kind
// when none is given), in order, from a goroutine of the subscription's
// own, until cancel is called. It may be called before Start. A slow fn
// never slows the server: events past MaxEventBacklog are dropped.
//
// EventRequest costs an allocation per request while someone subscribes
// to it, and nothing otherwise (nor with Config.DisableAccounting, which
// turns it off).
func (s *Server) Subscribe(fn func(Event), kinds ...EventKind) (cancel func()) {
	sub := &subscriber{fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if len(kinds) == 0 {
		sub.mask = ^uint64(0)
	}
	for _, k := range kinds {
		sub.mask |= 1 << uint(k)
	}
	s.events.add(sub)
	go sub.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.events.remove(sub)
			close(sub.done)
		})
	}
}

// eventHub fans events out to the subscribers. The list is copied on
// write, so emitting takes no lock but each subscriber's own.
type eventHub struct {
	mu       sync.Mutex
	subs     atomic.Pointer[[]*subscriber]
	requests atomic.Int32 // subscribers that want EventRequest
}

func (h *eventHub) add(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var old []*subscriber
	if p := h.subs.Load(); p != nil {
		old = *p
	}
	next := append(append([]*subscriber(nil), old...), sub)
	h.subs.Store(&next)
	if sub.wants(EventRequest) {
		h.requests.Add(1)
	}
}

func (h *eventHub) remove(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.subs.Load()
	if p == nil {
		return
	}
	next := make([]*subscriber, 0, len(*p))
	for _, o := range *p {
		if o != sub {
			next = append(next, o)
		}
	}
	h.subs.Store(&next)
	if sub.wants(EventRequest) {
		h.requests.Add(-1)
	}
}

// wantsRequests reports whether anyone subscribed to EventRequest.
func (h *eventHub) wantsRequests() bool { return h.requests.Load() > 0 }

func (h *eventHub) emit(e Event) {
	p := h.subs.Load()
	if p == nil {
		return
	}
	for _, sub := range *p {
		if sub.wants(e.Kind) {
			sub.push(e)
		}
	}
}

// emit stamps e with the time and sends it to the subscribers.
func (s *Server) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.events.emit(e)
}

type subscriber struct {
	fn      func(Event)
	mask    uint64
	mu      sync.Mutex
	queue   []Event
	dropped int
	wake    chan struct{}
	done    chan struct{}
}

func (sub *subscriber) wants(k EventKind) bool { return sub.mask&(1<<uint(k)) != 0 }

func (sub *subscriber) push(e Event) {
	sub.mu.Lock()
	if len(sub.queue) >= MaxEventBacklog {
		sub.dropped++
		sub.mu.Unlock()
		return
	}
	e.Dropped, sub.dropped = sub.dropped, 0
	sub.queue = append(sub.queue, e)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) run() {
	var batch []Event
	for {
		select {
		case <-sub.done:
			return
		case <-sub.wake:
		}
		sub.mu.Lock()
		batch, sub.queue = sub.queue, batch[:0]
		sub.mu.Unlock()
		for i := range batch {
			select {
			case <-sub.done:
				return
			default:
			}
			sub.fn(batch[i])
			batch[i] = Event{}
		}
	}
}
