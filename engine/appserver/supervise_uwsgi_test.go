package appserver

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// holdApp answers /hold only once the file named by QUERY_STRING exists.
const holdApp = `import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/hold":
        while not os.path.exists(environ["QUERY_STRING"]):
            time.sleep(0.02)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`

// holdRequest starts GET /hold on addr, released by the file returned; the
// channel gets the status code (0 for a transport error).
func holdRequest(t *testing.T, addr string) (release string, status <-chan int) {
	t.Helper()
	return holdRequestOn(t, addr, filepath.Join(t.TempDir(), "release"))
}

// holdRequestOn is holdRequest with the release file named.
func holdRequestOn(t *testing.T, addr, release string) (string, <-chan int) {
	t.Helper()
	ch := make(chan int, 1)
	go func() {
		c := &http.Client{Timeout: 60 * time.Second}
		req, _ := http.NewRequest("GET", "http://"+addr+"/hold?"+release, nil)
		req.Header.Set("User-Agent", "wsgideck-test")
		resp, err := c.Do(req)
		if err != nil {
			ch <- 0
			return
		}
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	t.Cleanup(func() { os.WriteFile(release, nil, 0o644) })
	return release, ch
}

// busyCore polls the stats server at addr until a core is in a request,
// and returns that core and its worker's first app.
func busyCore(t *testing.T, addr string) (core, app map[string]any) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, w := range statsWorkers(readStats(t, "tcp", addr)) {
			for _, c := range w["cores"].([]any) {
				if num(c.(map[string]any)["in_request"]) == 1 {
					return c.(map[string]any), w["apps"].([]any)[0].(map[string]any)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no core of %s ever showed a request in progress", addr)
	return nil, nil
}

// TestStatsRequestLikeUWSGI runs one ini on uWSGI 2.0.21 and here, holds a
// request, and compares what the stats show of it: a core's "vars" are the
// request's variables as uWSGI parsed them (not what the server adds to
// the environ, such as wsgi.url_scheme), and an app's "chdir" is "" for a
// configured app whatever chdir says.
func TestStatsRequestLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	ini := func(http, stats string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nstats = %s\n", dir, http, stats)
	}
	type view struct {
		vars  []string
		chdir any
	}
	look := func(httpAddr, statsAddr string) view {
		// Both get the same query string.
		release, status := holdRequestOn(t, httpAddr, filepath.Join(dir, "release"))
		defer os.Remove(release)
		core, app := busyCore(t, statsAddr)
		var vars []string
		for _, v := range core["vars"].([]any) {
			s := v.(string)
			// REMOTE_PORT: this engine's http-socket environ has it, on
			// purpose (doc.go); SERVER_NAME is the host's name on both.
			if !strings.HasPrefix(s, "REMOTE_PORT=") {
				vars = append(vars, s)
			}
		}
		os.WriteFile(release, nil, 0o644)
		if got := <-status; got != 200 {
			t.Errorf("/hold: status %d", got)
		}
		return view{vars, app["chdir"]}
	}

	theirsHTTP, theirsStats := peertest.FreeAddr(t), peertest.FreeAddr(t)
	peertest.StartUWSGI(t, ini(theirsHTTP, theirsStats))
	peertest.WaitAddr(t, theirsStats, peertest.StartTimeout, nil)
	want := look(theirsHTTP, theirsStats)

	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", "127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, _ := startServer(t, cfg)
	waitReady(t, s)
	got := look(s.Addrs()[0], s.StatsAddr())
	// The Host header names each server's own port.
	fix := func(vars []string, addr string) []string {
		out := make([]string, len(vars))
		for i, v := range vars {
			_, port, _ := strings.Cut(addr, ":")
			out[i] = strings.ReplaceAll(strings.ReplaceAll(v, addr, "ADDR"), "="+port, "=PORT")
		}
		return out
	}
	// Sorted: uWSGI puts PATH_INFO before REQUEST_URI when there is a
	// query string; the order is the request path's (environ), not the
	// stats server's.
	g, w := fix(got.vars, s.Addrs()[0]), fix(want.vars, theirsHTTP)
	sort.Strings(g)
	sort.Strings(w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("vars of a request in progress:\nours  %q\nuWSGI %q", g, w)
	}
	if got.chdir != want.chdir {
		t.Errorf("app chdir: ours %#v, uWSGI %#v", got.chdir, want.chdir)
	}
}

// TestKillDuringGracefulStop: Kill while a graceful Stop waits for a
// request makes the stop brutal (a second Ctrl-C): the request is cut and
// the server is down at once, not after worker-reload-mercy.
func TestKillDuringGracefulStop(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", WorkerReloadMercy: time.Minute})
	waitReady(t, s)
	_, status := holdRequest(t, s.Addrs()[0])
	eventually(t, 20*time.Second, "a busy core", func() bool {
		for _, w := range s.Snapshot().Workers {
			for _, c := range w.Cores {
				if c.InRequest {
					return true
				}
			}
		}
		return false
	})
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	waitLog(t, log, "graceful shutdown triggered...")
	select {
	case <-stopped:
		t.Fatal("a graceful stop did not wait for the request in progress")
	default:
	}
	killed := make(chan struct{})
	go func() { s.Kill(); close(killed) }()
	for _, ch := range []chan struct{}{killed, stopped} {
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatal("Kill did not end the graceful stop under way")
		}
	}
	if got := <-status; got == 200 {
		t.Errorf("the held request was answered; Kill should cut it")
	}
	waitLog(t, log, "SIGINT/SIGTERM received...killing workers...")
	waitLog(t, log, "goodbye to uWSGI.")
}

// TestChainReloadLinesLikeUWSGI: master-fifo c on uWSGI 2.0.21 and here
// logs, for each worker, its replacement in the same words: the victim is
// "Gracefully killing"...  then "killed successfully" (not "buried", which
// is for a whole reload), and its replacement "Respawned". (The order
// differs on purpose: here the replacement starts before its victim stops.)
func TestChainReloadLinesLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	ini := func(http, fifo string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nprocesses = 2\nmaster-fifo = %s\n", dir, http, fifo)
	}
	lines := func(pids map[int]int) []*regexp.Regexp {
		var out []*regexp.Regexp
		for id := 1; id <= 2; id++ {
			out = append(out,
				regexp.MustCompile(fmt.Sprintf(`(?m)^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - chain next victim is worker %d$`, id)),
				regexp.MustCompile(fmt.Sprintf(`(?m)^Gracefully killing worker %d \(pid: %d\)\.\.\.$`, id, pids[id])),
				regexp.MustCompile(fmt.Sprintf(`(?m)^worker %d killed successfully \(pid: %d\)$`, id, pids[id])),
				regexp.MustCompile(fmt.Sprintf(`(?m)^Respawned uWSGI worker %d \(new pid: \d+\)$`, id)))
		}
		return append(out, regexp.MustCompile(`(?m) - chain reloading complete$`))
	}
	spawned := regexp.MustCompile(`spawned uWSGI worker (\d) \(pid: (\d+), cores: 1\)`)
	pidsOf := func(log string) map[int]int {
		out := map[int]int{}
		for _, m := range spawned.FindAllStringSubmatch(log, -1) {
			id, _ := strconv.Atoi(m[1])
			pid, _ := strconv.Atoi(m[2])
			out[id] = pid
		}
		return out
	}
	check := func(who string, log func() string) {
		t.Helper()
		pids := pidsOf(log())
		for _, re := range lines(pids) {
			eventually(t, 30*time.Second, who+": "+re.String(), func() bool { return re.MatchString(log()) })
		}
	}

	theirsFIFO := filepath.Join(dir, "theirs.fifo")
	theirsHTTP, theirsStats := peertest.FreeAddr(t), peertest.FreeAddr(t)
	u := peertest.StartUWSGI(t, ini(theirsHTTP, theirsFIFO)+"stats = "+theirsStats+"\n")
	peertest.WaitAddr(t, theirsStats, peertest.StartTimeout, u.Exited())
	// uWSGI's chain reload skips workers not yet accepting.
	eventually(t, 20*time.Second, "uWSGI's workers accepting", func() bool {
		n := 0
		for _, w := range statsWorkers(readStats(t, "tcp", theirsStats)) {
			n += int(num(w["accepting"]))
		}
		return n == 2 && len(pidsOf(u.LogText())) == 2
	})
	writeFIFO(t, theirsFIFO, "c")
	check("uWSGI", u.LogText)

	oursFIFO := filepath.Join(dir, "ours.fifo")
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", oursFIFO)), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	waitReady(t, s)
	writeFIFO(t, oursFIFO, "c")
	check("ours", log.String)
}

// TestFIFORewritesPidfilesLikeUWSGI: "writing pidfile to PATH" at start,
// and master-fifo P writes the pidfiles again (a pidfile someone removed
// comes back), on uWSGI 2.0.21 and here.
func TestFIFORewritesPidfilesLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	try := func(who string, start func(ini string) (log func() string, pid int), name string) {
		t.Helper()
		fifo, pidfile, pidfile2 := filepath.Join(dir, name+".fifo"), filepath.Join(dir, name+".pid"), filepath.Join(dir, name+".pid2")
		log, pid := start(fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %%s\n"+
			"master-fifo = %s\npidfile = %s\npidfile2 = %s\n", dir, fifo, pidfile, pidfile2))
		for _, p := range []string{pidfile, pidfile2} {
			eventually(t, 20*time.Second, who+": writing pidfile to "+p, func() bool {
				return strings.Contains(log(), "writing pidfile to "+p+"\n")
			})
		}
		for _, p := range []string{pidfile, pidfile2} {
			if err := os.Remove(p); err != nil {
				t.Fatalf("%s: %v", who, err)
			}
		}
		writeFIFO(t, fifo, "P")
		for _, p := range []string{pidfile, pidfile2} {
			eventually(t, 20*time.Second, who+": "+p+" written again", func() bool {
				b, err := os.ReadFile(p)
				return err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid)
			})
		}
		if n := strings.Count(log(), "writing pidfile to "+pidfile2+"\n"); n != 2 {
			t.Errorf("%s: %d lines \"writing pidfile to %s\", want 2:\n%s", who, n, pidfile2, log())
		}
	}
	try("uWSGI", func(ini string) (func() string, int) {
		addr := peertest.FreeAddr(t)
		u := peertest.StartUWSGI(t, fmt.Sprintf(ini, addr))
		master := regexp.MustCompile(`spawned uWSGI master process \(pid: (\d+)\)`)
		var m []string
		eventually(t, 20*time.Second, "uWSGI's master pid", func() bool { m = master.FindStringSubmatch(u.LogText()); return m != nil })
		pid, _ := strconv.Atoi(m[1])
		return u.LogText, pid
	}, "theirs")
	try("ours", func(ini string) (func() string, int) {
		parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(fmt.Sprintf(ini, "127.0.0.1:0")), "")
		cfg := configFromINI(t, parsed, err)
		_, log := startServer(t, cfg)
		return log.String, os.Getpid()
	}, "ours")
}

// TestPauseLikeUWSGI: master-fifo p pauses the workers and p again resumes
// them, on uWSGI 2.0.21 and here: the same log lines, the stats show
// "pause", a request waits until the resume and is then answered.
func TestPauseLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	ini := func(http, stats, fifo string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nprocesses = 2\nstats = %s\nmaster-fifo = %s\n", dir, http, stats, fifo)
	}
	statuses := func(addr string) string {
		var out []string
		for _, w := range statsWorkers(readStats(t, "tcp", addr)) {
			out = append(out, w["status"].(string))
		}
		return strings.Join(out, ",")
	}
	stamp := `\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - `
	try := func(who, httpAddr, statsAddr, fifo string, log func() string) {
		t.Helper()
		eventually(t, 20*time.Second, who+": idle workers", func() bool { return statuses(statsAddr) == "idle,idle" })
		writeFIFO(t, fifo, "p")
		eventually(t, 20*time.Second, who+": paused workers", func() bool { return statuses(statsAddr) == "pause,pause" })
		for _, re := range []string{`\*\*\* PAUSE \(press start to resume, if you do not have a joypad send SIGTSTP\) \*\*\*`, `\*\*\* worker 1 suspended \*\*\*`, `\*\*\* worker 2 suspended \*\*\*`} {
			re := regexp.MustCompile(`(?m)^` + stamp + re + `$`)
			eventually(t, 20*time.Second, who+": "+re.String(), func() bool { return re.MatchString(log()) })
		}
		status := make(chan error, 1)
		go func() {
			resp, err := http.Get("http://" + httpAddr + "/")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			status <- err
		}()
		select {
		case err := <-status:
			t.Fatalf("%s: a paused server answered (%v)", who, err)
		case <-time.After(300 * time.Millisecond):
		}
		writeFIFO(t, fifo, "p")
		if err := <-status; err != nil {
			t.Errorf("%s: after the resume: %v", who, err)
		}
		for _, re := range []string{`\*\*\* \(SIGTSTP received\) resuming workers \*\*\*`, `\*\*\* worker 1 resumed \*\*\*`, `\*\*\* worker 2 resumed \*\*\*`} {
			re := regexp.MustCompile(`(?m)^` + stamp + re + `$`)
			eventually(t, 20*time.Second, who+": "+re.String(), func() bool { return re.MatchString(log()) })
		}
		if got := statuses(statsAddr); strings.Contains(got, "pause") {
			t.Errorf("%s: after the resume: %s", who, got)
		}
	}

	theirsHTTP, theirsStats, theirsFIFO := peertest.FreeAddr(t), peertest.FreeAddr(t), filepath.Join(dir, "theirs.fifo")
	u := peertest.StartUWSGI(t, ini(theirsHTTP, theirsStats, theirsFIFO))
	peertest.WaitAddr(t, theirsStats, peertest.StartTimeout, u.Exited())
	try("uWSGI", theirsHTTP, theirsStats, theirsFIFO, u.LogText)

	oursFIFO := filepath.Join(dir, "ours.fifo")
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", "127.0.0.1:0", oursFIFO)), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	waitReady(t, s)
	try("ours", s.Addrs()[0], s.StatsAddr(), oursFIFO, log.String)
}

// TestStopWhilePaused: a stop resumes paused workers so they can finish
// and exit; it does not wait for worker-reload-mercy.
func TestStopWhilePaused(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", Processes: 2, WorkerReloadMercy: time.Minute})
	waitReady(t, s)
	s.Pause()
	if !s.Snapshot().Paused {
		t.Fatal("Snapshot.Paused is false after Pause")
	}
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("Stop waited for paused workers")
	}
	waitLog(t, log, "worker 2 buried after 0 seconds")
}

// TestWorkersReloadLinesLikeUWSGI: master-fifo w reloads the workers only
// and uWSGI 2.0.21 logs it as respawns: "Gracefully killing worker N",
// "worker N killed successfully", "Respawned uWSGI worker N", and no
// "...gracefully killing workers..." (that is a whole reload's line).
func TestWorkersReloadLinesLikeUWSGI(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	ini := func(http, stats, fifo string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nwsgi-file = app.py\nhttp-socket = %s\nprocesses = 2\nstats = %s\nmaster-fifo = %s\n", dir, http, stats, fifo)
	}
	pidsOf := func(addr string) map[int]int {
		out := map[int]int{}
		for _, w := range statsWorkers(readStats(t, "tcp", addr)) {
			if num(w["accepting"]) == 1 {
				out[int(num(w["id"]))] = int(num(w["pid"]))
			}
		}
		return out
	}
	try := func(who, statsAddr, fifo string, log func() string) {
		t.Helper()
		var pids map[int]int
		eventually(t, 20*time.Second, who+": 2 workers accepting", func() bool { pids = pidsOf(statsAddr); return len(pids) == 2 })
		writeFIFO(t, fifo, "w")
		for id := 1; id <= 2; id++ {
			for _, line := range []string{
				fmt.Sprintf("\nGracefully killing worker %d (pid: %d)...\n", id, pids[id]),
				fmt.Sprintf("\nworker %d killed successfully (pid: %d)\n", id, pids[id]),
				fmt.Sprintf("\nRespawned uWSGI worker %d (new pid: ", id),
			} {
				eventually(t, 20*time.Second, who+": "+strings.TrimSpace(line), func() bool { return strings.Contains(log(), line) })
			}
		}
		if strings.Contains(log(), "...gracefully killing workers...") {
			t.Errorf("%s: a workers-only reload logged a whole reload's line:\n%s", who, log())
		}
	}

	theirsHTTP, theirsStats, theirsFIFO := peertest.FreeAddr(t), peertest.FreeAddr(t), filepath.Join(dir, "theirs.fifo")
	u := peertest.StartUWSGI(t, ini(theirsHTTP, theirsStats, theirsFIFO))
	peertest.WaitAddr(t, theirsStats, peertest.StartTimeout, u.Exited())
	try("uWSGI", theirsStats, theirsFIFO, u.LogText)

	oursFIFO := filepath.Join(dir, "ours.fifo")
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", "127.0.0.1:0", oursFIFO)), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	waitReady(t, s)
	try("ours", s.StatsAddr(), oursFIFO, log.String)
}

// TestHarakiriVerboseLikeUWSGI: harakiri-verbose adds uWSGI's two lines
// to the harakiri report, the worker's system call and wait channel; for
// an app in time.sleep both servers name the same ones.
func TestHarakiriVerboseLikeUWSGI(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": "import time\ndef application(env, sr):\n    time.sleep(10)\n    sr('200 OK', [])\n    return [b'late']\n"})
	ini := func(addr string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nmodule = app\nhttp-socket = %s\nharakiri = 1\nharakiri-verbose = true\n", dir, addr)
	}
	lines := regexp.MustCompile(`(?m)^HARAKIRI: -- syscall> (\d+) .*\nHARAKIRI: -- wchan> (\S+)$`)
	slow := func(addr string) {
		c := &http.Client{Timeout: 8 * time.Second}
		if resp, err := c.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
		}
	}

	theirAddr := peertest.FreeAddr(t)
	u := peertest.StartUWSGI(t, ini(theirAddr))
	slow(theirAddr)
	waitFileHas(t, u.Log, "HARAKIRI !!! end of worker 1 status !!!")
	theirs := lines.FindStringSubmatch(u.LogText())
	if theirs == nil {
		t.Fatalf("uWSGI's report has no syscall and wchan lines:\n%s", u.LogText())
	}

	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	waitReady(t, s)
	slow(s.Addrs()[0])
	waitLog(t, log, "HARAKIRI !!! end of worker 1 status !!!")
	ours := lines.FindStringSubmatch(log.String())
	if ours == nil {
		t.Fatalf("our report has no syscall and wchan lines:\n%s", log.String())
	}
	if ours[1] != theirs[1] || ours[2] != theirs[2] {
		t.Errorf("our worker was in syscall %s at %s; uWSGI's in %s at %s", ours[1], ours[2], theirs[1], theirs[2])
	}
}
