package control

import (
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// WorkerHistory returns worker id's samples newer than since, oldest
// first (the zero time: all that are kept, at least 15 minutes at one
// sample a second): the engine's own sampler's. The history starts afresh
// when the engine starts, and is empty while it does not run.
func (r *Runner) WorkerHistory(id int, since time.Time) []metrics.WorkerSample {
	if s := r.sampler(); s != nil {
		return s.History(id, since)
	}
	return nil
}

// TotalHistory returns the whole engine's samples newer than since.
func (r *Runner) TotalHistory(since time.Time) []metrics.MasterSample {
	if s := r.sampler(); s != nil {
		return s.MasterHistory(since)
	}
	return nil
}

// ProxyHistory returns the proxy's per-interval response counts newer than
// since, oldest first; ok is false until the proxy has run (its
// responses are counted from then on). The history spans the proxy's runs.
func (r *Runner) ProxyHistory(since time.Time) (samples []ProxySample, ok bool) {
	r.mu.Lock()
	ok = r.pxCounting
	r.mu.Unlock()
	return r.pxHist.since(since), ok
}

func (r *Runner) sampler() *metrics.Sampler {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.eng == nil {
		return nil
	}
	return r.eng.srv.Metrics()
}

// proxyHistory keeps the last metrics.DefaultCapacity samples.
type proxyHistory struct {
	mu      sync.Mutex
	samples []ProxySample // a ring once full
	next    int
}

func (h *proxyHistory) add(s ProxySample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.samples) < metrics.DefaultCapacity {
		h.samples = append(h.samples, s)
		return
	}
	h.samples[h.next] = s
	h.next = (h.next + 1) % len(h.samples)
}

func (h *proxyHistory) since(t time.Time) []ProxySample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ProxySample
	for i := range h.samples {
		s := h.samples[(h.next+i)%len(h.samples)]
		if s.Time.After(t) {
			out = append(out, s)
		}
	}
	return out
}
