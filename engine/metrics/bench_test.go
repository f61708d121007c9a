package metrics

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSample16 measures one sampling pass over 16 real worker-like
// processes (sleeping python3 interpreters) with request counters, through
// NewProcSource (/proc on Linux). It reports the CPU time of a pass (user + system of
// this process, so reading /proc counts) and what that costs at 1 Hz as a
// percentage of one core; the budget is under 1%.
func BenchmarkSample16(b *testing.B) {
	const workers = 16
	targets := make([]Target, workers)
	for i := range targets {
		targets[i] = Target{WorkerID: i + 1, PID: spawnPython(b, "import time\nprint('ready', flush=True)\ntime.sleep(3600)")}
	}
	rec := &Recorder{}
	for i := range workers {
		for j := range 100 {
			rec.RequestDone(i+1, time.Duration(j)*time.Millisecond, 200, false)
		}
	}
	s := &Sampler{Recorder: rec, Targets: func() []Target { return targets }}
	s.Sample() // a first pass, as a running sampler has had

	start := cpuTime(b)
	b.ReportAllocs()
	for b.Loop() {
		// A request per worker per pass keeps the interval figures busy.
		for i := range workers {
			rec.RequestDone(i+1, 3*time.Millisecond, 200, false)
		}
		if snap := s.Sample(); snap.Master.Running != workers {
			b.Fatalf("read %d of %d processes", snap.Master.Running, workers)
		}
	}
	perPass := float64(cpuTime(b)-start) / float64(b.N)
	b.ReportMetric(perPass, "cpu-ns/pass")
	b.ReportMetric(perPass/float64(time.Second)*100, "%core@1Hz")
}

// BenchmarkRequestDone is the request path's cost: one finished request.
func BenchmarkRequestDone(b *testing.B) {
	r := &Recorder{}
	r.RequestDone(1, 0, 200, false)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.RequestDone(1, time.Duration(i&1023)*time.Microsecond, 200, i&63 == 0)
	}
}

// BenchmarkRequestDoneParallel records from several goroutines, each as
// its own worker, as the master's per-worker goroutines do.
func BenchmarkRequestDoneParallel(b *testing.B) {
	r := &Recorder{}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := int(next.Add(1))
		i := 0
		for pb.Next() {
			i++
			r.RequestDone(id, time.Duration(i&1023)*time.Microsecond, 200, false)
		}
	})
}
