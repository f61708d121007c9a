package control

import (
	"errors"
	"time"
)

// Tier says which server a command acts on. Its values are in the order
// of ui/deck's, so a front end converts with a plain conversion.
type Tier uint8

const (
	Both   Tier = iota // the proxy and the engine together
	Engine             // the uWSGI-compatible app server only
	Proxy              // the nginx-compatible proxy only
)

func (t Tier) String() string {
	switch t {
	case Engine:
		return "engine"
	case Proxy:
		return "proxy"
	}
	return "proxy and engine"
}

func (t Tier) hasEngine() bool { return t == Both || t == Engine }
func (t Tier) hasProxy() bool  { return t == Both || t == Proxy }

// State is the state of a tier, or of a project as a whole.
type State uint8

const (
	Stopped  State = iota
	Starting       // or reloading: work is under way
	Running
	Degraded // serving, but not as configured: a tier down, no worker has the app
	Stopping
	Failed // it could not start, or died; Status.Message says why
)

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

var stateNames = [...]string{"stopped", "starting", "running", "degraded", "stopping", "failed"}

// serving reports whether the tier is up (possibly not as configured).
func (s State) serving() bool { return s == Running || s == Degraded }

// Overall is a project's state from its two tiers': the worse one decides,
// and one tier up with the other down is Degraded.
func Overall(engine, proxy State) State {
	switch {
	case engine == Failed || proxy == Failed:
		return Failed
	case engine == Starting || proxy == Starting:
		return Starting
	case engine == Stopping || proxy == Stopping:
		return Stopping
	case engine == Stopped && proxy == Stopped:
		return Stopped
	case engine == Running && proxy == Running:
		return Running
	}
	return Degraded
}

// Status is one tier's state.
type Status struct {
	State State
	// Addrs are the addresses it listens on ("127.0.0.1:8080"), or the
	// configured ones while it does not run.
	Addrs []string
	// PID is the process serving the tier: both run inside this one.
	PID int
	// Since is when it reached its state (uptime, when running).
	Since time.Time
	// Message explains a Failed or Degraded state in plain words.
	Message string
	// Config is the file it runs from.
	Config string
}

// Snapshot is a project's state at one moment.
type Snapshot struct {
	Time   time.Time
	State  State // the project as a whole
	Engine Status
	Proxy  Status
	// App is the WSGI app the engine serves ("wsgi:application").
	App string
	// URL is where a browser reaches the project through the proxy
	// ("http://127.0.0.1:8080/"), or "" when no proxy address is known.
	URL string
	// Workers are the engine's worker processes ordered by id, a retiring
	// one (Status "retiring") after the one replacing it; empty when the
	// engine does not run.
	Workers []Worker
	// ListenQueue is the number of requests waiting for a free worker
	// core; InFlight the number being served now.
	ListenQueue, InFlight int
	// Requests and Exceptions are the engine's totals since it started.
	Requests, Exceptions uint64
	// ProxyRequests is the number of responses the proxy has sent since
	// it started, when it counts them (see ProxyHistory).
	ProxyRequests uint64
}

// Worker is one engine worker process.
type Worker struct {
	ID, PID int
	// Generation counts reloads: workers started by the same reload share it.
	Generation int
	// Status is the engine's word for the slot: "starting" (loading the
	// app), "idle", "busy", "cheap" (stopped while idle, no process),
	// "backoff" (dying on start, respawn delayed), "dead" (respawning);
	// or "retiring" for an older process of the slot, replaced and
	// finishing its requests.
	Status string
	// Requests are the requests the worker's slot served since the
	// engine started, across respawns (uWSGI's "requests").
	Requests   uint64
	RPS        float64 // over the last sampling interval
	AvgLatency time.Duration
	P95        time.Duration
	Exceptions uint64
	Harakiri   uint64 // times the slot's worker was killed by harakiri
	Respawns   uint64
	CPU        float64 // percent of one core
	RSS        uint64  // bytes
	Spawned    time.Time
	// Busy lists the requests in progress, "GET /path", one per busy core
	// (a retiring process's are "" : only their number is known).
	Busy []string
	// AppError is why the app did not load in this process ("" when it
	// did); LastDeath how the slot's last process died unplanned.
	AppError, LastDeath string
}

// Capabilities lists the optional worker commands the engine implements.
type Capabilities struct {
	ReloadWorker, KillWorker, ChainReload, AddRemoveWorker bool
}

// ErrNotRunning is returned (wrapped) by commands that need a running tier.
var ErrNotRunning = errors.New("not running")

// ErrAppNotLoaded is returned (wrapped) by Start and Reload when the engine
// runs but none of its workers could load the app: the engine keeps
// running (Degraded), so that the workers' tracebacks are in the log and
// a fixed app is picked up by the next reload.
var ErrAppNotLoaded = errors.New("no worker could load the app")
