package appserver

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// MaxRespawnBackoff caps the delay before respawning a worker that keeps
// dying on start. The delay doubles from one second with each death on
// start in a row (uWSGI sleeps a fixed 2 seconds, with the whole master).
const MaxRespawnBackoff = 5 * time.Second

// backoffDelay is the respawn delay after n deaths on start in a row.
func backoffDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := time.Second << min(n-1, 8)
	return min(d, MaxRespawnBackoff)
}

// startWorker spawns a worker into sl and makes it the slot's current
// process. respawn picks uWSGI's "Respawned" line over "spawned" and counts
// a respawn. Call with s.mu held.
func (s *Server) startWorker(sl *slot, cfg *Config, gen int, respawn bool, reason string) (*worker, error) {
	w, err := s.spawnWorker(sl, cfg, gen)
	if err != nil {
		return nil, err
	}
	sl.current = w
	sl.spawns++
	sl.lastSpawn = w.born
	sl.backoffUntil = time.Time{}
	s.workers[w] = struct{}{}
	if respawn {
		sl.respawns.Add(1)
		s.log.printf("Respawned uWSGI worker %d (new pid: %d)", sl.id, w.pid)
	} else {
		s.log.printf("spawned uWSGI worker %d (pid: %d, cores: %d)", sl.id, w.pid, cfg.Threads)
	}
	s.emit(Event{Kind: EventSpawned, Worker: sl.id, PID: w.pid, Generation: gen, Reason: reason})
	return w, nil
}

// workerReady runs when a worker's core 0 reported READY: a worker started
// by a reload or a recycle replaces the older processes of its slot only
// now, so the app is never without ready workers. A replacement whose app
// did not load under need-app replaces nothing: the old process serves on
// while the new one is respawned.
func (s *Server) workerReady(w *worker) {
	info := w.readyInfo
	cfg := s.cfg()
	s.mu.Lock()
	fresh := false
	if w == w.slot.current {
		if info.App < 0 {
			fresh = info.Error != "" && info.Error != s.appError
			s.appError = info.Error
			if s.appError == "" {
				s.appError = "the app did not load (see the traceback in the log)"
			}
		} else {
			s.appError = ""
		}
	}
	var old []*worker
	var recycled []bool
	if (info.App >= 0 || !cfg.NeedApp) && !s.stopping.Load() && !w.dead.Load() {
		for o := range s.workers {
			if o.slot == w.slot && o.seq < w.seq && !o.retiring.Load() {
				if o.why == "" {
					o.why = whyReload
				}
				old = append(old, o)
				recycled = append(recycled, o.why == whyRecycle)
			}
		}
	}
	s.mu.Unlock()
	if fresh {
		// Each worker prints its traceback; the reason, named plainly, is
		// logged once per distinct failure.
		s.log.printf("*** %s ***", appError(cfg, info))
	}
	reason := ""
	if info.App < 0 {
		reason = appError(cfg, info)
	}
	s.emit(Event{Kind: EventReady, Worker: w.slot.id, PID: w.pid, Generation: w.gen, Reason: reason})
	for i, o := range old {
		if !recycled[i] {
			s.log.printf("Gracefully killing worker %d (pid: %d)...", o.slot.id, o.pid)
		}
		s.retireWithMercy(o)
	}
}

// retireWithMercy retires w and kills it if it is still alive after
// worker-reload-mercy.
func (s *Server) retireWithMercy(w *worker) {
	w.retire()
	mercy := s.cfg().WorkerReloadMercy
	go func() {
		t := time.NewTimer(mercy)
		defer t.Stop()
		select {
		case <-w.exited:
		case <-t.C:
			s.verbose("worker %d (pid: %d) is taking too much time to die...NO MERCY !!!", w.slot.id, w.pid)
			w.kill(syscall.SIGKILL)
		}
	}()
}

// workerExited runs when a worker process has been reaped.
func (s *Server) workerExited(w *worker) {
	for _, c := range s.pool.removeWorker(w) {
		c.close()
	}
	cfg := s.cfg()
	now := s.now()
	s.mu.Lock()
	delete(s.workers, w)
	sl := w.slot
	current := sl.current == w
	stopping := s.stopping.Load()
	why := w.why
	if stopping || (w.retiring.Load() && why != "" && (!current || sl.cheap)) {
		s.mu.Unlock()
		switch why {
		case whyRecycle, whyChain, whyWorkers:
			// A worker replaced while the master runs on (uWSGI's chain
			// reload too); "buried" is for a whole reload or a stop.
			s.log.printf("worker %d killed successfully (pid: %d)", sl.id, w.pid)
		case whyCheap:
			s.log.printf("worker %d killed successfully (pid: %d)", sl.id, w.pid)
			s.log.printf("uWSGI worker %d cheaped.", sl.id)
		default:
			since := w.born
			if ns := w.retireAt.Load(); ns != 0 {
				since = time.Unix(0, ns)
			}
			s.log.printf("worker %d buried after %d seconds", sl.id, int(now.Sub(since).Seconds()))
		}
		if why == "" {
			why = whyStop
		}
		s.emit(Event{Kind: EventExited, Worker: sl.id, PID: w.pid, Generation: w.gen, Reason: why})
		return
	}
	if current && !s.started.Load() && cfg.NeedApp {
		// Start is deciding on need-app: no respawn, it will give up.
		s.mu.Unlock()
		return
	}

	uptime := now.Sub(w.born)
	d := &Death{Time: now, PID: w.pid, ExitCode: w.exitCode(), Signal: w.exitSignal(), Uptime: uptime, Generation: w.gen}
	if d.Signal != 0 {
		d.ExitCode = -1
	}
	loaded := w.readyInfo.App >= 0
	if !loaded && (w.readyInfo.Error != "" || d.ExitCode == NoAppExitCode) {
		d.AppError = w.readyInfo.Error
		if d.AppError == "" {
			d.AppError = "the worker gave no reason"
		}
	}
	d.OnStart = !loaded || uptime < time.Second
	switch {
	case w.harakiri.Load():
		d.Reason = fmt.Sprintf("harakiri: a request ran for more than %d seconds; %s", int(cfg.Harakiri/time.Second), w.exitReason())
		d.OnStart = false
	case d.ExitCode == NoAppExitCode && w.readyInfo.Error != "":
		d.Reason = appError(cfg, w.readyInfo)
	case w.readyAt.IsZero():
		d.Reason = w.exitReason() + " before it was ready (see its output in the log)"
	case !loaded && w.readyInfo.Error != "":
		d.Reason = w.exitReason() + "; " + appError(cfg, w.readyInfo)
	default:
		d.Reason = w.exitReason()
	}
	sl.lastDeath = d
	var delay time.Duration
	if current {
		if d.OnStart {
			sl.fastDeaths++
			delay = backoffDelay(sl.fastDeaths)
		} else {
			sl.fastDeaths = 0
		}
		if delay > 0 {
			sl.backoffUntil = now.Add(delay)
		}
	}
	s.mu.Unlock()

	if d.ExitCode == NoAppExitCode {
		s.log.printf("OOPS ! failed loading app in worker %d (pid %d) :( trying again...", sl.id, w.pid)
	} else {
		s.log.printf("DAMN ! worker %d (pid: %d) %s :( trying respawn ...", sl.id, w.pid, w.exitDescription())
	}
	s.emit(Event{Kind: EventDied, Worker: sl.id, PID: w.pid, Generation: w.gen, Reason: d.Reason, ExitCode: d.ExitCode, Signal: d.Signal})
	if !current {
		// A newer process already took the slot (it was being replaced).
		return
	}
	if delay > 0 {
		s.log.printf("worker respawning too fast !!! i have to sleep a bit (%d seconds)...", int(delay/time.Second))
		s.emit(Event{Kind: EventBackoff, Worker: sl.id, PID: w.pid, Generation: w.gen, Delay: delay, Reason: d.Reason})
	}
	time.AfterFunc(delay, func() { s.respawn(sl, w) })
}

// respawn puts a new worker in sl, replacing dead, unless something else
// (a reload, the cheaper) took care of the slot meanwhile.
func (s *Server) respawn(sl *slot, dead *worker) {
	if s.stopping.Load() {
		return
	}
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() || sl.current != dead || sl.cheap {
		return
	}
	if _, err := s.startWorker(sl, cfg, dead.gen, true, "respawn"); err != nil {
		s.log.printf("cannot respawn worker %d: %v", sl.id, err)
		// Try again later rather than leave the slot empty.
		sl.backoffUntil = s.now().Add(2 * time.Second)
		time.AfterFunc(2*time.Second, func() { s.respawn(sl, dead) })
	}
}

// recycleAsync asks, once, for w to be replaced; why says why (logged and
// reported). Safe from any goroutine, the request path included.
func (s *Server) recycleAsync(w *worker, why, line string) {
	if w.recycling.Swap(true) {
		return
	}
	go func() {
		if err := s.recycle(w, why, line); err != nil {
			s.log.printf("cannot recycle worker %d (pid: %d): %v", w.slot.id, w.pid, err)
		}
	}()
}

// recycle replaces w: a new process starts in its slot; w serves on until
// the new one is ready, then finishes its requests and exits. line, when
// set, is logged before uWSGI's "Seeya" line.
func (s *Server) recycle(w *worker, why, line string) error {
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return fmt.Errorf("the server is stopping")
	}
	sl := w.slot
	if w.dead.Load() || w.retiring.Load() || sl.current != w {
		return nil // it is going anyway
	}
	w.recycling.Store(true)
	w.why = whyRecycle
	if line != "" {
		s.log.printf("%s", line)
	}
	s.log.printf("...The work of process %d is done. Seeya!", w.pid)
	s.emit(Event{Kind: EventRecycled, Worker: sl.id, PID: w.pid, Generation: w.gen, Reason: why})
	if _, err := s.startWorker(sl, cfg, w.gen, true, "recycle: "+why); err != nil {
		w.recycling.Store(false)
		w.why = ""
		return err
	}
	return nil
}

// checkRecycle applies max-requests, reload-on-as and reload-on-rss after
// a request of w ended at end (mem is w's memory, read when needed).
func (s *Server) checkRecycle(w *worker, cfg *Config, end time.Time, mem memInfo) {
	if cfg.MaxRequests <= 0 && cfg.ReloadOnRSS <= 0 && cfg.ReloadOnAS <= 0 {
		return
	}
	if w.recycling.Load() || end.Sub(w.born) < cfg.minLifetime() {
		return
	}
	id := w.slot.id
	switch limit := cfg.MaxRequests + int64(id-1)*cfg.MaxRequestsDelta; {
	case cfg.MaxRequests > 0 && w.requests.Load() >= limit:
		s.recycleAsync(w, fmt.Sprintf("max-requests (%d requests served, limit %d)", w.requests.Load(), limit),
			fmt.Sprintf("worker %d (pid: %d) has served %d requests (max-requests %d): recycling it", id, w.pid, w.requests.Load(), limit))
	case cfg.ReloadOnAS > 0 && mem.VSZ >= uint64(cfg.ReloadOnAS):
		s.recycleAsync(w, fmt.Sprintf("reload-on-as (address space %d MB, limit %d MB)", mem.VSZ>>20, cfg.ReloadOnAS>>20),
			fmt.Sprintf("worker %d (pid: %d) address space is %d MB (reload-on-as %d MB): recycling it", id, w.pid, mem.VSZ>>20, cfg.ReloadOnAS>>20))
	case cfg.ReloadOnRSS > 0 && mem.RSS >= uint64(cfg.ReloadOnRSS):
		s.recycleAsync(w, fmt.Sprintf("reload-on-rss (rss %d MB, limit %d MB)", mem.RSS>>20, cfg.ReloadOnRSS>>20),
			fmt.Sprintf("worker %d (pid: %d) rss is %d MB (reload-on-rss %d MB): recycling it", id, w.pid, mem.RSS>>20, cfg.ReloadOnRSS>>20))
	}
}

// autoreload is a worker's py-autoreload request: path changed. Every
// worker of a generation notices the same change; the first one reloads.
func (s *Server) autoreload(w *worker, path string) {
	s.mu.Lock()
	if s.stopping.Load() || w.gen < s.gen || s.autoreloadGen == w.gen+1 {
		s.mu.Unlock()
		return
	}
	s.autoreloadGen = w.gen + 1
	s.mu.Unlock()
	go s.selfReload(ReloadGraceful, true, "py-autoreload: "+path)
}

// writePidfiles writes the master's pid to pidfile and pidfile2, at start
// and on master-fifo P, with uWSGI's log line.
func (s *Server) writePidfiles(cfg *Config) error {
	for _, p := range cfg.pidfiles() {
		s.log.printf("writing pidfile to %s", p.path)
		if err := os.WriteFile(p.path, []byte(strconv.Itoa(s.pid)+"\n"), 0o644); err != nil {
			return fmt.Errorf("%s %s: %w", p.option, p.path, err)
		}
	}
	return nil
}
