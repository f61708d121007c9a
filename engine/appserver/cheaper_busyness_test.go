package appserver

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// busyRig drives the busyness algorithm with an injected clock: the test
// says how busy each running worker was, the rig keeps the slots' busy
// time and the log.
type busyRig struct {
	t   *testing.T
	b   *busyness
	now time.Time
	ws  []busynessSample
	log []string
}

// newBusyRig starts the algorithm over cfg.Processes slots, the first
// running ones running.
func newBusyRig(t *testing.T, cfg Config, running int) *busyRig {
	t.Helper()
	cfg = cfg.withDefaults()
	r := &busyRig{t: t, now: time.Unix(1_800_000_000, 0), ws: make([]busynessSample, cfg.Processes)}
	for i := range running {
		r.ws[i].active = true
	}
	r.b = newBusyness(&cfg, r.now, r.ws, func(format string, args ...any) { r.log = append(r.log, fmt.Sprintf(format, args...)) })
	return r
}

// pass lets d go by with every running worker busy pct% of its cores'
// time, then runs one cycle with backlog requests waiting.
func (r *busyRig) pass(d time.Duration, pct, backlog int) int {
	r.now = r.now.Add(d)
	cheap := 0
	for i := range r.ws {
		if r.ws[i].active {
			r.ws[i].busy += d * time.Duration(pct*r.b.cores) / 100
		} else {
			cheap++
		}
	}
	n := r.b.cycle(r.now, r.ws, cheap, backlog)
	// Apply it as the master does: spawn in slot order, cheap the first.
	for i := range r.ws {
		switch {
		case n > 0 && !r.ws[i].active:
			r.ws[i].active = true
			n--
		case n < 0 && r.ws[i].active:
			r.ws[i].active = false
			n = 0
		}
	}
	return r.running()
}

func (r *busyRig) running() int {
	n := 0
	for _, w := range r.ws {
		if w.active {
			n++
		}
	}
	return n
}

// logged reports whether a log line so far contains want.
func (r *busyRig) logged(want string) bool {
	for _, l := range r.log {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func (r *busyRig) mustLog(want string) {
	r.t.Helper()
	if !r.logged(want) {
		r.t.Fatalf("no log line has %q:\n%s", want, strings.Join(r.log, "\n"))
	}
}

// busyCfg is a busyness configuration for the decision tests.
func busyCfg(mod func(*Config)) Config {
	c := Config{Processes: 8, Cheaper: 2, CheaperOverload: 1, CheaperStep: 2, CheaperAlgo: CheaperAlgoBusyness,
		CheaperBusyness: CheaperBusyness{Min: 20, Max: 70, Multiplier: 3}}
	if mod != nil {
		mod(&c)
	}
	return c
}

// TestBusynessSettingsLines: the algorithm starts by logging its settings
// in uWSGI 2.0.21's words, with uWSGI's defaults for what is not set.
func TestBusynessSettingsLines(t *testing.T) {
	r := newBusyRig(t, Config{Processes: 128, Cheaper: 8, CheaperOverload: 1, CheaperStep: 16, CheaperBusyness: CheaperBusyness{
		Multiplier: 30, Min: 20, Max: 70, BacklogAlert: 16, BacklogStep: 2}}, 16)
	want := []string{
		"[busyness] settings: min=20%, max=70%, overload=1, multiplier=30, respawn penalty=2",
		"[busyness] backlog alert is set to 16 request(s), step is 2",
		"[busyness] backlog non-zero alert is set to 60 second(s)",
	}
	if strings.Join(r.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("settings:\n%s\nwant:\n%s", strings.Join(r.log, "\n"), strings.Join(want, "\n"))
	}
	r = newBusyRig(t, Config{Processes: 4, Cheaper: 1}, 1)
	r.mustLog("[busyness] settings: min=25%, max=50%, overload=3, multiplier=10, respawn penalty=2")
	r.mustLog("[busyness] backlog alert is set to 33 request(s), step is 1")
}

// TestBusynessSpawnsOverMax: over max, cheaper-step workers come back once
// a whole period has passed, and no more than are cheap.
func TestBusynessSpawnsOverMax(t *testing.T) {
	r := newBusyRig(t, busyCfg(nil), 2)
	if n := r.pass(500*time.Millisecond, 100, 0); n != 2 {
		t.Fatalf("half a period: %d running, want 2 (no decision before the period ends)", n)
	}
	if n := r.pass(500*time.Millisecond, 100, 0); n != 4 {
		t.Fatalf("after a busy period: %d running, want 4", n)
	}
	r.mustLog("[busyness] 1s average busyness is at 100%, will spawn 2 new worker(s)")
	if n := r.pass(time.Second, 71, 0); n != 6 {
		t.Fatalf("71%% > max 70%%: %d running, want 6", n)
	}
	if n := r.pass(time.Second, 70, 0); n != 6 {
		t.Fatalf("70%% is not over max: %d running", n)
	}
	r.pass(time.Second, 100, 0)
	if n := r.pass(time.Second, 100, 0); n != 8 {
		t.Fatalf("%d running, want all 8", n)
	}
	r.mustLog("[busyness] 1s average busyness is at 100% but we already started maximum number of workers available with current limits (8)")
}

// TestBusynessCheapsAfterMultiplier: under min, one worker goes cheap
// once the average stayed there for multiplier periods, then one every
// multiplier periods, down to cheaper; a busy period between min and max
// moves the timer on.
func TestBusynessCheapsAfterMultiplier(t *testing.T) {
	r := newBusyRig(t, busyCfg(func(c *Config) { c.CheaperBusyness.Verbose = true }), 4)
	for i := 1; i <= 2; i++ {
		if n := r.pass(time.Second, 5, 0); n != 4 {
			t.Fatalf("idle period %d of 3: %d running, want 4", i, n)
		}
	}
	r.mustLog("[busyness] need to wait 1 more second(s) to cheap worker")
	if n := r.pass(time.Second, 5, 0); n != 3 {
		t.Fatalf("after 3 idle periods: %d running, want 3", n)
	}
	r.mustLog("[busyness] 1s average busyness is at 5%, cheap one of 4 running workers")
	r.mustLog("[busyness] worker nr 1 1s average busyness is at 5%")
	r.mustLog("[busyness] 1s average busyness of 4 worker(s) is at 5%")
	// A period between min and max: the next cheap waits one more.
	r.pass(time.Second, 50, 0)
	r.mustLog("[busyness] 1s average busyness is at 50%, 1 non-idle cycle(s), adjusting cheaper timer")
	// The timer set by the cheap needs three idle periods, and the busy
	// one did not count.
	for i := 1; i <= 2; i++ {
		if n := r.pass(time.Second, 0, 0); n != 3 {
			t.Fatalf("idle period %d after the busy one: %d running, want 3", i, n)
		}
	}
	if n := r.pass(time.Second, 0, 0); n != 2 {
		t.Fatalf("3 idle periods after the busy one: %d running, want 2", n)
	}
	for range 10 {
		r.pass(time.Second, 0, 0)
	}
	if n := r.running(); n != 2 {
		t.Fatalf("cheaper = 2, but %d run", n)
	}
	// Three periods between min and max restart the timer.
	r2 := newBusyRig(t, busyCfg(func(c *Config) { c.CheaperBusyness.Verbose = true }), 4)
	for range 3 {
		r2.pass(time.Second, 40, 0)
	}
	r2.mustLog("[busyness] 1s average busyness is at 40%, 3 non-idle cycle(s), resetting cheaper timer")
	r2.pass(time.Second, 0, 0)
	r2.pass(time.Second, 0, 0)
	if n := r2.pass(time.Second, 0, 0); n != 3 {
		t.Fatalf("3 idle periods after the reset: %d running, want 3", n)
	}
}

// TestBusynessRespawnPenalty: workers needed again within multiplier
// periods of a cheap raise the multiplier by the penalty, so the next
// cheap waits longer; a later cheap right after another lowers it again.
func TestBusynessRespawnPenalty(t *testing.T) {
	r := newBusyRig(t, busyCfg(func(c *Config) { c.CheaperBusyness.Multiplier = 2 }), 4)
	r.pass(time.Second, 0, 0)
	if n := r.pass(time.Second, 0, 0); n != 3 {
		t.Fatalf("%d running, want 3", n)
	}
	if n := r.pass(time.Second, 100, 0); n != 5 {
		t.Fatalf("%d running, want 5", n)
	}
	r.mustLog("[busyness] worker(s) respawned to fast, increasing cheaper multiplier to 4 (+2)")
	for i := 1; i <= 3; i++ {
		if n := r.pass(time.Second, 0, 0); n != 5 {
			t.Fatalf("idle period %d of 4: %d running, want 5", i, n)
		}
	}
	if n := r.pass(time.Second, 0, 0); n != 4 {
		t.Fatalf("after 4 idle periods: %d running, want 4", n)
	}
	// The next cheap follows a cheap: the multiplier comes down by one.
	for range 4 {
		r.pass(time.Second, 0, 0)
	}
	r.mustLog("[busyness] decreasing cheaper multiplier to 3")
}

// TestBusynessBacklogAlert: more requests waiting than the alert brings
// backlog-step emergency workers at once, between periods too; a queue
// that stays non-empty for backlog-nonzero does as well.
func TestBusynessBacklogAlert(t *testing.T) {
	r := newBusyRig(t, busyCfg(func(c *Config) {
		c.CheaperOverload = 10
		c.CheaperBusyness.BacklogAlert = 16
		c.CheaperBusyness.BacklogStep = 3
		c.CheaperBusyness.BacklogNonzero = 5 * time.Second
		c.CheaperBusyness.Verbose = true
	}), 2)
	if n := r.pass(time.Second, 50, 16); n != 2 {
		t.Fatalf("16 waiting is not over the alert: %d running", n)
	}
	if n := r.pass(time.Second, 50, 17); n != 5 {
		t.Fatalf("17 waiting: %d running, want 5", n)
	}
	r.mustLog("[busyness] 17 requests in listen queue, spawning 3 emergency worker(s) (3)!")
	// With emergency workers running, the cheap timer is the backlog
	// multiplier's (3 periods of 10 s).
	if n := r.pass(time.Second, 50, 20); n != 8 {
		t.Fatalf("20 waiting: %d running, want 8", n)
	}
	r.mustLog("[busyness] 3 emergency worker(s) running, using 30 seconds cheaper timer")
	r.mustLog("[busyness] 20 requests in listen queue, spawning 3 emergency worker(s) (6)!")
	if n := r.pass(time.Second, 50, 40); n != 8 || r.logged("(9)") {
		t.Fatalf("every worker running: %d running\n%s", n, strings.Join(r.log, "\n"))
	}

	r = newBusyRig(t, busyCfg(func(c *Config) {
		c.CheaperOverload = 100
		c.CheaperBusyness.BacklogNonzero = 5 * time.Second
		c.CheaperBusyness.Verbose = true
	}), 2)
	r.pass(time.Second, 50, 1)
	r.mustLog("[busyness] backlog is starting to fill (1)")
	for i := 1; i <= 4; i++ {
		if n := r.pass(time.Second, 50, 2); n != 2 {
			t.Fatalf("%d s of backlog: %d running", i, n)
		}
	}
	if n := r.pass(time.Second, 50, 2); n != 3 {
		t.Fatalf("5 s of backlog: %d running, want 3", n)
	}
	r.mustLog("[busyness] backlog was non-zero for 5 second(s), spawning new worker(s)")
	r.pass(time.Second, 50, 0)
	r.mustLog("[busyness] backlog is now empty")
}

// TestBusynessLoneWorkerAndThreads: one running worker is never cheaped
// (uWSGI's shortcut), and with threads busyness is the share of all the
// worker's cores.
func TestBusynessLoneWorkerAndThreads(t *testing.T) {
	r := newBusyRig(t, busyCfg(func(c *Config) { c.Cheaper = 1 }), 1)
	for range 10 {
		r.pass(time.Second, 0, 0)
	}
	if n := r.running(); n != 1 {
		t.Fatalf("%d running", n)
	}
	// One core of two busy the whole period: 50%, under max 70.
	r = newBusyRig(t, busyCfg(func(c *Config) { c.Threads = 2; c.CheaperBusyness.Verbose = true }), 2)
	r.now = r.now.Add(time.Second)
	r.ws[0].busy += time.Second
	r.ws[1].busy += time.Second
	r.b.cycle(r.now, r.ws, 6, 0)
	r.mustLog("[busyness] 1s average busyness of 2 worker(s) is at 50%")
}

// TestBusynessFromINI: the Bloomberg production block is read, strict
// included, and with no warning; bad values and unknown algorithms are
// errors naming the line; options that do nothing are warned about.
func TestBusynessFromINI(t *testing.T) {
	const bloomberg = `[uwsgi]
strict = true
master = true
http-socket = 127.0.0.1:0
wsgi-file = app.py
cheaper-algo = busyness
processes = 128
cheaper = 8
cheaper-initial = 16
cheaper-overload = 1
cheaper-step = 16
cheaper-busyness-multiplier = 30
cheaper-busyness-min = 20
cheaper-busyness-max = 70
cheaper-busyness-backlog-alert = 16
cheaper-busyness-backlog-step = 2
`
	ini, err := uwsgiini.Parse("uwsgi.ini", []byte(bloomberg), "")
	if err != nil {
		t.Fatalf("strict refused the Bloomberg block: %v", err)
	}
	for _, w := range append(ini.Warnings, Pending(ini)...) {
		t.Errorf("warning: %v", w)
	}
	c := configFromINI(t, ini, nil)
	want := CheaperBusyness{Min: 20, Max: 70, Multiplier: 30, BacklogAlert: 16, BacklogStep: 2}
	if c.CheaperAlgo != CheaperAlgoBusyness || c.CheaperBusyness != want || c.Cheaper != 8 || c.CheaperInitial != 16 || c.CheaperStep != 16 || c.CheaperOverload != 1 {
		t.Errorf("read %q %+v, cheaper %d/%d/%d/%d", c.CheaperAlgo, c.CheaperBusyness, c.Cheaper, c.CheaperInitial, c.CheaperStep, c.CheaperOverload)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	v, _ := uwsgiini.Parse("uwsgi.ini", []byte(bloomberg+"cheaper-busyness-verbose = true\ncheaper-busyness-penalty = 3\ncheaper-busyness-backlog-nonzero = 7\ncheaper-busyness-backlog-multiplier = 4\n"), "")
	c = configFromINI(t, v, nil)
	if b := c.CheaperBusyness; !b.Verbose || b.Penalty != 3 || b.BacklogNonzero != 7*time.Second || b.BacklogMultiplier != 4 {
		t.Errorf("read %+v", b)
	}

	base := "[uwsgi]\nhttp-socket = :0\nwsgi-file = a.py\nprocesses = 4\ncheaper = 1\n"
	for text, wantErr := range map[string]string{
		"cheaper-algo = busynes\n":                               `uwsgi.ini:6: cheaper-algo: unknown cheaper algorithm "busynes": want spare (the default), busyness, backlog or manual`,
		"cheaper-algo = Busyness\n":                              "uwsgi.ini:6: cheaper-algo: unknown cheaper algorithm \"Busyness\": write busyness",
		"cheaper-busyness-min = 80\ncheaper-busyness-max = 70\n": "uwsgi.ini:6: cheaper-busyness-min: the low limit 80% is above the high limit 70%",
		"cheaper-busyness-min = 60\n":                            "uwsgi.ini:6: cheaper-busyness-min: the low limit 60% is above the high limit 50%",
		"cheaper-busyness-max = 150\n":                           "uwsgi.ini:6: cheaper-busyness-max: 150%: a percentage goes up to 100",
		"cheaper-busyness-multiplier = -1\n":                     "uwsgi.ini:6: cheaper-busyness-multiplier: -1: want 0 or more",
		"cheaper-busyness-backlog-nonzero = x\n":                 "uwsgi.ini:6",
	} {
		ini, err := uwsgiini.Parse("uwsgi.ini", []byte(base+text), "")
		if err == nil {
			_, err = FromINI(ini)
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v, want %q", text, err, wantErr)
		}
	}
	for text, wantWarn := range map[string]string{
		"cheaper-algo = backlog2\n":                           "uwsgi.ini:6: cheaper-algo = backlog2 (uWSGI's cheaper_backlog2 plugin) is not supported by this engine: spare runs instead",
		"cheaper-algo = spare2\n":                             "uwsgi.ini:6: cheaper-algo = spare2 is uWSGI 2.1's",
		"cheaper-busyness-min = 10\n":                         "uwsgi.ini:6: cheaper-busyness-min has no effect: it tunes cheaper-algo = busyness, and the algorithm is spare",
		"cheaper-algo = busyness\ncheaper-busyness-min = 0\n": "uwsgi.ini:7: cheaper-busyness-min = 0 means uWSGI's default, 25, not 0",
	} {
		ini, err := uwsgiini.Parse("uwsgi.ini", []byte(base+text), "")
		c := configFromINI(t, ini, err)
		var got []string
		for _, w := range Pending(ini) {
			got = append(got, w.String())
		}
		if !strings.Contains(strings.Join(got, "\n"), wantWarn) {
			t.Errorf("%q: warnings %q, want %q", text, got, wantWarn)
		}
		if c.CheaperAlgo != "" && c.CheaperAlgo != CheaperAlgoSpare && c.CheaperAlgo != CheaperAlgoBusyness {
			t.Errorf("%q: algorithm %q", text, c.CheaperAlgo)
		}
	}
	for _, algo := range []string{"spare", "busyness", "backlog", "manual"} {
		ini, err := uwsgiini.Parse("uwsgi.ini", []byte(base+"cheaper-algo = "+algo+"\n"), "")
		if c := configFromINI(t, ini, err); c.CheaperAlgo != algo {
			t.Errorf("cheaper-algo = %s read as %q", algo, c.CheaperAlgo)
		}
	}
	bad := Config{Sockets: []Socket{{Addr: ":0"}}, WSGIFile: "a.py", Processes: 3, Cheaper: 1, CheaperAlgo: "spare2"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `cheaper-algo "spare2"`) {
		t.Errorf("Validate with an unknown algorithm: %v", err)
	}
}

// cheaperServer starts holdApp with cheaper on 3 processes and the master
// cycle out of the way (the test runs cheaperCycle itself).
func cheaperServer(t *testing.T, algo string, overload int) (*Server, *syncBuffer, string) {
	t.Helper()
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py",
		Processes: 3, Cheaper: 1, CheaperOverload: overload, CheaperAlgo: algo, CheckInterval: time.Hour})
	waitAccepting(t, s, 1)
	return s, log, s.Addrs()[0]
}

func runningWorkers(s *Server) int {
	n := 0
	for _, w := range s.Snapshot().Workers {
		if w.Status != WorkerCheap {
			n++
		}
	}
	return n
}

// TestCheaperManualAndBacklog: manual never changes the workers by
// itself; backlog brings one back while more requests than
// cheaper-overload wait, and cheaps it once none wait.
func TestCheaperManualAndBacklog(t *testing.T) {
	t.Parallel()
	s, _, addr := cheaperServer(t, CheaperAlgoManual, 1)
	release, done := holdRequest(t, addr)
	eventually(t, 10*time.Second, "a busy worker", func() bool { return s.Snapshot().Workers[0].Status == WorkerBusy })
	for range 10 {
		s.cheaperCycle(s.cfg())
	}
	if n := runningWorkers(s); n != 1 {
		t.Errorf("manual: %d workers running after 10 busy cycles", n)
	}
	os.WriteFile(release, nil, 0o644)
	<-done

	s, log, addr := cheaperServer(t, CheaperAlgoBacklog, 1)
	release = filepath.Join(t.TempDir(), "release")
	var held []<-chan int
	for range 3 {
		_, ch := holdRequestOn(t, addr, release)
		held = append(held, ch)
	}
	eventually(t, 10*time.Second, "two requests waiting", func() bool { _, waiting := s.pool.stats(); return waiting == 2 })
	s.cheaperCycle(s.cfg())
	if n := runningWorkers(s); n != 2 {
		t.Fatalf("backlog: %d workers running with 2 requests waiting, want 2", n)
	}
	os.WriteFile(release, nil, 0o644)
	for _, ch := range held {
		if code := <-ch; code != 200 {
			t.Errorf("held request: %d", code)
		}
	}
	waitAccepting(t, s, 2)
	eventually(t, 10*time.Second, "back to one worker", func() bool {
		s.cheaperCycle(s.cfg())
		return runningWorkers(s) == 1
	})
	waitLog(t, log, "cheaped.")
}

// TestBusynessCountsRequestsInProgress: a request longer than the period
// makes its worker 100% busy before it finishes (the master knows when it
// began), so a second worker comes while it runs.
func TestBusynessCountsRequestsInProgress(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": holdApp})
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py",
		Processes: 2, Cheaper: 1, CheaperOverload: 1, CheaperAlgo: CheaperAlgoBusyness,
		CheaperBusyness: CheaperBusyness{Verbose: true}})
	waitAccepting(t, s, 1)
	release, done := holdRequest(t, s.Addrs()[0])
	// The first period may hold only part of the request.
	spawnRE := regexp.MustCompile(`(?m)^\[busyness\] 1s average busyness is at \d+%, will spawn 1 new worker\(s\)$`)
	eventually(t, 15*time.Second, "a spawn", func() bool { return spawnRE.MatchString(log.String()) })
	eventually(t, 10*time.Second, "two workers", func() bool { return runningWorkers(s) == 2 })
	select {
	case <-done:
		t.Fatal("the held request finished before the spawn")
	default:
	}
	os.WriteFile(release, nil, 0o644)
	<-done
}

var busynessSettingsRE = regexp.MustCompile(`(?m)^\[busyness\] (?:settings|backlog).*$`)

// TestBusynessLikeUWSGI runs one ini, strict and with the busyness
// algorithm, on uWSGI 2.0.21 (with its cheaper_busyness plugin) and here:
// both log the same settings, spawn workers under sustained load and
// cheap them once it is gone.
func TestBusynessLikeUWSGI(t *testing.T) {
	t.Parallel()
	dir := writeApp(t, map[string]string{"app.py": superviseApp})
	ini := func(addr string) string {
		return fmt.Sprintf(`[uwsgi]
plugins = python3,cheaper_busyness
strict = true
master = true
chdir = %s
wsgi-file = app.py
http-socket = %s
processes = 4
cheaper = 1
cheaper-initial = 1
cheaper-algo = busyness
cheaper-overload = 1
cheaper-step = 2
cheaper-busyness-multiplier = 2
cheaper-busyness-min = 20
cheaper-busyness-max = 50
cheaper-busyness-backlog-alert = 16
cheaper-busyness-backlog-step = 2
`, dir, addr)
	}
	theirsAddr := peertest.FreeAddr(t)
	u := peertest.StartUWSGI(t, ini(theirsAddr))
	parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0")), "")
	s, ours := startServer(t, configFromINI(t, parsed, err))
	waitAccepting(t, s, 1)
	type server struct {
		name, url string
		log       func() string
	}
	both := []server{{"uWSGI", "http://" + theirsAddr, u.LogText}, {"ours", "http://" + s.Addrs()[0], ours.String}}

	var settings [2]string
	for i, sv := range both {
		eventually(t, 15*time.Second, sv.name+": the busyness settings", func() bool {
			settings[i] = strings.Join(busynessSettingsRE.FindAllString(sv.log(), -1), "\n")
			return strings.Count(settings[i], "\n") == 2
		})
	}
	if settings[0] != settings[1] {
		t.Errorf("settings lines differ:\nuWSGI:\n%s\nours:\n%s", settings[0], settings[1])
	}
	if !strings.Contains(settings[1], "[busyness] settings: min=20%, max=50%, overload=1, multiplier=2, respawn penalty=2") {
		t.Errorf("settings: %s", settings[1])
	}

	var loads []<-chan wrkResult
	for _, sv := range both {
		loads = append(loads, startWrk(t, sv.url+"/sleep?0.1", 4*time.Second, 4))
	}
	for _, sv := range both {
		eventually(t, 15*time.Second, sv.name+": spawns under load", func() bool {
			l := sv.log()
			return strings.Contains(l, "average busyness is at") && strings.Contains(l, "will spawn 2 new worker(s)") &&
				strings.Contains(l, "spawned uWSGI worker 2 (pid: ")
		})
	}
	for i, ch := range loads {
		// uWSGI's http-socket closes each connection after its response
		// (no http-keepalive), which wrk counts as read errors: only ours
		// must have none.
		if r := <-ch; r.Requests <= 0 || r.Non2xx != 0 || i == 1 && r.SocketErrors != 0 {
			t.Errorf("%s: wrk:\n%s", both[i].name, r.Output)
		}
	}
	cheapRE := regexp.MustCompile(`(?m)^\[busyness\] 1s average busyness is at \d+%, cheap one of \d running workers$`)
	for _, sv := range both {
		eventually(t, 20*time.Second, sv.name+": cheaps when idle", func() bool {
			l := sv.log()
			return cheapRE.MatchString(l) && regexp.MustCompile(`uWSGI worker \d cheaped\.`).MatchString(l)
		})
	}
	if n := runningWorkers(s); n >= 4 || n < 1 {
		t.Errorf("ours: %d workers running after a cheap", n)
	}
}
