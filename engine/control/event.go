package control

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventKind says what happened. The first nine are in the order of
// ui/deck's EventKind.
type EventKind uint8

const (
	EventState         EventKind = iota // a tier changed state: Tier, State, Message
	EventWorkerSpawned                  // Worker, PID
	EventWorkerDied                     // Worker, PID, Message: how (signal, exit code)
	EventHarakiri                       // Worker, PID, Message: what uWSGI logged
	EventRecycled                       // Worker, PID (the old process), Message: why
	EventReloadStarted                  // Tier
	EventReloadDone                     // Tier
	EventReloadFailed                   // Tier, Message: why; the old configuration keeps serving
	EventConfigChanged                  // Path: a config file changed on disk
	EventRequest                        // Request: a request finished (either tier)
	EventLog                            // Log: a line was added to the log
)

var eventNames = [...]string{"state", "worker-spawned", "worker-died", "harakiri", "recycled",
	"reload-started", "reload-done", "reload-failed", "config-changed", "request", "log"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// Event is something that happened to a project.
type Event struct {
	Time    time.Time
	Kind    EventKind
	Tier    Tier
	State   State // EventState: the tier's new state
	Worker  int
	PID     int
	Message string
	Path    string   // EventConfigChanged
	Request *Request // EventRequest
	Log     *LogLine // EventLog
	// Dropped is how many events this subscriber missed just before this
	// one because it fell behind (its queue holds DefaultEventQueue).
	Dropped uint64
}

// Request is one finished request, as a tier saw it.
type Request struct {
	Tier     Tier // Engine or Proxy
	Worker   int  // engine: the worker (0 for the master: static files, refusals)
	PID      int  // engine: the worker's process
	Method   string
	URI      string
	Status   int
	Duration time.Duration
	Bytes    int64 // body bytes sent
	// Outcome is the engine's: "ok", "exception", "aborted", "no-app",
	// "worker-lost", "client-gone", "no-worker", "static"; the proxy's
	// requests have "" here.
	Outcome string
	// Upstream is, for the proxy, the upstream address(es) it asked
	// ("127.0.0.1:3031"), "" when it answered itself (a static file).
	Upstream string
}

// DefaultEventQueue is how many events wait for a slow subscriber before
// newer ones are dropped (and counted in Event.Dropped).
const DefaultEventQueue = 4096

// bus delivers events to subscribers, each on its own goroutine in the
// order they were published. Publishing never blocks: a subscriber that
// falls behind loses events, and learns how many.
type bus struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	// wanted is the union of the subscribers' masks, read without the
	// lock on every request and log line (wants).
	wanted atomic.Uint64
}

// rewant recomputes wanted; b.mu is held.
func (b *bus) rewant() {
	var m uint64
	for s := range b.subs {
		m |= s.mask
	}
	b.wanted.Store(m)
}

type subscriber struct {
	fn      func(Event)
	mask    uint64 // the kinds it wants: bit k for EventKind k
	ch      chan Event
	mu      sync.Mutex
	dropped uint64
	done    chan struct{}
	once    sync.Once
}

// kindMask is the set of kinds, all of them when none is given.
func kindMask(kinds []EventKind) uint64 {
	if len(kinds) == 0 {
		return ^uint64(0)
	}
	var m uint64
	for _, k := range kinds {
		m |= 1 << uint(k)
	}
	return m
}

func (b *bus) subscribe(fn func(Event), kinds ...EventKind) (cancel func()) {
	s := &subscriber{fn: fn, mask: kindMask(kinds), ch: make(chan Event, DefaultEventQueue), done: make(chan struct{})}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.rewant()
	b.mu.Unlock()
	go s.run()
	return func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.rewant()
		b.mu.Unlock()
		s.once.Do(func() { close(s.done) })
	}
}

func (s *subscriber) run() {
	for {
		select {
		case <-s.done:
			return
		case ev := <-s.ch:
			select {
			case <-s.done:
				return
			default:
			}
			s.fn(ev)
		}
	}
}

// wants reports whether anyone listens to events of kind k, so that
// callers can skip building events nobody reads (a request event per
// request, a log event per line).
func (b *bus) wants(k EventKind) bool {
	return b.wanted.Load()&(1<<uint(k)) != 0
}

// publish queues ev for the subscribers that want its kind. The others
// are not even woken: a window polling its figures must not pay a
// goroutine wake-up per request and per log line.
func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bit := uint64(1) << uint(ev.Kind)
	for s := range b.subs {
		if s.mask&bit == 0 {
			continue
		}
		s.mu.Lock()
		e := ev
		e.Dropped = s.dropped
		select {
		case s.ch <- e:
			s.dropped = 0
		default:
			s.dropped++
		}
		s.mu.Unlock()
	}
}
