package appserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// tickScript is a daemon that says who it is, then appends its pid to the
// file named by $1 ten times a second.
const tickScript = `#!/bin/sh
echo "tick start $$ $1"
while :; do echo $$ >> "$1"; sleep 0.1; done
`

// writeTick writes tick.sh into dir.
func writeTick(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "tick.sh")
	if err := os.WriteFile(p, []byte(tickScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitGrows waits until file grows twice (a daemon is writing it).
func waitGrows(t *testing.T, file string) {
	t.Helper()
	size := func() int64 {
		fi, err := os.Stat(file)
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	last, grew := size(), 0
	eventually(t, 20*time.Second, file+" growing", func() bool {
		if n := size(); n > last {
			last, grew = n, grew+1
		}
		return grew >= 2
	})
}

// waitDaemonPID waits until daemon i runs with a pid other than not.
func waitDaemonPID(t *testing.T, s *Server, i, not int) int {
	t.Helper()
	var pid int
	eventually(t, 20*time.Second, fmt.Sprintf("daemon %d running with a pid other than %d", i+1, not), func() bool {
		ds := s.Snapshot().Daemons
		if len(ds) <= i || ds[i].Status != DaemonRunning {
			return false
		}
		pid = ds[i].PID
		return pid > 0 && pid != not
	})
	return pid
}

// assertGone fails if pid or its process group still has a live process.
func assertGone(t *testing.T, what string, pid int) {
	t.Helper()
	if processAlive(pid) || groupAlive(pid) {
		t.Errorf("%s (pid %d) outlived the server", what, pid)
	}
}

// A plain daemon is started, respawned when killed, stopped and started
// anew by a reload (as uWSGI's re-exec does), and gone when Stop returns;
// its output is in the log.
func TestDaemonRespawnReloadStop(t *testing.T) {
	dir := t.TempDir()
	tick, out := writeTick(t, dir), filepath.Join(dir, "a.out")
	command := tick + " " + out
	var ev *eventLog
	s, log, _ := superviseServerSetup(t, func(c *Config) {
		c.Daemons = []Daemon{{Option: "attach-daemon", Command: command}}
	}, func(s *Server) { ev = recordEvents(t, s, EventDaemonSpawned, EventDaemonExited) })

	waitLog(t, log, `[uwsgi-daemons] spawning "`+command+`" (uid: `)
	pid1 := waitDaemonPID(t, s, 0, 0)
	waitGrows(t, out)
	waitLog(t, log, "tick start ")

	syscall.Kill(-pid1, syscall.SIGKILL)
	pid2 := waitDaemonPID(t, s, 0, pid1)
	waitLog(t, log, `[uwsgi-daemons] respawning "`+command+`" (uid: `)
	ev.wait(t, EventDaemonExited, func(e Event) bool { return e.PID == pid1 && e.Signal == int(syscall.SIGKILL) })
	if d := s.Snapshot().Daemons[0]; d.Spawns != 2 || !strings.Contains(d.LastExit, "signal 9") {
		t.Errorf("after a respawn: %+v", d)
	}
	waitGrows(t, out)

	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, fmt.Sprintf("[uwsgi-daemons] stopping daemon (pid: %d): %s", pid2, command))
	pid3 := waitDaemonPID(t, s, 0, pid2)
	// Started afresh, as after uWSGI's re-exec: "spawning", not "respawning".
	waitLogCount(t, log, `[uwsgi-daemons] spawning "`+command+`"`, 2)
	assertGone(t, "the daemon before the reload", pid2)
	ev.wait(t, EventDaemonSpawned, func(e Event) bool { return e.PID == pid3 && e.Reason == "reload" })
	waitGrows(t, out)

	s.Stop()
	if !strings.Contains(log.String(), fmt.Sprintf("[uwsgi-daemons] stopping daemon (pid: %d): %s", pid3, command)) {
		t.Errorf("no stopping line for pid %d", pid3)
	}
	assertGone(t, "the daemon", pid3)
	if d := s.Snapshot().Daemons; len(d) != 1 || d[0].Status != DaemonStopped {
		t.Errorf("after Stop: %+v", d)
	}
}

// A daemon that exits at once is respawned after uWSGI's throttle; a
// control daemon's exit stops the server.
func TestDaemonThrottleAndControl(t *testing.T) {
	s, log, _ := superviseServer(t, func(c *Config) {
		c.Daemons = []Daemon{{Option: "attach-daemon", Command: "exit 3"}}
	})
	waitLog(t, log, `[uwsgi-daemons] throttling "exit 3" for 1 seconds`)
	waitLog(t, log, `[uwsgi-daemons] respawning "exit 3" (uid: `)
	if d := s.Snapshot().Daemons[0]; d.LastExit != "exited with code 3" {
		t.Errorf("LastExit %q", d.LastExit)
	}

	c, clog, _ := superviseServer(t, func(c *Config) {
		c.Daemons = []Daemon{{Option: "attach-control-daemon", Command: "sleep 0.3", Control: true}}
	})
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("the control daemon exited and the server still runs:\n%s", clog.String())
	}
	if !strings.Contains(clog.String(), "graceful shutdown triggered...") {
		t.Errorf("no shutdown line:\n%s", clog.String())
	}
}

// Smart daemons: one that goes to the background and writes its pidfile
// (smart-attach-daemon) and one the master writes the pidfile for
// (smart-attach-daemon2). Each is respawned once the pid in its pidfile is
// gone, kept across a reload, and stopped by Stop.
func TestDaemonSmart(t *testing.T) {
	dir := t.TempDir()
	tick := writeTick(t, dir)
	pid1, pid2 := filepath.Join(dir, "s1.pid"), filepath.Join(dir, "s2.pid")
	cmd1 := fmt.Sprintf("%s %s & echo $! > %s", tick, filepath.Join(dir, "s1.out"), pid1)
	cmd2 := tick + " " + filepath.Join(dir, "s2.out")
	s, log, _ := superviseServer(t, func(c *Config) {
		c.Daemons = []Daemon{
			{Option: "smart-attach-daemon", Command: cmd1, Pidfile: pid1},
			{Option: "smart-attach-daemon2", Command: cmd2, Pidfile: pid2, Daemonize: true},
		}
	})
	waitLog(t, log, "writing pidfile to "+pid2)
	waitLog(t, log, `[uwsgi-daemons] found changed pid for "`+cmd1+`"`)
	waitLog(t, log, "exited with code 0")
	a := waitDaemonPID(t, s, 0, 0)
	b := waitDaemonPID(t, s, 1, 0)
	if got := readPidfile(pid1); got != a {
		t.Errorf("smart daemon's pid %d, its pidfile's %d", a, got)
	}
	if got := readPidfile(pid2); got != b {
		t.Errorf("smart-attach-daemon2's pid %d, the pidfile's %d", b, got)
	}
	waitGrows(t, filepath.Join(dir, "s1.out"))
	waitGrows(t, filepath.Join(dir, "s2.out"))

	syscall.Kill(a, syscall.SIGKILL)
	syscall.Kill(-b, syscall.SIGKILL)
	a2 := waitDaemonPID(t, s, 0, a)
	b2 := waitDaemonPID(t, s, 1, b)
	waitLog(t, log, `[uwsgi-daemons] respawning "`+cmd1+`"`)
	waitLog(t, log, `[uwsgi-daemons] respawning "`+cmd2+`"`)
	eventually(t, 20*time.Second, "the pidfiles naming the new processes", func() bool {
		return readPidfile(pid1) == a2 && readPidfile(pid2) == b2
	})

	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, fmt.Sprintf(`[uwsgi-daemons] found valid/active pidfile for "%s" (pid: %d)`, cmd1, a2))
	waitLog(t, log, fmt.Sprintf(`[uwsgi-daemons] found valid/active pidfile for "%s" (pid: %d)`, cmd2, b2))
	if !processAlive(a2) || !processAlive(b2) {
		t.Errorf("a reload stopped a smart daemon")
	}

	s.Stop()
	assertGone(t, "smart-attach-daemon", a2)
	assertGone(t, "smart-attach-daemon2", b2)
}

// The daemon options as FromINI reads them, and the errors and warnings
// naming the file and line.
func TestDaemonsFromINI(t *testing.T) {
	ini := "[uwsgi]\nhttp-socket = :0\nwsgi-file = app.py\n" +
		"attach-daemon = celery -A proj worker -l info\n" +
		"smart-attach-daemon = /tmp/celery.pid celery -A proj worker --pidfile=/tmp/celery.pid\n" +
		"attach-daemon2 = cmd=python3 beat.py\\, x,freq=10,stopsignal=2,reloadsignal=1,touch=a.py;b.py,stdin=1,uid=1000,bogus=1\n" +
		"smart-attach-daemon2 = run/x.pid,5 python3 x.py\n" +
		"attach-control-daemon = sleep 100\n" +
		"daemons-honour-stdin = true\n"
	parsed, err := uwsgiini.Parse("uwsgi.ini", []byte(ini), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromINI(parsed)
	if err != nil {
		t.Fatal(err)
	}
	want := []Daemon{
		{Option: "attach-daemon", Where: "uwsgi.ini:4", Command: "celery -A proj worker -l info"},
		{Option: "smart-attach-daemon", Where: "uwsgi.ini:5", Command: "celery -A proj worker --pidfile=/tmp/celery.pid", Pidfile: "/tmp/celery.pid"},
		{Option: "attach-daemon2", Where: "uwsgi.ini:6", Command: "python3 beat.py, x", Freq: 10, StopSignal: syscall.SIGINT, ReloadSignal: syscall.SIGHUP, Touch: []string{"a.py", "b.py"}, Stdin: true},
		{Option: "smart-attach-daemon2", Where: "uwsgi.ini:7", Command: "python3 x.py", Pidfile: "run/x.pid", Freq: 5, Daemonize: true},
		{Option: "attach-control-daemon", Where: "uwsgi.ini:8", Command: "sleep 100", Control: true},
	}
	if fmt.Sprintf("%+v", c.Daemons) != fmt.Sprintf("%+v", want) {
		t.Errorf("daemons:\n got %+v\nwant %+v", c.Daemons, want)
	}
	if !c.DaemonsHonourStdin {
		t.Error("daemons-honour-stdin not read")
	}
	var warns []string
	for _, w := range Pending(parsed) {
		warns = append(warns, w.String())
	}
	joined := strings.Join(warns, "\n")
	for _, w := range []string{"uwsgi.ini:6: attach-daemon2 key uid is ignored", "uwsgi.ini:6: attach-daemon2 key bogus is ignored"} {
		if !strings.Contains(joined, w) {
			t.Errorf("no warning %q in:\n%s", w, joined)
		}
	}
	for _, w := range parsed.Warnings {
		if strings.Contains(w.Msg, "daemon") {
			t.Errorf("uwsgiini still calls a daemon option unsupported: %s", w)
		}
	}

	for _, bad := range []struct{ line, want string }{
		{"smart-attach-daemon = /tmp/x.pid", "uwsgi.ini:4: smart-attach-daemon = /tmp/x.pid: want a pidfile, a space, then the command"},
		{"attach-daemon2 = freq=3", "uwsgi.ini:4: attach-daemon2 = freq=3: no command: add cmd=COMMAND"},
		{"attach-daemon2 = cmd=x,stopsignal=TERM", "uwsgi.ini:4: attach-daemon2 = cmd=x,stopsignal=TERM: stopsignal=TERM: want a signal number"},
		{"attach-daemon2 = cmd=x,daemonize=1", "daemonize needs pidfile=PATH"},
	} {
		parsed, err := uwsgiini.Parse("uwsgi.ini", []byte("[uwsgi]\nhttp-socket = :0\nwsgi-file = app.py\n"+bad.line+"\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FromINI(parsed); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.line, err, bad.want)
		}
	}
}

// daemonLineRE picks the log lines about daemons that both servers write.
var daemonLineRE = regexp.MustCompile(`(?m)^(?:\[uwsgi-daemons\] (?:spawning|respawning|stopping daemon|found valid/active pidfile) .*|writing pidfile to s\.pid)$`)

// daemonLines returns the daemon lines of log from offset on, pids
// replaced by P, sorted and without duplicates (uWSGI 2.0.21 writes its
// "stopping daemon" lines twice on a reload).
func daemonLines(log string, from int) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range daemonLineRE.FindAllString(log[from:], -1) {
		l = regexp.MustCompile(`pid: \d+`).ReplaceAllString(l, "pid: P")
		l = regexp.MustCompile(`uid: \d+ gid: \d+`).ReplaceAllString(l, "uid: U gid: G")
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// TestDaemonsLikeUWSGI runs the same ini, three kinds of daemons, on
// uWSGI 2.0.21 and here, and compares the daemon lines of the log at the
// start, after a daemon was killed, on a reload (master-fifo r) and on the
// stop; the one difference is on purpose: the smart daemon is stopped
// too (uWSGI leaves it running).
func TestDaemonsLikeUWSGI(t *testing.T) {
	ini := func(dir, addr string) string {
		return "[uwsgi]\nplugins = python3\nmaster = true\nchdir = " + dir + "\nwsgi-file = app.py\nhttp-socket = " + addr + "\n" +
			"master-fifo = " + filepath.Join(dir, "fifo") + "\nworker-reload-mercy = 10\n" +
			"attach-daemon = ./tick.sh a.out\n" +
			"smart-attach-daemon2 = s.pid ./tick.sh s.out\n" +
			"attach-daemon2 = cmd=./tick.sh d.out,stopsignal=15\n"
	}
	theirsDir := writeApp(t, map[string]string{"app.py": holdApp})
	writeTick(t, theirsDir)
	u := peertest.StartUWSGI(t, ini(theirsDir, peertest.FreeAddr(t)))
	t.Cleanup(func() {
		// uWSGI leaves its smart daemon running.
		if pid := readPidfile(filepath.Join(theirsDir, "s.pid")); pid > 0 {
			syscall.Kill(-pid, syscall.SIGKILL)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	theirs := runDaemonPhases(t, u.LogText, theirsDir, func() {
		m := regexp.MustCompile(`spawned uWSGI master process \(pid: (\d+)\)`).FindStringSubmatch(u.LogText())
		master, _ := strconv.Atoi(m[1])
		mark := len(u.LogText())
		syscall.Kill(master, syscall.SIGINT)
		// uWSGI 2.0.21's worker ignores SIGINT after a fifo reload's
		// re-exec (the master then waits out worker-reload-mercy): once
		// the daemons are stopping, which is what is compared, the
		// worker is killed.
		waitLogCount(t, logFunc(func() string { return u.LogText()[mark:] }), "[uwsgi-daemons] stopping daemon", 2)
		ws := regexp.MustCompile(`spawned uWSGI worker 1 \(pid: (\d+)`).FindAllStringSubmatch(u.LogText(), -1)
		worker, _ := strconv.Atoi(ws[len(ws)-1][1])
		syscall.Kill(worker, syscall.SIGKILL)
		<-u.Exited()
	})

	oursDir := writeApp(t, map[string]string{"app.py": holdApp})
	writeTick(t, oursDir)
	parsed, err := uwsgiini.Parse(filepath.Join(oursDir, "ours.ini"), []byte(ini(oursDir, "127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, log := startServer(t, cfg)
	ours := runDaemonPhases(t, log.String, oursDir, s.Stop)

	cmp := func(phase string, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\nours:\n  %s\nuWSGI:\n  %s", phase, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	// What the phases must hold, so that agreeing means something.
	for _, c := range []struct {
		phase string
		lines []string
		want  string
	}{
		{"start", theirs.start, `[uwsgi-daemons] spawning "./tick.sh d.out" (uid: U gid: G)`},
		{"start", theirs.start, "writing pidfile to s.pid"},
		{"a killed daemon", theirs.kill, `[uwsgi-daemons] respawning "./tick.sh a.out" (uid: U gid: G)`},
		{"reload", theirs.reload, `[uwsgi-daemons] stopping daemon (pid: P): ./tick.sh a.out`},
		{"reload", theirs.reload, `[uwsgi-daemons] found valid/active pidfile for "./tick.sh s.out" (pid: P)`},
		{"stop", theirs.stop, `[uwsgi-daemons] stopping daemon (pid: P): ./tick.sh d.out`},
	} {
		if !slices.Contains(c.lines, c.want) {
			t.Errorf("uWSGI's %s phase lacks %q: %q", c.phase, c.want, c.lines)
		}
	}
	t.Logf("uWSGI's daemon lines: %q", theirs)
	cmp("start", ours.start, theirs.start)
	cmp("a killed daemon", ours.kill, theirs.kill)
	cmp("reload", ours.reload, theirs.reload)
	wantStop := append(append([]string(nil), theirs.stop...), `[uwsgi-daemons] stopping daemon (pid: P): ./tick.sh s.out`)
	sort.Strings(wantStop)
	cmp("stop", ours.stop, wantStop)
}

// logFunc makes a log reader a waitLog argument.
type logFunc func() string

func (f logFunc) String() string { return f() }

// daemonPhases are the daemon lines of each phase of TestDaemonsLikeUWSGI.
type daemonPhases struct{ start, kill, reload, stop []string }

var tickPIDRE = regexp.MustCompile(`tick start (\d+) a\.out`)

// runDaemonPhases drives one server of TestDaemonsLikeUWSGI: it waits for
// the daemons, kills the attach-daemon's script, reloads through the
// master FIFO in dir, then stops the server with stop.
func runDaemonPhases(t *testing.T, log func() string, dir string, stop func()) daemonPhases {
	t.Helper()
	var p daemonPhases
	since := func(mark int) logFunc { return func() string { return log()[mark:] } }
	waitLog(t, logFunc(log), "writing pidfile to s.pid")
	waitLogCount(t, logFunc(log), "[uwsgi-daemons] spawning", 3)
	waitLogCount(t, logFunc(log), "tick start", 3)
	p.start = daemonLines(log(), 0)

	mark := len(log())
	m := tickPIDRE.FindStringSubmatch(log())
	pid, _ := strconv.Atoi(m[1])
	syscall.Kill(pid, syscall.SIGKILL)
	waitLog(t, since(mark), `[uwsgi-daemons] respawning "./tick.sh a.out"`)
	p.kill = daemonLines(log(), mark)

	mark = len(log())
	writeFIFO(t, filepath.Join(dir, "fifo"), "r")
	waitLog(t, since(mark), `found valid/active pidfile for "./tick.sh s.out"`)
	waitLogCount(t, since(mark), "[uwsgi-daemons] spawning", 2)
	p.reload = daemonLines(log(), mark)

	mark = len(log())
	stop()
	p.stop = daemonLines(log(), mark)
	return p
}

// FuzzDaemonOption: any value of any daemon option gives a daemon with a
// command, or an error naming the line; never a panic.
func FuzzDaemonOption(f *testing.F) {
	for _, seed := range []string{"cmd=celery worker,freq=10,stopsignal=15", "/tmp/x.pid,5 celery", "cmd=a\\,b,touch=x;y", "x", ",,=,", "cmd="} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for key := range daemonOptions {
			o := uwsgiini.Option{Key: key, Raw: key, Value: v, File: "uwsgi.ini", Line: 3}
			d, _, err := parseDaemonOption(o)
			if err != nil {
				if !strings.Contains(err.Error(), "uwsgi.ini:3") {
					t.Fatalf("%s = %q: error without its line: %v", key, v, err)
				}
				continue
			}
			if strings.TrimSpace(d.Command) == "" || len(daemonErrors([]Daemon{d})) > 0 {
				t.Fatalf("%s = %q: accepted as %+v", key, v, d)
			}
		}
	})
}

// TestDaemonsInStatsLikeUWSGI: the stats document lists the daemons after
// "cwd", with uWSGI's keys; "respawns" counts them (uWSGI 2.0.21's is
// always 0).
func TestDaemonsInStatsLikeUWSGI(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": "def application(e, s):\n    s('200 OK', [])\n    return [b'ok']\n"})
	ini := func(addr, stats string) string {
		return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nmodule = app\nhttp-socket = %s\nstats = %s\nattach-daemon = sleep 0.2\n", dir, addr, stats)
	}
	// keys lists a raw document's top-level keys in order.
	keys := func(network, addr string) ([]string, map[string]any) {
		t.Helper()
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		raw, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token() // {
		var order []string
		for dec.More() {
			k, _ := dec.Token()
			order = append(order, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("stats document: %v\n%s", err, raw)
		}
		return order, doc
	}

	theirStats := peertest.FreeAddr(t)
	peertest.StartUWSGI(t, ini(peertest.FreeAddr(t), theirStats))
	peertest.WaitAddr(t, theirStats, 20*time.Second, nil)
	theirKeys, _ := keys("tcp", theirStats)

	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0", "127.0.0.1:0")), "")
	cfg := configFromINI(t, parsed, err)
	s, _ := startServer(t, cfg)
	waitReady(t, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ourKeys, doc := keys("tcp", s.StatsAddr())
		if fmt.Sprint(ourKeys) != fmt.Sprint(theirKeys) {
			t.Fatalf("top-level keys: ours %v, uWSGI's %v", ourKeys, theirKeys)
		}
		ds, _ := doc["daemons"].([]any)
		if len(ds) != 1 {
			t.Fatalf("daemons: %v", doc["daemons"])
		}
		d := ds[0].(map[string]any)
		if d["cmd"] != "sleep 0.2" {
			t.Fatalf("daemon: %v", d)
		}
		if num(d["respawns"]) >= 2 {
			break // it exits every 0.2 s (then waits out uWSGI's throttle)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's respawns never counted: %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
