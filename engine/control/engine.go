package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
)

// engineRun is one run of the engine, from Start to Stop.
type engineRun struct {
	srv     *appserver.Server
	out     *lineWriter
	logFile *os.File // logto: the log is also written there
	sockets []appserver.Socket
	unsub   func()

	// ctx ends with the run: the watchers, a wait for the workers.
	ctx    context.Context
	cancel context.CancelFunc

	stopping  atomic.Bool // Stop was asked: workers going away is expected
	busy      atomic.Bool // a command decides the state: the health check waits
	commanded atomic.Bool // the reload in progress is the Runner's own

	mu    sync.Mutex
	app   string
	byPID map[int]int  // pid -> worker id, for the request lines
	tb    map[int]bool // by pid: that worker's output is inside a traceback
	// datePrefix matches log-date's prefix on the server's own lines (nil:
	// log-date is off), telling them from the app's output.
	datePrefix *regexp.Regexp
}

func (r *Runner) startEngine(ctx context.Context, p *plan) error {
	cfg := p.engine
	run := &engineRun{app: p.app, byPID: map[int]int{}, tb: map[int]bool{}, sockets: cfg.Sockets, datePrefix: cfg.LogDatePrefix()}
	run.out = &lineWriter{emit: func(line string) { r.engineLine(run, line) }}
	var log io.Writer = run.out
	if cfg.LogTo != "" {
		// logto: the file gets the log as uWSGI writes it, and the
		// Runner still sees every line.
		f, err := os.OpenFile(cfg.LogTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			err = fmt.Errorf("logto %s: %w", cfg.LogTo, err)
			r.engineFailed(err)
			return err
		}
		run.logFile = f
		log = io.MultiWriter(run.out, f)
		cfg.LogTo = ""
	}
	run.ctx, run.cancel = context.WithCancel(context.Background())
	run.srv = &appserver.Server{
		Config:       cfg,
		Log:          log,
		WorkerOutput: func(id, pid int) io.Writer { return r.workerOutput(run, id, pid) },
		Now:          r.opts.Now,
		OnRequest:    func(ev appserver.RequestEvent) { r.engineRequest(ev) },
		ReloadConfig: r.engineReloadConfig,
	}
	// Subscribed before Start, so that the first workers' events count.
	run.unsub = run.srv.Subscribe(func(ev appserver.Event) { r.engineEvent(run, ev) },
		appserver.EventSpawned, appserver.EventReady, appserver.EventDied, appserver.EventHarakiri,
		appserver.EventRecycled, appserver.EventCheaped, appserver.EventReloadStarted, appserver.EventReloadFinished)
	run.busy.Store(true)
	if err := run.srv.Start(); err != nil {
		run.unsub()
		run.cancel()
		run.out.flush()
		if run.logFile != nil {
			run.logFile.Close()
		}
		if errors.Is(err, appserver.ErrNoApp) {
			err = fmt.Errorf("%w (need-app is set, so the engine stopped): %v", ErrAppNotLoaded, err)
		}
		err = explainBusy(ctx, err)
		r.engineFailed(err)
		return err
	}
	r.mu.Lock()
	r.eng = run
	r.engUp.Store(true)
	r.mu.Unlock()
	go r.watchEngine(run)
	go r.watchHealth(run)

	err := r.waitReady(ctx, run)
	run.busy.Store(false)
	r.settle(run, err)
	return r.stillLoading(err)
}

// stillLoading turns waitReady's giving up into a note in the log.
func (r *Runner) stillLoading(err error) error {
	if errors.Is(err, errStillLoading) {
		r.addLog(LogLine{Source: LogEngine, Level: LevelWarn,
			Text: fmt.Sprintf("wsgideck: the workers are still loading the app after %s; requests wait for them", r.opts.ReadyTimeout)})
		return nil
	}
	return err
}

// settle sets the engine's state after a command waited for its workers.
func (r *Runner) settle(run *engineRun, err error) {
	switch {
	case run.ctx.Err() != nil:
		// Stopped meanwhile: Stop sets the state.
	case errors.Is(err, ErrAppNotLoaded):
		r.setEngine(Degraded, err.Error())
	default:
		// Ready; or still loading (a slow import) or the caller stopped
		// waiting: it serves, and the health check says if the app
		// does not load.
		r.setEngine(Running, "")
	}
}

// engineReloadConfig gives the engine the configuration for the reloads
// it starts by itself (touch-reload, py-autoreload, master-fifo): uwsgi.ini
// read again, validated, and adjusted for the run.
func (r *Runner) engineReloadConfig() (*appserver.Config, error) {
	p, err := r.load(context.Background(), Engine, r.heldPorts())
	if err != nil {
		r.addLog(LogLine{Source: LogEngine, Level: LevelError, Text: "wsgideck: reload refused, the running configuration stays: " + err.Error()})
		return nil, err
	}
	r.mu.Lock()
	if run := r.eng; run != nil {
		run.mu.Lock()
		run.app = p.app
		run.mu.Unlock()
	}
	r.mu.Unlock()
	cfg := forReload(p.engine)
	return &cfg, nil
}

// forReload adjusts the engine's configuration for a reload: need-app,
// whatever uwsgi.ini says. With it, a new worker whose app does not load
// replaces nothing: the workers running the previous code keep serving,
// and the new ones are retried with a backoff until the next reload,
// instead of every request getting a 500 from workers without the app
// (waitReady reports the failure). need-app's other effect, refusing to
// start without the app, is past by then; a worker that fails to import
// later backs off instead of answering 500s, which the health check
// reports the same way.
func forReload(cfg appserver.Config) appserver.Config {
	cfg.NeedApp = true
	return cfg
}

func (r *Runner) heldPorts() map[Tier][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.heldPortsLocked()
}

func (r *Runner) engineFailed(err error) {
	r.setEngine(Failed, err.Error())
	r.addLog(LogLine{Source: LogEngine, Level: LevelError, Text: "wsgideck: the engine did not start: " + err.Error()})
}

// explainBusy adds who holds a port to a bind error (the port was free
// when the configuration was checked, and was taken since).
func explainBusy(ctx context.Context, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "address already in use") {
		return err
	}
	m := portInErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	port := atoi(m[1])
	var names []string
	for _, o := range crosscheck.SystemPortOwners(ctx, port) {
		names = append(names, o.String())
	}
	if len(names) == 0 {
		return err
	}
	return fmt.Errorf("%w (port %d is in use by %s)", err, port, strings.Join(names, ", "))
}

// waitReady waits until no reload is under way and every worker has
// loaded the app or failed to. It returns ErrAppNotLoaded (wrapped) when
// workers are ready but none has the app.
func (r *Runner) waitReady(ctx context.Context, run *engineRun) error {
	deadline := time.NewTimer(r.opts.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		snap := run.srv.Snapshot()
		if reason := reloadAppFailure(snap); reason != "" {
			return reloadAppError{reason}
		}
		if snap.Reload == nil {
			ready, starting, loaded := 0, 0, false
			for _, w := range snap.Workers {
				switch w.Status {
				case appserver.WorkerStarting:
					starting++
				case appserver.WorkerIdle, appserver.WorkerBusy:
					ready++
					loaded = loaded || w.AppLoaded
				}
			}
			if loaded {
				return nil
			}
			if starting == 0 && (ready > 0 || snap.AppError != "") {
				return appNotLoaded(snap.AppError)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-run.ctx.Done():
			return fmt.Errorf("the engine stopped: %w", ErrNotRunning)
		case <-deadline.C:
			return errStillLoading
		case <-tick.C:
		}
	}
}

// errStillLoading is waitReady giving up on a slow app: the engine
// serves (requests wait for a worker), and the health check follows.
var errStillLoading = errors.New("the workers are still loading the app")

// reloadAppFailure is why the app did not load in a worker the reload in
// progress started, or "": with need-app (forReload) such a worker dies
// and is retried while the previous one serves on, so the reload would
// otherwise look merely slow. Deaths of older generations (a retry of an
// earlier failed reload) do not count.
func reloadAppFailure(snap appserver.Snapshot) string {
	if snap.Reload == nil {
		return ""
	}
	for _, w := range snap.Workers {
		if d := w.LastDeath; d != nil && d.AppError != "" && d.Generation >= snap.Reload.Generation {
			return d.AppError
		}
	}
	return ""
}

// reloadAppError is a reload whose new workers could not load the app.
// It is an ErrAppNotLoaded, but it says that the old workers still serve.
type reloadAppError struct{ reason string }

func (e reloadAppError) Error() string {
	return "the new workers could not load the app: " + e.reason + " (the traceback is in the log); the previous workers keep serving"
}

func (e reloadAppError) Is(target error) bool { return target == ErrAppNotLoaded }

func appNotLoaded(reason string) error {
	if reason == "" {
		return fmt.Errorf("%w (the traceback is in the log)", ErrAppNotLoaded)
	}
	return fmt.Errorf("%w: %s (the traceback is in the log)", ErrAppNotLoaded, reason)
}

// watchEngine notices an engine that stopped without being asked to.
func (r *Runner) watchEngine(run *engineRun) {
	<-run.srv.Done()
	err := run.srv.Wait()
	if run.stopping.Load() {
		return
	}
	run.unsub()
	run.cancel()
	run.out.flush()
	r.mu.Lock()
	if r.eng == run {
		r.eng = nil
		r.engUp.Store(false)
	}
	r.mu.Unlock()
	msg := "the engine stopped unexpectedly"
	if err != nil {
		msg += ": " + err.Error()
	}
	r.setEngine(Failed, msg)
}

// watchHealth re-checks the engine's health now and then, in case an
// event was missed.
func (r *Runner) watchHealth(run *engineRun) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-run.ctx.Done():
			return
		case <-t.C:
			r.checkHealth(run)
		}
	}
}

// checkHealth moves the engine between Running and Degraded as its
// workers manage, or fail, to load the app.
func (r *Runner) checkHealth(run *engineRun) {
	if run.busy.Load() || run.stopping.Load() {
		return
	}
	r.mu.Lock()
	st := r.engSt.state
	mine := r.eng == run
	r.mu.Unlock()
	if !mine || !st.serving() {
		return
	}
	snap := run.srv.Snapshot()
	ready, loaded := 0, false
	for _, w := range snap.Workers {
		if w.Status == appserver.WorkerIdle || w.Status == appserver.WorkerBusy {
			ready++
			loaded = loaded || w.AppLoaded
		}
	}
	switch {
	case reloadAppFailure(snap) != "":
		// A reload whose app does not load: the previous workers serve,
		// and the replacements are retried until the next reload.
		if st == Running {
			r.setEngine(Degraded, reloadAppError{reloadAppFailure(snap)}.Error())
		}
	case loaded && st == Degraded:
		r.setEngine(Running, "")
	case !loaded && ready > 0 && st == Running:
		r.setEngine(Degraded, appNotLoaded(snap.AppError).Error())
	}
}

// engineEvent turns the engine's events into the Runner's.
func (r *Runner) engineEvent(run *engineRun, ev appserver.Event) {
	out := Event{Time: ev.Time, Tier: Engine, Worker: ev.Worker, PID: ev.PID}
	switch ev.Kind {
	case appserver.EventSpawned:
		run.mu.Lock()
		run.byPID[ev.PID] = ev.Worker
		run.mu.Unlock()
		out.Kind = EventWorkerSpawned
		out.Message = fmt.Sprintf("worker %d started (pid %d): %s", ev.Worker, ev.PID, ev.Reason)
	case appserver.EventReady:
		if ev.Reason != "" {
			r.addLog(LogLine{Source: LogEngine, Worker: ev.Worker, Level: LevelError,
				Text: fmt.Sprintf("wsgideck: worker %d (pid %d) could not load the app: %s", ev.Worker, ev.PID, ev.Reason)})
		}
		r.checkHealth(run)
		return
	case appserver.EventDied:
		if run.stopping.Load() {
			return
		}
		out.Kind = EventWorkerDied
		out.Message = fmt.Sprintf("worker %d (pid %d) died: %s", ev.Worker, ev.PID, ev.Reason)
	case appserver.EventHarakiri:
		out.Kind = EventHarakiri
		out.Message = fmt.Sprintf("harakiri: worker %d (pid %d) is killed: %s", ev.Worker, ev.PID, ev.Reason)
		if rq := ev.Request; rq != nil {
			out.Message = fmt.Sprintf("harakiri: %s %s ran over the limit; worker %d (pid %d) is killed", rq.Method, rq.URI, ev.Worker, ev.PID)
		}
	case appserver.EventRecycled:
		out.Kind = EventRecycled
		out.Message = fmt.Sprintf("worker %d (pid %d) is replaced: %s", ev.Worker, ev.PID, ev.Reason)
	case appserver.EventCheaped:
		out.Kind = EventRecycled
		out.Message = fmt.Sprintf("worker %d (pid %d) stopped: %s", ev.Worker, ev.PID, ev.Reason)
	case appserver.EventReloadStarted, appserver.EventReloadFinished:
		if run.commanded.Load() {
			return // the Runner's own reload announces itself
		}
		out.Kind = EventReloadStarted
		out.Message = ev.Mode.String() + " reload"
		if ev.Kind == appserver.EventReloadFinished {
			out.Kind = EventReloadDone
			if ev.Reason != "" {
				out.Message += ": " + ev.Reason
			}
		}
	default:
		return
	}
	r.emit(out)
}

// engineRequest receives every request the engine finished.
func (r *Runner) engineRequest(ev appserver.RequestEvent) {
	r.traces.engine(&ev)
	if !r.events.wants(EventRequest) {
		return
	}
	r.emit(Event{Time: ev.Start.Add(ev.Duration), Kind: EventRequest, Tier: Engine, Worker: ev.Worker, PID: ev.PID,
		Request: &Request{Tier: Engine, Worker: ev.Worker, PID: ev.PID, Method: ev.Method, URI: ev.URI,
			Status: ev.Status, Duration: ev.Duration, Bytes: ev.BodyBytes, Outcome: ev.Outcome}})
}

// engineLine receives each line of the engine's log (the master's lines,
// and the workers' output when WorkerOutput is not in use), grades it and
// puts it in the log.
func (r *Runner) engineLine(run *engineRun, text string) {
	r.classifyLine(run, 0, 0, text)
}

// workerOutput is the engine's WorkerOutput: worker id's process pid
// writes its stdout and stderr here, so its lines (a traceback) carry the
// worker's id. With logto, the file gets them too.
func (r *Runner) workerOutput(run *engineRun, id, pid int) io.Writer {
	run.mu.Lock()
	run.byPID[pid] = id
	run.mu.Unlock()
	var w io.Writer = wholeLines(func(line string) { r.classifyLine(run, id, pid, line) })
	if run.logFile != nil {
		w = io.MultiWriter(w, run.logFile)
	}
	return w
}

// wholeLines is a writer that gets one whole line per Write, as
// appserver.Server.WorkerOutput's writers do.
type wholeLines func(line string)

func (f wholeLines) Write(p []byte) (int, error) {
	f(strings.TrimRight(string(p), "\r\n"))
	return len(p), nil
}

// classifyLine grades one line and puts it in the log. pid is the worker
// process that wrote it, 0 for the engine's log, where the master's and
// (without WorkerOutput) the workers' lines mix.
func (r *Runner) classifyLine(run *engineRun, id, pid int, text string) {
	l := LogLine{Source: LogEngine, Worker: id, Text: text}
	run.mu.Lock()
	if m := requestLineRe.FindStringSubmatch(text); m != nil {
		l.Worker = run.byPID[atoi(m[1])]
		switch st := requestStatus(text); {
		case st >= 500:
			l.Level = LevelError
		case st >= 400:
			l.Level = LevelWarn
		}
		delete(run.tb, pid)
	} else if body, ok := masterLine(text, run.datePrefix); ok {
		l.Level = levelOf(body)
		delete(run.tb, pid)
		if m := spawnedRe.FindStringSubmatch(body); m != nil {
			run.byPID[atoi(m[2])] = atoi(m[1])
		} else if m := respawnedRe.FindStringSubmatch(body); m != nil {
			run.byPID[atoi(m[2])] = atoi(m[1])
		}
	} else {
		l.Source = LogWorker
		l.Level = levelOf(text)
		if strings.HasPrefix(text, "Traceback (most recent call last)") {
			run.tb[pid] = true
		}
		if run.tb[pid] {
			l.Level = LevelError
			// The exception line, not indented, ends the traceback.
			if !strings.HasPrefix(text, " ") && !strings.HasPrefix(text, "Traceback") {
				delete(run.tb, pid)
			}
		}
	}
	run.mu.Unlock()
	r.addLog(l)
}

// stopEngine stops the engine and waits for its workers to be gone.
func (r *Runner) stopEngine(ctx context.Context) {
	r.mu.Lock()
	run := r.eng
	st := r.engSt.state
	r.mu.Unlock()
	if run == nil {
		if st != Stopped {
			r.setEngine(Stopped, "")
		}
		return
	}
	run.stopping.Store(true)
	run.cancel()
	r.setEngine(Stopping, "")
	done := make(chan struct{})
	go func() { run.srv.Stop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Out of patience: kill the workers rather than leave them; the
		// master then finishes at once.
		r.addLog(LogLine{Source: LogEngine, Level: LevelWarn, Text: "wsgideck: stop timed out: killing the workers"})
		killWorkers(run.srv, done)
	}
	run.unsub()
	run.out.flush()
	if run.logFile != nil {
		run.logFile.Close()
	}
	r.mu.Lock()
	if r.eng == run {
		r.eng = nil
		r.engUp.Store(false)
	}
	r.mu.Unlock()
	r.setEngine(Stopped, "")
}

// killWorkers SIGKILLs the engine's workers until it is done.
func killWorkers(srv *appserver.Server, done <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		for _, w := range srv.Workers() {
			if w.PID > 0 {
				syscall.Kill(w.PID, syscall.SIGKILL)
			}
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// reloadEngine applies a validated configuration to the running engine:
// new workers replace the old ones as they are ready. Sockets cannot
// change under a running master, so a changed socket restarts it.
func (r *Runner) reloadEngine(ctx context.Context, run *engineRun, p *plan) error {
	if !sameSockets(run.sockets, p.engine.Sockets) {
		r.addLog(LogLine{Source: LogEngine, Level: LevelWarn, Text: "wsgideck: the sockets changed: restarting the engine to bind them"})
		r.stopEngine(ctx)
		return r.startEngine(ctx, p)
	}
	run.busy.Store(true)
	run.commanded.Store(true)
	defer run.commanded.Store(false)
	r.setEngine(Starting, "reloading")
	cfg := forReload(p.engine)
	if err := run.srv.Reload(&cfg); err != nil {
		run.busy.Store(false)
		r.setEngine(Running, "")
		return err
	}
	run.mu.Lock()
	run.app = p.app
	run.mu.Unlock()
	err := r.waitReady(ctx, run)
	run.busy.Store(false)
	r.settle(run, err)
	return r.stillLoading(err)
}

func sameSockets(a, b []appserver.Socket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Proto != b[i].Proto || a[i].Addr != b[i].Addr {
			return false
		}
	}
	return true
}
