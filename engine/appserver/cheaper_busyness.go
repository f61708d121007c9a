package appserver

import "time"

// CheaperBusyness tunes the busyness cheaper algorithm (cheaper-algo =
// busyness), the cheaper-busyness-* options of uWSGI's cheaper_busyness
// plugin. As in uWSGI, a zero field takes uWSGI's default, so "0" in an
// ini file means the default too.
type CheaperBusyness struct {
	// Min and Max are percentages (cheaper-busyness-min and -max, default
	// 25 and 50): over Max of average busyness, cheaper-step workers come
	// back; under Min for Multiplier periods, one worker goes cheap.
	Min, Max int
	// Multiplier (cheaper-busyness-multiplier, default 10) is how many
	// cheaper-overload periods the average stays under Min before a worker
	// goes cheap. Penalty (cheaper-busyness-penalty, default 2) is added
	// to it when workers have to come back within that time of a cheap,
	// and taken off again, one at a time, as later spawns and cheaps find
	// the load steady.
	Multiplier, Penalty int
	// Verbose (cheaper-busyness-verbose) logs every period's busyness and
	// the algorithm's timers.
	Verbose bool
	// BacklogAlert (cheaper-busyness-backlog-alert, default 33): when more
	// requests than this wait for a worker, BacklogStep (default 1)
	// emergency workers come back at once, checked every master cycle
	// rather than every period. While emergency workers run, one goes
	// cheap after BacklogMultiplier (default 3) periods under Min instead
	// of Multiplier.
	BacklogAlert, BacklogStep, BacklogMultiplier int
	// BacklogNonzero (cheaper-busyness-backlog-nonzero, default 60 s):
	// when requests have waited for a worker for this long without a
	// break, emergency workers come back too.
	BacklogNonzero time.Duration
}

// withDefaults fills the zero fields with uWSGI's defaults.
func (b CheaperBusyness) withDefaults() CheaperBusyness {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&b.Min, 25)
	def(&b.Max, 50)
	def(&b.Multiplier, 10)
	def(&b.Penalty, 2)
	def(&b.BacklogAlert, 33)
	def(&b.BacklogStep, 1)
	def(&b.BacklogMultiplier, 3)
	if b.BacklogNonzero == 0 {
		b.BacklogNonzero = 60 * time.Second
	}
	return b
}

// busynessSample is one worker slot as the busyness algorithm sees it.
type busynessSample struct {
	active bool // a worker runs in the slot (it is not cheap)
	// busy is the core-time the slot's workers have spent in requests,
	// ever, the ones in progress included: the busy time of a period is
	// the difference between its two ends.
	busy time.Duration
}

// Action codes of the last thing the busyness algorithm did.
const (
	busynessSpawned = 1
	busynessCheaped = 2
)

// busyness is the state of uWSGI 2.0.21's busyness algorithm
// (plugins/cheaper_busyness), run once per master cycle by cycle.
//
// Where uWSGI reads a worker's running_time, the total time of the
// requests it finished, plus a guess for those in progress (a worker
// seen busy in a period that finished nothing counts as 100% busy), the
// master here knows when each request in progress began, so a period's
// busyness is exactly the share of it the worker's cores spent in
// requests. With threads that share is of all the cores: one busy
// thread of four is 25% here, where uWSGI adds its threads' times and
// caps the sum at 100%.
type busyness struct {
	set       CheaperBusyness // with defaults
	period    time.Duration   // cheaper-overload seconds
	overload  int             // cheaper-overload, for the log lines
	step      int             // cheaper-step
	least     int             // cheaper: the fewest running workers
	processes int
	cores     int // per worker
	logf      Logf

	tcheck      time.Time       // start of the current period
	last        []time.Duration // each slot's busy at tcheck
	multi       int             // the current multiplier
	nextCheap   time.Time       // no cheap before this
	lastCheaped time.Time
	lastAction  int
	tolerance   int // periods in a row between min and max
	emergency   int // emergency workers running
	backlogSeen bool
	backlogFrom time.Time // since when requests have been waiting
}

// newBusyness starts the algorithm at now with the slots' state in ws,
// logging its settings as uWSGI does when the plugin starts.
func newBusyness(cfg *Config, now time.Time, ws []busynessSample, logf Logf) *busyness {
	set := cfg.CheaperBusyness.withDefaults()
	b := &busyness{
		set: set, period: time.Duration(cfg.CheaperOverload) * time.Second, overload: cfg.CheaperOverload,
		step: cfg.CheaperStep, least: cfg.Cheaper, processes: cfg.Processes, cores: max(cfg.Threads, 1),
		logf: logf, tcheck: now, multi: set.Multiplier,
	}
	b.last = make([]time.Duration, len(ws))
	for i, w := range ws {
		b.last[i] = w.busy
	}
	logf("[busyness] settings: min=%d%%, max=%d%%, overload=%d, multiplier=%d, respawn penalty=%d",
		set.Min, set.Max, b.overload, set.Multiplier, set.Penalty)
	logf("[busyness] backlog alert is set to %d request(s), step is %d", set.BacklogAlert, set.BacklogStep)
	logf("[busyness] backlog non-zero alert is set to %d second(s)", int(set.BacklogNonzero/time.Second))
	b.setNextCheap(now)
	return b
}

// setNextCheap restarts the timer that a cheap waits for.
func (b *busyness) setNextCheap(now time.Time) {
	if b.emergency > 0 {
		// Emergency workers go sooner, after a short spike.
		if b.set.Verbose {
			b.logf("[busyness] %d emergency worker(s) running, using %d seconds cheaper timer", b.emergency, b.overload*b.set.BacklogMultiplier)
		}
		b.nextCheap = now.Add(b.period * time.Duration(b.set.BacklogMultiplier))
		return
	}
	b.nextCheap = now.Add(b.period * time.Duration(b.multi))
}

// decreaseMulti takes one off the multiplier, down to its configured value.
func (b *busyness) decreaseMulti() {
	if b.multi > b.set.Multiplier {
		b.multi--
		b.logf("[busyness] decreasing cheaper multiplier to %d", b.multi)
	}
}

// emergencySpawn answers a listen queue over the alert.
func (b *busyness) emergencySpawn(now time.Time, backlog, cheap int) int {
	b.multi = b.set.Multiplier
	b.lastAction = busynessSpawned
	n := min(cheap, b.set.BacklogStep)
	b.setNextCheap(now)
	if n > 0 {
		b.emergency += n
		b.logf("[busyness] %d requests in listen queue, spawning %d emergency worker(s) (%d)!", backlog, n, b.emergency)
	} else {
		b.logf("[busyness] %d requests in listen queue but we are already started maximum number of workers (%d)", backlog, b.processes)
	}
	return n
}

// cycle runs the algorithm once: ws are the slots in order, cheap how
// many of them could be spawned, backlog the requests waiting for a
// worker. It returns how many workers to spawn, or -1 to cheap one (the
// oldest idle), or 0.
func (b *busyness) cycle(now time.Time, ws []busynessSample, cheap, backlog int) int {
	active := 0
	for _, w := range ws {
		if w.active {
			active++
		}
	}
	if len(b.last) < len(ws) { // a reload added slots
		b.last = append(b.last, make([]time.Duration, len(ws)-len(b.last))...)
	}
	elapsed := now.Sub(b.tcheck)
	if elapsed >= b.period {
		b.tcheck = now
		total := 0
		for i, w := range ws {
			if w.active {
				// Over the time that really passed: a master cycle can run
				// a little late, and uWSGI's fixed period would then
				// count more busy time than there was room for.
				pct := 0
				if elapsed > 0 {
					pct = int(int64(w.busy-b.last[i]) * 100 / (int64(elapsed) * int64(b.cores)))
				}
				pct = min(max(pct, 0), 100)
				total += pct
				if b.set.Verbose && active > 1 {
					b.logf("[busyness] worker nr %d %ds average busyness is at %d%%", i+1, b.overload, pct)
				}
			}
			b.last[i] = w.busy
		}
		avg := 0
		if active > 0 {
			avg = total / active
		}
		if b.set.Verbose {
			b.logf("[busyness] %ds average busyness of %d worker(s) is at %d%%", b.overload, active, avg)
		}
		switch {
		case avg > b.set.Max:
			b.tolerance = 0
			n := min(cheap, b.step)
			if n == 0 {
				b.logf("[busyness] %ds average busyness is at %d%% but we already started maximum number of workers available with current limits (%d)", b.overload, avg, active)
				return 0
			}
			b.lastAction = busynessSpawned
			if !b.lastCheaped.IsZero() && int(now.Sub(b.lastCheaped)/b.period) <= b.multi {
				// Workers come back within the time one waited to go:
				// the next cheap waits longer.
				b.multi += b.set.Penalty
				// uWSGI's wording, "to fast" included: log readers match it.
				b.logf("[busyness] worker(s) respawned to fast, increasing cheaper multiplier to %d (+%d)", b.multi, b.set.Penalty)
			} else {
				b.decreaseMulti()
			}
			b.setNextCheap(now)
			b.logf("[busyness] %ds average busyness is at %d%%, will spawn %d new worker(s)", b.overload, avg, n)
			return n
		case backlog > b.set.BacklogAlert && active < b.processes:
			return b.emergencySpawn(now, backlog, cheap)
		case avg < b.set.Min:
			if active == 1 {
				return 0
			}
			b.tolerance = 0
			if active <= b.least {
				return 0
			}
			if now.Before(b.nextCheap) {
				if b.set.Verbose {
					b.logf("[busyness] need to wait %d more second(s) to cheap worker", int(b.nextCheap.Sub(now)/time.Second))
				}
				return 0
			}
			if b.lastAction == busynessCheaped {
				b.decreaseMulti()
			}
			b.setNextCheap(now)
			b.logf("[busyness] %ds average busyness is at %d%%, cheap one of %d running workers", b.overload, avg, active)
			b.lastCheaped = now
			b.lastAction = busynessCheaped
			if b.emergency > 0 {
				b.emergency--
			}
			return -1
		default:
			if active == 1 {
				return 0
			}
			if b.emergency > 0 {
				b.emergency--
			}
			// Between min and max: three such periods in a row restart
			// the idle timer; fewer only move it on by this period, so a
			// short spike in an idle stretch does not count as idle.
			b.tolerance++
			if b.tolerance >= 3 {
				if b.set.Verbose {
					b.logf("[busyness] %ds average busyness is at %d%%, %d non-idle cycle(s), resetting cheaper timer", b.overload, avg, b.tolerance)
				}
				b.setNextCheap(now)
			} else {
				if b.set.Verbose {
					b.logf("[busyness] %ds average busyness is at %d%%, %d non-idle cycle(s), adjusting cheaper timer", b.overload, avg, b.tolerance)
				}
				b.nextCheap = b.nextCheap.Add(b.period)
			}
		}
		return 0
	}
	// Between periods the listen queue is watched every cycle.
	switch {
	case backlog > b.set.BacklogAlert && active < b.processes:
		return b.emergencySpawn(now, backlog, cheap)
	case backlog > 0:
		if !b.backlogSeen {
			if b.set.Verbose {
				b.logf("[busyness] backlog is starting to fill (%d)", backlog)
			}
			b.backlogSeen, b.backlogFrom = true, now
			return 0
		}
		if waited := now.Sub(b.backlogFrom); waited >= b.set.BacklogNonzero {
			b.logf("[busyness] backlog was non-zero for %d second(s), spawning new worker(s)", int(waited/time.Second))
			b.backlogFrom = now
			return b.emergencySpawn(now, backlog, cheap)
		}
	case b.backlogSeen:
		if b.set.Verbose {
			b.logf("[busyness] backlog is now empty")
		}
		b.backlogSeen = false
	}
	return 0
}
