package appserver

import (
	"time"

	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// RequestEvent describes one finished request, for Server.OnRequest
// (per-request traces, metrics).
type RequestEvent struct {
	Worker     int // worker number (1-based); 0 for the master (static files, refusals)
	PID        int // the process that served it
	Core       int
	Socket     int // index of the listening socket in Config.Sockets
	Start      time.Time
	Duration   time.Duration
	Method     string
	URI        string
	RemoteAddr string
	Status     int
	BodyBytes  int64
	// Outcome: "ok", "exception" (500 before headers), "aborted" (exception
	// after headers: connection cut), "no-app", "worker-lost",
	// "client-gone", "no-worker" (server stopping), "static".
	Outcome string
	Static  bool
}

func outcomeName(x *exchange, rq *request) string {
	switch {
	case rq.via != "":
		return "static"
	case x.workerErr != nil:
		return "worker-lost"
	case x.refused:
		return "no-worker"
	case x.outcome == workerproto.OutcomeError:
		return "exception"
	case x.outcome == workerproto.OutcomeAbort:
		return "aborted"
	case x.outcome == workerproto.OutcomeNoApp:
		return "no-app"
	case x.clientErr != nil:
		return "client-gone"
	}
	return "ok"
}

// WorkerInfo is a snapshot of one worker process, for supervision and stats.
type WorkerInfo struct {
	ID         int // worker number, 1-based
	PID        int
	Generation int // reload generation
	Spawned    time.Time
	Retiring   bool
	Requests   int64 // requests this process served
	SlotReqs   int64 // requests the slot served across respawns (uWSGI's "req: A")
	Respawns   int64
	Exceptions int64
	TxBytes    int64
	Cores      []CoreInfo
	AppLoaded  bool
}

// CoreInfo is a snapshot of one core.
type CoreInfo struct {
	ID        int
	Requests  int64
	BusySince time.Time // zero when idle
	Method    string    // of the request in progress
	URI       string
}

// Workers returns a snapshot of every live worker process, current and
// retiring, ordered by worker number.
func (s *Server) Workers() []WorkerInfo {
	s.mu.Lock()
	ws := s.allWorkers()
	s.mu.Unlock()
	out := make([]WorkerInfo, 0, len(ws))
	for _, w := range ws {
		wi := WorkerInfo{
			ID: w.slot.id, PID: w.pid, Generation: w.gen, Spawned: w.born,
			Retiring: w.retiring.Load(), Requests: w.requests.Load(),
			SlotReqs: w.slot.requests.Load(), Respawns: w.slot.respawns.Load(),
			Exceptions: w.exceptions.Load(), TxBytes: w.txBytes.Load(),
		}
		select {
		case <-w.ready:
			wi.AppLoaded = w.readyInfo.App >= 0
		default:
		}
		for _, c := range w.cores {
			ci := CoreInfo{ID: c.id, Requests: c.requests.Load()}
			if ns := c.busySince.Load(); ns != 0 {
				ci.BusySince = time.Unix(0, ns)
				ci.Method, ci.URI = c.currentRequest()
			}
			wi.Cores = append(wi.Cores, ci)
		}
		out = append(out, wi)
	}
	sortWorkers(out)
	return out
}

func sortWorkers(ws []WorkerInfo) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && (ws[j].ID < ws[j-1].ID || ws[j].ID == ws[j-1].ID && ws[j].Generation < ws[j-1].Generation); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

// Queue returns the number of idle cores and of requests waiting for one
// (the listen queue).
func (s *Server) Queue() (idleCores, waiting int) { return s.pool.stats() }
