package appserver

import (
	"fmt"
	"time"
)

// The cheaper algorithms (cheaper-algo). uWSGI 2.0.21 has spare, backlog
// and manual in its core, and busyness in the cheaper_busyness plugin.
const (
	CheaperAlgoSpare    = "spare"    // the default: grow when every worker is busy
	CheaperAlgoBusyness = "busyness" // grow and shrink on the share of time workers are busy
	CheaperAlgoBacklog  = "backlog"  // grow while requests wait for a worker
	CheaperAlgoManual   = "manual"   // only the master FIFO's + and - (and SIGTTIN, SIGTTOU)
)

// cheaperState is the cheaper algorithms' memory between master cycles.
type cheaperState struct {
	overload int // spare: cycles with every running worker busy (decays when one is idle)
	idle     int // spare: cycles since the last overload

	// busy is the busyness algorithm's state for busyCfg, the
	// configuration it started with; a reload starts it anew.
	busy    *busyness
	busyCfg *Config
}

// cheaperCycle runs the configured cheaper algorithm once per master cycle
// (check-interval).
func (s *Server) cheaperCycle(cfg *Config) {
	if !cfg.cheaperMode() {
		return
	}
	queue := 0
	if cfg.CheaperAlgo == CheaperAlgoBusyness || cfg.CheaperAlgo == CheaperAlgoBacklog {
		// uWSGI's listen queue: requests no worker has taken yet.
		_, waiting := s.pool.stats()
		queue = waiting + s.kernelBacklog()
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() || s.reload != nil {
		return
	}
	switch cfg.CheaperAlgo {
	case CheaperAlgoBusyness:
		s.busynessCycleLocked(cfg, now, queue)
	case CheaperAlgoBacklog:
		s.backlogCycleLocked(cfg, queue)
	case CheaperAlgoManual:
	default:
		s.spareCycleLocked(cfg)
	}
}

// spareCycleLocked runs uWSGI's default ("spare") cheaper algorithm:
// when every running worker has been busy for more than cheaper-overload
// cycles, cheaper-step cheap workers come back; when the load is gone,
// one idle worker goes cheap every cheaper-overload cycles until cheaper
// remain. One spare (idle) worker is a stable state. Call with s.mu held.
func (s *Server) spareCycleLocked(cfg *Config) {
	st := &s.cheaper
	active, busy := 0, 0
	for _, sl := range s.slots {
		w := sl.current
		if sl.cheap || w == nil || w.dead.Load() {
			continue
		}
		active++
		if w.busyCores() > 0 {
			busy++
		}
	}
	if active > 0 && busy == active {
		st.overload++
		st.idle = 0
	} else if st.overload > 0 {
		st.overload--
	}
	switch {
	case st.overload > cfg.CheaperOverload:
		st.overload = 0
		s.uncheapSomeLocked(cfg, cfg.CheaperStep, "cheaper: every worker busy")
	case st.overload == 0:
		if active > busy && active-busy == 1 {
			return // one spare worker: stable
		}
		st.idle++
		if active > cfg.Cheaper && st.idle%cfg.CheaperOverload == 0 {
			s.cheapOldestIdleLocked("cheaper: idle")
		}
	}
}

// backlogCycleLocked runs uWSGI's backlog algorithm: while more requests
// than cheaper-overload wait for a worker, cheaper-step workers come back
// every cycle; while fewer wait, one idle worker goes cheap every cycle,
// down to cheaper. Call with s.mu held.
func (s *Server) backlogCycleLocked(cfg *Config, queue int) {
	switch {
	case queue > cfg.CheaperOverload:
		s.uncheapSomeLocked(cfg, cfg.CheaperStep, fmt.Sprintf("cheaper: listen queue %d", queue))
	case queue < cfg.CheaperOverload:
		if s.activeWorkersLocked() > cfg.Cheaper {
			s.cheapOldestIdleLocked("cheaper: listen queue empty")
		}
	}
}

// busynessCycleLocked runs the busyness algorithm (cheaper_busyness.go)
// over the slots. Call with s.mu held.
func (s *Server) busynessCycleLocked(cfg *Config, now time.Time, queue int) {
	// A slot's busy time: its finished requests (the request path adds
	// their times to runningTime, from arrival, so a request that waited
	// for a core adds its wait too, which only happens when every core is
	// busy anyway), plus the time so far of the requests its processes
	// are serving now, retiring ones included. Read apart, a request that
	// ends between the two reads is off for one period and evened out in
	// the next, as the totals are cumulative.
	inFlight := map[*slot]time.Duration{}
	for w := range s.workers {
		if w.dead.Load() {
			continue
		}
		for _, c := range w.cores {
			if since := c.busySince.Load(); since != 0 {
				inFlight[w.slot] += max(now.Sub(time.Unix(0, since)), 0)
			}
		}
	}
	ws := make([]busynessSample, len(s.slots))
	cheap := 0
	for i, sl := range s.slots {
		w := sl.current
		ws[i] = busynessSample{
			active: !sl.cheap && w != nil && !w.dead.Load(),
			busy:   time.Duration(sl.runningTime.Load()) + inFlight[sl],
		}
		if sl.cheap && i < cfg.Processes {
			cheap++
		}
	}
	st := &s.cheaper
	if st.busy == nil || st.busyCfg != cfg {
		st.busy, st.busyCfg = newBusyness(cfg, now, ws, s.log.printf), cfg
		return
	}
	switch n := st.busy.cycle(now, ws, cheap, queue); {
	case n > 0:
		s.uncheapSomeLocked(cfg, n, "cheaper: busyness")
	case n < 0:
		s.cheapOldestIdleLocked("cheaper: busyness")
	}
}

// activeWorkersLocked counts the slots with a running worker.
func (s *Server) activeWorkersLocked() int {
	n := 0
	for _, sl := range s.slots {
		if w := sl.current; !sl.cheap && w != nil && !w.dead.Load() {
			n++
		}
	}
	return n
}

// uncheapSomeLocked brings back up to n cheap workers, in slot order.
// Call with s.mu held.
func (s *Server) uncheapSomeLocked(cfg *Config, n int, reason string) {
	spawned := 0
	for i, sl := range s.slots {
		if spawned >= n || i >= cfg.Processes {
			break
		}
		if sl.cheap {
			if err := s.uncheapLocked(sl, cfg, reason); err == nil {
				spawned++
			}
		}
	}
}

// cheapOldestIdleLocked stops the idle worker that was spawned first, as
// uWSGI picks it; with every worker busy nothing goes. Call with s.mu held.
func (s *Server) cheapOldestIdleLocked(reason string) {
	var victim *slot
	var oldest time.Time
	for _, sl := range s.slots {
		w := sl.current
		if sl.cheap || w == nil || w.dead.Load() || w.busyCores() > 0 {
			continue
		}
		if victim == nil || sl.lastSpawn.Before(oldest) {
			victim, oldest = sl, sl.lastSpawn
		}
	}
	if victim != nil {
		s.cheapLocked(victim, reason)
	}
}

// cheapLocked stops sl's worker gracefully and leaves the slot empty.
// Call with s.mu held.
func (s *Server) cheapLocked(sl *slot, reason string) {
	sl.cheap = true
	w := sl.current
	sl.current = nil
	sl.backoffUntil = time.Time{}
	for o := range s.workers {
		if o.slot != sl || o.retiring.Load() {
			continue
		}
		o.why = whyCheap
		s.retireWithMercy(o)
	}
	pid := 0
	if w != nil {
		pid = w.pid
	}
	s.emit(Event{Kind: EventCheaped, Worker: sl.id, PID: pid, Reason: reason})
}

// uncheapLocked starts a worker in cheap slot sl. Call with s.mu held.
func (s *Server) uncheapLocked(sl *slot, cfg *Config, reason string) error {
	sl.cheap = false
	sl.fastDeaths = 0
	if _, err := s.startWorker(sl, cfg, s.gen, sl.spawns > 0, reason); err != nil {
		sl.cheap = true
		s.log.printf("cannot spawn worker %d: %v", sl.id, err)
		return err
	}
	return nil
}

// cheaperAlgoErrors reports a cheaper-algo this engine does not run and
// busyness settings out of range.
func (c *Config) cheaperAlgoErrors() []error {
	var errs []error
	switch c.CheaperAlgo {
	case "", CheaperAlgoSpare, CheaperAlgoBusyness, CheaperAlgoBacklog, CheaperAlgoManual:
	default:
		errs = append(errs, fmt.Errorf("cheaper-algo %q: %s", c.CheaperAlgo, cheaperAlgoHint))
	}
	b := c.CheaperBusyness
	for _, f := range []struct {
		key string
		v   int
	}{
		{"cheaper-busyness-min", b.Min}, {"cheaper-busyness-max", b.Max},
		{"cheaper-busyness-multiplier", b.Multiplier}, {"cheaper-busyness-penalty", b.Penalty},
		{"cheaper-busyness-backlog-alert", b.BacklogAlert}, {"cheaper-busyness-backlog-step", b.BacklogStep},
		{"cheaper-busyness-backlog-multiplier", b.BacklogMultiplier},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: want 0 (uWSGI's default) or more", f.key, f.v))
		}
	}
	if b.BacklogNonzero < 0 {
		errs = append(errs, fmt.Errorf("cheaper-busyness-backlog-nonzero %v: want 0 (uWSGI's default) or more", b.BacklogNonzero))
	}
	if msg := busynessRangeError(b); msg != "" {
		errs = append(errs, fmt.Errorf("cheaper-busyness-min %d, cheaper-busyness-max %d: %s", b.Min, b.Max, msg))
	}
	return errs
}

// cheaperAlgoHint lists the algorithms, for an unknown cheaper-algo.
const cheaperAlgoHint = `want spare (the default), busyness, backlog or manual (uWSGI 2.0.21 would log "unable to find requested cheaper algorithm, falling back to spare")`

// busynessRangeError says what is wrong with min and max as percentages
// (after uWSGI's defaults for zeros), or "".
func busynessRangeError(b CheaperBusyness) string {
	d := b.withDefaults()
	switch {
	case d.Min > 100 || d.Max > 100:
		return "percentages go up to 100"
	case d.Min > d.Max:
		return fmt.Sprintf("the low limit %d%% is above the high limit %d%% (zero means uWSGI's defaults, 25 and 50): busyness between them would both spawn and cheap workers", d.Min, d.Max)
	}
	return ""
}
