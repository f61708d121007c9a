package appserver

import "time"

// cheaperState is the spare algorithm's memory between master cycles.
type cheaperState struct {
	overload int // cycles with every running worker busy (decays when one is idle)
	idle     int // cycles since the last overload
}

// cheaperCycle runs uWSGI's default ("spare") cheaper algorithm once per
// master cycle: when every running worker has been busy for more than
// cheaper-overload cycles, cheaper-step cheap workers come back; when the
// load is gone, one idle worker goes cheap every cheaper-overload cycles
// until cheaper remain. One spare (idle) worker is a stable state.
func (s *Server) cheaperCycle(cfg *Config) {
	if !cfg.cheaperMode() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() || s.reload != nil {
		return
	}
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
		spawned := 0
		for _, sl := range s.slots {
			if spawned >= cfg.CheaperStep {
				break
			}
			if sl.cheap {
				if err := s.uncheapLocked(sl, cfg, "cheaper: every worker busy"); err == nil {
					spawned++
				}
			}
		}
	case st.overload == 0:
		if active > busy && active-busy == 1 {
			return // one spare worker: stable
		}
		st.idle++
		if active > cfg.Cheaper && st.idle%cfg.CheaperOverload == 0 {
			// The oldest idle worker goes.
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
				s.cheapLocked(victim, "cheaper: idle")
			}
		}
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
