package appserver

import (
	"net"
	"os"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/stats"
)

// StatsAddr is the stats server's bound address ("127.0.0.1:PORT" with
// the real port for ":0", or the unix socket path), "" when there is none.
func (s *Server) StatsAddr() string {
	if s.statsLn == nil {
		return ""
	}
	if ta, ok := s.statsLn.Addr().(*net.TCPAddr); ok {
		return ta.String()
	}
	return s.cfg().Stats
}

// kernelBacklog is the largest number of connections waiting in a TCP
// listening socket's accept queue (uWSGI's listen_queue on Linux).
func (s *Server) kernelBacklog() int {
	most := 0
	for _, l := range s.listeners {
		most = max(most, l.backlog())
	}
	return most
}

// backlog reads the accept queue's length from TCP_INFO (0 for unix
// sockets, or when the kernel does not say).
func (l *listener) backlog() int {
	if l.kind != "TCP" {
		return 0
	}
	if !l.blocking {
		q, _, _ := stats.ListenQueue(l.ln)
		return q
	}
	return tcpAcceptBacklog(l.fd)
}

// statsSnapshot describes the master in the stats server's terms.
func (s *Server) statsSnapshot() stats.Snapshot {
	cfg := s.cfg()
	snap := s.Snapshot()
	wd, _ := os.Getwd()
	out := stats.Snapshot{
		Version: Version, ListenQueue: snap.ListenQueue, Load: snap.ListenQueue,
		PID: s.pid, UID: os.Getuid(), GID: os.Getgid(), CWD: wd,
	}
	for _, d := range snap.Daemons {
		out.Daemons = append(out.Daemons, stats.Daemon{Cmd: d.Command, PID: d.PID, Respawns: max(d.Spawns-1, 0)})
	}
	for _, l := range s.listeners {
		out.Sockets = append(out.Sockets, stats.Socket{
			Name: l.sock.Addr, Proto: l.sock.Proto.String(), Queue: l.backlog(), MaxQueue: cfg.Listen,
		})
	}
	for _, ws := range snap.Workers {
		w := stats.Worker{
			ID: ws.ID, PID: ws.PID, Accepting: ws.Accepting,
			Requests: uint64(ws.Requests), DeltaRequests: uint64(ws.DeltaRequests),
			Exceptions: uint64(ws.Exceptions), HarakiriCount: uint64(ws.HarakiriCount),
			RunningTime: ws.RunningTime, LastSpawn: ws.LastSpawn, RespawnCount: uint64(ws.RespawnCount),
			TX: uint64(ws.TxBytes), AvgRT: ws.AvgResponse,
		}
		switch {
		case snap.Paused && ws.PID > 0:
			w.Status = stats.StatusPause
		case ws.Status == WorkerCheap:
			w.Status = stats.StatusCheap
		case ws.Status == WorkerBusy:
			w.Status = stats.StatusBusy
		default:
			w.Status = stats.StatusIdle
		}
		if ws.PID > 0 {
			// The sampler's reading when it is of this process, else a
			// fresh one: rss and vsz are always filled.
			if ws.HasMetrics && ws.Metrics.Proc && ws.Metrics.PID == ws.PID {
				w.RSS, w.VSZ = ws.Metrics.RSS, ws.Metrics.VSZ
			} else if mem, err := readMemInfo(ws.PID); err == nil {
				w.RSS, w.VSZ = mem.RSS, mem.VSZ
			}
		}
		for _, a := range ws.Apps {
			w.Apps = append(w.Apps, stats.App{
				ID: a.ID, Mountpoint: a.Mountpoint, StartupTime: int(a.LoadTime / time.Second),
				Requests: uint64(a.Requests), Exceptions: uint64(a.Exceptions),
				// "chdir" is an app's own directory (a dynamic app's
				// UWSGI_CHDIR); uWSGI leaves it "" for the configured
				// apps, whatever chdir says.
			})
		}
		for _, c := range ws.Cores {
			sc := stats.Core{ID: c.ID, Requests: uint64(c.Requests), InRequest: c.InRequest}
			if c.InRequest {
				sc.Vars, sc.RequestStart = requestVars(c.Vars), c.Since
			}
			w.Cores = append(w.Cores, sc)
		}
		if len(ws.Cores) == 0 {
			// A cheap or dead slot still has its cores, idle.
			for i := 0; i < cfg.Threads; i++ {
				w.Cores = append(w.Cores, stats.Core{ID: i})
			}
		}
		out.Workers = append(out.Workers, w)
	}
	return out
}

// requestVars is vars without what the server adds to the environ after
// the request's own variables (wsgi.url_scheme): uWSGI's "vars" are the
// request's, as the client or the web server in front sent them.
func requestVars(vars []string) []string {
	for len(vars) > 0 && strings.HasPrefix(vars[len(vars)-1], "wsgi.") {
		vars = vars[:len(vars)-1]
	}
	return vars
}

// LogWorkerStatus logs what every busy core is doing, in the words a
// uWSGI 2.0 worker uses on SIGUSR2 (core/uwsgi.c what_i_am_doing). uWSGI's
// master has no SIGUSR2 handler, so the signal sent to it kills it; here
// the master answers for all its workers, as uWSGI's docs describe.
func (s *Server) LogWorkerStatus() {
	snap := s.Snapshot()
	for _, w := range snap.Workers {
		for _, c := range w.Cores {
			if !c.InRequest {
				continue
			}
			since := c.Since.Format(ctimeLayout)
			if len(w.Cores) > 1 {
				s.log.printf("SIGUSR2: --- uWSGI worker %d core %d (pid: %d) is managing request %s since %s ---", w.ID, c.ID, w.PID, c.URI, since)
			} else {
				s.log.printf("SIGUSR2: --- uWSGI worker %d (pid: %d) is managing request %s since %s ---", w.ID, w.PID, c.URI, since)
			}
		}
	}
}

// LogStats writes uWSGI's stats dump (SIGUSR1, master-fifo s) to the log.
func (s *Server) LogStats() {
	snap := s.Snapshot()
	s.log.printf("*** Stats (master pid: %d) ***", s.pid)
	s.log.printf("\tworkers total requests: %d", snap.Requests)
	s.log.printf("-----------------")
	for _, w := range snap.Workers {
		s.log.printf("\tworker %d (pid: %d, %s) requests: %d exceptions: %d harakiri: %d respawns: %d", w.ID, w.PID, w.Status, w.Requests, w.Exceptions, w.HarakiriCount, w.RespawnCount)
		for _, a := range w.Apps {
			s.log.printf("\tworker %d app %d [%s] requests: %d exceptions: %d", w.ID, a.ID, a.Mountpoint, a.Requests, a.Exceptions)
		}
		s.log.printf("-----------------")
	}
}
