package metrics

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/process"
)

// ProcStat is what a ProcSource reads about one process.
type ProcStat struct {
	CPU     time.Duration // user + system CPU time since the process started
	RSS     uint64        // resident set size, bytes
	VSZ     uint64        // virtual memory size, bytes
	Threads int
	Started time.Time // when the process started; zero if unknown
}

// ProcSource reads processes' resource use. The Sampler calls it from one
// goroutine at a time.
type ProcSource interface {
	// Stat reads process pid now. An error means it could not be read:
	// usually it has exited.
	Stat(pid int) (ProcStat, error)
	// Forget drops whatever the source keeps about pid; the sampler calls
	// it once the pid is no longer a worker's.
	Forget(pid int)
}

// psutilSource is the gopsutil ProcSource. It keeps one process.Process
// per pid across samples: gopsutil caches a process's start time in it.
type psutilSource struct {
	mu    sync.Mutex
	procs map[int]*process.Process
}

var _ ProcSource = (*psutilSource)(nil)

// NewProcSource returns the ProcSource that reads the real process table:
// on Linux a read each of /proc/PID/stat and statm per process
// (procstat_linux.go),
// elsewhere gopsutil.
func NewProcSource() ProcSource {
	if s := newPlatformSource(); s != nil {
		return s
	}
	return newPsutilSource()
}

func newPsutilSource() *psutilSource {
	return &psutilSource{procs: make(map[int]*process.Process)}
}

func (s *psutilSource) Stat(pid int) (ProcStat, error) {
	s.mu.Lock()
	p := s.procs[pid]
	s.mu.Unlock()
	ctx := context.Background()
	if p == nil {
		var err error
		if p, err = process.NewProcessWithContext(ctx, int32(pid)); err != nil {
			return ProcStat{}, fmt.Errorf("metrics: process %d: %w", pid, err)
		}
		s.mu.Lock()
		s.procs[pid] = p
		s.mu.Unlock()
	}
	times, err := p.TimesWithContext(ctx)
	if err != nil {
		return ProcStat{}, fmt.Errorf("metrics: CPU times of process %d: %w", pid, err)
	}
	mem, err := p.MemoryInfoWithContext(ctx)
	if err != nil {
		return ProcStat{}, fmt.Errorf("metrics: memory of process %d: %w", pid, err)
	}
	threads, err := p.NumThreadsWithContext(ctx)
	if err != nil {
		return ProcStat{}, fmt.Errorf("metrics: threads of process %d: %w", pid, err)
	}
	st := ProcStat{
		// gopsutil gives seconds as floats of clock ticks (10 ms): round
		// to the millisecond to undo the float error.
		CPU:     time.Duration(math.Round((times.User+times.System)*1e3)) * time.Millisecond,
		RSS:     mem.RSS,
		VSZ:     mem.VMS,
		Threads: int(threads),
	}
	if ms, err := p.CreateTimeWithContext(ctx); err == nil && ms > 0 {
		st.Started = time.UnixMilli(ms)
	}
	return st, nil
}

func (s *psutilSource) Forget(pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.procs, pid)
}
