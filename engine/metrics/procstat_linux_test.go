package metrics

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses, as proc(5) allows.
	line := "4242 (python3 (worker) 1) S 1 4242 4242 0 -1 4194304 1220 0 0 0 " +
		"37 12 0 0 20 0 5 0 98765 316358656 2270 18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStatFields{utime: 37, stime: 12, threads: 5, start: 98765, vsize: 316358656}
	if got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "4242 (x", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194304 1220 0 0 0 x7 12 0 0 20 0 5 0 98765 1 2"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) accepted", bad)
		}
	}
	if n, err := parseStatm([]byte("3463 2270 1024 1 0 400 0\n")); err != nil || n != 2270 {
		t.Errorf("parseStatm = %d, %v; want 2270", n, err)
	}
	if _, err := parseStatm([]byte("3463")); err == nil {
		t.Error("parseStatm accepted one field")
	}
}

// The /proc source reads the same figures as gopsutil, in fewer reads.
func TestProcfsSourceMatchesGopsutil(t *testing.T) {
	pid := spawnPython(t, "import threading, time\nb = b'x' * (16 << 20)\n"+
		"for _ in range(3): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"+
		"print('ready', flush=True)\ntime.sleep(600)")
	ours, ref := newPlatformSource(), newPsutilSource()
	for _, p := range []int{pid, os.Getpid()} {
		a, err := ours.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ref.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pid %d: procfs %+v; gopsutil %+v", p, a, b)
		if p == pid && (a.CPU > b.CPU || b.CPU-a.CPU > 50*time.Millisecond) {
			t.Errorf("pid %d: CPU %v, gopsutil read %v just after", p, a.CPU, b.CPU)
		}
		if p == pid && (a.RSS != b.RSS || a.Threads != b.Threads) {
			t.Errorf("pid %d: RSS %d threads %d, gopsutil %d and %d", p, a.RSS, a.Threads, b.RSS, b.Threads)
		}
		if a.VSZ == 0 || a.Threads == 0 || a.RSS == 0 {
			t.Errorf("pid %d: empty figures %+v", p, a)
		}
		if d := a.Started.Sub(b.Started); d < -time.Second || d > time.Second {
			t.Errorf("pid %d: started %v, gopsutil %v", p, a.Started, b.Started)
		}
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 100 0 0 0 5 7 0 0 20 0 1 0 10 1000 20 18446744073709551615"))
	f.Add([]byte("7 (a) b) c) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseProcStat(b)
		parseStatm(b)
	})
}

// procFDs counts this process's descriptors open on /proc/PID/ files.
func procFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	prefix := "/proc/" + strconv.Itoa(pid) + "/"
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, prefix) {
			n++
		}
	}
	return n
}

// The source keeps each process's two files open between samples and
// reads them again (the figures move on: CPU spent in between shows),
// closes them when told to forget the process, and when the process has
// exited.
func TestProcfsSourceKeepsFilesOpen(t *testing.T) {
	busy := spawnPython(t, "import time\nprint('ready', flush=True)\nt = time.time()\nwhile time.time() - t < 600: pass")
	src := newPlatformSource()
	first, err := src.Stat(busy)
	if err != nil {
		t.Fatal(err)
	}
	if n := procFDs(t, busy); n != 2 {
		t.Fatalf("%d descriptors open on /proc/%d after a sample, want 2 (stat and statm)", n, busy)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		again, err := src.Stat(busy)
		if err != nil {
			t.Fatal(err)
		}
		if again.CPU > first.CPU {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a busy process's CPU stayed at %v over 10 s of samples: the kept files are not read anew", first.CPU)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := procFDs(t, busy); n != 2 {
		t.Errorf("%d descriptors on /proc/%d after more samples, want still 2", n, busy)
	}
	src.Forget(busy)
	if n := procFDs(t, busy); n != 0 {
		t.Errorf("%d descriptors on /proc/%d after Forget", n, busy)
	}

	// A process that exits and is reaped: its files then fail to read.
	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	idle := sleeper.Process.Pid
	if _, err := src.Stat(idle); err != nil {
		t.Fatal(err)
	}
	sleeper.Process.Kill()
	sleeper.Wait()
	if _, err := src.Stat(idle); err == nil {
		t.Fatalf("read process %d after it exited and was reaped", idle)
	}
	if n := procFDs(t, idle); n != 0 {
		t.Errorf("%d descriptors on /proc/%d after it exited and failed to read", n, idle)
	}
}

// A sampler that stops closes the /proc files its source kept open: each
// engine run has a sampler of its own, and a desktop session starts and
// stops many.
func TestSamplerClosesProcFilesWhenItStops(t *testing.T) {
	pid := spawnPython(t, "import time\nprint('ready', flush=True)\ntime.sleep(600)")
	s := &Sampler{Source: newPlatformSource(), Interval: 10 * time.Millisecond,
		Targets: func() []Target { return []Target{{WorkerID: 1, PID: pid}} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for procFDs(t, pid) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the sampler never opened the worker's /proc files")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := procFDs(t, pid); n != 0 {
		t.Errorf("%d descriptors on /proc/%d after the sampler stopped", n, pid)
	}
}
