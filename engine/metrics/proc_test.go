package metrics

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// spawnPython starts python3 -c prog, waits for it to print "ready" and
// kills it when the test ends.
func spawnPython(tb testing.TB, prog string) int {
	tb.Helper()
	if _, err := os.Stat(python); err != nil {
		tb.Fatalf("this test needs %s: %v", python, err)
	}
	cmd := exec.Command(python, "-c", prog)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		tb.Fatalf("python did not get ready: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

// procTruth is what /proc says about a process.
type procTruth struct {
	cpu      time.Duration // utime + stime
	rss, vsz uint64
	threads  int
}

// readProc reads /proc/pid/stat and /proc/pid/status directly, without
// gopsutil.
func readProc(t *testing.T, pid int) procTruth {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseUint(rest[14-3], 10, 64)
	stime, _ := strconv.ParseUint(rest[15-3], 10, 64)
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	tr := procTruth{cpu: time.Duration(utime+stime) * tick}

	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseUint(f[0], 10, 64)
		switch k {
		case "VmRSS":
			tr.rss = n << 10
		case "VmSize":
			tr.vsz = n << 10
		case "Threads":
			tr.threads = int(n)
		}
	}
	return tr
}

// TestMatchesProc samples real processes with the gopsutil source and
// checks the figures against /proc.
func TestMatchesProc(t *testing.T) {
	busy := spawnPython(t, "print('ready', flush=True)\nwhile True: pass")
	idle := spawnPython(t, "import time\nprint('ready', flush=True)\ntime.sleep(600)")
	big := spawnPython(t, "import time\nb = b'x' * (64 << 20)\nprint('ready', flush=True)\ntime.sleep(600)")
	threaded := spawnPython(t, "import threading, time\n"+
		"for _ in range(4): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"+
		"print('ready', flush=True)\ntime.sleep(600)")
	pids := []int{busy, idle, big, threaded}

	s := &Sampler{Targets: func() []Target {
		ts := make([]Target, len(pids))
		for i, pid := range pids {
			ts[i] = Target{WorkerID: i + 1, PID: pid}
		}
		return ts
	}}
	first := s.Sample()

	// Let the busy loop run up at least 300 ms of CPU past the first
	// sample, so its share is measured over many clock ticks.
	start := readProc(t, busy).cpu
	deadline := time.Now().Add(30 * time.Second)
	for readProc(t, busy).cpu < start+300*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatal("the busy loop got no CPU for 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	before := make([]procTruth, len(pids))
	for i, pid := range pids {
		before[i] = readProc(t, pid)
	}
	second := s.Sample()
	after := make([]procTruth, len(pids))
	for i, pid := range pids {
		after[i] = readProc(t, pid)
	}

	for i, ws := range second.Workers {
		b, a := before[i], after[i]
		t.Logf("worker %d pid %d: CPU %.1f%% (%v) RSS %d VSZ %d threads %d; /proc: CPU %v..%v RSS %d VSZ %d threads %d",
			ws.WorkerID, ws.PID, ws.CPUPercent, ws.CPUTime, ws.RSS, ws.VSZ, ws.Threads, b.cpu, a.cpu, a.rss, a.vsz, a.threads)
		if !ws.Proc || ws.PID != pids[i] {
			t.Fatalf("worker %d: not read: %+v", ws.WorkerID, ws)
		}
		if ws.CPUTime < b.cpu || ws.CPUTime > a.cpu {
			t.Errorf("worker %d: CPU time %v outside /proc's %v..%v", ws.WorkerID, ws.CPUTime, b.cpu, a.cpu)
		}
		if !near(ws.RSS, b.rss, a.rss) {
			t.Errorf("worker %d: RSS %d, /proc says %d..%d", ws.WorkerID, ws.RSS, b.rss, a.rss)
		}
		if !near(ws.VSZ, b.vsz, a.vsz) {
			t.Errorf("worker %d: VSZ %d, /proc says %d..%d", ws.WorkerID, ws.VSZ, b.vsz, a.vsz)
		}
		if ws.Threads != a.threads {
			t.Errorf("worker %d: %d threads, /proc says %d", ws.WorkerID, ws.Threads, a.threads)
		}
		// CPU % is the CPU time between the two samples over the time
		// between them.
		f := first.Workers[i]
		want := float64(ws.CPUTime-f.CPUTime) / float64(ws.Time.Sub(f.Time)) * 100
		if diff := ws.CPUPercent - want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("worker %d: CPU%% %v, want %v", ws.WorkerID, ws.CPUPercent, want)
		}
	}
	w := second.Workers
	// Plausibility on a shared machine: the busy loop gets a good part of
	// a core (less when other tests compete for the two cores), the
	// sleeper next to nothing.
	if w[0].CPUPercent < 10 || w[0].CPUPercent > 105 || w[0].CPUPercent < w[1].CPUPercent+10 {
		t.Errorf("busy loop at %.1f%% CPU", w[0].CPUPercent)
	}
	if w[1].CPUPercent > 5 {
		t.Errorf("sleeping process at %.1f%% CPU", w[1].CPUPercent)
	}
	if w[2].RSS < 64<<20 || w[2].RSS < w[1].RSS+60<<20 {
		t.Errorf("the process holding 64 MiB has RSS %d (the idle one %d)", w[2].RSS, w[1].RSS)
	}
	if w[3].Threads != 5 || w[1].Threads != 1 {
		t.Errorf("threads: %d and %d, want 5 and 1", w[3].Threads, w[1].Threads)
	}
	if m := second.Master; m.Running != 4 || m.RSS != w[0].RSS+w[1].RSS+w[2].RSS+w[3].RSS {
		t.Errorf("master: %+v", m)
	}
}

// near reports whether v lies in [lo, hi] (in either order), give or take
// 1% and a few pages for the allocations of a running interpreter.
func near(v, lo, hi uint64) bool {
	lo, hi = min(lo, hi), max(lo, hi)
	slack := hi/100 + 64<<10
	return v+slack >= lo && v <= hi+slack
}

func TestProcSourceGoneProcess(t *testing.T) {
	cmd := exec.Command(python, "-c", "pass")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	src := NewProcSource()
	if _, err := src.Stat(cmd.Process.Pid); err == nil || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("Stat of an exited process: %v", err)
	}
	src.Forget(cmd.Process.Pid)

	st, err := src.Stat(os.Getpid())
	if err != nil || st.RSS == 0 || st.Threads == 0 || st.Started.IsZero() || st.Started.After(time.Now()) {
		t.Errorf("Stat(self) = %+v, %v", st, err)
	}
}
