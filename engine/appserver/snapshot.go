package appserver

import (
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// ServerState is where the server is in its life.
type ServerState string

const (
	StateStarting  ServerState = "starting"
	StateRunning   ServerState = "running"
	StateReloading ServerState = "reloading"
	StateStopping  ServerState = "stopping"
	StateStopped   ServerState = "stopped"
)

// Snapshot is the master's state at one moment, for the UI: Server.Snapshot.
type Snapshot struct {
	Time       time.Time
	PID        int // the master's
	State      ServerState
	Reload     *ReloadProgress // the reload in progress, nil when none
	Generation int             // reloads so far
	Processes  int             // the most workers (processes)
	Threads    int             // cores per worker
	Cheaper    int             // the least workers in cheaper mode; 0 = off
	Addrs      []string        // bound sockets, as Addrs
	StatsAddr  string          // the stats server's address, "" when off

	ListenQueue int    // requests waiting for a core, plus connections in the kernel backlogs
	InFlight    int    // requests a worker is serving
	IdleCores   int    // cores waiting for a request
	Requests    uint64 // every request, static files and refusals included
	Exceptions  int64  // requests whose app raised, all workers
	Harakiris   int64
	Respawns    int64 // spawns after a death or a recycle, all workers
	// AppError is why the app did not load in the newest worker that
	// tried ("" when it loaded): the worker then answers 500, or with
	// need-app dies and is respawned with a backoff.
	AppError string
	// Paused: Pause (SIGTSTP, master-fifo p) stopped the workers.
	Paused bool

	Workers []WorkerState // one per worker number, in order
	// Daemons are the external daemons (attach-daemon and friends), in
	// config order.
	Daemons []DaemonState
	// Metrics is the sampler's last pass over the whole server (zero
	// before the first, and without request figures when accounting is
	// disabled).
	Metrics metrics.MasterSample
}

// ReloadProgress describes a reload in progress.
type ReloadProgress struct {
	Mode       ReloadMode
	Generation int
	Started    time.Time
	// Waiting is the worker a chain reload waits for (its replacement is
	// loading); 0 otherwise.
	Waiting int
}

// WorkerStatus is a worker slot's state.
type WorkerStatus string

const (
	WorkerStarting WorkerStatus = "starting" // the process runs, the app is loading
	WorkerIdle     WorkerStatus = "idle"     // waiting for requests
	WorkerBusy     WorkerStatus = "busy"     // serving at least one request
	WorkerCheap    WorkerStatus = "cheap"    // stopped by the cheaper algorithm; no process
	WorkerBackoff  WorkerStatus = "backoff"  // died on start; respawn delayed until BackoffUntil
	WorkerDead     WorkerStatus = "dead"     // died; respawning now (or the server is stopping)
)

// WorkerState is one worker number (slot) in a Snapshot. Counters are kept
// across respawns and reloads unless said otherwise.
type WorkerState struct {
	ID         int
	PID        int // the process serving this slot; 0 when none
	Status     WorkerStatus
	Accepting  bool // takes new requests now
	Generation int  // of the serving process

	LastSpawn     time.Time
	RespawnCount  int64 // spawns so far: 1 after the first (uWSGI's respawn_count)
	Requests      int64 // every request served
	DeltaRequests int64 // requests of the serving process (what max-requests counts)
	AppRequests   int64 // requests the app served (the log's "req: A")
	Exceptions    int64
	HarakiriCount int64
	TxBytes       int64 // response bytes, headers and body
	RunningTime   time.Duration
	AvgResponse   time.Duration // uWSGI's avg_rt: (avg+rt)/2 per request

	AppLoaded bool
	AppError  string        // why the app did not load in the serving process
	LoadTime  time.Duration // how long the apps took to load
	Apps      []AppState    // the apps loaded in the serving process

	LastDeath    *Death    // the last unplanned death, nil if none
	BackoffUntil time.Time // when a delayed respawn happens (Status backoff)

	Cores []CoreState // of the serving process
	// Others are older processes of this slot still alive: serving until
	// their replacement is ready, or finishing their requests.
	Others []ProcessState

	// Metrics is the sampler's last sample of this slot (HasMetrics false
	// before the first).
	Metrics    metrics.WorkerSample
	HasMetrics bool
}

// Death is an unplanned worker exit.
type Death struct {
	Time     time.Time
	PID      int
	Reason   string // "killed by signal 9 (killed)", "harakiri: ...", "the app did not load: ..."
	ExitCode int    // -1 when a signal killed it
	Signal   int
	Uptime   time.Duration
	OnStart  bool // it died before it was ready, or within a second: counts toward the backoff
	// AppError is why its app did not load, when that is why it died
	// ("" otherwise).
	AppError string
	// Generation is the reload generation of the process that died.
	Generation int
}

// AppState is one app of a worker: the default one (id 0) or a mount.
type AppState struct {
	ID         int
	Mountpoint string
	LoadTime   time.Duration
	Requests   int64 // in this slot, across respawns
	Exceptions int64
}

// CoreState is one core (thread) of a worker and the request it serves.
type CoreState struct {
	ID         int
	Requests   int64 // of this process
	InRequest  bool
	Since      time.Time // when the request in progress started
	Method     string
	URI        string
	RemoteAddr string
	Vars       []string // the request's CGI variables, "KEY=value"
}

// ProcessState is an older process of a slot.
type ProcessState struct {
	PID        int
	Generation int
	Retiring   bool // takes no new requests
	Busy       int  // cores serving a request
	Since      time.Time
}

// Snapshot returns the master's state now. It takes the master's lock, and
// of the request path's locks only the idle-core pool's (to count) and
// each busy core's (to copy its request), each for a moment.
func (s *Server) Snapshot() Snapshot {
	cfg := s.cfg()
	snap := Snapshot{Time: s.now(), PID: s.pid, State: s.state(), Paused: s.paused.Load()}
	if cfg == nil {
		return snap
	}
	snap.Processes, snap.Threads, snap.Cheaper = cfg.Processes, cfg.Threads, cfg.Cheaper
	snap.Addrs = s.Addrs()
	snap.StatsAddr = s.StatsAddr()
	snap.Daemons = s.daemonStates()
	idle, waiting := s.pool.stats()
	snap.IdleCores = idle
	snap.ListenQueue = waiting + s.kernelBacklog()
	snap.Requests = s.totalReqs.Load()
	var samples map[int]metrics.WorkerSample
	if s.sampler != nil {
		latest := s.sampler.Latest()
		snap.Metrics = latest.Master
		samples = make(map[int]metrics.WorkerSample, len(latest.Workers))
		for _, ws := range latest.Workers {
			samples[ws.WorkerID] = ws
		}
	}

	s.mu.Lock()
	snap.Generation = s.gen
	if r := s.reload; r != nil {
		rp := *r
		snap.Reload = &rp
	}
	snap.AppError = s.appError
	slots := append([]*slot(nil), s.slots...)
	byslot := map[*slot][]*worker{}
	for w := range s.workers {
		byslot[w.slot] = append(byslot[w.slot], w)
	}
	states := make([]WorkerState, len(slots))
	for i, sl := range slots {
		states[i] = s.slotState(sl, byslot[sl], cfg)
	}
	s.mu.Unlock()

	for i := range states {
		st := &states[i]
		snap.InFlight += st.busy()
		snap.Exceptions += st.Exceptions
		snap.Harakiris += st.HarakiriCount
		snap.Respawns += slots[i].respawns.Load()
		if ws, ok := samples[st.ID]; ok {
			st.Metrics, st.HasMetrics = ws, true
		}
	}
	snap.Workers = states
	return snap
}

func (st *WorkerState) busy() int {
	n := 0
	for _, c := range st.Cores {
		if c.InRequest {
			n++
		}
	}
	for _, o := range st.Others {
		n += o.Busy
	}
	return n
}

// servingWorker is the process that stands for sl: the newest one that
// takes requests, else the newest alive. Call with s.mu held; ws are the
// slot's live processes.
func servingWorker(sl *slot, ws []*worker, needApp bool) *worker {
	var best, newest *worker
	for _, w := range ws {
		if w.dead.Load() {
			continue
		}
		if newest == nil || w.seq > newest.seq {
			newest = w
		}
		if w.serving(needApp) && (best == nil || w.seq > best.seq) {
			best = w
		}
	}
	if best != nil {
		return best
	}
	return newest
}

// slotState describes sl. Call with s.mu held.
func (s *Server) slotState(sl *slot, ws []*worker, cfg *Config) WorkerState {
	st := WorkerState{
		ID: sl.id, LastSpawn: sl.lastSpawn, RespawnCount: sl.spawns,
		Requests: sl.allRequests.Load(), AppRequests: sl.requests.Load(),
		Exceptions: sl.exceptions.Load(), HarakiriCount: sl.harakiris.Load(),
		TxBytes: sl.tx.Load(), RunningTime: time.Duration(sl.runningTime.Load()),
		AvgResponse: time.Duration(sl.avgRT.Load()), BackoffUntil: sl.backoffUntil,
	}
	if d := sl.lastDeath; d != nil {
		dd := *d
		st.LastDeath = &dd
	}
	w := servingWorker(sl, ws, cfg.NeedApp)
	switch {
	case w == nil && sl.cheap:
		st.Status = WorkerCheap
	case w == nil && s.now().Before(sl.backoffUntil):
		st.Status = WorkerBackoff
	case w == nil:
		st.Status = WorkerDead
	}
	if w != nil {
		st.PID, st.Generation = w.pid, w.gen
		st.DeltaRequests = w.requests.Load()
		st.Accepting = w.serving(cfg.NeedApp)
		if w.isReady() {
			st.AppLoaded = w.readyInfo.App >= 0
			st.AppError = w.readyInfo.Error
			st.LoadTime = time.Duration(w.readyInfo.Seconds * float64(time.Second))
			for _, a := range w.readyInfo.Apps {
				if a.ID < 0 || a.ID >= maxApps {
					continue
				}
				st.Apps = append(st.Apps, AppState{ID: a.ID, Mountpoint: a.Mountpoint,
					LoadTime: time.Duration(a.Seconds * float64(time.Second)),
					Requests: sl.appRequests[a.ID].Load(), Exceptions: sl.appExcepts[a.ID].Load()})
			}
		}
		for _, c := range w.cores {
			cs := CoreState{ID: c.id, Requests: c.requests.Load()}
			c.describe(&cs, true)
			st.Cores = append(st.Cores, cs)
		}
		switch {
		case !w.isReady():
			st.Status = WorkerStarting
		case st.busy() > 0:
			st.Status = WorkerBusy
		default:
			st.Status = WorkerIdle
		}
	}
	for _, o := range ws {
		if o == w || o.dead.Load() {
			continue
		}
		st.Others = append(st.Others, ProcessState{PID: o.pid, Generation: o.gen, Retiring: o.retiring.Load(), Busy: o.busyCores(), Since: o.born})
	}
	return st
}

// state is the server's life stage.
func (s *Server) state() ServerState {
	switch {
	case s.done != nil && isClosed(s.done):
		return StateStopped
	case s.stopping.Load():
		return StateStopping
	case !s.started.Load():
		return StateStarting
	}
	s.mu.Lock()
	reloading := s.reload != nil
	s.mu.Unlock()
	if reloading {
		return StateReloading
	}
	return StateRunning
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// WorkerInfo is a snapshot of one worker process, for supervision and stats.
type WorkerInfo struct {
	ID         int // worker number, 1-based
	PID        int
	Generation int // reload generation
	Spawned    time.Time
	Retiring   bool
	Requests   int64 // requests this process served
	SlotReqs   int64 // requests the slot served across respawns (uWSGI's "req: A")
	Respawns   int64
	Exceptions int64
	TxBytes    int64
	Cores      []CoreInfo
	AppLoaded  bool
}

// CoreInfo is a snapshot of one core.
type CoreInfo struct {
	ID        int
	Requests  int64
	BusySince time.Time // zero when idle
	Method    string    // of the request in progress
	URI       string
}

// Workers returns a snapshot of every live worker process, current and
// retiring, ordered by worker number (Snapshot describes the slots).
func (s *Server) Workers() []WorkerInfo {
	s.mu.Lock()
	ws := s.allWorkers()
	s.mu.Unlock()
	out := make([]WorkerInfo, 0, len(ws))
	for _, w := range ws {
		if w.dead.Load() {
			continue
		}
		wi := WorkerInfo{
			ID: w.slot.id, PID: w.pid, Generation: w.gen, Spawned: w.born,
			Retiring: w.retiring.Load(), Requests: w.requests.Load(),
			SlotReqs: w.slot.requests.Load(), Respawns: w.slot.respawns.Load(),
			Exceptions: w.exceptions.Load(), TxBytes: w.txBytes.Load(),
		}
		select {
		case <-w.ready:
			wi.AppLoaded = w.readyInfo.App >= 0
		default:
		}
		for _, c := range w.cores {
			ci := CoreInfo{ID: c.id, Requests: c.requests.Load()}
			var cs CoreState
			c.describe(&cs, false)
			if cs.InRequest {
				ci.BusySince, ci.Method, ci.URI = cs.Since, cs.Method, cs.URI
			}
			wi.Cores = append(wi.Cores, ci)
		}
		out = append(out, wi)
	}
	sortWorkers(out)
	return out
}

func sortWorkers(ws []WorkerInfo) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && (ws[j].ID < ws[j-1].ID || ws[j].ID == ws[j-1].ID && ws[j].Generation < ws[j-1].Generation); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

// Queue returns the number of idle cores and of requests waiting for one
// (the listen queue).
func (s *Server) Queue() (idleCores, waiting int) { return s.pool.stats() }

// Metrics returns the server's metrics sampler (nil before Start), for
// its History and Latest, or metrics.Handler for Prometheus.
func (s *Server) Metrics() *metrics.Sampler { return s.sampler }
