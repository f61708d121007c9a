package metrics

import (
	"sync"
	"sync/atomic"
	"time"
)

// MaxWorkerID bounds the worker ids a Recorder accepts (uWSGI numbers its
// workers from 1; nobody runs 65535 of them). Requests of other ids are
// counted in Dropped instead.
const MaxWorkerID = 1<<16 - 1

// Recorder counts finished requests per worker. Its counters only grow
// (they survive respawns, like uWSGI's "requests"); the Sampler turns them
// into per-interval figures. The zero value is ready to use; it is safe for
// concurrent use and built for the request path: RequestDone is a few
// atomic adds on counters owned by the worker.
type Recorder struct {
	workers atomic.Pointer[[]*workerCounters] // indexed by worker id
	grow    sync.Mutex
	dropped atomic.Uint64
}

// workerCounters are one worker's cumulative counters. Workers never share
// one, so the adds of different workers do not contend. The number of
// requests is the sum of the status classes: one atomic add fewer per
// request.
type workerCounters struct {
	exceptions atomic.Uint64
	latency    atomic.Int64 // sum of durations, ns
	status     [numClasses]atomic.Uint64
	buckets    [numBuckets]atomic.Uint64
}

// The HTTP status classes counted.
const (
	classOther = iota // outside 100..599, e.g. 0 for a request that ended before a status
	class1xx
	class2xx
	class3xx
	class4xx
	class5xx
	numClasses
)

func classOf(status int) int {
	if status < 100 || status > 599 {
		return classOther
	}
	return status / 100
}

// RequestDone records a finished request of worker workerID: how long it
// took, the HTTP status sent (0 if none was), and whether the app raised.
func (r *Recorder) RequestDone(workerID int, dur time.Duration, status int, exception bool) {
	w := r.counters(workerID)
	if w == nil {
		r.dropped.Add(1)
		return
	}
	w.latency.Add(int64(max(dur, 0)))
	w.status[classOf(status)].Add(1)
	w.buckets[bucketOf(dur)].Add(1)
	if exception {
		w.exceptions.Add(1)
	}
}

// counters returns worker id's counters, creating them on its first
// request; nil for an id out of range.
func (r *Recorder) counters(id int) *workerCounters {
	if ws := r.workers.Load(); ws != nil && id >= 0 && id < len(*ws) {
		if w := (*ws)[id]; w != nil {
			return w
		}
	}
	return r.slowCounters(id)
}

// slowCounters adds worker id, copying the table so readers never see it
// change under them.
func (r *Recorder) slowCounters(id int) *workerCounters {
	if id < 0 || id > MaxWorkerID {
		return nil
	}
	r.grow.Lock()
	defer r.grow.Unlock()
	var old []*workerCounters
	if p := r.workers.Load(); p != nil {
		old = *p
	}
	if id < len(old) && old[id] != nil {
		return old[id]
	}
	ws := make([]*workerCounters, max(len(old), id+1))
	copy(ws, old)
	ws[id] = new(workerCounters)
	r.workers.Store(&ws)
	return ws[id]
}

// Dropped is the number of requests recorded with a worker id out of range
// (negative or above MaxWorkerID), which are not counted anywhere else.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Totals are a worker's cumulative counters.
type Totals struct {
	Requests   uint64
	Exceptions uint64
	Latency    time.Duration // sum of all request durations
	Status     StatusCounts
}

// StatusCounts counts responses by HTTP status class.
type StatusCounts struct {
	Informational uint64 // 1xx
	Success       uint64 // 2xx
	Redirection   uint64 // 3xx
	ClientError   uint64 // 4xx
	ServerError   uint64 // 5xx
	Other         uint64 // no status, or one outside 100..599
}

func (s StatusCounts) total() uint64 {
	return s.Informational + s.Success + s.Redirection + s.ClientError + s.ServerError + s.Other
}

func (s *StatusCounts) add(o StatusCounts) {
	s.Informational += o.Informational
	s.Success += o.Success
	s.Redirection += o.Redirection
	s.ClientError += o.ClientError
	s.ServerError += o.ServerError
	s.Other += o.Other
}

func (s StatusCounts) sub(o StatusCounts) StatusCounts {
	return StatusCounts{s.Informational - o.Informational, s.Success - o.Success, s.Redirection - o.Redirection,
		s.ClientError - o.ClientError, s.ServerError - o.ServerError, s.Other - o.Other}
}

// Totals returns worker id's counters now, and whether it ever finished a
// request.
func (r *Recorder) Totals(id int) (Totals, bool) {
	w := r.lookup(id)
	if w == nil {
		return Totals{}, false
	}
	return w.totals(), true
}

// WorkerIDs returns the ids that finished at least one request, ascending.
func (r *Recorder) WorkerIDs() []int {
	p := r.workers.Load()
	if p == nil {
		return nil
	}
	var ids []int
	for id, w := range *p {
		if w != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func (r *Recorder) lookup(id int) *workerCounters {
	p := r.workers.Load()
	if p == nil || id < 0 || id >= len(*p) {
		return nil
	}
	return (*p)[id]
}

func (w *workerCounters) totals() Totals {
	t := Totals{
		Exceptions: w.exceptions.Load(),
		Latency:    time.Duration(w.latency.Load()),
		Status: StatusCounts{
			Informational: w.status[class1xx].Load(),
			Success:       w.status[class2xx].Load(),
			Redirection:   w.status[class3xx].Load(),
			ClientError:   w.status[class4xx].Load(),
			ServerError:   w.status[class5xx].Load(),
			Other:         w.status[classOther].Load(),
		},
	}
	t.Requests = t.Status.total()
	return t
}

// loadBuckets copies the histogram into dst.
func (w *workerCounters) loadBuckets(dst *[numBuckets]uint64) {
	for i := range w.buckets {
		dst[i] = w.buckets[i].Load()
	}
}
