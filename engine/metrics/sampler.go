package metrics

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DefaultInterval is how often Run samples.
const DefaultInterval = time.Second

// DefaultCapacity is how many samples each series keeps: 15 minutes at
// DefaultInterval. It is also the least a Sampler keeps.
const DefaultCapacity = 900

// Target is a worker the master wants sampled, as it stands now.
type Target struct {
	WorkerID int
	PID      int // 0 while it has no process (cheap, or dead and not yet respawned)
	InFlight int // requests it is serving now
}

// Gauges are the master-level figures only the master can read.
type Gauges struct {
	ListenQueue int // connections waiting in the listen backlog (the largest across sockets)
}

// WorkerSample is one worker over one sampling interval. Figures about
// requests cover the requests that ended in the interval.
type WorkerSample struct {
	Time     time.Time
	WorkerID int
	PID      int

	// Proc is set when the process was read; the fields after it are
	// zero otherwise (no process, or it exited before it could be read).
	Proc       bool
	CPUPercent float64       // of one core (a process with two busy threads shows 200); for a new pid, since it started
	CPUTime    time.Duration // user + system, since the process started
	RSS, VSZ   uint64        // bytes
	Threads    int

	InFlight   int
	Requests   uint64  // ended in the interval
	RPS        float64 // Requests per second of the interval; 0 for a worker's first sample
	AvgLatency time.Duration
	P50        time.Duration // zero when no request ended in the interval
	P95        time.Duration
	P99        time.Duration
	Exceptions uint64       // in the interval
	Status     StatusCounts // in the interval

	TotalRequests   uint64 // since the Recorder started, across respawns
	TotalExceptions uint64
}

// MasterSample is the whole app server over one sampling interval.
type MasterSample struct {
	Time        time.Time
	ListenQueue int
	InFlight    int // sum over the sampled workers
	Workers     int // workers sampled
	Running     int // of which had a process that could be read

	Requests   uint64 // ended in the interval, all workers
	RPS        float64
	AvgLatency time.Duration
	P50        time.Duration
	P95        time.Duration
	P99        time.Duration
	Exceptions uint64
	Status     StatusCounts

	CPUPercent float64 // sum over workers
	RSS        uint64  // sum over workers
	VSZ        uint64  // sum over workers

	TotalRequests   uint64
	TotalExceptions uint64
}

// Snapshot is the result of one sampling pass.
type Snapshot struct {
	Master  MasterSample
	Workers []WorkerSample // in the order of Sampler.Targets
}

var quantileLevels = []float64{0.5, 0.95, 0.99}

// Sampler samples workers once per Interval into ring buffers. Set the
// fields, then call Run (or Sample, for one pass); do not change them
// afterwards. Readers may call Latest, History and MasterHistory from any
// goroutine at any time.
type Sampler struct {
	// Recorder is the one the master's request path records into; nil
	// means no request figures.
	Recorder *Recorder
	// Source reads processes; nil means NewProcSource.
	Source ProcSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Targets lists the workers to sample; it is called once per pass.
	Targets func() []Target
	// Gauges reads the master-level gauges; it may be nil.
	Gauges func() Gauges
	// Capacity is how many samples each series keeps; values below
	// DefaultCapacity mean DefaultCapacity.
	Capacity int
	// Interval is Run's period; zero means DefaultInterval.
	Interval time.Duration

	pass     sync.Mutex // one pass at a time; guards the fields below
	started  bool
	source   ProcSource
	state    map[int]*workerState
	lastPass time.Time
	pids     map[int]bool // pids read in the last pass
	cur      [numBuckets]uint64
	delta    [numBuckets]uint64
	merged   [numBuckets]uint64

	mu      sync.RWMutex // guards the rings and latest
	workers map[int]*ring[WorkerSample]
	master  *ring[MasterSample]
	latest  Snapshot
}

// workerState is what the previous pass saw of a worker.
type workerState struct {
	at      time.Time // of its last sample
	pid     int
	procOK  bool          // cpu and procAt are valid for pid
	cpu     time.Duration // at procAt
	procAt  time.Time
	totals  Totals
	buckets [numBuckets]uint64
}

// Run samples every Interval until ctx ends, starting at once.
func (s *Sampler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	defer s.forgetAll()
	s.Sample()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			s.Sample()
		}
	}
}

// forgetAll tells the source to drop what it keeps about every pid it
// read (the /proc source's open files): Run has ended, and each server's
// sampler has a source of its own, so nothing else would.
func (s *Sampler) forgetAll() {
	s.pass.Lock()
	defer s.pass.Unlock()
	if !s.started {
		return
	}
	for pid := range s.pids {
		s.source.Forget(pid)
	}
	s.pids = nil
}

func (s *Sampler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sampler) init() {
	if s.started {
		return
	}
	s.started = true
	s.source = s.Source
	if s.source == nil {
		s.source = NewProcSource()
	}
	s.state = make(map[int]*workerState)
	s.pids = make(map[int]bool)
	capacity := max(s.Capacity, DefaultCapacity)
	s.mu.Lock()
	s.workers = make(map[int]*ring[WorkerSample])
	s.master = newRing[MasterSample](capacity)
	s.mu.Unlock()
}

// Sample runs one sampling pass now, stores its samples and returns them.
func (s *Sampler) Sample() Snapshot {
	s.pass.Lock()
	defer s.pass.Unlock()
	s.init()

	now := s.now()
	var targets []Target
	if s.Targets != nil {
		targets = s.Targets()
	}
	m := MasterSample{Time: now, Workers: len(targets)}
	if s.Gauges != nil {
		m.ListenQueue = s.Gauges().ListenQueue
	}
	clear(s.merged[:])
	var latency time.Duration
	pids := make(map[int]bool, len(targets))
	samples := make([]WorkerSample, 0, len(targets))

	sampled := make(map[int]bool, len(targets))
	for _, tg := range targets {
		sampled[tg.WorkerID] = true
		st := s.workerState(tg.WorkerID)
		ws := WorkerSample{Time: now, WorkerID: tg.WorkerID, PID: tg.PID, InFlight: tg.InFlight}
		s.sampleProcess(&ws, st, now)
		if tg.PID > 0 {
			pids[tg.PID] = true
		}
		latency += s.sampleRequests(&ws, st, now)
		samples = append(samples, ws)

		m.InFlight += ws.InFlight
		if ws.Proc {
			m.Running++
			m.CPUPercent += ws.CPUPercent
			m.RSS += ws.RSS
			m.VSZ += ws.VSZ
		}
	}
	// Requests can end on a worker the master no longer lists (it died
	// right after): count them, in a sample with no process.
	if s.Recorder != nil {
		for _, id := range s.Recorder.WorkerIDs() {
			if sampled[id] {
				continue
			}
			st := s.workerState(id)
			ws := WorkerSample{Time: now, WorkerID: id}
			latency += s.sampleRequests(&ws, st, now)
			if ws.Requests > 0 {
				samples = append(samples, ws)
			} else {
				m.TotalRequests += ws.TotalRequests
				m.TotalExceptions += ws.TotalExceptions
			}
		}
	}
	for _, ws := range samples {
		m.Requests += ws.Requests
		m.Exceptions += ws.Exceptions
		m.Status.add(ws.Status)
		m.TotalRequests += ws.TotalRequests
		m.TotalExceptions += ws.TotalExceptions
	}
	if m.Requests > 0 {
		m.AvgLatency = latency / time.Duration(m.Requests)
		var n uint64
		for _, c := range s.merged {
			n += c
		}
		var q [3]time.Duration
		quantiles(&s.merged, n, quantileLevels, q[:])
		m.P50, m.P95, m.P99 = q[0], q[1], q[2]
	}
	if !s.lastPass.IsZero() {
		if d := now.Sub(s.lastPass); d > 0 {
			m.RPS = float64(m.Requests) / d.Seconds()
		}
	}
	s.lastPass = now

	// Forget the pids that are no longer a worker's.
	for pid := range s.pids {
		if !pids[pid] {
			s.source.Forget(pid)
		}
	}
	s.pids = pids

	snap := Snapshot{Master: m, Workers: samples}
	capacity := max(s.Capacity, DefaultCapacity)
	s.mu.Lock()
	for _, ws := range samples {
		r := s.workers[ws.WorkerID]
		if r == nil {
			r = newRing[WorkerSample](capacity)
			s.workers[ws.WorkerID] = r
		}
		r.push(ws)
	}
	s.master.push(m)
	s.latest = snap
	s.mu.Unlock()
	return Snapshot{Master: m, Workers: slices.Clone(samples)}
}

func (s *Sampler) workerState(id int) *workerState {
	st := s.state[id]
	if st == nil {
		st = &workerState{}
		s.state[id] = st
	}
	return st
}

// sampleProcess fills the process figures of ws.
func (s *Sampler) sampleProcess(ws *WorkerSample, st *workerState, now time.Time) {
	if ws.PID <= 0 {
		st.pid, st.procOK = 0, false
		return
	}
	ps, err := s.source.Stat(ws.PID)
	if err != nil {
		st.pid, st.procOK = ws.PID, false
		return
	}
	ws.Proc = true
	ws.CPUTime, ws.RSS, ws.VSZ, ws.Threads = ps.CPU, ps.RSS, ps.VSZ, ps.Threads
	switch {
	case st.procOK && st.pid == ws.PID && now.After(st.procAt):
		ws.CPUPercent = percent(ps.CPU-st.cpu, now.Sub(st.procAt))
	case !ps.Started.IsZero() && now.After(ps.Started):
		// A pid seen for the first time: its average since it started.
		ws.CPUPercent = percent(ps.CPU, now.Sub(ps.Started))
	}
	st.pid, st.procOK, st.cpu, st.procAt = ws.PID, true, ps.CPU, now
}

func percent(cpu, wall time.Duration) float64 {
	return max(float64(cpu)/float64(wall)*100, 0)
}

// sampleRequests fills the request figures of ws from the Recorder, folds
// its histogram into s.merged, and returns the latency summed over the
// interval.
func (s *Sampler) sampleRequests(ws *WorkerSample, st *workerState, now time.Time) time.Duration {
	defer func() { st.at = now }()
	if s.Recorder == nil {
		return 0
	}
	w := s.Recorder.lookup(ws.WorkerID)
	if w == nil {
		return 0
	}
	tot := w.totals()
	w.loadBuckets(&s.cur)
	ws.TotalRequests, ws.TotalExceptions = tot.Requests, tot.Exceptions
	ws.Requests = tot.Requests - st.totals.Requests
	ws.Exceptions = tot.Exceptions - st.totals.Exceptions
	ws.Status = tot.Status.sub(st.totals.Status)
	latency := tot.Latency - st.totals.Latency
	if ws.Requests > 0 {
		ws.AvgLatency = latency / time.Duration(ws.Requests)
	}
	if !st.at.IsZero() {
		if d := now.Sub(st.at); d > 0 {
			ws.RPS = float64(ws.Requests) / d.Seconds()
		}
	}
	var n uint64
	for i := range s.cur {
		d := s.cur[i] - st.buckets[i]
		s.delta[i] = d
		s.merged[i] += d
		n += d
	}
	var q [3]time.Duration
	quantiles(&s.delta, n, quantileLevels, q[:])
	ws.P50, ws.P95, ws.P99 = q[0], q[1], q[2]
	st.totals = tot
	st.buckets = s.cur
	return latency
}

// Latest returns the samples of the last pass.
func (s *Sampler) Latest() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Snapshot{Master: s.latest.Master, Workers: slices.Clone(s.latest.Workers)}
}

// History returns worker id's samples taken after since, oldest first
// (pass the Time of the last sample seen to get only new ones; the zero
// time gets all that are kept).
func (s *Sampler) History(id int, since time.Time) []WorkerSample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.workers[id]
	if r == nil {
		return nil
	}
	return r.since(func(ws WorkerSample) bool { return !ws.Time.After(since) })
}

// MasterHistory returns the master samples taken after since, oldest
// first.
func (s *Sampler) MasterHistory(since time.Time) []MasterSample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.master == nil {
		return nil
	}
	return s.master.since(func(m MasterSample) bool { return !m.Time.After(since) })
}

// WorkerIDs returns the ids of the workers that have samples, ascending.
func (s *Sampler) WorkerIDs() []int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]int, 0, len(s.workers))
	for id := range s.workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
