package deck

import (
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
)

// maxLogBatch is how many log lines one call to Project.Logs returns.
const maxLogBatch = 2000

// maxLogBatches bounds the batches one poll takes (the backend keeps
// 10,000 lines: 5 batches).
const maxLogBatches = 8

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
	traceSeq    uint64
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
	traces  []Trace
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
		p.totalSince, p.proxySince, p.logSeq, p.traceSeq = time.Time{}, time.Time{}, 0, 0
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
	r.logs = p.newLogs(pr)
	// The newest MaxTraces: after a burst, older ones would be dropped
	// by the tab anyway.
	if ts := pr.Traces(p.traceSeq, 0); len(ts) > 0 {
		p.traceSeq = ts[len(ts)-1].Seq
		r.traces = ts[max(0, len(ts)-MaxTraces):]
	}
	return r
}

// newLogs takes the log lines since the last poll, in batches, keeping
// only the newest MaxLogLines: after a flood, the window shows the lines
// the backend has now, not the oldest it still keeps (the Logs tab counts
// the skipped ones as dropped, from the gap in Seq). A flood that outruns
// the batches is taken up again at the next poll.
func (p *poller) newLogs(pr Project) []LogLine {
	var out []LogLine
	for range maxLogBatches {
		b := pr.Logs(p.logSeq, maxLogBatch)
		if len(b) == 0 {
			break
		}
		p.logSeq = b[len(b)-1].Seq
		out = append(out, b...)
		if n := len(out); n > MaxLogLines {
			out = append(out[:0], out[n-MaxLogLines:]...)
		}
		if len(b) < maxLogBatch {
			break
		}
	}
	return out
}
