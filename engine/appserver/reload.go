package appserver

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// ReloadMode is how a reload replaces the workers.
type ReloadMode int

const (
	// ReloadGraceful starts every new worker at once; each old worker
	// stops taking requests once its replacement is ready, finishes what
	// it holds and exits (SIGHUP, master-fifo r and w, touch-reload).
	// No request fails.
	ReloadGraceful ReloadMode = iota
	// ReloadChain replaces the workers one at a time: the next only once
	// the previous replacement is ready (master-fifo c,
	// touch-chain-reload). Capacity never drops.
	ReloadChain
	// ReloadBrutal kills the old workers at once (SIGTERM) and starts new
	// ones (master-fifo R and W): requests in flight fail with 502.
	ReloadBrutal
)

func (m ReloadMode) String() string {
	switch m {
	case ReloadChain:
		return "chain"
	case ReloadBrutal:
		return "brutal"
	}
	return "graceful"
}

// errStopping refuses commands while the server stops (or before it
// started).
var errStopping = errors.New("the server is not running (stopping, stopped or not started)")

// Reload replaces every worker gracefully, as uWSGI's SIGHUP does: new
// workers start (with cfg's app settings when cfg is not nil), and each old
// worker stops taking requests once its replacement is ready, finishes what
// it is doing and exits. The sockets stay open throughout.
func (s *Server) Reload(cfg *Config) error { return s.ReloadWith(ReloadGraceful, cfg) }

// ReloadWith reloads every worker the way mode says, with cfg's settings
// when cfg is not nil (sockets, listen, logto and pidfile stay as they
// are: changing them needs a restart). A reload started while another is in
// progress supersedes it.
func (s *Server) ReloadWith(mode ReloadMode, cfg *Config) error {
	return s.reloadWith(mode, cfg, false)
}

// reloadWith is ReloadWith; workersOnly logs a graceful or brutal reload
// the way uWSGI logs one that leaves its master alone (master-fifo w and W,
// touch-workers-reload): as respawns, without the "...killing workers..."
// line of a whole reload.
func (s *Server) reloadWith(mode ReloadMode, cfg *Config, workersOnly bool) error {
	if s.stopping.Load() || !s.started.Load() {
		return errStopping
	}
	// Paused workers could not finish and exit; the new ones run.
	s.unpause()
	if s.cfg().ExitOnReload {
		s.log.printf("uWSGI: GAME OVER (insert coin)")
		go s.Stop()
		return nil
	}
	next, err := s.applyConfig(cfg)
	if err != nil {
		return err
	}
	if next.LogReopen {
		s.reopenLog()
	}
	switch mode {
	case ReloadChain:
		return s.chainReload(next)
	case ReloadBrutal:
		return s.replaceAll(next, true, workersOnly)
	}
	return s.replaceAll(next, false, workersOnly)
}

// applyConfig makes cfg (if not nil) the running configuration and
// returns the configuration the reload uses.
func (s *Server) applyConfig(cfg *Config) (*Config, error) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	next := *s.config
	if cfg != nil {
		c := cfg.withDefaults()
		if err := c.Validate(); err != nil {
			return nil, err
		}
		c.resolvePaths()
		if !sameSockets(c.Sockets, next.Sockets) {
			s.log.printf("reload: socket changes need a restart; keeping the sockets already bound")
		}
		if c.Stats != next.Stats || fmt.Sprint(c.MasterFIFO) != fmt.Sprint(next.MasterFIFO) {
			s.log.printf("reload: stats and master-fifo changes need a restart; keeping the running ones")
		}
		c.Sockets, c.Listen, c.LogTo, c.Pidfile, c.Pidfile2 = next.Sockets, next.Listen, next.LogTo, next.Pidfile, next.Pidfile2
		c.Stats, c.MasterFIFO = next.Stats, next.MasterFIFO
		if c.Python == "" {
			c.Python = next.Python
		}
		next = c
	}
	s.config = &next
	s.setLogDate(&next)
	return &next, nil
}

// replaceAll is the graceful and the brutal reload.
func (s *Server) replaceAll(next *Config, brutal, workersOnly bool) error {
	mode := ReloadGraceful
	if brutal {
		mode = ReloadBrutal
	}
	if !workersOnly {
		// uWSGI's re-exec restarts the daemons first (daemons.go).
		s.reloadDaemons(next)
	}
	switch {
	case workersOnly:
	case brutal:
		s.log.printf("...brutally killing workers...")
	default:
		s.log.printf("...gracefully killing workers...")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return errStopping
	}
	s.supersedeLocked()
	s.gen++
	gen := s.gen
	s.reload = &ReloadProgress{Mode: mode, Generation: gen, Started: s.now()}
	s.emit(Event{Kind: EventReloadStarted, Mode: mode, Generation: gen})

	for i := len(s.slots); i < next.Processes; i++ {
		s.slots = append(s.slots, &slot{id: i + 1, cheap: next.cheaperMode()})
	}
	byslot := map[*slot][]*worker{}
	for w := range s.workers {
		byslot[w.slot] = append(byslot[w.slot], w)
	}
	var retireNow []*worker
	for i, sl := range s.slots {
		old := byslot[sl]
		sl.fastDeaths = 0
		sl.backoffUntil = time.Time{}
		if !next.cheaperMode() {
			sl.cheap = false
		}
		if i >= next.Processes || sl.cheap {
			// The reload lowered processes (the slot goes), or the slot
			// is cheap: its processes, if any, just go.
			for _, o := range old {
				o.why = whyRemoved
				retireNow = append(retireNow, o)
			}
			sl.current = nil
			continue
		}
		why := whyReload
		switch {
		case workersOnly:
			why = whyWorkers
		case brutal:
			why = whyBrutal
		}
		for _, o := range old {
			o.why = why
			if brutal {
				retireNow = append(retireNow, o)
				if workersOnly {
					s.verbose("killing worker %d (pid: %d)", sl.id, o.pid)
				}
			}
		}
		if _, err := s.startWorker(sl, next, gen, workersOnly, "reload"); err != nil {
			s.log.printf("reload: cannot spawn worker %d: %v (keeping the old one)", sl.id, err)
			for _, o := range old {
				o.why = ""
			}
		}
	}
	s.slots = s.slots[:next.Processes]
	for _, w := range retireNow {
		if brutal && (w.why == whyBrutal || w.why == whyWorkers) {
			w.retire()
			w.kill(syscall.SIGTERM)
			continue
		}
		s.retireWithMercy(w)
	}
	for _, l := range s.listeners {
		s.startAcceptors(l, next)
	}
	return nil
}

// chainRun is a chain reload in progress.
type chainRun struct {
	gen    int
	cancel chan struct{}
}

// chainReload replaces the workers one at a time, each only once the
// previous replacement is ready, as uWSGI's chain reload does; unlike
// uWSGI, the replacement starts before its victim stops, so the number of
// workers taking requests never drops.
func (s *Server) chainReload(next *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return errStopping
	}
	s.supersedeLocked()
	s.gen++
	run := &chainRun{gen: s.gen, cancel: make(chan struct{})}
	s.chain = run
	s.reload = &ReloadProgress{Mode: ReloadChain, Generation: s.gen, Started: s.now()}
	s.verbose("chain reload starting...")
	s.emit(Event{Kind: EventReloadStarted, Mode: ReloadChain, Generation: s.gen})
	for _, sl := range s.slots {
		sl.fastDeaths = 0
	}
	go s.runChain(run)
	return nil
}

func (s *Server) runChain(run *chainRun) {
	for id := 1; ; id++ {
		s.mu.Lock()
		if s.chain != run {
			s.mu.Unlock()
			return
		}
		if id > len(s.slots) {
			s.chain = nil
			s.reload = nil
			s.mu.Unlock()
			s.verbose("chain reloading complete")
			s.emit(Event{Kind: EventReloadFinished, Mode: ReloadChain, Generation: run.gen})
			return
		}
		sl := s.slots[id-1]
		victim := sl.current
		if sl.cheap || victim == nil || victim.gen >= run.gen {
			s.mu.Unlock()
			continue
		}
		s.verbose("chain next victim is worker %d", id)
		victim.why = whyChain
		s.reload.Waiting = id
		_, err := s.startWorker(sl, s.cfg(), run.gen, true, "chain reload")
		s.mu.Unlock()
		if err != nil {
			s.log.printf("chain reload: cannot spawn worker %d: %v (keeping the old one)", id, err)
			continue
		}
		// Wait for a replacement that takes requests (a respawned one
		// counts, should the first die).
		tick := time.NewTicker(50 * time.Millisecond)
		lastLog := s.now()
		for ready := false; !ready; {
			select {
			case <-run.cancel:
				tick.Stop()
				return
			case <-tick.C:
			}
			s.mu.Lock()
			cur := sl.current
			ready = cur != nil && cur.gen >= run.gen && cur.serving(s.cfg().NeedApp) || sl.cheap
			s.mu.Unlock()
			if !ready && s.now().Sub(lastLog) >= time.Second {
				lastLog = s.now()
				s.verbose("chain is still waiting for worker %d...", id)
			}
		}
		tick.Stop()
	}
}

// supersedeLocked ends the reload in progress, if any, because another
// starts. Call with s.mu held.
func (s *Server) supersedeLocked() {
	if r := s.reload; r != nil {
		s.emit(Event{Kind: EventReloadFinished, Mode: r.Mode, Generation: r.Generation, Reason: "superseded by another reload"})
		s.reload = nil
	}
	s.cancelChainLocked()
}

// cancelChainLocked stops the chain reload in progress. Call with s.mu held.
func (s *Server) cancelChainLocked() {
	if s.chain != nil {
		close(s.chain.cancel)
		s.chain = nil
	}
}

// checkReloadDone ends a graceful or brutal reload once every worker that
// should run is of the new generation and ready, and every older process
// is gone.
func (s *Server) checkReloadDone() {
	cfg := s.cfg()
	s.mu.Lock()
	r := s.reload
	if r == nil || r.Mode == ReloadChain {
		s.mu.Unlock()
		return
	}
	for w := range s.workers {
		if w.gen < r.Generation {
			s.mu.Unlock()
			return
		}
	}
	for _, sl := range s.slots {
		if sl.cheap {
			continue
		}
		if w := sl.current; w == nil || !w.serving(cfg.NeedApp) {
			s.mu.Unlock()
			return
		}
	}
	s.reload = nil
	s.mu.Unlock()
	s.emit(Event{Kind: EventReloadFinished, Mode: r.Mode, Generation: r.Generation})
}

// selfReload is a reload the engine starts itself; reread asks
// ReloadConfig for the configuration (a graceful or brutal reload that
// does not is one of the workers only, as uWSGI's master-fifo w and W). why is logged when the reload
// cannot happen.
func (s *Server) selfReload(mode ReloadMode, reread bool, why string) {
	var cfg *Config
	if reread && s.ReloadConfig != nil {
		c, err := s.ReloadConfig()
		if err != nil {
			s.log.printf("reload (%s): %v (keeping the running configuration)", why, err)
		} else {
			cfg = c
		}
	}
	workersOnly := !reread && mode != ReloadChain
	err := s.reloadWith(mode, cfg, workersOnly)
	if err != nil && cfg != nil && !errors.Is(err, errStopping) {
		s.log.printf("reload (%s): %v (keeping the running configuration)", why, err)
		err = s.reloadWith(mode, nil, workersOnly)
	}
	if err != nil && !errors.Is(err, errStopping) {
		s.log.printf("reload (%s): %v", why, err)
	}
}

// RecycleWorker replaces worker id (1-based) the way Reload replaces all of
// them: a new process starts, and the old one stops taking requests once
// the new one is ready, finishes what it is doing and exits.
func (s *Server) RecycleWorker(id int) error {
	if s.stopping.Load() || !s.started.Load() {
		return errStopping
	}
	w, err := s.runningWorker(id)
	if err != nil {
		return err
	}
	if w.recycling.Swap(true) {
		return nil // already being replaced
	}
	return s.recycle(w, "requested", "")
}

// runningWorker returns worker id's current process, or an error saying
// the id is unknown or its worker is not running.
func (s *Server) runningWorker(id int) (*worker, error) {
	s.mu.Lock()
	sl, err := s.slotByID(id)
	var w *worker
	if err == nil {
		w = sl.current
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if w == nil || w.dead.Load() {
		return nil, fmt.Errorf("worker %d is not running", id)
	}
	return w, nil
}

// KillWorker kills worker id's process (SIGKILL); it is respawned like any
// worker that dies.
func (s *Server) KillWorker(id int) error { return s.SignalWorker(id, syscall.SIGKILL) }

// SignalWorker sends sig to worker id's current process. A worker that
// dies of it is respawned like any dead worker.
func (s *Server) SignalWorker(id int, sig syscall.Signal) error {
	w, err := s.runningWorker(id)
	if err != nil {
		return err
	}
	w.kill(sig)
	return nil
}

// AddWorker starts one more worker: a cheap slot comes back, or when there
// is none a new slot is added (raising processes by one). It returns the
// worker's number.
func (s *Server) AddWorker() (int, error) {
	if s.stopping.Load() || !s.started.Load() {
		return 0, errStopping
	}
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.slots {
		if sl.cheap {
			return sl.id, s.uncheapLocked(sl, cfg, "added")
		}
	}
	if len(s.slots) >= 1024 {
		return 0, errors.New("already 1024 workers")
	}
	sl := &slot{id: len(s.slots) + 1}
	s.slots = append(s.slots, sl)
	s.cfgMu.Lock()
	c := *s.config
	c.Processes = len(s.slots)
	s.config = &c
	s.cfgMu.Unlock()
	if _, err := s.startWorker(sl, &c, s.gen, false, "added"); err != nil {
		s.slots = s.slots[:len(s.slots)-1]
		return 0, err
	}
	for _, l := range s.listeners {
		s.startAcceptors(l, &c)
	}
	return sl.id, nil
}

// RemoveWorker stops one worker gracefully: the highest-numbered running
// one goes cheap (its slot stays, empty). At least one worker keeps
// running. It returns the worker's number.
func (s *Server) RemoveWorker() (int, error) {
	if s.stopping.Load() || !s.started.Load() {
		return 0, errStopping
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	running := 0
	var victim *slot
	for _, sl := range s.slots {
		if !sl.cheap {
			running++
			victim = sl
		}
	}
	if running <= 1 {
		return 0, errors.New("only one worker is running: it stays")
	}
	s.cheapLocked(victim, "removed")
	return victim.id, nil
}

func sameSockets(a, b []Socket) bool {
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
