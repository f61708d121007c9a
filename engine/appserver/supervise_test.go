package appserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/fastcgi"
)

// A worker killed with SIGKILL under wrk load is respawned at once, and
// only the request it held fails.
func TestKillWorkerUnderLoad(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) { c.Processes = 2 })
	ev := recordEvents(t, s, EventDied, EventSpawned)
	victim := s.Snapshot().Workers[0]
	load := startWrk(t, base+"/", 3*time.Second, 8)
	time.Sleep(time.Second)
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	died := ev.wait(t, EventDied, func(e Event) bool { return e.PID == victim.PID })
	spawned := ev.wait(t, EventSpawned, func(e Event) bool { return e.Worker == 1 && e.Reason == "respawn" })
	if gap := spawned.Time.Sub(died.Time); gap > time.Second {
		t.Errorf("worker 1 was respawned %v after it died", gap)
	}
	if died.Signal != 9 || died.ExitCode != -1 || !strings.Contains(died.Reason, "killed by signal 9") {
		t.Errorf("died event: %+v", died)
	}
	r := <-load
	t.Logf("wrk during the kill:\n%s", r.Output)
	if r.Requests <= 0 {
		t.Fatalf("wrk failed:\n%s", r.Output)
	}
	// One core (threads = 1) held at most one request.
	if failed := r.Non2xx + r.SocketErrors; failed > 1 {
		t.Errorf("%d requests failed; only the one the killed worker held may", failed)
	}
	waitLog(t, log, fmt.Sprintf("DAMN ! worker 1 (pid: %d) died, killed by signal 9 :( trying respawn ...", victim.PID))
	waitLog(t, log, "Respawned uWSGI worker 1 (new pid: ")
	w := s.Snapshot().Workers[0]
	if w.PID == victim.PID || w.RespawnCount != 2 || w.DeltaRequests >= w.Requests || !w.LastSpawn.After(victim.LastSpawn) {
		t.Errorf("worker 1 after the respawn: %+v (before: %+v)", w, victim)
	}
	if w.LastDeath == nil || w.LastDeath.PID != victim.PID || w.LastDeath.Signal != 9 || w.LastDeath.OnStart {
		t.Errorf("last death: %+v", w.LastDeath)
	}
}

// harakiri: a request over the limit gets 504 on every protocol, its
// worker is killed and respawned, and the log names the request.
func TestHarakiri(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "u.sock")
	s, log, base := superviseServer(t, func(c *Config) {
		c.Harakiri = time.Second
		c.Sockets = append(c.Sockets, Socket{Proto: ProtoUWSGI, Addr: sock, Option: "socket"}, Socket{Proto: ProtoFastCGI, Option: "fastcgi-socket", Addr: "127.0.0.1:0"})
	})
	ev := recordEvents(t, s, EventHarakiri, EventDied)
	first := s.Snapshot().Workers[0].PID

	start := time.Now()
	resp, body := get(t, base+"/sleep?10")
	took := time.Since(start)
	if resp.StatusCode != 504 || body != "Gateway Timeout" {
		t.Errorf("HTTP: %d %q", resp.StatusCode, body)
	}
	if took < time.Second || took > 5*time.Second {
		t.Errorf("the 504 came after %v, want about 1 s", took)
	}
	h := ev.wait(t, EventHarakiri, nil)
	if h.PID != first || h.Request == nil || h.Request.URI != "/sleep?10" || h.Request.Method != "GET" || h.Request.Status != 504 {
		t.Errorf("harakiri event: %+v %+v", h, h.Request)
	}
	d := ev.wait(t, EventDied, func(e Event) bool { return e.PID == first })
	if !strings.Contains(d.Reason, "harakiri") {
		t.Errorf("died event: %+v", d)
	}
	for _, want := range []string{
		fmt.Sprintf(" - *** HARAKIRI ON WORKER 1 (pid: %d, try: 1) ***", first),
		" - HARAKIRI !!! worker 1 status !!!",
		" - HARAKIRI [core 0] 127.0.0.1 - GET /sleep?10 since ",
		" - HARAKIRI !!! end of worker 1 status !!!",
		fmt.Sprintf("DAMN ! worker 1 (pid: %d) died, killed by signal 9 :( trying respawn ...", first),
		"Respawned uWSGI worker 1 (new pid: ",
		"GET /sleep?10 => generated 0 bytes in ",
	} {
		waitLog(t, log, want)
	}
	waitAccepting(t, s, 1)

	// The uwsgi socket: the same answer, in its raw HTTP form.
	out := rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/sleep", "QUERY_STRING", "10", "REQUEST_URI", "/sleep?10", "SERVER_PROTOCOL", "HTTP/1.1"), ""))
	if !strings.HasPrefix(out, "HTTP/1.1 504 Gateway Timeout\r\n") {
		t.Errorf("uwsgi socket: %q", out)
	}
	waitAccepting(t, s, 1)

	// FastCGI: a Status header.
	c, err := net.Dial("tcp", s.Addrs()[2])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	bw := bufio.NewWriter(c)
	fw := fastcgi.NewWriter(bw)
	fw.Record(fastcgi.TypeBeginRequest, 1, []byte{0, fastcgi.RoleResponder, 0, 0, 0, 0, 0, 0})
	fw.Record(fastcgi.TypeParams, 1, fastcgi.AppendParams(nil, pairs("REQUEST_METHOD", "GET", "SCRIPT_NAME", "/sleep", "DOCUMENT_URI", "/sleep", "QUERY_STRING", "10", "REQUEST_URI", "/sleep?10", "SERVER_PROTOCOL", "HTTP/1.1")))
	fw.Record(fastcgi.TypeParams, 1, nil)
	fw.Record(fastcgi.TypeStdin, 1, nil)
	fw.Flush()
	fr := fastcgi.NewReader(bufio.NewReader(c))
	var stdout strings.Builder
	for {
		h, content, err := fr.Next()
		if err != nil {
			t.Fatalf("fastcgi: %v (so far %q)", err, stdout.String())
		}
		if h.Type == fastcgi.TypeStdout {
			stdout.Write(content)
		}
		if h.Type == fastcgi.TypeEndRequest {
			break
		}
	}
	if !strings.HasPrefix(stdout.String(), "Status: 504 Gateway Timeout\r\n") {
		t.Errorf("fastcgi: %q", stdout.String())
	}

	eventually(t, 10*time.Second, "three harakiris counted", func() bool {
		w := s.Snapshot().Workers[0]
		return w.HarakiriCount == 3 && w.Accepting
	})
	if n := ev.countAtLeast(t, EventHarakiri, 3); n != 3 {
		t.Errorf("%d harakiri events, want 3", n)
	}
	// A request under the limit is left alone.
	if resp, body := get(t, base+"/sleep?0.3"); resp.StatusCode != 200 || !strings.HasPrefix(body, "v1 pid=") {
		t.Errorf("a request under harakiri: %d %q", resp.StatusCode, body)
	}
}

// max-requests recycles a worker once it has served that many requests,
// after min-worker-lifetime; the old process serves until its
// replacement is ready.
func TestMaxRequests(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) {
		c.MaxRequests = 3
		c.MinWorkerLifetime = NoMinWorkerLifetime
	})
	ev := recordEvents(t, s, EventRecycled, EventExited)
	first := s.Snapshot().Workers[0].PID
	for i := 0; i < 3; i++ {
		if _, body := get(t, base+"/"); pidOf(body) != first {
			t.Fatalf("request %d served by %q, want pid %d", i, body, first)
		}
	}
	r := ev.wait(t, EventRecycled, nil)
	if r.PID != first || !strings.Contains(r.Reason, "max-requests") {
		t.Errorf("recycled event: %+v", r)
	}
	for _, want := range []string{
		fmt.Sprintf("worker 1 (pid: %d) has served 3 requests (max-requests 3): recycling it", first),
		fmt.Sprintf("...The work of process %d is done. Seeya!", first),
		"Respawned uWSGI worker 1 (new pid: ",
		fmt.Sprintf("worker 1 killed successfully (pid: %d)", first),
	} {
		waitLog(t, log, want)
	}
	if e := ev.wait(t, EventExited, nil); e.PID != first || e.Reason != whyRecycle {
		t.Errorf("exited event: %+v", e)
	}
	_, body := get(t, base+"/")
	if pid := pidOf(body); pid == first || pid == 0 {
		t.Errorf("after recycling, served by %q", body)
	}
	w := s.Snapshot().Workers[0]
	if w.Requests != 4 || w.DeltaRequests != 1 || w.RespawnCount != 2 || w.LastDeath != nil {
		t.Errorf("counters after the recycle: %+v", w)
	}

	// min-worker-lifetime (default 10 s) holds the recycling back, as in
	// uWSGI: quick requests do not recycle a young worker.
	s2, log2, base2 := superviseServer(t, func(c *Config) { c.MaxRequests = 2 })
	pid := s2.Snapshot().Workers[0].PID
	for i := 0; i < 4; i++ {
		if _, body := get(t, base2+"/"); pidOf(body) != pid {
			t.Errorf("request %d: a young worker was recycled: %q", i, body)
		}
	}
	if strings.Contains(log2.String(), "Seeya") {
		t.Errorf("recycled within min-worker-lifetime:\n%s", log2)
	}
}

// max-requests-delta staggers the workers' limits: worker N's is
// max-requests + (N-1)*delta.
func TestMaxRequestsDelta(t *testing.T) {
	t.Parallel()
	s, log, base := superviseServer(t, func(c *Config) {
		c.Processes = 2
		c.MaxRequests = 2
		c.MaxRequestsDelta = 3
		c.MinWorkerLifetime = NoMinWorkerLifetime
	})
	ev := recordEvents(t, s, EventRecycled)
	// Sequential requests go to the most recently idle core: both workers
	// get some, and each is recycled at its own limit.
	for i := 0; i < 12 && ev.count(EventRecycled) < 2; i++ {
		get(t, base+"/")
		resp, _ := get(t, base+"/sleep?0.05")
		resp.Body.Close()
	}
	ev.wait(t, EventRecycled, nil)
	waitLog(t, log, "requests (max-requests ")
	seen := 0
	for _, line := range strings.Split(log.String(), "\n") {
		var id, pid, n, limit int
		if _, err := fmt.Sscanf(line, "worker %d (pid: %d) has served %d requests (max-requests %d)", &id, &pid, &n, &limit); err == nil {
			seen++
			if want := 2 + (id-1)*3; limit != want || n != want {
				t.Errorf("worker %d recycled after %d requests at limit %d, want %d: %s", id, n, limit, want, line)
			}
		}
	}
	if seen == 0 {
		t.Errorf("no max-requests line:\n%s", log)
	}
}

// reload-on-rss recycles a worker whose resident memory grew past the
// limit, checked after each request; limit-as makes a big allocation fail
// with MemoryError, and the worker is recycled too.
func TestReloadOnRSSAndLimitAS(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) {
		c.ReloadOnRSS = 48 << 20
		c.LimitAS = 256 << 20
		c.MinWorkerLifetime = NoMinWorkerLifetime
		c.MemoryReport = true
	})
	ev := recordEvents(t, s, EventRecycled)
	first := s.Snapshot().Workers[0].PID
	waitLog(t, log, "your process address space limit is 268435456 bytes (256 MB)")
	if resp, _ := get(t, base+"/"); resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	if strings.Contains(log.String(), "Seeya") {
		t.Fatalf("recycled before growing:\n%s", log)
	}
	waitLog(t, log, "MB} [pid: ")
	if !regexp.MustCompile(`\{address space usage: \d+ bytes/\d+MB\} \{rss usage: \d+ bytes/\d+MB\} \[pid: \d+\|app: 0\|req: 1/1\]`).MatchString(log.String()) {
		t.Errorf("memory-report line:\n%s", log)
	}
	if resp, _ := get(t, base+"/grow?64"); resp.StatusCode != 200 {
		t.Fatalf("GET /grow: %d", resp.StatusCode)
	}
	r := ev.wait(t, EventRecycled, nil)
	if r.PID != first || !strings.Contains(r.Reason, "reload-on-rss") {
		t.Errorf("recycled event: %+v", r)
	}
	waitLog(t, log, fmt.Sprintf("worker 1 (pid: %d) rss is ", first))
	waitLog(t, log, "MB (reload-on-rss 48 MB): recycling it")
	waitLog(t, log, fmt.Sprintf("worker 1 killed successfully (pid: %d)", first))
	waitAccepting(t, s, 1)

	// limit-as: 300 MB cannot be had under 256 MB of address space.
	second := s.Snapshot().Workers[0].PID
	resp, _ := get(t, base+"/hog?300")
	if resp.StatusCode != 500 {
		t.Errorf("an allocation over limit-as: %d", resp.StatusCode)
	}
	waitLog(t, log, "MemoryError")
	r = ev.wait(t, EventRecycled, func(e Event) bool { return e.PID == second })
	if r.Reason != "MemoryError under limit-as (256 MB)" {
		t.Errorf("recycled event: %+v", r)
	}
	waitLog(t, log, fmt.Sprintf("worker 1 killed successfully (pid: %d)", second))
}

// A graceful reload in the middle of a wrk run: no request fails.
func TestGracefulReloadUnderLoad(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) { c.Processes = 2 })
	ev := recordEvents(t, s, EventReloadStarted, EventReloadFinished)
	before := map[int]bool{}
	for _, w := range s.Snapshot().Workers {
		before[w.PID] = true
	}
	load := startWrk(t, base+"/", 3*time.Second, 8)
	time.Sleep(time.Second)
	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	started := ev.wait(t, EventReloadStarted, nil)
	finished := ev.wait(t, EventReloadFinished, nil)
	if started.Mode != ReloadGraceful || finished.Reason != "" || finished.Generation != started.Generation {
		t.Errorf("reload events: %+v %+v", started, finished)
	}
	r := <-load
	t.Logf("wrk across a graceful reload:\n%s", r.Output)
	if r.Requests <= 0 || r.Non2xx != 0 || r.SocketErrors != 0 {
		t.Errorf("a graceful reload under load: %d requests, %d non-2xx, %d socket errors", r.Requests, r.Non2xx, r.SocketErrors)
	}
	for _, w := range s.Snapshot().Workers {
		if before[w.PID] || !w.Accepting || w.Generation != 1 {
			t.Errorf("after the reload: %+v", w)
		}
	}
	waitLog(t, log, "...gracefully killing workers...")
	waitLog(t, log, "worker 1 buried after")
	waitLog(t, log, "worker 2 buried after")
}

// A chain reload replaces one worker at a time, the next only once the
// previous replacement is ready: workers keep accepting throughout.
func TestChainReload(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) { c.Processes = 3 })
	ev := recordEvents(t, s, EventReloadFinished)
	before := map[int]bool{}
	for _, w := range s.Snapshot().Workers {
		before[w.PID] = true
	}
	load := startWrk(t, base+"/", 3*time.Second, 4)
	time.Sleep(500 * time.Millisecond)
	if err := s.ReloadWith(ReloadChain, nil); err != nil {
		t.Fatal(err)
	}
	minAccepting, maxReplacing := 3, 0
	for done := false; !done; {
		snap := s.Snapshot()
		accepting, replacing := 0, 0
		for _, w := range snap.Workers {
			if w.Accepting {
				accepting++
			}
			for _, o := range w.Others {
				if !o.Retiring {
					replacing++ // a replacement still loading
				}
			}
			if w.Status == WorkerStarting {
				replacing++
			}
		}
		minAccepting = min(minAccepting, accepting)
		maxReplacing = max(maxReplacing, replacing)
		done = snap.Reload == nil && len(ev.all()) > 0
		time.Sleep(5 * time.Millisecond)
	}
	if minAccepting < 3 {
		t.Errorf("during the chain reload only %d workers accepted at one point", minAccepting)
	}
	if maxReplacing > 1 {
		t.Errorf("%d workers were being replaced at once", maxReplacing)
	}
	if f := ev.all()[0]; f.Mode != ReloadChain || f.Reason != "" {
		t.Errorf("finished event: %+v", f)
	}
	r := <-load
	t.Logf("wrk across a chain reload:\n%s", r.Output)
	if r.Requests <= 0 || r.Non2xx != 0 || r.SocketErrors != 0 {
		t.Errorf("a chain reload under load: %d requests, %d non-2xx, %d socket errors", r.Requests, r.Non2xx, r.SocketErrors)
	}
	for _, w := range s.Snapshot().Workers {
		if before[w.PID] {
			t.Errorf("worker %d was not replaced", w.ID)
		}
	}
	text := log.String()
	last := -1
	for _, want := range []string{" - chain reload starting...", " - chain next victim is worker 1", " - chain next victim is worker 2", " - chain next victim is worker 3", " - chain reloading complete"} {
		i := strings.Index(text, want)
		if i < 0 || i < last {
			t.Errorf("log lacks %q (in order):\n%s", want, text)
		}
		last = i
	}
}

// A worker that dies on start is respawned with a growing delay, and the
// API says why; a reload to a broken app under need-app keeps the old
// workers serving.
func TestCrashLoopBackoff(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": "import os\nos._exit(3)\n"})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py"})
	ev := recordEvents(t, s, EventDied, EventBackoff)
	b1 := ev.wait(t, EventBackoff, nil)
	if b1.Worker != 1 || b1.Delay != time.Second || !strings.Contains(b1.Reason, "exited with code 3 before it was ready") {
		t.Errorf("first backoff: %+v", b1)
	}
	b2 := ev.wait(t, EventBackoff, func(e Event) bool { return e.PID != b1.PID })
	if b2.Delay != 2*time.Second {
		t.Errorf("second backoff: %+v", b2)
	}
	w := s.Snapshot().Workers[0]
	if w.Status != WorkerBackoff || w.LastDeath == nil || w.LastDeath.ExitCode != 3 || !w.LastDeath.OnStart || w.BackoffUntil.IsZero() {
		t.Errorf("worker in backoff: %+v %+v", w, w.LastDeath)
	}
	waitLog(t, log, "worker respawning too fast !!! i have to sleep a bit (1 seconds)...")
	waitLog(t, log, "worker respawning too fast !!! i have to sleep a bit (2 seconds)...")
	if d := ev.wait(t, EventDied, nil); d.ExitCode != 3 || d.Signal != 0 {
		t.Errorf("died event: %+v", d)
	}

	// need-app: a reload to an app that does not import leaves the old
	// workers serving; the new ones die with the import error.
	dir2 := writeApp(t, map[string]string{"app.py": superviseApp})
	s2, log2 := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir2, WSGIFile: "app.py", NeedApp: true})
	waitAccepting(t, s2, 1)
	ev2 := recordEvents(t, s2, EventDied, EventBackoff)
	good := s2.Snapshot().Workers[0].PID
	if err := os.WriteFile(filepath.Join(dir2, "app.py"), []byte("import no_such_module_here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s2.Reload(nil); err != nil {
		t.Fatal(err)
	}
	d := ev2.wait(t, EventDied, nil)
	if d.ExitCode != NoAppExitCode || !strings.Contains(d.Reason, "No module named 'no_such_module_here'") {
		t.Errorf("died event: %+v", d)
	}
	ev2.wait(t, EventBackoff, nil)
	waitLog(t, log2, "OOPS ! failed loading app in worker 1 (pid ")
	snap := s2.Snapshot()
	if !strings.Contains(snap.AppError, "No module named 'no_such_module_here'") || snap.Reload == nil {
		t.Errorf("snapshot after a broken reload: app error %q, reload %+v", snap.AppError, snap.Reload)
	}
	if w := snap.Workers[0]; w.PID != good || !w.Accepting || w.LastDeath == nil || !strings.Contains(w.LastDeath.Reason, "the app did not load") {
		t.Errorf("the old worker should serve on: %+v %+v", w, w.LastDeath)
	}
	if _, body := get(t, "http://"+s2.Addrs()[0]+"/"); pidOf(body) != good {
		t.Errorf("served by %q, want the old worker %d", body, good)
	}
	// Fixed: the next reload replaces it.
	if err := os.WriteFile(filepath.Join(dir2, "app.py"), []byte(strings.Replace(superviseApp, `b"v1"`, `b"v2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s2.Reload(nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the fixed app", func() bool {
		snap := s2.Snapshot()
		return snap.Reload == nil && snap.AppError == "" && snap.Workers[0].PID != good && snap.Workers[0].Accepting
	})
	if _, body := get(t, "http://"+s2.Addrs()[0]+"/"); !strings.HasPrefix(body, "v2 ") {
		t.Errorf("after fixing: %q", body)
	}
}

// Graceful stop: requests in flight get worker-reload-mercy, then the
// workers are killed.
func TestGracefulStopNoMercy(t *testing.T) {
	t.Parallel()
	s, log, base := superviseServer(t, func(c *Config) { c.WorkerReloadMercy = time.Second })
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/sleep?30")
		if err != nil {
			done <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	waitBusy(t, s)
	pid := s.Snapshot().Workers[0].PID
	start := time.Now()
	s.Stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Stop took %v with a mercy of 1 s", took)
	}
	if code := <-done; code == 200 {
		t.Errorf("the 30 s request finished: %d", code)
	}
	waitLog(t, log, " - requests are taking too much time to finish...NO MERCY !!!")
	waitLog(t, log, fmt.Sprintf(" - worker 1 (pid: %d) is taking too much time to die...NO MERCY !!!", pid))
	waitLog(t, log, "goodbye to uWSGI.")
}

// AddWorker and RemoveWorker change the number of running workers.
func TestAddRemoveWorker(t *testing.T) {
	s, log, base := superviseServer(t, func(c *Config) { c.Processes = 2 })
	ev := recordEvents(t, s, EventCheaped, EventSpawned)
	id, err := s.AddWorker()
	if err != nil || id != 3 {
		t.Fatalf("AddWorker: %d %v", id, err)
	}
	waitAccepting(t, s, 3)
	id, err = s.RemoveWorker()
	if err != nil || id != 3 {
		t.Fatalf("RemoveWorker: %d %v", id, err)
	}
	ev.wait(t, EventCheaped, func(e Event) bool { return e.Worker == 3 })
	waitLog(t, log, "uWSGI worker 3 cheaped.")
	if w := s.Snapshot().Workers[2]; w.Status != WorkerCheap || w.PID != 0 {
		t.Errorf("worker 3 after RemoveWorker: %+v", w)
	}
	// The cheap slot comes back first.
	if id, err := s.AddWorker(); err != nil || id != 3 {
		t.Fatalf("AddWorker again: %d %v", id, err)
	}
	waitAccepting(t, s, 3)
	waitLog(t, log, "Respawned uWSGI worker 3 (new pid: ")
	s.RemoveWorker()
	s.RemoveWorker()
	if _, err := s.RemoveWorker(); err == nil {
		t.Error("removed the last worker")
	}
	if err := s.RecycleWorker(9); err == nil {
		t.Error("recycled a worker that does not exist")
	}
	if resp, _ := get(t, base+"/"); resp.StatusCode != 200 {
		t.Errorf("GET with one worker: %d", resp.StatusCode)
	}
	if n := ev.countAtLeast(t, EventSpawned, 2); n != 2 {
		t.Errorf("%d spawned events, want 2", n)
	}
}

// max-worker-lifetime recycles an old worker; evil-reload-on-rss kills a
// fat one from the master.
func TestLifetimeAndEvilReload(t *testing.T) {
	t.Parallel()
	s, log, _ := superviseServer(t, func(c *Config) {
		c.MaxWorkerLifetime = time.Second
		c.CheckInterval = 200 * time.Millisecond
	})
	first := s.Snapshot().Workers[0].PID
	waitLog(t, log, "worker 1 lifetime reached, it was running for 1 second(s)")
	waitLog(t, log, fmt.Sprintf("worker 1 killed successfully (pid: %d)", first))

	s2, log2, base2 := superviseServer(t, func(c *Config) {
		c.EvilReloadOnRSS = 40 << 20
		c.CheckInterval = 200 * time.Millisecond
	})
	ev := recordEvents(t, s2, EventDied)
	fat := s2.Snapshot().Workers[0].PID
	get(t, base2+"/grow?64")
	waitLog(t, log2, "*** EVIL RELOAD ON WORKER 1 RSS: ")
	waitLog(t, log2, fmt.Sprintf("DAMN ! worker 1 (pid: %d) died, killed by signal 9", fat))
	if d := ev.wait(t, EventDied, nil); d.PID != fat {
		t.Errorf("died event: %+v", d)
	}
	waitAccepting(t, s2, 1)
}

// pidfile2 is written like pidfile; import runs before the app loads, and
// a module that fails to import does not stop the worker.
func TestPidfile2AndImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "a.pid"), filepath.Join(dir, "b.pid")
	s, log, base := superviseServer(t, func(c *Config) {
		c.Pidfile, c.Pidfile2, c.Vacuum = p1, p2, true
		c.Imports = []string{"json", "no_such_module_to_import"}
	})
	for _, p := range []string{p1, p2} {
		if b, err := os.ReadFile(p); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	waitLog(t, log, "unable to import no_such_module_to_import")
	if resp, _ := get(t, base+"/"); resp.StatusCode != 200 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	s.Stop()
	waitLog(t, log, "VACUUM: pidfile removed.")
	waitLog(t, log, "VACUUM: pidfile2 removed.")
}
