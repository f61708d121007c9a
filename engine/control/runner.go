package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
)

// Logf is a printf-style logger.
type Logf func(format string, args ...any)

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Name is the project's name, for messages; "" means the folder's.
	Name string
	// Dir is the project folder: nginx's prefix, and the folder the
	// engine's relative paths (chdir, pidfile, logto) are read against.
	Dir string
	// Ini and Nginx are the config files; "" means Dir/uwsgi.ini and
	// Dir/nginx.conf.
	Ini, Nginx string
	// Python, when set, is the workers' interpreter whatever uwsgi.ini
	// says. DefaultPython is the interpreter for a uwsgi.ini that names
	// no home (virtualenv); "" means python3 on PATH.
	Python, DefaultPython string
	// Adjust edits the documents read from disk before each Start and
	// Reload, in memory only: wsgideckd up moves ports for one run this
	// way. The files are never written with these edits. A missing file
	// is passed as an empty document, which is not used beyond the check.
	Adjust func(ini *confedit.INIDoc, ngx *confedit.NginxDoc) error
	// Check holds the cross-tier check's lookups (LookupHost, PortOwners,
	// Timeout); Dir and SkipPorts are the Runner's to set.
	Check crosscheck.Options
	// LogLines is how many log lines are kept; 0 means DefaultLogLines.
	LogLines int
	// SampleInterval is the period of the proxy's response counts; 0
	// means one second. (The engine samples its workers itself.)
	SampleInterval time.Duration
	// ReadyTimeout bounds how long Start and Reload wait for the workers
	// to load the app; 0 means one minute.
	ReadyTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnLog, when set, receives every log line as it is added, in order,
	// on the goroutine that produced it: keep it quick.
	OnLog func(LogLine)
}

// Runner runs one project's engine and proxy inside this process. Its
// methods are safe for concurrent use; Start, Stop, Reload and the chain
// reload wait for one another.
type Runner struct {
	opts       RunnerOptions
	ini, nginx string
	logs       *logRing
	traces     *tracer
	events     bus

	// cmd serialises the commands that change what runs; it is a
	// channel so that waiting for it honours a context.
	cmd chan struct{}

	// Set by a Deck: the name of another project of the Deck holding a
	// port, and the hooks around saving a fix.
	holderName func(port int) string
	fixHooks   func() (guard func() error, after func())

	// engUp mirrors r.eng != nil for the request path, which takes no
	// lock: a proxied request has no engine half to wait for while the
	// engine does not run (a project without uwsgi.ini, say).
	engUp atomic.Bool

	mu    sync.Mutex
	eng   *engineRun
	engSt tierState
	px    *proxyRun
	pxSt  tierState
	addrs configuredAddrs

	pxCounting bool // the proxy has run: its responses are counted
	pxHist     proxyHistory
}

type tierState struct {
	state State
	since time.Time
	msg   string
}

// NewRunner returns a Runner with nothing running.
func NewRunner(opts RunnerOptions) *Runner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if abs, err := filepath.Abs(opts.Dir); err == nil {
		opts.Dir = abs
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(opts.Dir)
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = time.Minute
	}
	r := &Runner{
		opts:   opts,
		ini:    opts.Ini,
		nginx:  opts.Nginx,
		logs:   newLogRing(opts.LogLines),
		traces: newTracer(opts.Now, DefaultTraces),
		cmd:    make(chan struct{}, 1),
	}
	if r.ini == "" {
		r.ini = filepath.Join(opts.Dir, configgen.FileUWSGIIni)
	}
	if r.nginx == "" {
		r.nginx = filepath.Join(opts.Dir, configgen.FileNginxConf)
	}
	// since stays zero until a tier first changes state: a tier that never
	// ran shows as "not running", not as stopped for as long as the app
	// has been open.
	return r
}

// Dir, IniPath and NginxPath are the project folder and its files.
func (r *Runner) Dir() string       { return r.opts.Dir }
func (r *Runner) IniPath() string   { return r.ini }
func (r *Runner) NginxPath() string { return r.nginx }

func (r *Runner) now() time.Time { return r.opts.Now() }

func (r *Runner) lock(ctx context.Context) error {
	select {
	case r.cmd <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runner) unlock() { <-r.cmd }

// Start starts the tiers of t that are not running, the engine first, and
// returns once they serve or failed to. Both files are read from disk and
// validated first; a config with errors starts nothing and returns a
// *ConfigError (the tiers it concerns are Failed, with its message). An
// engine whose workers cannot load the app keeps running, Degraded, and
// Start returns an error wrapping ErrAppNotLoaded.
//
// Each tier runs from its own file, and a missing file is not a config
// with errors: that tier is Failed with a *MissingConfigError naming the
// file, and the other tier of t still starts from its file alone (without
// the checks that compare the two). Start returns the missing file's
// error, joined with any other.
func (r *Runner) Start(ctx context.Context, t Tier) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.unlock()
	r.mu.Lock()
	startEng := t.hasEngine() && r.eng == nil
	startPx := t.hasProxy() && r.px == nil
	held := r.heldPortsLocked()
	r.mu.Unlock()
	if !startEng && !startPx {
		return nil
	}
	if startEng {
		r.setEngine(Starting, "")
	}
	if startPx {
		r.setProxy(Starting, "")
	}
	startEng, startPx, missing := r.presentTiers(startEng, startPx)
	r.missingFailed(missing, "not started")
	acting, ok := tierOf(startEng, startPx)
	if !ok {
		return joinMissing(nil, missing)
	}
	p, err := r.load(ctx, acting, held)
	if err != nil {
		r.configFailed(err, startEng, startPx, "not started")
		return joinMissing(err, missing)
	}
	r.logReport(p.report)
	var appErr error
	if startEng {
		if err := r.startEngine(ctx, p); err != nil {
			if !errors.Is(err, ErrAppNotLoaded) {
				if startPx {
					msg := "not started: the engine did not start"
					if ctx.Err() != nil {
						msg = "not started: the start was cancelled"
					}
					r.setProxy(Stopped, msg)
				}
				return joinMissing(err, missing)
			}
			appErr = err
		}
	}
	if startPx {
		if err := r.startProxy(ctx, p); err != nil {
			return joinMissing(err, missing)
		}
	}
	return joinMissing(appErr, missing)
}

// Stop stops the tiers of t, the proxy first, and returns once their
// processes are gone. Requests in progress may finish until ctx ends; then
// the rest are cut and the workers killed.
func (r *Runner) Stop(ctx context.Context, t Tier) error {
	// Stopping must not wait behind a long chain reload: tell it to end.
	r.mu.Lock()
	if r.eng != nil && t.hasEngine() {
		r.eng.cancel()
	}
	r.mu.Unlock()
	if err := r.lock(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	defer r.unlock()
	if t.hasProxy() {
		r.stopProxy(ctx)
	}
	if t.hasEngine() {
		r.stopEngine(ctx)
	}
	return nil
}

// Reload re-reads both files and applies them to the running tiers of t,
// the engine first, and returns once the new configuration serves. The
// engine starts new workers, and each old one stops taking requests once
// its replacement is ready, finishes what it holds and exits (a changed
// socket cannot be rebound under a running master: Reload restarts the
// engine then); the proxy switches configurations without dropping a
// connection. A config with errors is not applied (*ConfigError) and the
// running servers keep serving the old one. When the engine reloaded but
// the proxy then could not (a new listen address is taken), the error
// says so and the proxy keeps its old configuration. Tiers of t that are
// not running are left alone; if none runs, the error wraps ErrNotRunning.
// A running tier whose file is now missing keeps its configuration, and
// the error names the file (*MissingConfigError); the other tier reloads.
func (r *Runner) Reload(ctx context.Context, t Tier) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.unlock()
	r.mu.Lock()
	eng, px := r.eng, r.px
	held := r.heldPortsLocked()
	r.mu.Unlock()
	doEng := t.hasEngine() && eng != nil
	doPx := t.hasProxy() && px != nil
	acting, ok := tierOf(doEng, doPx)
	if !ok {
		return fmt.Errorf("%s: the %s is %w", r.opts.Name, t, ErrNotRunning)
	}
	r.emit(Event{Kind: EventReloadStarted, Tier: acting})
	doEng, doPx, missing := r.presentTiers(doEng, doPx)
	reloading, ok := tierOf(doEng, doPx)
	if !ok {
		err := joinMissing(nil, missing)
		r.reloadFailed(acting, err)
		return fmt.Errorf("not reloaded, the running servers keep their configuration: %w", err)
	}
	p, err := r.load(ctx, reloading, held)
	if err != nil {
		err = joinMissing(err, missing)
		r.reloadFailed(acting, err)
		return fmt.Errorf("not reloaded, the running servers keep their configuration: %w", err)
	}
	r.logReport(p.report)
	var appErr error
	if doEng {
		if err := r.reloadEngine(ctx, eng, p); err != nil {
			if !errors.Is(err, ErrAppNotLoaded) {
				r.reloadFailed(acting, err)
				return joinMissing(err, missing)
			}
			appErr = err
		}
	}
	if doPx {
		if err := r.reloadProxy(px, p); err != nil {
			r.reloadFailed(Proxy, err)
			return joinMissing(fmt.Errorf("the proxy was not reloaded and keeps its configuration: %w", err), missing)
		}
	}
	if appErr != nil {
		r.emit(Event{Kind: EventReloadFailed, Tier: Engine, Message: appErr.Error()})
	} else {
		r.emit(Event{Kind: EventReloadDone, Tier: reloading})
	}
	if len(missing) == 0 {
		return appErr
	}
	errs := []error{appErr}
	for _, m := range missing {
		err := fmt.Errorf("the %s was not reloaded and keeps its configuration: %w", m.Tier, m)
		r.reloadFailed(m.Tier, err)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Runner) reloadFailed(t Tier, err error) {
	r.emit(Event{Kind: EventReloadFailed, Tier: t, Message: err.Error()})
	src := LogEngine
	if t == Proxy {
		src = LogProxyError
	}
	r.addLog(LogLine{Source: src, Level: LevelError, Text: "wsgideck: reload refused, the running configuration stays: " + err.Error()})
	var ce *ConfigError
	if errors.As(err, &ce) {
		for _, l := range ce.Lines()[1:] {
			r.addLog(LogLine{Source: src, Level: LevelError, Text: "wsgideck: " + l})
		}
	}
}

// configFailed marks the tiers a failed validation concerns as Failed,
// and the other tiers being started as Stopped.
func (r *Runner) configFailed(err error, eng, px bool, what string) {
	engMsg, pxMsg := "", ""
	var ce *ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			text := problemText(r.opts.Dir, p)
			if r.tierOfFile(p.File) == Engine && engMsg == "" {
				engMsg = text
			} else if r.tierOfFile(p.File) == Proxy && pxMsg == "" {
				pxMsg = text
			}
		}
		for _, f := range ce.Findings {
			ft := r.findingTier(f)
			if ft.hasEngine() && engMsg == "" {
				engMsg = f.Message
			}
			if ft.hasProxy() && pxMsg == "" {
				pxMsg = f.Message
			}
		}
		for _, l := range ce.Lines() {
			src := LogEngine
			if !eng {
				src = LogProxyError
			}
			r.addLog(LogLine{Source: src, Level: LevelError, Text: "wsgideck: " + l})
		}
	} else {
		engMsg, pxMsg = err.Error(), err.Error()
		r.addLog(LogLine{Source: LogEngine, Level: LevelError, Text: "wsgideck: " + err.Error()})
	}
	set := func(on bool, msg string, setter func(State, string)) {
		if !on {
			return
		}
		if msg != "" {
			setter(Failed, msg)
		} else {
			setter(Stopped, what+": the other tier's configuration has errors")
		}
	}
	set(eng, engMsg, r.setEngine)
	set(px, pxMsg, r.setProxy)
}

// logReport puts the warnings of a validated configuration in the log.
func (r *Runner) logReport(rep *Report) {
	for _, p := range rep.Problems {
		src := LogEngine
		if r.tierOfFile(p.File) == Proxy {
			src = LogProxyError
		}
		r.addLog(LogLine{Source: src, Level: LevelWarn, Text: problemText(rep.Dir, p)})
	}
	for _, f := range rep.Findings {
		if f.Severity == confedit.Warning {
			r.addLog(LogLine{Source: LogEngine, Level: LevelWarn, Text: "warning: " + f.Message})
		}
	}
}

// heldPortsLocked lists the TCP ports the running servers hold, by tier.
func (r *Runner) heldPortsLocked() map[Tier][]int {
	held := map[Tier][]int{}
	if r.eng != nil {
		for _, a := range append(r.eng.srv.Addrs(), r.eng.srv.StatsAddr()) {
			if _, port, ok := hostPort(a); ok {
				held[Engine] = append(held[Engine], port)
			}
		}
	}
	if r.px != nil {
		for _, a := range r.px.addrs() {
			if _, port, ok := hostPort(a); ok {
				held[Proxy] = append(held[Proxy], port)
			}
		}
	}
	return held
}

// holder names the project of the same Deck holding port, if any.
func (r *Runner) holder(port int) string {
	if r.holderName == nil {
		return ""
	}
	return r.holderName(port)
}

// HoldsPort reports whether one of the Runner's servers listens on port.
func (r *Runner) HoldsPort(port int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ps := range r.heldPortsLocked() {
		if containsInt(ps, port) {
			return true
		}
	}
	return false
}

// idle reports whether neither tier runs.
func (r *Runner) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng == nil && r.px == nil
}

// Name is the project's name.
func (r *Runner) Name() string { return r.opts.Name }

// --- state and events ---

func (r *Runner) setEngine(s State, msg string) { r.setTier(Engine, s, msg) }
func (r *Runner) setProxy(s State, msg string)  { r.setTier(Proxy, s, msg) }

func (r *Runner) setTier(t Tier, s State, msg string) {
	r.mu.Lock()
	st := &r.engSt
	if t == Proxy {
		st = &r.pxSt
	}
	changed := st.state != s || st.msg != msg
	if changed {
		*st = tierState{state: s, since: r.now(), msg: msg}
	}
	r.mu.Unlock()
	if changed {
		r.emit(Event{Kind: EventState, Tier: t, State: s, Message: msg})
	}
}

// Subscribe calls fn for every Event of the given kinds (of every kind
// when none is given) from now on, on a goroutine of the Runner's, one
// event at a time and in order, until cancel is called. fn should be
// quick: a subscriber that falls DefaultEventQueue events behind loses
// the newest ones, and the next event it gets says how many
// (Event.Dropped). EventRequest and EventLog come once per request and
// per log line: leave them out unless fn needs them, and they cost
// nothing.
func (r *Runner) Subscribe(fn func(Event), kinds ...EventKind) (cancel func()) {
	return r.events.subscribe(fn, kinds...)
}

func (r *Runner) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = r.now()
	}
	r.events.publish(ev)
}

// Logs returns up to max log lines with Seq > after, oldest first (max <=
// 0: all of them). A caller that fell behind the ring gets the oldest
// lines still kept; the gap in Seq says how many it missed.
func (r *Runner) Logs(after uint64, max int) []LogLine { return r.logs.after(after, max) }

// addLog stores a line, hands it to OnLog and publishes it.
func (r *Runner) addLog(l LogLine) {
	if l.Time.IsZero() {
		l.Time = r.now()
	}
	l = r.logs.add(l)
	if r.opts.OnLog != nil {
		r.opts.OnLog(l)
	}
	if r.events.wants(EventLog) {
		lc := l
		r.emit(Event{Time: l.Time, Kind: EventLog, Log: &lc})
	}
}

// pid is the process both tiers run in.
var pid = os.Getpid()
