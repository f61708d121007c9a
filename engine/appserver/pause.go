package appserver

import (
	"cmp"
	"slices"
	"syscall"
)

// Pause suspends every worker process (SIGSTOP), as uWSGI's SIGTSTP and
// master-fifo p do: requests wait, in the listen queue and at the cores,
// until Resume. Harakiri, the cheaper algorithm and the lifetime and
// memory limits wait too: a paused request is not slow. A worker spawned
// while paused (a respawn) is not paused.
func (s *Server) Pause() {
	if s.stopping.Load() || !s.started.Load() || s.paused.Swap(true) {
		return
	}
	s.verbose("*** PAUSE (press start to resume, if you do not have a joypad send SIGTSTP) ***")
	for _, w := range s.liveWorkers() {
		w.kill(syscall.SIGSTOP)
		s.verbose("*** worker %d suspended ***", w.slot.id)
	}
}

// Resume ends Pause (SIGCONT to every worker).
func (s *Server) Resume() {
	if !s.paused.Swap(false) {
		return
	}
	s.verbose("*** (SIGTSTP received) resuming workers ***")
	s.continueWorkers(true)
}

// TogglePause is SIGTSTP and master-fifo p: pause, or resume when paused.
func (s *Server) TogglePause() {
	if s.paused.Load() {
		s.Resume()
	} else {
		s.Pause()
	}
}

// unpause resumes the workers, quietly, before they are told to exit (a
// stopped process cannot finish its requests or notice its channel close).
func (s *Server) unpause() {
	if s.paused.Swap(false) {
		s.continueWorkers(false)
	}
}

func (s *Server) continueWorkers(logged bool) {
	for _, w := range s.liveWorkers() {
		w.kill(syscall.SIGCONT)
		if logged {
			s.verbose("*** worker %d resumed ***", w.slot.id)
		}
	}
}

// liveWorkers lists the worker processes alive now, by worker id.
func (s *Server) liveWorkers() []*worker {
	s.mu.Lock()
	ws := s.allWorkers()
	s.mu.Unlock()
	out := ws[:0]
	for _, w := range ws {
		if !w.dead.Load() {
			out = append(out, w)
		}
	}
	byWorkerID(out)
	return out
}

// byWorkerID orders ws by worker id, then age.
func byWorkerID(ws []*worker) {
	slices.SortFunc(ws, func(a, b *worker) int {
		return cmp.Or(cmp.Compare(a.slot.id, b.slot.id), cmp.Compare(a.seq, b.seq))
	})
}
