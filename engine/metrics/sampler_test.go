package metrics

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource is a process table the test writes.
type fakeSource struct {
	mu        sync.Mutex
	procs     map[int]ProcStat
	forgotten []int
}

var _ ProcSource = (*fakeSource)(nil)

func (f *fakeSource) Stat(pid int) (ProcStat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.procs[pid]
	if !ok {
		return ProcStat{}, errors.New("no such process")
	}
	return st, nil
}

func (f *fakeSource) Forget(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, pid)
}

func (f *fakeSource) set(pid int, st ProcStat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.procs == nil {
		f.procs = make(map[int]ProcStat)
	}
	if st == (ProcStat{}) {
		delete(f.procs, pid)
		return
	}
	f.procs[pid] = st
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// within reports whether got is within 1/16 of want (the histogram's
// bucket width).
func within(got, want time.Duration) bool { return (got - want).Abs() <= want/16 }

func TestSamplerComputesEveryFigure(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	src := &fakeSource{}
	src.set(101, ProcStat{CPU: time.Second, RSS: 10 << 20, VSZ: 100 << 20, Threads: 3, Started: t0.Add(-10 * time.Second)})
	src.set(102, ProcStat{CPU: 0, RSS: 8 << 20, VSZ: 90 << 20, Threads: 1, Started: t0.Add(-time.Second)})
	rec := &Recorder{}
	var targets atomic.Pointer[[]Target]
	setTargets := func(ts ...Target) { targets.Store(&ts) }
	setTargets(Target{WorkerID: 1, PID: 101, InFlight: 1}, Target{WorkerID: 2, PID: 102})
	s := &Sampler{Recorder: rec, Source: src, Now: clock.Now,
		Targets: func() []Target { return *targets.Load() },
		Gauges:  func() Gauges { return Gauges{ListenQueue: 7} }}

	rec.RequestDone(1, time.Millisecond, 200, false)
	rec.RequestDone(1, 2*time.Millisecond, 200, false)
	rec.RequestDone(1, 3*time.Millisecond, 404, false)
	rec.RequestDone(1, 100*time.Millisecond, 500, true)

	// Pass 1: the first sample covers everything recorded before it.
	snap := s.Sample()
	if len(snap.Workers) != 2 {
		t.Fatalf("pass 1: %d worker samples", len(snap.Workers))
	}
	w1, w2 := snap.Workers[0], snap.Workers[1]
	if !w1.Proc || w1.PID != 101 || w1.RSS != 10<<20 || w1.VSZ != 100<<20 || w1.Threads != 3 || w1.CPUTime != time.Second {
		t.Errorf("worker 1 process figures: %+v", w1)
	}
	if w1.CPUPercent != 10 { // 1 s of CPU in 10 s of life
		t.Errorf("worker 1 CPU%% on first sight = %v, want 10", w1.CPUPercent)
	}
	if w1.Requests != 4 || w1.RPS != 0 || w1.Exceptions != 1 || w1.InFlight != 1 || w1.TotalRequests != 4 {
		t.Errorf("worker 1 requests: %+v", w1)
	}
	if w1.Status != (StatusCounts{Success: 2, ClientError: 1, ServerError: 1}) {
		t.Errorf("worker 1 status: %+v", w1.Status)
	}
	if w1.AvgLatency != 26500*time.Microsecond {
		t.Errorf("worker 1 average %v, want 26.5ms", w1.AvgLatency)
	}
	if !within(w1.P50, 2*time.Millisecond) || !within(w1.P95, 100*time.Millisecond) || !within(w1.P99, 100*time.Millisecond) {
		t.Errorf("worker 1 p50/95/99 = %v/%v/%v, want about 2ms/100ms/100ms", w1.P50, w1.P95, w1.P99)
	}
	if w2.Requests != 0 || w2.P50 != 0 || w2.AvgLatency != 0 || w2.CPUPercent != 0 || !w2.Proc {
		t.Errorf("worker 2: %+v", w2)
	}
	m := snap.Master
	if m.ListenQueue != 7 || m.InFlight != 1 || m.Workers != 2 || m.Running != 2 || m.Requests != 4 ||
		m.Exceptions != 1 || m.RSS != 18<<20 || m.VSZ != 190<<20 || m.CPUPercent != 10 || m.TotalRequests != 4 || m.RPS != 0 {
		t.Errorf("master pass 1: %+v", m)
	}

	// Pass 2, two seconds later: worker 1 used 0.5 s of CPU and served ten
	// 5 ms requests; worker 2 was respawned as pid 103.
	clock.Advance(2 * time.Second)
	t1 := clock.Now()
	src.set(101, ProcStat{CPU: 1500 * time.Millisecond, RSS: 11 << 20, VSZ: 100 << 20, Threads: 3, Started: t0.Add(-10 * time.Second)})
	src.set(102, ProcStat{})
	src.set(103, ProcStat{CPU: 250 * time.Millisecond, RSS: 9 << 20, VSZ: 90 << 20, Threads: 1, Started: t1.Add(-500 * time.Millisecond)})
	setTargets(Target{WorkerID: 1, PID: 101}, Target{WorkerID: 2, PID: 103, InFlight: 2})
	for range 10 {
		rec.RequestDone(1, 5*time.Millisecond, 302, false)
	}
	rec.RequestDone(2, 40*time.Millisecond, 0, false)
	snap = s.Sample()
	w1, w2 = snap.Workers[0], snap.Workers[1]
	if w1.CPUPercent != 25 || w1.RSS != 11<<20 {
		t.Errorf("worker 1 CPU%% = %v, want 25 (0.5 s in 2 s); rss %d", w1.CPUPercent, w1.RSS)
	}
	if w1.Requests != 10 || w1.RPS != 5 || w1.AvgLatency != 5*time.Millisecond || !within(w1.P50, 5*time.Millisecond) ||
		!within(w1.P99, 5*time.Millisecond) || w1.Exceptions != 0 || w1.TotalRequests != 14 || w1.TotalExceptions != 1 {
		t.Errorf("worker 1 pass 2: %+v", w1)
	}
	if w1.Status != (StatusCounts{Redirection: 10}) {
		t.Errorf("worker 1 status pass 2: %+v", w1.Status)
	}
	if w2.PID != 103 || w2.CPUPercent != 50 { // a new pid: 0.25 s in its 0.5 s of life
		t.Errorf("respawned worker 2: pid %d CPU%% %v, want 103 and 50", w2.PID, w2.CPUPercent)
	}
	if w2.Status != (StatusCounts{Other: 1}) || w2.RPS != 0.5 {
		t.Errorf("worker 2 pass 2: %+v", w2)
	}
	if !slices.Contains(src.forgotten, 102) {
		t.Errorf("pid 102 was not forgotten: %v", src.forgotten)
	}
	m = snap.Master
	if m.Requests != 11 || m.RPS != 5.5 || m.InFlight != 2 || m.TotalRequests != 15 || m.Status != (StatusCounts{Redirection: 10, Other: 1}) {
		t.Errorf("master pass 2: %+v", m)
	}
	if m.AvgLatency != 90*time.Millisecond/11 || !within(m.P50, 5*time.Millisecond) || !within(m.P99, 40*time.Millisecond) {
		t.Errorf("master latency pass 2: avg %v p50 %v p99 %v", m.AvgLatency, m.P50, m.P99)
	}

	// Pass 3: worker 1's process is gone; worker 2 is no longer listed but
	// finished one more request, which still counts.
	clock.Advance(time.Second)
	src.set(101, ProcStat{})
	setTargets(Target{WorkerID: 1, PID: 101})
	rec.RequestDone(2, time.Millisecond, 200, false)
	snap = s.Sample()
	if len(snap.Workers) != 2 {
		t.Fatalf("pass 3: %+v", snap.Workers)
	}
	if w := snap.Workers[0]; w.Proc || w.CPUPercent != 0 || w.RSS != 0 || w.Requests != 0 {
		t.Errorf("dead worker 1: %+v", w)
	}
	if w := snap.Workers[1]; w.WorkerID != 2 || w.Proc || w.Requests != 1 || w.TotalRequests != 2 {
		t.Errorf("unlisted worker 2: %+v", w)
	}
	if m := snap.Master; m.Running != 0 || m.Workers != 1 || m.Requests != 1 || m.TotalRequests != 16 {
		t.Errorf("master pass 3: %+v", m)
	}
	if !slices.Contains(src.forgotten, 103) {
		t.Errorf("pid 103 was not forgotten: %v", src.forgotten)
	}

	// Pass 4: nothing new; worker 2 neither listed nor busy has no sample,
	// and the master totals still count its requests.
	clock.Advance(time.Second)
	snap = s.Sample()
	if len(snap.Workers) != 1 || snap.Master.TotalRequests != 16 || snap.Master.Requests != 0 || snap.Master.P50 != 0 {
		t.Errorf("pass 4: %+v", snap)
	}

	// The readers.
	if h := s.History(1, time.Time{}); len(h) != 4 || !h[0].Time.Equal(t0) || h[1].Requests != 10 {
		t.Errorf("History(1): %d samples", len(h))
	}
	if h := s.History(1, t1); len(h) != 2 || !h[0].Time.After(t1) {
		t.Errorf("History(1, t1): %+v", h)
	}
	if h := s.History(2, time.Time{}); len(h) != 3 {
		t.Errorf("History(2): %d samples, want 3", len(h))
	}
	if h := s.History(9, time.Time{}); h != nil {
		t.Errorf("History of an unknown worker: %+v", h)
	}
	if h := s.MasterHistory(t1); len(h) != 2 || h[0].Requests != 1 {
		t.Errorf("MasterHistory(t1): %+v", h)
	}
	if ids := s.WorkerIDs(); !slices.Equal(ids, []int{1, 2}) {
		t.Errorf("WorkerIDs = %v", ids)
	}
	latest := s.Latest()
	latest.Workers[0].RSS = 12345
	if s.Latest().Workers[0].RSS == 12345 {
		t.Error("Latest shares its slice with the sampler")
	}
	if tot, ok := rec.Totals(1); !ok || tot.Requests != 14 || tot.Latency != 156*time.Millisecond {
		t.Errorf("Totals(1) = %+v", tot)
	}
}

func TestRingKeepsCapacity(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	clock := &fakeClock{t: t0}
	src := &fakeSource{}
	src.set(5, ProcStat{RSS: 1})
	for _, capacity := range []int{0, 10, 1000} {
		s := &Sampler{Source: src, Now: clock.Now, Capacity: capacity,
			Targets: func() []Target { return []Target{{WorkerID: 1, PID: 5}} }}
		start := clock.Now()
		for range 1100 {
			clock.Advance(time.Second)
			s.Sample()
		}
		want := max(capacity, DefaultCapacity)
		h := s.History(1, time.Time{})
		if len(h) != want || len(s.MasterHistory(time.Time{})) != want {
			t.Fatalf("capacity %d: kept %d samples, want %d", capacity, len(h), want)
		}
		if !h[0].Time.Equal(start.Add(time.Duration(1100-want+1)*time.Second)) || !h[want-1].Time.Equal(clock.Now()) {
			t.Errorf("capacity %d: kept %v..%v", capacity, h[0].Time, h[want-1].Time)
		}
		for i := 1; i < len(h); i++ {
			if h[i].Time.Sub(h[i-1].Time) != time.Second {
				t.Fatalf("capacity %d: samples out of order at %d", capacity, i)
			}
		}
		if got := s.History(1, clock.Now().Add(-3*time.Second)); len(got) != 3 {
			t.Errorf("the last 3 seconds: %d samples", len(got))
		}
	}
}

func TestRecorderIDs(t *testing.T) {
	r := &Recorder{}
	r.RequestDone(-1, time.Millisecond, 200, false)
	r.RequestDone(MaxWorkerID+1, time.Millisecond, 200, false)
	r.RequestDone(3, -time.Millisecond, 99, false)
	r.RequestDone(MaxWorkerID, time.Millisecond, 600, false)
	if r.Dropped() != 2 {
		t.Errorf("Dropped = %d, want 2", r.Dropped())
	}
	if ids := r.WorkerIDs(); !slices.Equal(ids, []int{3, MaxWorkerID}) {
		t.Errorf("WorkerIDs = %v", ids)
	}
	if tot, _ := r.Totals(3); tot.Status.Other != 1 || tot.Latency != 0 {
		t.Errorf("Totals(3) = %+v", tot)
	}
	if _, ok := r.Totals(4); ok {
		t.Error("Totals of a worker without requests")
	}
}

// TestConcurrentReadersAndRequests runs the request path, the sampler and
// UI-like readers at once (run it with -race), and checks that nothing was
// lost.
func TestConcurrentReadersAndRequests(t *testing.T) {
	src := &fakeSource{}
	for pid := 100; pid < 104; pid++ {
		src.set(pid, ProcStat{RSS: 1 << 20, Threads: 1})
	}
	rec := &Recorder{}
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := &Sampler{Recorder: rec, Source: src, Now: clock.Now, Targets: func() []Target {
		return []Target{{1, 100, 0}, {2, 101, 0}, {3, 102, 0}, {4, 103, 0}}
	}}
	const perWorker = 20000
	var wg sync.WaitGroup
	for id := 1; id <= 6; id++ { // workers 5 and 6 are not listed
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				rec.RequestDone(id, time.Duration(i%1000)*time.Microsecond, 200+i%4*100, i%10 == 0)
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var sum uint64 // requests over every interval
	readers.Add(2)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
				clock.Advance(time.Second)
				sum += s.Sample().Master.Requests
			}
		}
	}()
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
				s.Latest()
				s.History(1, time.Time{})
				s.MasterHistory(time.Time{})
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	clock.Advance(time.Second)
	sum += s.Sample().Master.Requests

	if last := s.Latest().Master; last.TotalRequests != 6*perWorker {
		t.Errorf("total %d, want %d", last.TotalRequests, 6*perWorker)
	}
	if sum != 6*perWorker {
		t.Errorf("the intervals add up to %d, want %d", sum, 6*perWorker)
	}
	for id := 1; id <= 6; id++ {
		tot, _ := rec.Totals(id)
		st := tot.Status
		if tot.Requests != perWorker || tot.Exceptions != perWorker/10 ||
			st.Success != perWorker/4 || st.Redirection != perWorker/4 || st.ClientError != perWorker/4 || st.ServerError != perWorker/4 {
			t.Errorf("worker %d: %+v", id, tot)
		}
	}
	if math.IsNaN(s.Latest().Master.RPS) {
		t.Error("RPS is NaN")
	}
}

func TestRun(t *testing.T) {
	src := &fakeSource{}
	src.set(7, ProcStat{RSS: 1})
	s := &Sampler{Source: src, Interval: time.Millisecond, Targets: func() []Target { return []Target{{WorkerID: 1, PID: 7}} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for len(s.History(1, time.Time{})) < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}
