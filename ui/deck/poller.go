package deck

import (
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// maxLogBatch bounds the log lines one poll takes: a burst of logging
// cannot stall the window, and the rest come with the next polls.
const maxLogBatch = 2000

// poller reads the backend. Its cursors (the last sample and log line
// seen) belong to whichever goroutine polls: the polling goroutine, or the
// test calling Deck.Refresh, never both.
type poller struct {
	b      Backend
	kicked chan struct{}

	mu   sync.Mutex // guards proj and gen, set from the Fyne goroutine
	proj Project
	gen  int

	curGen      int
	workerSince map[int]time.Time
	totalSince  time.Time
	proxySince  time.Time
	logSeq      uint64
}

// pollResult is one poll: every project's state, and the selected
// project's new samples and log lines.
type pollResult struct {
	gen     int
	snaps   map[string]Snapshot
	workers map[int][]metrics.WorkerSample
	totals  []metrics.MasterSample
	proxy   []ProxySample
	proxyOK bool
	logs    []LogLine
}

func newPoller(b Backend) *poller {
	return &poller{b: b, kicked: make(chan struct{}, 1), workerSince: map[int]time.Time{}}
}

func (p *poller) setProject(pr Project, gen int) {
	p.mu.Lock()
	p.proj, p.gen = pr, gen
	p.mu.Unlock()
	p.kick()
}

// kick asks for a poll now (after an event) instead of at the next tick.
func (p *poller) kick() {
	select {
	case p.kicked <- struct{}{}:
	default:
	}
}

func (p *poller) poll() pollResult {
	p.mu.Lock()
	pr, gen := p.proj, p.gen
	p.mu.Unlock()
	if gen != p.curGen {
		p.curGen = gen
		p.workerSince = map[int]time.Time{}
		p.totalSince, p.proxySince, p.logSeq = time.Time{}, time.Time{}, 0
	}
	r := pollResult{gen: gen, snaps: map[string]Snapshot{}}
	for _, info := range p.b.Projects() {
		if x := p.b.Project(info.ID); x != nil {
			r.snaps[info.ID] = x.Snapshot()
		}
	}
	if pr == nil {
		return r
	}
	snap := r.snaps[pr.Info().ID]
	r.workers = map[int][]metrics.WorkerSample{}
	for _, w := range snap.Workers {
		h := pr.WorkerHistory(w.ID, p.workerSince[w.ID])
		if len(h) > 0 {
			p.workerSince[w.ID] = h[len(h)-1].Time
			r.workers[w.ID] = h
		}
	}
	if h := pr.TotalHistory(p.totalSince); len(h) > 0 {
		p.totalSince = h[len(h)-1].Time
		r.totals = h
	}
	if h, ok := pr.ProxyHistory(p.proxySince); ok {
		r.proxyOK = true
		if len(h) > 0 {
			p.proxySince = h[len(h)-1].Time
			r.proxy = h
		}
	}
	r.logs = pr.Logs(p.logSeq, maxLogBatch)
	if n := len(r.logs); n > 0 {
		p.logSeq = r.logs[n-1].Seq
	}
	return r
}
