package control

import (
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// Snapshot returns the project's state now. It is cheap (no lock the
// request path takes, no process-table read): the servers' own tables and
// the sampler's last pass.
func (r *Runner) Snapshot() Snapshot {
	r.mu.Lock()
	eng, px := r.eng, r.px
	es, ps := r.engSt, r.pxSt
	r.mu.Unlock()

	snap := Snapshot{
		Time:   r.now(),
		Engine: Status{State: es.state, Since: es.since, Message: es.msg, Config: r.ini},
		Proxy:  Status{State: ps.state, Since: ps.since, Message: ps.msg, Config: r.nginx},
	}
	var cfgEngine, cfgProxy []string
	if eng == nil || px == nil {
		cfgEngine, cfgProxy = r.addrs.get(r.ini, r.nginx, r.opts.Dir)
	}
	if eng != nil {
		snap.Engine.Addrs = eng.srv.Addrs()
		snap.Engine.PID = pid
		r.engineFigures(eng, &snap)
	} else {
		snap.Engine.Addrs = cfgEngine
	}
	if px != nil {
		snap.Proxy.Addrs = px.addrs()
		snap.Proxy.PID = pid
		snap.ProxyRequests = px.total.Load()
	} else {
		snap.Proxy.Addrs = cfgProxy
	}
	for _, a := range snap.Proxy.Addrs {
		if u := browserURL(a); u != "" {
			snap.URL = u
			break
		}
	}
	snap.State = Overall(snap.Engine.State, snap.Proxy.State)
	return snap
}

// engineFigures fills the workers and totals of a running engine.
func (r *Runner) engineFigures(eng *engineRun, snap *Snapshot) {
	es := eng.srv.Snapshot()
	eng.mu.Lock()
	snap.App = eng.app
	eng.mu.Unlock()
	snap.ListenQueue, snap.InFlight = es.ListenQueue, es.InFlight
	snap.Requests = es.Requests
	snap.Exceptions = uint64(max(es.Exceptions, 0))
	for _, w := range es.Workers {
		snap.Workers = append(snap.Workers, workerRow(w))
		for _, o := range w.Others {
			snap.Workers = append(snap.Workers, Worker{ID: w.ID, PID: o.PID, Generation: o.Generation,
				Status: "retiring", Spawned: o.Since, Busy: make([]string, o.Busy)})
		}
	}
}

// workerRow is one worker slot as the engine describes it.
func workerRow(w appserver.WorkerState) Worker {
	row := Worker{
		ID: w.ID, PID: w.PID, Generation: w.Generation, Status: string(w.Status),
		Requests: uint64(max(w.Requests, 0)), Exceptions: uint64(max(w.Exceptions, 0)),
		Harakiri: uint64(max(w.HarakiriCount, 0)), Respawns: uint64(max(w.RespawnCount-1, 0)),
		Spawned: w.LastSpawn, AppError: w.AppError,
	}
	if d := w.LastDeath; d != nil {
		row.LastDeath = d.Reason
	}
	for _, c := range w.Cores {
		if c.InRequest {
			row.Busy = append(row.Busy, c.Method+" "+c.URI)
		}
	}
	if m := w.Metrics; w.HasMetrics && m.PID == w.PID {
		row.RPS, row.AvgLatency, row.P95 = m.RPS, m.AvgLatency, m.P95
		row.CPU, row.RSS = m.CPUPercent, m.RSS
	}
	return row
}

// configuredAddrs caches the addresses the files configure, shown while a
// tier does not run; the files are read again when they change.
type configuredAddrs struct {
	mu             sync.Mutex
	iniKey, ngxKey string
	engine, proxy  []string
}

func fileKey(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return st.ModTime().Format(time.RFC3339Nano) + "/" + strconv.FormatInt(st.Size(), 10)
}

func (c *configuredAddrs) get(ini, nginx, prefix string) (engine, proxy []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := fileKey(ini); k != c.iniKey {
		c.iniKey, c.engine = k, nil
		if cfg, err := uwsgiini.Load(ini); err == nil {
			if ec, err := appserver.FromINI(cfg); err == nil {
				for _, s := range ec.Sockets {
					c.engine = append(c.engine, s.Addr)
				}
			}
		}
	}
	if k := fileKey(nginx); k != c.ngxKey {
		c.ngxKey, c.proxy = k, nil
		if cfg, err := nginxconf.Load(nginx, &nginxconf.Options{Prefix: prefix}); err == nil || cfg != nil && cfg.Main != nil {
			for _, srv := range confedit.Servers(cfg) {
				for _, l := range srv.Block.Find("listen") {
					a := l.Arg(0)
					if _, err := strconv.Atoi(a); err == nil {
						a = "0.0.0.0:" + a
					}
					c.proxy = append(c.proxy, a)
				}
			}
		}
	}
	return append([]string(nil), c.engine...), append([]string(nil), c.proxy...)
}
