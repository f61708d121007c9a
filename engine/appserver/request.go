package appserver

import (
	"context"
	"errors"
	"net/http"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/environ"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// maxRedispatch bounds how often a request that never reached its worker
// (the worker had just died) is handed to another core.
const maxRedispatch = 3

// handle runs one request on a core and logs it. first is body data the
// frontend already holds (it counts toward info.ContentLength).
func (s *Server) handle(rq *request, resp responder) exchange {
	start := s.now()
	var x exchange
	if limit := s.cfg().LimitPost; limit > 0 && rq.info.ContentLength > limit {
		// uWSGI logs this and drops the request (nginx then says 502);
		// 413 says what is wrong.
		s.log.printf("Invalid (too big) CONTENT_LENGTH. skip.")
		resp.fail(http.StatusRequestEntityTooLarge)
		x = exchange{status: http.StatusRequestEntityTooLarge, app: -1, tooLarge: true}
		s.logRequest(rq, nil, 0, &x, start)
		return x
	}
	var c *core
	queued := false // some try found every core busy
	for tries := 0; ; {
		var err error
		var waited bool
		c, waited, err = s.pool.get(context.Background())
		queued = queued || waited
		if err != nil {
			resp.fail(503)
			x = exchange{status: 503, app: -1, refused: true}
			s.logRequest(rq, nil, 0, &x, start)
			return x
		}
		if c.w.dead.Load() {
			// Its worker died after the core went idle: the pool learns of
			// it a moment later.
			c.broken = true
			c.close()
			continue
		}
		taken := s.now()
		c.markBusy(taken, rq)
		x = c.serve(&rq.env, &rq.info, rq.first, &rq.body, resp, rq.proto)
		if queued {
			x.taken = taken
		}
		c.markIdle()
		if x.undelivered && tries < maxRedispatch {
			tries++
			s.redispatched.Add(1)
			continue
		}
		break
	}
	c.requests.Add(1)
	w := c.w
	if x.undelivered {
		x.status = http.StatusBadGateway
		resp.fail(x.status)
	}
	if c.broken {
		if x.workerErr != nil && !errors.Is(x.workerErr, errWorkerLost) && !w.dead.Load() {
			// A channel out of step cannot be trusted again.
			s.log.printf("worker %d (pid: %d) core %d: %v; killing the worker", w.slot.id, w.pid, c.id, x.workerErr)
			w.kill(syscall.SIGKILL)
		}
	} else {
		// The core goes back before the client gets the end of the
		// response: the worker can start on the next request meanwhile.
		s.pool.put(c)
	}
	// Counted and logged before the client sees the end of the response,
	// so a client that reads the stats right after sees its request.
	settleExchange(&x, rq.proto)
	s.logRequest(rq, w, c.id, &x, start)
	finishExchange(&x, resp)
	return x
}

func (s *Server) logRequest(rq *request, w *worker, core int, x *exchange, start time.Time) {
	end := s.now()
	dur := end.Sub(start)
	cfg := s.cfg()
	total := s.totalReqs.Add(1)
	pid, slotID := s.pid, 0
	appReqs := int64(-1)
	var mem memInfo
	if w != nil {
		sl := w.slot
		pid, slotID = w.pid, sl.id
		w.requests.Add(1)
		sl.allRequests.Add(1)
		tx := x.bodyBytes + int64(x.headerBytes)
		w.txBytes.Add(tx)
		sl.tx.Add(tx)
		exception := x.outcome == workerproto.OutcomeError || x.outcome == workerproto.OutcomeAbort
		if exception {
			w.exceptions.Add(1)
			sl.exceptions.Add(1)
		}
		if x.app >= 0 && x.app < maxApps {
			sl.requests.Add(1)
			appReqs = sl.appRequests[x.app].Add(1)
			if exception {
				sl.appExcepts[x.app].Add(1)
			}
		}
		if !cfg.DisableAccounting {
			sl.runningTime.Add(int64(dur))
			// uWSGI's running average: (avg + rt) / 2.
			sl.avgRT.Store((sl.avgRT.Load() + int64(dur)) / 2)
		}
		if cfg.MemoryReport || cfg.ReloadOnRSS > 0 || cfg.ReloadOnAS > 0 || cfg.logFormat != nil && cfg.logFormat.needMem {
			mem, _ = readMemInfo(w.pid)
		}
	}
	if !cfg.DisableLogging || cfg.Log4xx && x.status/100 == 4 || cfg.Log5xx && x.status/100 == 5 ||
		cfg.LogSlow > 0 && dur > cfg.LogSlow || cfg.LogBig > 0 && x.bodyBytes > cfg.LogBig {
		proto := rq.info.Proto
		if proto == "" {
			proto = rq.proto
		}
		addr := rq.info.RemoteAddr
		if cfg.LogXForwardedFor {
			if xff := envValue(rq.env.Bytes(), "HTTP_X_FORWARDED_FOR"); len(xff) > 0 {
				addr = string(xff)
			}
		}
		rl := &requestLog{
			pid: pid, app: x.app, appReqs: appReqs, totalReqs: total,
			remoteAddr: addr, remoteUser: rq.info.RemoteUser,
			vars: rq.info.Vars, varsBytes: rq.info.VarsBytes,
			start: start, method: rq.info.Method, uri: rq.info.URI,
			bodyBytes: x.bodyBytes, duration: dur, via: rq.via,
			proto: proto, status: x.status, headers: x.headers, headerBytes: x.headerBytes,
			switches: x.switches, core: core,
		}
		if cfg.MemoryReport && w != nil {
			rl.memReport, rl.vsz, rl.rss = true, mem.VSZ, mem.RSS
		}
		if lf := cfg.logFormat; lf != nil {
			rl.vsz, rl.rss = mem.VSZ, mem.RSS
			rl.env, rl.wid, rl.contentLength = rq.env.Bytes(), slotID, rq.info.ContentLength
			s.log.formatted(lf, rl)
		} else {
			s.log.request(rl)
		}
	}
	if !cfg.DisableAccounting {
		if w != nil && s.recorder != nil {
			s.recorder.RequestDone(slotID, dur, x.status, x.outcome == workerproto.OutcomeError || x.outcome == workerproto.OutcomeAbort)
		}
		if s.OnRequest != nil || s.events.wantsRequests() {
			ev := RequestEvent{
				Worker: slotID, PID: pid, Core: core, Start: start, Duration: dur, Wait: waited(x, start),
				Method: rq.info.Method, URI: rq.info.URI, RemoteAddr: rq.info.RemoteAddr, RemotePort: rq.info.RemotePort,
				Status: x.status, BodyBytes: x.bodyBytes, Outcome: outcomeName(x, rq),
				Socket: rq.socket, Static: rq.via != "",
			}
			if s.OnRequest != nil {
				s.OnRequest(ev)
			}
			if s.events.wantsRequests() {
				s.emit(Event{Kind: EventRequest, Time: end, Worker: slotID, PID: pid, Generation: workerGen(w), Request: &ev})
			}
		}
	}
	if w != nil {
		s.checkRecycle(w, cfg, end, mem)
	}
}

func workerGen(w *worker) int {
	if w == nil {
		return 0
	}
	return w.gen
}

// request is one request as a frontend hands it to the dispatcher; each
// connection reuses one.
type request struct {
	env    environ.Env
	info   environ.Info
	first  []byte
	body   bodySource
	proto  string // the status line's protocol
	via    string // " via sendfile()" when the master served a static file
	socket int    // index of the listening socket
}

func (rq *request) reset() {
	rq.env.Reset()
	rq.info = environ.Info{}
	rq.first = rq.first[:0]
	rq.body = bodySource{}
	rq.via = ""
}

// waited is how long the request waited for a core, from start.
func waited(x *exchange, start time.Time) time.Duration {
	if x.taken.IsZero() || x.taken.Before(start) {
		return 0
	}
	return x.taken.Sub(start)
}
