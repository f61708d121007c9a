// Command bench is wsgideck's benchmark harness: it measures wsgideckd's
// engine and proxy with wrk against the real peers (uWSGI, its http router,
// gunicorn, nginx), all in one run on loopback, and prints requests/s, p99
// latency, server CPU per request, the ratios the issues set targets for,
// and the memory of every process.
//
//	go run ./.ci/bench                       # everything, about 4-5 minutes
//	go run ./.ci/bench -only engine          # issue 2's table only
//	go run ./.ci/bench -only proxy -d 10s -rounds 5
//	go run ./.ci/bench -md .ci/bench/RESULTS.md
//	go run ./.ci/bench -only engine -profile /tmp/prof   # + perf and cProfile of ours
//
// It is not a test and never runs in the test suite (directories starting
// with '.' are outside ./...): the 2-core machine is shared and noisy, so
// figures are only meaningful side by side, measured in the same run. To
// tame the noise every target is started once and kept running, and the
// wrk runs are interleaved: each round runs every target once, in an order
// rotated from round to round, and the tables report medians over rounds.
// Ratios are ratios of those medians; the per-round ratios (ours and the
// peer measured seconds apart) are shown next to them as their spread.
//
// Server CPU per request (the CPU time the target's whole process tree used
// during the run, divided by the requests wrk completed) is less sensitive
// to what the rest of the machine does than requests/s, and says where the
// time goes: for wsgideckd it is split into the Go master and the Python
// workers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	only        string
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	wrk         wrkOptions
	python      string
	uwsgi       string
	nginx       string
	gunicorn    []string
	uwsgiParams string
	wsgideckd   string
	md          string
	keep        bool
	profile     string
	samplerTime time.Duration
	samplerN    int
	hooksOff    string
	oursEnv     []string
}

func main() {
	var o options
	var gunicorn, oursEnv string
	flag.StringVar(&o.only, "only", "engine,proxy,supervision", "groups to run, comma-separated: engine (issue 2), proxy (issue 4), supervision (issue 3)")
	flag.DurationVar(&o.duration, "d", 3*time.Second, "duration of each measured wrk run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "wrk warm-up per target before the first round (0: none)")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved rounds; the tables report medians over rounds")
	flag.IntVar(&o.wrk.Threads, "t", 1, "wrk threads")
	flag.IntVar(&o.wrk.Connections, "c", 16, "wrk connections")
	flag.StringVar(&o.wrk.Path, "wrk", "/usr/bin/wrk", "wrk binary")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "interpreter for wsgideckd's workers (Debian's, the one uWSGI's python3 plugin and gunicorn use)")
	flag.StringVar(&o.uwsgi, "uwsgi", "/usr/bin/uwsgi", "real uWSGI binary")
	flag.StringVar(&o.nginx, "nginx", "/usr/sbin/nginx", "real nginx binary")
	flag.StringVar(&gunicorn, "gunicorn", "", "gunicorn command (default /usr/bin/gunicorn, else /usr/bin/python3 -m gunicorn)")
	flag.StringVar(&o.uwsgiParams, "uwsgi-params", "/etc/nginx/uwsgi_params", "Debian's uwsgi_params, included by both proxies")
	flag.StringVar(&o.wsgideckd, "wsgideckd", "", "use this wsgideckd binary instead of building one (CGO_ENABLED=0) from the work tree")
	flag.StringVar(&o.md, "md", "", "also write the full report as Markdown to this file (e.g. .ci/bench/RESULTS.md)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, logs, profiles)")
	flag.StringVar(&o.profile, "profile", "", "after the rounds, profile wsgideckd uwsgi under load into this directory: perf of the master and workers, cProfile of a worker")
	flag.DurationVar(&o.samplerTime, "sampler-time", 10*time.Second, "supervision: how long to run the metrics sampler (and as long idle, for the baseline)")
	flag.IntVar(&o.samplerN, "sampler-workers", 16, "supervision: workers the sampler watches")
	flag.StringVar(&o.hooksOff, "hooks-off", "--no-accounting", "supervision: the wsgideckd uwsgi option that disables the accounting and event hooks, to compare with them on (empty skips the comparison)")
	flag.StringVar(&oursEnv, "ours-env", "", "extra environment for every wsgideckd started, e.g. 'GOMAXPROCS=1 GOGC=400', to try runtime settings against the same peers")
	flag.Parse()
	o.oursEnv = strings.Fields(oursEnv)
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q (flags only; see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	if gunicorn != "" {
		o.gunicorn = strings.Fields(gunicorn)
	} else if _, err := os.Stat("/usr/bin/gunicorn"); err == nil {
		o.gunicorn = []string{"/usr/bin/gunicorn"}
	} else {
		o.gunicorn = []string{"/usr/bin/python3", "-m", "gunicorn"}
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func (o options) groups() (map[string]bool, error) {
	g := map[string]bool{}
	for _, name := range strings.Split(o.only, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "engine", "proxy", "supervision":
			g[name] = true
		case "":
		default:
			return nil, fmt.Errorf("-only %q: unknown group %q (want engine, proxy, supervision)", o.only, name)
		}
	}
	if len(g) == 0 {
		return nil, fmt.Errorf("-only %q: no group", o.only)
	}
	return g, nil
}

func run(o options) error {
	groups, err := o.groups()
	if err != nil {
		return err
	}
	if o.rounds < 1 {
		return fmt.Errorf("-rounds %d: want at least 1", o.rounds)
	}
	if o.duration < time.Second {
		return fmt.Errorf("-d %v: wrk needs whole seconds, at least 1s", o.duration)
	}
	for _, bin := range []string{o.wrk.Path, o.python, o.uwsgi, o.nginx, o.gunicorn[0]} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s: %w (bash .ci/deps installs the peers)", bin, err)
		}
	}

	work, err := os.MkdirTemp("", "wsgideck-bench-")
	if err != nil {
		return err
	}
	s := &setup{opt: o, work: work, services: map[string]*service{}}
	if o.keep {
		fmt.Printf("work directory (kept): %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := s.writeFiles(); err != nil {
		return err
	}

	// Stop every server on ^C, too.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var stopMu sync.Mutex
	stopAll := func() {
		stopMu.Lock()
		defer stopMu.Unlock()
		for i := len(s.started) - 1; i >= 0; i-- {
			if err := s.started[i].stop(20 * time.Second); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			}
		}
		s.started = s.started[:0]
	}
	defer stopAll()
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping the servers\n", sig)
		stopAll()
		if !o.keep {
			os.RemoveAll(work)
		}
		os.Exit(130)
	}()

	rep := &report{opt: o, started: time.Now(), loadStart: loadAvg()}
	if s.wsgideckd, err = buildWsgideckd(o, work); err != nil {
		return err
	}
	rep.versions = versions(o, s.wsgideckd)

	if groups["engine"] {
		if err := s.engineTargets(); err != nil {
			return err
		}
	}
	if groups["proxy"] {
		if err := s.proxyTargets(); err != nil {
			return err
		}
	}
	if groups["supervision"] {
		if err := s.supervisionTargets(); err != nil {
			return err
		}
	}
	ctx := context.Background()
	if len(s.targets) > 0 {
		if err := s.startAll(); err != nil {
			return err
		}
		per := o.duration + 300*time.Millisecond
		total := time.Duration(len(s.targets)) * (o.warmup + time.Duration(o.rounds)*per)
		fmt.Printf("%d targets x %d rounds x %v (+ %v warm-up each): about %v of load\n",
			len(s.targets), o.rounds, o.duration, o.warmup, total.Round(time.Second))
		if err := s.measure(ctx, rep); err != nil {
			return err
		}
		rep.memory = s.memory()
		if o.profile != "" {
			if err := s.profileOurs(ctx, o.profile); err != nil {
				fmt.Fprintf(os.Stderr, "bench: profile: %v\n", err)
			}
		}
		stopAll()
	}
	if groups["supervision"] {
		sup, err := s.supervision(ctx)
		if err != nil {
			return fmt.Errorf("supervision: %w", err)
		}
		rep.supervision = sup
	}
	rep.finished = time.Now()
	rep.loadEnd = loadAvg()
	rep.targets, rep.compares, rep.todos = s.targets, s.compares, s.todos

	text := rep.text()
	fmt.Print("\n" + text)
	if o.md != "" {
		md := rep.markdown()
		// Hand-written analysis after the marker survives a rerun.
		if old, err := os.ReadFile(o.md); err == nil {
			if i := strings.Index(string(old), notesMarker); i >= 0 {
				md += "\n" + string(old[i:])
			}
		}
		if err := os.WriteFile(o.md, []byte(md), 0o644); err != nil {
			return err
		}
		fmt.Printf("\nwrote %s\n", o.md)
	}
	return nil
}

// buildWsgideckd builds cmd/wsgideckd the way it ships (CGO_ENABLED=0),
// unless -wsgideckd names a binary.
func buildWsgideckd(o options, work string) (string, error) {
	if o.wsgideckd != "" {
		return filepath.Abs(o.wsgideckd)
	}
	modOut, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(modOut)))
	bin := filepath.Join(work, "wsgideckd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/wsgideckd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	fmt.Printf("building wsgideckd (CGO_ENABLED=0) in %s\n", root)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/wsgideckd: %w\n%s", err, out)
	}
	return bin, nil
}

// startAll starts the services the targets use, backends first (nginx
// starts last), then checks that every target answers what it should.
func (s *setup) startAll() error {
	var names []string
	for name := range s.services {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := isProxy(names[i]), isProxy(names[j])
		if pi != pj {
			return !pi
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		sv := s.services[name]
		if err := sv.start(s.work); err != nil {
			return err
		}
		s.started = append(s.started, sv)
	}
	for _, name := range names {
		if err := s.services[name].waitListening(30 * time.Second); err != nil {
			return err
		}
	}
	for _, t := range s.targets {
		if err := checkBody(t.url, t.wantBody, 30*time.Second, t.services...); err != nil {
			return fmt.Errorf("%s is not serving: %w", t.key, err)
		}
		ka, err := keepsAlive(t.url, t.wrkExtra)
		if err != nil {
			return fmt.Errorf("%s: %w", t.key, err)
		}
		t.keepAlive = ka
	}
	return nil
}

func isProxy(name string) bool { return name == "nginx" || name == "ours-proxy" }

// measurement is one wrk run against one target.
type measurement struct {
	round int
	wrkRun
	wall       time.Duration
	cpu        []treeCPUTime // per service of the target, in its order
	machineCPU time.Duration // every process on the machine, from /proc/stat
}

// treeCPUTime is the CPU time one service's processes used during a run.
type treeCPUTime struct {
	master   time.Duration // the first process: the master
	children time.Duration // its workers, routers...
}

func (m measurement) serverCPU() time.Duration {
	var d time.Duration
	for _, c := range m.cpu {
		d += c.master + c.children
	}
	return d
}

// perRequest is d spread over the run's requests.
func (m measurement) perRequest(d time.Duration) time.Duration {
	if m.Requests == 0 {
		return 0
	}
	return d / time.Duration(m.Requests)
}

// othersCPU is what processes outside the benchmark (other users of the
// machine) used during the run.
func (m measurement) othersCPU() time.Duration {
	o := m.machineCPU - m.serverCPU() - m.ClientCPU
	if o < 0 {
		return 0
	}
	return o
}

func (s *setup) measure(ctx context.Context, rep *report) error {
	if s.opt.warmup >= time.Second {
		fmt.Printf("warm-up: %v per target\n", s.opt.warmup)
		for _, t := range s.targets {
			if _, err := s.opt.wrk.run(ctx, t.url, s.opt.warmup, t.wrkExtra); err != nil {
				return fmt.Errorf("%s warm-up: %w", t.key, err)
			}
		}
	}
	n := len(s.targets)
	for r := 0; r < s.opt.rounds; r++ {
		fmt.Printf("round %d/%d (load average %s)\n", r+1, s.opt.rounds, loadAvg())
		for i := 0; i < n; i++ {
			t := s.targets[(i+r)%n]
			m, err := s.measureOnce(ctx, t, r)
			if err != nil {
				return err
			}
			t.runs = append(t.runs, m)
			fmt.Printf("  %-18s %9.0f req/s  p99 %-9v server CPU %6.1f us/req  others %3.0f%% of the machine%s\n",
				t.key, m.RPS, m.P99.Round(time.Microsecond), us(m.perRequest(m.serverCPU())),
				100*m.othersCPU().Seconds()/(m.wall.Seconds()*float64(numCPU())), errorNote(m.wrkResult))
		}
	}
	return nil
}

func (s *setup) measureOnce(ctx context.Context, t *target, round int) (measurement, error) {
	cpu := func() [][2]uint64 {
		procs := allProcs()
		out := make([][2]uint64, len(t.services))
		for i, sv := range t.services {
			out[i][0], out[i][1] = treeCPU(sv.pid(), procs)
		}
		return out
	}
	before := cpu()
	mach0 := readCPUTotals()
	start := time.Now()
	run, err := s.opt.wrk.run(ctx, t.url, s.opt.duration, t.wrkExtra)
	wall := time.Since(start)
	mach1 := readCPUTotals()
	after := cpu()
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w", t.key, err)
	}
	for _, sv := range t.services {
		select {
		case <-sv.exited:
			return measurement{}, fmt.Errorf("%s: %s exited during the run (%v)\n%s", t.key, sv.name, sv.waitErr, sv.logTail())
		default:
		}
	}
	m := measurement{round: round, wrkRun: run, wall: wall, machineCPU: ticks(mach1.busy - mach0.busy)}
	for i := range t.services {
		m.cpu = append(m.cpu, treeCPUTime{master: ticks(after[i][0] - before[i][0]), children: ticks(after[i][1] - before[i][1])})
	}
	return m, nil
}

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func errorNote(r wrkResult) string {
	var parts []string
	if r.NonOK > 0 {
		parts = append(parts, fmt.Sprintf("NON-2xx %d", r.NonOK))
	}
	if n := r.ConnectErrs + r.WriteErrs + r.Timeouts; n > 0 {
		parts = append(parts, fmt.Sprintf("socket errors: connect %d write %d timeout %d", r.ConnectErrs, r.WriteErrs, r.Timeouts))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, ", ")
}

// procMemory is the memory of one service's processes, master first.
type procMemory struct {
	service string
	procs   []memInfo
}

func (s *setup) memory() []procMemory {
	procs := allProcs()
	var out []procMemory
	for _, sv := range s.started {
		pm := procMemory{service: sv.name}
		for _, p := range tree(sv.pid(), procs) {
			pm.procs = append(pm.procs, readMem(p))
		}
		out = append(out, pm)
	}
	return out
}

func numCPU() int {
	n := 0
	b, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return n
}

// versions names every program measured, for the record.
func versions(o options, wsgideckd string) [][2]string {
	first := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil && len(out) == 0 {
			return "?"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	gargs := append(append([]string{}, o.gunicorn[1:]...), "--version")
	tree := "git " + first("git", "rev-parse", "--short", "HEAD")
	if out, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(out) > 0 {
		tree += " plus uncommitted changes"
	}
	if st, err := os.Stat(wsgideckd); err == nil {
		tree += ", built " + st.ModTime().Format("15:04")
	}
	return [][2]string{
		{"wsgideckd", first(wsgideckd, "version") + " (work tree at " + tree + ")"},
		{"uWSGI", first(o.uwsgi, "--version")},
		{"nginx", first(o.nginx, "-v")},
		{"gunicorn", first(o.gunicorn[0], gargs...)},
		{"python", first(o.python, "--version")},
		{"wrk", first(o.wrk.Path, "-v")},
		{"go", first("go", "version")},
	}
}
