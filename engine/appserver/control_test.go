package appserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// writeFIFO writes cmds to the master FIFO as one writer (like echo).
func writeFIFO(t *testing.T, path, cmds string) {
	t.Helper()
	eventually(t, 10*time.Second, "the master fifo "+path, func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Mode()&os.ModeNamedPipe != 0
	})
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(cmds); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func pids(s *Server) map[int]bool {
	out := map[int]bool{}
	for _, w := range s.Snapshot().Workers {
		if w.PID != 0 {
			out[w.PID] = true
		}
	}
	return out
}

// replaced waits until none of before's pids serves any more.
func replaced(t *testing.T, s *Server, before map[int]bool, n int) {
	t.Helper()
	eventually(t, 20*time.Second, "the workers replaced", func() bool {
		snap := s.Snapshot()
		got := 0
		for _, w := range snap.Workers {
			if before[w.PID] || len(w.Others) > 0 {
				return false
			}
			if w.Accepting {
				got++
			}
		}
		return got == n && snap.Reload == nil
	})
}

// master-fifo: r, w, R, c reload; + and - add and remove workers; s logs
// the stats; q stops. The FIFO is re-created after each writer.
func TestMasterFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "master.fifo")
	fifo2 := filepath.Join(dir, "other.fifo")
	var reread atomic.Int32
	s, log, _ := superviseServerSetup(t, func(c *Config) {
		c.Processes = 2
		c.MasterFIFO = []string{fifo, fifo2}
	}, func(s *Server) { s.ReloadConfig = rereads(s, &reread) })
	ev := recordEvents(t, s, EventReloadStarted)

	before := pids(s)
	writeFIFO(t, fifo, "r\n")
	waitLog(t, log, "...gracefully killing workers...")
	replaced(t, s, before, 2)
	if e := ev.wait(t, EventReloadStarted, nil); e.Mode != ReloadGraceful || reread.Load() != 1 {
		t.Errorf("r: %+v, config read %d times", e, reread.Load())
	}

	before = pids(s)
	writeFIFO(t, fifo, "c")
	waitLog(t, log, " - chain reload starting...")
	waitLog(t, log, " - chain reloading complete")
	replaced(t, s, before, 2)

	before = pids(s)
	writeFIFO(t, fifo, "R")
	waitLog(t, log, "...brutally killing workers...")
	replaced(t, s, before, 2)
	if reread.Load() != 2 {
		t.Errorf("R read the configuration %d times in all, want 2", reread.Load())
	}

	before = pids(s)
	writeFIFO(t, fifo, "w")
	// A reload of the workers only: logged as respawns, as uWSGI does
	// (TestWorkersReloadLinesLikeUWSGI), not as a whole reload.
	replaced(t, s, before, 2)
	waitLog(t, log, "worker 2 killed successfully (pid: ")
	if n := strings.Count(log.String(), "...gracefully killing workers..."); n != 1 {
		t.Errorf("w logged a whole reload's line (%d in all)", n)
	}
	if reread.Load() != 2 {
		t.Errorf("w re-read the configuration")
	}

	writeFIFO(t, fifo, "+")
	waitAccepting(t, s, 3)
	writeFIFO(t, fifo, "-")
	waitLog(t, log, "uWSGI worker 3 cheaped.")

	writeFIFO(t, fifo, "s")
	waitLog(t, log, "\tworkers total requests: ")

	// '1' selects the second FIFO: the next one is created there.
	writeFIFO(t, fifo, "1")
	waitLog(t, log, " - active master fifo is now "+fifo2)
	writeFIFO(t, fifo2, "q")
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("q did not stop the server")
	}
	waitLog(t, log, "graceful shutdown triggered...")
	if _, err := os.Stat(fifo2); !os.IsNotExist(err) {
		t.Errorf("the FIFO is left behind: %v", err)
	}

	// Q: brutal shutdown.
	fifo3 := filepath.Join(dir, "q.fifo")
	s3, log3, _ := superviseServer(t, func(c *Config) { c.MasterFIFO = []string{fifo3} })
	writeFIFO(t, fifo3, "Q")
	select {
	case <-s3.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("Q did not stop the server")
	}
	waitLog(t, log3, "SIGINT/SIGTERM received...killing workers...")
}

// touch-reload: touching the file reloads gracefully (with the
// configuration re-read); touch-chain-reload reloads in a chain.
func TestTouchReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	touch := filepath.Join(dir, "reload.txt")
	chain := filepath.Join(dir, "chain.txt")
	conf := filepath.Join(dir, "conf.d")
	os.WriteFile(touch, nil, 0o644)
	os.Mkdir(conf, 0o755)
	var reread atomic.Int32
	s, log, _ := superviseServerSetup(t, func(c *Config) {
		c.TouchReload = []string{touch}
		c.TouchChainReload = []string{chain} // missing at start: creating it counts
		c.FSReload = []string{conf}
		c.CheckInterval = 200 * time.Millisecond
	}, func(s *Server) { s.ReloadConfig = rereads(s, &reread) })
	before := pids(s)
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(touch, later, later); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, " - *** "+touch+" has been touched... grace them all !!! ***")
	replaced(t, s, before, 1)
	if reread.Load() != 1 {
		t.Errorf("touch-reload read the configuration %d times", reread.Load())
	}
	before = pids(s)
	os.WriteFile(chain, []byte("x"), 0o644)
	waitLog(t, log, " - *** "+chain+" has been touched... chain reload !!! ***")
	waitLog(t, log, " - chain reloading complete")
	replaced(t, s, before, 1)
	// fs-reload: a new file in the directory.
	before = pids(s)
	os.WriteFile(filepath.Join(conf, "new.conf"), []byte("x"), 0o644)
	waitLog(t, log, "[uwsgi-fsmon] "+conf+" has been modified")
	replaced(t, s, before, 1)
	if reread.Load() != 2 {
		t.Errorf("fs-reload: configuration read %d times in all, want 2", reread.Load())
	}
}

// py-autoreload: a changed module file makes a worker ask for a graceful
// reload, which loads the new code.
func TestPyAutoreload(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": superviseApp})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", Processes: 2, PyAutoreload: time.Second})
	waitAccepting(t, s, 2)
	base := "http://" + s.Addrs()[0]
	if _, body := get(t, base+"/"); !strings.HasPrefix(body, "v1 ") {
		t.Fatalf("before: %q", body)
	}
	ev := recordEvents(t, s, EventReloadStarted, EventReloadFinished)
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(strings.Replace(superviseApp, `b"v1"`, `b"v2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(app, later, later)
	// Named as uWSGI names it: the wsgi-file as written (relative to chdir).
	waitLog(t, log, "[uwsgi-python-reloader] module/file app.py has been modified")
	ev.wait(t, EventReloadFinished, nil)
	if _, body := get(t, base+"/"); !strings.HasPrefix(body, "v2 ") {
		t.Errorf("after the change: %q", body)
	}
	// Both workers noticed; one reload happened.
	time.Sleep(1500 * time.Millisecond)
	if n := ev.count(EventReloadStarted); n != 1 {
		t.Errorf("%d reloads for one change", n)
	}
}

// procStat reads a process's CPU time and threads from /proc/PID/stat.
func procStat(t *testing.T, pid int) (cpu time.Duration, threads int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command: state(3) ... utime(14) stime(15) ... num_threads(20).
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	threads, _ = strconv.Atoi(fields[17])
	return time.Duration(utime+stime) * 10 * time.Millisecond, threads
}

// The metrics sampler's figures match /proc for the worker pids, and its
// request counts match the requests sent.
func TestMetricsMatchProc(t *testing.T) {
	s, _, base := superviseServer(t, func(c *Config) { c.Processes = 2; c.Threads = 2 })
	const sent = 9
	for i := 0; i < sent; i++ {
		get(t, base+"/")
	}
	get(t, base+"/grow?16") // one worker gets bigger than the other
	snap := s.Metrics().Sample()
	if len(snap.Workers) != 2 {
		t.Fatalf("sampled %d workers", len(snap.Workers))
	}
	var total uint64
	for _, ws := range snap.Workers {
		if !ws.Proc || ws.PID == 0 {
			t.Fatalf("worker %d not read: %+v", ws.WorkerID, ws)
		}
		mem, err := readMemInfo(ws.PID)
		if err != nil {
			t.Fatal(err)
		}
		cpu, threads := procStat(t, ws.PID)
		if diff := int64(mem.RSS) - int64(ws.RSS); diff < -256<<10 || diff > 256<<10 {
			t.Errorf("worker %d rss %d, /proc says %d", ws.WorkerID, ws.RSS, mem.RSS)
		}
		if ws.VSZ != mem.VSZ {
			t.Errorf("worker %d vsz %d, /proc says %d", ws.WorkerID, ws.VSZ, mem.VSZ)
		}
		if ws.Threads != threads || threads != 2 {
			t.Errorf("worker %d threads %d, /proc says %d", ws.WorkerID, ws.Threads, threads)
		}
		if d := cpu - ws.CPUTime; d < 0 || d > 50*time.Millisecond {
			t.Errorf("worker %d cpu %v, /proc says %v", ws.WorkerID, ws.CPUTime, cpu)
		}
		total += ws.TotalRequests
	}
	if total != sent+1 || snap.Master.TotalRequests != sent+1 {
		t.Errorf("sampler counted %d (master %d), %d were sent", total, snap.Master.TotalRequests, sent+1)
	}
	// The snapshot carries the samples, and the rings keep them.
	st := s.Snapshot()
	for _, w := range st.Workers {
		if !w.HasMetrics || w.Metrics.PID != w.PID {
			t.Errorf("worker %d snapshot metrics: %+v", w.ID, w.Metrics)
		}
		if len(s.Metrics().History(w.ID, time.Time{})) == 0 {
			t.Errorf("worker %d has no history", w.ID)
		}
	}
	// The Prometheus handler serves the same figures.
	rec := httptest.NewRecorder()
	metrics.Handler(s.Metrics()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "wsgideck_requests_total "+strconv.Itoa(sent+1)) {
		t.Errorf("prometheus text:\n%s", rec.Body.String())
	}
}

// A request whose core cannot take it (its channel is gone: the worker
// died after the core went idle) goes to another core instead of failing.
func TestRedispatchUndelivered(t *testing.T) {
	s, _, base := superviseServer(t, func(c *Config) { c.Threads = 2 })
	if resp, _ := get(t, base+"/shut-other"); resp.StatusCode != 200 {
		t.Fatalf("/shut-other: %d", resp.StatusCode)
	}
	// Two requests at once: one gets the healthy core, the other the
	// broken one first, then waits for the healthy one.
	results := make(chan int, 2)
	for _, path := range []string{"/sleep?0.3", "/"} {
		go func(path string) {
			resp, err := http.Get(base + path)
			if err != nil {
				results <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results <- resp.StatusCode
		}(path)
		time.Sleep(50 * time.Millisecond)
	}
	for i := 0; i < 2; i++ {
		if code := <-results; code != 200 {
			t.Errorf("request %d: %d", i, code)
		}
	}
	if n := s.redispatched.Load(); n != 1 {
		t.Errorf("%d requests redispatched, want 1", n)
	}
}
