package appserver

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// harakiriTick is how often the master looks for requests over harakiri:
// it knows when each request started, so a request is cut within this
// much of its deadline (uWSGI checks once a second).
const harakiriTick = 100 * time.Millisecond

// supervise is the master's loop: harakiri every harakiriTick, the end of
// reloads, and every CheckInterval the cheaper algorithm, touch and
// fs-reload files, max-worker-lifetime and the evil memory limits.
func (s *Server) supervise() {
	t := time.NewTicker(harakiriTick)
	defer t.Stop()
	touch := newTouchWatch(s.cfg())
	next := s.now().Add(s.cfg().CheckInterval)
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if s.stopping.Load() {
			return
		}
		now := s.now()
		cfg := s.cfg()
		paused := s.paused.Load()
		if !paused {
			s.checkHarakiri(cfg, now)
		}
		s.checkReloadDone()
		if now.Before(next) {
			continue
		}
		next = now.Add(cfg.CheckInterval)
		if !paused {
			s.cheaperCycle(cfg)
			s.checkLifetimes(cfg, now)
			s.checkEvilMemory(cfg)
		}
		if cfg.LogMaxSize > 0 && s.logSize() > cfg.LogMaxSize {
			s.rotateLog()
		}
		touch.check(s)
	}
}

// checkHarakiri kills the workers whose requests ran over harakiri.
func (s *Server) checkHarakiri(cfg *Config, now time.Time) {
	if cfg.Harakiri <= 0 {
		return
	}
	limit := int64(cfg.Harakiri)
	nowNS := now.UnixNano()
	s.mu.Lock()
	var victims []*worker
	for w := range s.workers {
		if w.dead.Load() {
			continue
		}
		if w.harakiri.Load() {
			// Killed already; try again if it still lives a second later.
			if now.Sub(w.harakiriAt) >= time.Second {
				victims = append(victims, w)
			}
			continue
		}
		for _, c := range w.cores {
			if since := c.busySince.Load(); since != 0 && nowNS-since >= limit {
				victims = append(victims, w)
				break
			}
		}
	}
	s.mu.Unlock()
	for _, w := range victims {
		s.harakiri(w, cfg, now)
	}
}

// harakiri logs uWSGI's harakiri report for w and SIGKILLs it; its
// requests over the limit get 504, the other ones it held 502.
func (s *Server) harakiri(w *worker, cfg *Config, now time.Time) {
	w.tries++
	w.harakiriAt = now
	first := !w.harakiri.Swap(true)
	id := w.slot.id
	s.verbose("*** HARAKIRI ON WORKER %d (pid: %d, try: %d) ***", id, w.pid, w.tries)
	if cfg.HarakiriVerbose {
		// uWSGI's two lines, on Linux: what the worker's main thread is
		// blocked in (syscall number and arguments) and where.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", w.pid)); err == nil && len(b) > 0 {
			s.log.printf("HARAKIRI: -- syscall> %s", b)
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", w.pid)); err == nil && len(b) > 0 {
			s.log.printf("HARAKIRI: -- wchan> %s", b)
		}
	}
	s.verbose("HARAKIRI !!! worker %d status !!!", id)
	var over *RequestEvent
	for _, c := range w.cores {
		var cs CoreState
		c.describe(&cs, false)
		if !cs.InRequest {
			continue
		}
		s.verbose("HARAKIRI [core %d] %s - %s %s since %d", c.id, cs.RemoteAddr, cs.Method, cs.URI, cs.Since.Unix())
		if now.Sub(cs.Since) >= cfg.Harakiri {
			c.harakiri.Store(true)
			if over == nil {
				over = &RequestEvent{Worker: id, PID: w.pid, Core: c.id, Start: cs.Since, Duration: now.Sub(cs.Since),
					Method: cs.Method, URI: cs.URI, RemoteAddr: cs.RemoteAddr, Status: 504, Outcome: "harakiri"}
			}
		}
	}
	s.verbose("HARAKIRI !!! end of worker %d status !!!", id)
	if first {
		w.slot.harakiris.Add(1)
		reason := fmt.Sprintf("a request ran for more than %d seconds", int(cfg.Harakiri/time.Second))
		if over != nil {
			reason = fmt.Sprintf("%s %s ran for more than %d seconds", over.Method, over.URI, int(cfg.Harakiri/time.Second))
		}
		s.emit(Event{Kind: EventHarakiri, Worker: id, PID: w.pid, Generation: w.gen, Reason: reason, Request: over})
	}
	w.kill(syscall.SIGKILL)
}

// checkLifetimes recycles the workers older than max-worker-lifetime.
func (s *Server) checkLifetimes(cfg *Config, now time.Time) {
	if cfg.MaxWorkerLifetime <= 0 {
		return
	}
	s.mu.Lock()
	var old []*worker
	for _, sl := range s.slots {
		if w := sl.current; w != nil && !w.dead.Load() && !w.recycling.Load() && now.Sub(w.born) > cfg.MaxWorkerLifetime {
			old = append(old, w)
		}
	}
	s.mu.Unlock()
	for _, w := range old {
		life := int(now.Sub(w.born) / time.Second)
		s.recycleAsync(w, fmt.Sprintf("max-worker-lifetime (running for %d seconds)", life),
			fmt.Sprintf("worker %d lifetime reached, it was running for %d second(s)", w.slot.id, life))
	}
}

// checkEvilMemory SIGKILLs the workers over evil-reload-on-as/-rss.
func (s *Server) checkEvilMemory(cfg *Config) {
	if cfg.EvilReloadOnAS <= 0 && cfg.EvilReloadOnRSS <= 0 {
		return
	}
	s.mu.Lock()
	ws := s.currentWorkers()
	s.mu.Unlock()
	for _, w := range ws {
		if w.dead.Load() {
			continue
		}
		mem, err := readMemInfo(w.pid)
		if err != nil {
			continue
		}
		switch {
		case cfg.EvilReloadOnAS > 0 && mem.VSZ >= uint64(cfg.EvilReloadOnAS):
			s.log.printf("*** EVIL RELOAD ON WORKER %d ADDRESS SPACE: %d (pid: %d) ***", w.slot.id, mem.VSZ, w.pid)
			w.kill(syscall.SIGKILL)
		case cfg.EvilReloadOnRSS > 0 && mem.RSS >= uint64(cfg.EvilReloadOnRSS):
			s.log.printf("*** EVIL RELOAD ON WORKER %d RSS: %d (pid: %d) ***", w.slot.id, mem.RSS, w.pid)
			w.kill(syscall.SIGKILL)
		}
	}
}

// touchWatch polls the touch-reload family of files and the fs-reload
// paths. mtimes are compared with the previous look; a file that appears
// or disappears counts as touched, as in uWSGI.
type touchWatch struct {
	files []touchFile
}

type touchFile struct {
	path  string
	mode  ReloadMode
	kind  string // "touch", "chain", "workers", "fs"
	stamp string // what the last look saw
}

func newTouchWatch(cfg *Config) *touchWatch {
	t := &touchWatch{}
	add := func(paths []string, mode ReloadMode, kind string) {
		for _, p := range paths {
			f := touchFile{path: p, mode: mode, kind: kind}
			f.stamp = f.look()
			t.files = append(t.files, f)
		}
	}
	add(cfg.TouchReload, ReloadGraceful, "touch")
	add(cfg.TouchChainReload, ReloadChain, "chain")
	add(cfg.TouchWorkersReload, ReloadGraceful, "workers")
	add(cfg.FSReload, ReloadGraceful, "fs")
	return t
}

// look describes the file's state: its mtime and size, and for a
// directory (fs-reload) those of every entry.
func (f *touchFile) look() string {
	fi, err := os.Stat(f.path)
	if err != nil {
		return "missing"
	}
	stamp := fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size())
	if f.kind == "fs" && fi.IsDir() {
		entries, _ := os.ReadDir(f.path)
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				stamp += fmt.Sprintf(";%s:%d/%d", e.Name(), info.ModTime().UnixNano(), info.Size())
			}
		}
	}
	return stamp
}

// check reloads for the first touched file (the others are looked at
// again next cycle, after the reload).
func (t *touchWatch) check(s *Server) {
	for i := range t.files {
		f := &t.files[i]
		now := f.look()
		if now == f.stamp {
			continue
		}
		f.stamp = now
		switch f.kind {
		case "touch":
			s.verbose("*** %s has been touched... grace them all !!! ***", f.path)
			go s.selfReload(ReloadGraceful, true, "touch-reload "+f.path)
		case "chain":
			s.verbose("*** %s has been touched... chain reload !!! ***", f.path)
			go s.selfReload(ReloadChain, false, "touch-chain-reload "+f.path)
		case "workers":
			s.verbose("*** %s has been touched... workers reload !!! ***", f.path)
			go s.selfReload(ReloadGraceful, false, "touch-workers-reload "+f.path)
		case "fs":
			s.log.printf("[uwsgi-fsmon] %s has been modified", filepath.Clean(f.path))
			go s.selfReload(ReloadGraceful, true, "fs-reload "+f.path)
		}
		// Every touched file is re-read, but one reload is enough.
		for j := range t.files {
			t.files[j].stamp = t.files[j].look()
		}
		return
	}
}
