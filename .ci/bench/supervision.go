package main

import (
	"context"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// supervisionTargets are issue 3's throughput comparison: the engine with
// its accounting and tracing hooks against the engine without them. It
// runs wsgideckd uwsgi with and without --no-accounting (-hooks-off names
// the option; an empty one lists the comparison as to do).
func (s *setup) supervisionTargets() error {
	if s.opt.hooksOff == "" {
		s.todos = append(s.todos, "supervision (issue 3): \"accounting and tracing hooks cost under 3% of throughput\" is not measured: "+
			"-hooks-off was set empty. Run `go run ./.ci/bench -only supervision` (the default is -hooks-off --no-accounting).")
		return nil
	}
	on, err := s.oursEngine("ours-hooks-on", "--http-socket", 2)
	if err != nil {
		return err
	}
	off, err := s.oursEngine("ours-hooks-off", "--http-socket", 2, s.opt.hooksOff)
	if err != nil {
		return err
	}
	s.addTarget(&target{key: "ours-hooks-on", group: "supervision", label: "wsgideckd uwsgi --http-socket, hooks on (default)",
		url: url(portOf(on.addr), "/"), wantBody: helloBody, services: []*service{on}})
	s.addTarget(&target{key: "ours-hooks-off", group: "supervision", label: "wsgideckd uwsgi --http-socket " + s.opt.hooksOff,
		url: url(portOf(off.addr), "/"), wantBody: helloBody, services: []*service{off}})
	s.compares = append(s.compares, comparison{group: "supervision", label: "hooks on vs off", ours: "ours-hooks-on", peer: "ours-hooks-off", min: 0.97})
	return nil
}

// supervisionResult is the metrics sampler's measured cost.
type supervisionResult struct {
	workers                 int
	passes                  int
	idleWall, idleCPU       time.Duration // the harness doing nothing
	samplerWall, samplerCPU time.Duration // the harness running the sampler
	passP50, passMax        time.Duration
	rssPerWorker            uint64 // KiB, the sampler's own reading, for a sanity check
}

// percentOfCore is the sampler's CPU use beyond the idle harness's.
func (r *supervisionResult) percentOfCore() float64 {
	rate := func(cpu, wall time.Duration) float64 { return cpu.Seconds() / wall.Seconds() }
	return 100 * (rate(r.samplerCPU, r.samplerWall) - rate(r.idleCPU, r.idleWall))
}

func (r *supervisionResult) table() table {
	verdict := "PASS"
	if r.percentOfCore() >= 1 {
		verdict = "MISS"
	}
	return table{
		title: "supervision (issue 3): the metrics sampler at 1 Hz",
		head:  []string{"workers", "passes", "CPU (% of one core)", "target", "verdict", "pass time p50 / max", "RSS per worker seen"},
		rows: [][]string{{
			fmt.Sprint(r.workers), fmt.Sprint(r.passes),
			fmt.Sprintf("%.3f%%", r.percentOfCore()), "< 1%", verdict,
			fmtDur(r.passP50) + " / " + fmtDur(r.passMax),
			fmt.Sprintf("%d KiB", r.rssPerWorker),
		}},
		notes: []string{
			"engine/metrics.Sampler with its default gopsutil source, run by this harness on the pids of a real wsgideckd uwsgi with that many Python workers " +
				"(the master does not run the sampler yet). CPU: the harness process's rusage while sampling, minus the same length of time idle. " +
				"A few synthetic requests per worker go through the Recorder each second so that the per-request figures are computed too.",
		},
	}
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// supervision measures the metrics sampler on real worker processes.
func (s *setup) supervision(ctx context.Context) (*supervisionResult, error) {
	sv, err := s.oursEngine("ours-sampled", "--http-socket", s.opt.samplerN)
	if err != nil {
		return nil, err
	}
	if err := sv.start(s.work); err != nil {
		return nil, err
	}
	s.started = append(s.started, sv)
	defer sv.stop(20 * time.Second)
	if err := sv.waitListening(30 * time.Second); err != nil {
		return nil, err
	}
	u := url(portOf(sv.addr), "/")
	if err := checkBody(u, helloBody, 60*time.Second, sv); err != nil {
		return nil, err
	}
	// Wait for every worker to exist.
	var pids []int
	deadline := time.Now().Add(60 * time.Second)
	for {
		procs := allProcs()
		pids = pids[:0]
		for _, p := range tree(sv.pid(), procs)[1:] {
			pids = append(pids, p.pid)
		}
		if len(pids) >= s.opt.samplerN {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d workers after 60s\n%s", len(pids), s.opt.samplerN, sv.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("supervision: the metrics sampler on %d workers, %v (and %v idle as the baseline)\n", len(pids), s.opt.samplerTime, s.opt.samplerTime)

	res := &supervisionResult{workers: len(pids)}
	c0, w0 := rusageCPU(), time.Now()
	time.Sleep(s.opt.samplerTime)
	res.idleCPU, res.idleWall = rusageCPU()-c0, time.Since(w0)

	rec := &metrics.Recorder{}
	targets := make([]metrics.Target, len(pids))
	for i, pid := range pids {
		targets[i] = metrics.Target{WorkerID: i + 1, PID: pid}
	}
	smp := &metrics.Sampler{Recorder: rec, Targets: func() []metrics.Target { return targets }}
	var passes []time.Duration
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	c0, w0 = rusageCPU(), time.Now()
	end := w0.Add(s.opt.samplerTime)
	var last metrics.Snapshot
	for time.Now().Before(end) {
		for i := range targets {
			for k := 0; k < 10; k++ {
				rec.RequestDone(i+1, time.Duration(500+k*100)*time.Microsecond, 200, false)
			}
		}
		t0 := time.Now()
		last = smp.Sample()
		passes = append(passes, time.Since(t0))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	res.samplerCPU, res.samplerWall = rusageCPU()-c0, time.Since(w0)
	res.passes = len(passes)
	sort.Slice(passes, func(i, j int) bool { return passes[i] < passes[j] })
	res.passP50, res.passMax = passes[len(passes)/2], passes[len(passes)-1]
	if last.Master.Running != len(pids) {
		return nil, fmt.Errorf("the sampler read %d of %d workers", last.Master.Running, len(pids))
	}
	res.rssPerWorker = last.Master.RSS / uint64(len(pids)) / 1024
	return res, nil
}
