package appserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
	"github.com/wsgideck/wsgideck/engine/stats"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// Version is what the engine reports as uWSGI's version (the environ's
// uwsgi.version and the startup log).
const Version = "2.0.21-wsgideck"

// ErrNoApp is returned by Start when need-app is set and the app did not
// load; a command should exit with NoAppExitCode, as uWSGI does.
var ErrNoApp = errors.New("no app loaded")

// NoAppExitCode is uWSGI's exit code for need-app (UWSGI_FAILED_APP_CODE).
const NoAppExitCode = 22

// Server is the master: it owns the sockets, parses every protocol, and
// hands each request to an idle core of a Python worker process.
//
// Set the fields, then Start; Stop (or Kill) ends it, Wait waits for the end.
type Server struct {
	Config Config

	// Log receives the whole log: startup lines, request lines and the
	// workers' output. Default: Config.LogTo when set, else os.Stderr. An
	// *os.File is handed to the workers as their stdout and stderr directly.
	Log io.Writer
	// WorkerOutput, when set, gives the writer for the stdout and stderr
	// of worker id's process pid (a respawn or reload calls it again with
	// the new pid). Each worker process then writes to a pipe of its own
	// and the writer receives whole lines, one Write per line with its
	// "\n" (a line longer than 16 KiB comes in pieces; a last line without
	// one comes as the process is reaped). It is called while the server
	// holds its lock: build the writer and return, without calling back
	// into the Server. Nil: the workers write to Log, as uWSGI's do.
	WorkerOutput func(id, pid int) io.Writer
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnRequest, when set, is called after every request (from the
	// request's goroutine: keep it quick). Config.DisableAccounting turns
	// it off.
	OnRequest func(RequestEvent)
	// ReloadConfig, when set, gives the configuration for the graceful and
	// brutal reloads the engine starts by itself (master-fifo r and R,
	// touch-reload, fs-reload, py-autoreload), the way uWSGI re-reads its
	// configuration when it reloads. Nil keeps the running configuration;
	// an error is logged and the running configuration kept.
	ReloadConfig func() (*Config, error)

	cfgMu  sync.Mutex
	config *Config // the running configuration (with defaults)

	log          *logWriter
	logOut       io.Writer
	logFile      *os.File
	logDate      atomic.Pointer[logDateSetting] // log-date; nil: off
	python       string
	workerScript string
	workerDir    string // a private temp dir to remove, if we made one
	hostname     string
	pid          int

	listeners []*listener
	pool      pool
	events    eventHub

	recorder    *metrics.Recorder // nil with DisableAccounting
	sampler     *metrics.Sampler
	stopSampler context.CancelFunc
	statsLn     net.Listener
	statsSrv    *stats.Server
	fifo        *masterFIFO
	daemons     atomic.Pointer[daemonSet] // attach-daemon and friends (daemons.go)

	mu            sync.Mutex
	slots         []*slot
	gen           int
	seq           uint64
	workers       map[*worker]struct{} // live processes, retiring ones included
	reload        *ReloadProgress      // the reload in progress
	chain         *chainRun            // the chain reload in progress
	appError      string               // the newest worker's app load error
	autoreloadGen int                  // the generation py-autoreload last reloaded
	cheaper       cheaperState

	totalReqs    atomic.Uint64
	redispatched atomic.Uint64 // requests handed to another core because theirs was gone

	connMu   sync.Mutex
	conns    map[*clientConn]struct{}
	connWG   sync.WaitGroup
	acceptWG sync.WaitGroup

	started  atomic.Bool // Start has finished
	stopping atomic.Bool
	paused   atomic.Bool  // Pause: the workers are SIGSTOPped
	loops    []*uwsgiLoop // one per uwsgi socket (Linux), set before they run
	// corePolled: the core channels go through Go's netpoller, because a
	// goroutine frontend (HTTP, FastCGI) waits on them. When every socket
	// is a uwsgi socket served by an event loop they stay out of it: the
	// netpoller would wake an idle thread for every response the loop
	// reads itself (see doc.go).
	corePolled bool
	stopOnce   sync.Once
	done       chan struct{}
	// hurry is closed by Kill: a graceful shutdown under way stops
	// waiting for requests and kills the workers (a second Ctrl-C).
	hurry     chan struct{}
	hurryOnce sync.Once
	waitErr   error
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) cfg() *Config {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.config
}

// Start validates the config, binds every socket, spawns the workers and
// starts serving. It returns an error (and leaves nothing running) when the
// app cannot be served: bad config, a socket that cannot be bound, no
// interpreter, or with need-app an app that does not load (ErrNoApp).
func (s *Server) Start() error {
	cfg := s.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.resolvePaths()
	s.config = &cfg
	s.setLogDate(&cfg)
	s.done = make(chan struct{})
	s.hurry = make(chan struct{})
	s.workers = map[*worker]struct{}{}
	s.conns = map[*clientConn]struct{}{}
	s.pid = os.Getpid()
	s.hostname, _ = os.Hostname()

	if err := s.openLog(&cfg); err != nil {
		return err
	}
	s.log.printf("*** Starting uWSGI %s (%dbit) on [%s] ***", Version, strconv.IntSize, s.now().Format(ctimeLayout))
	if wd, err := os.Getwd(); err == nil {
		s.log.printf("current working directory: %s", wd)
	}
	if exe, err := os.Executable(); err == nil {
		s.log.printf("detected binary path: %s", exe)
	}
	fail := func(err error) error {
		s.closeListeners(true)
		if s.statsLn != nil {
			s.statsLn.Close()
		}
		s.cleanupScript()
		s.closeLog()
		return err
	}
	if max := somaxconn(); max > 0 && cfg.Listen > max {
		return fail(fmt.Errorf("Listen queue size is greater than the system max net.core.somaxconn (%d).", max))
	}
	python, err := s.findPython(&cfg)
	if err != nil {
		return fail(err)
	}
	s.python = python
	if err := s.writeWorkerScript(); err != nil {
		return fail(err)
	}
	for i, sock := range cfg.Sockets {
		l, err := bindSocket(sock, i, cfg.Listen, cfg.ChmodSocket)
		if err != nil {
			return fail(err)
		}
		s.listeners = append(s.listeners, l)
		if l.sock.Proto != ProtoUWSGI || !uwsgiLoopSupported {
			s.corePolled = true
		}
		s.log.printf("uwsgi socket %d bound to %s address %s fd %d", i, l.kind, l.addr, l.fd)
	}
	if cfg.Stats != "" {
		// Bound now so a taken address fails the start; served once the
		// workers run, which is when uWSGI logs its line.
		ln, err := stats.Listen(cfg.Stats)
		if err != nil {
			return fail(err)
		}
		s.statsLn = ln
	}
	if err := s.writePidfiles(&cfg); err != nil {
		cfg.removePidfiles()
		return fail(err)
	}
	if len(cfg.MasterFIFO) > 0 {
		f, err := newMasterFIFO(s, cfg.MasterFIFO)
		if err != nil {
			cfg.removePidfiles()
			return fail(err)
		}
		s.fifo = f
	}
	s.log.printf("your server socket listen backlog is limited to %d connections", cfg.Listen)
	s.log.printf("your mercy for graceful operations on workers is %d seconds", int(cfg.WorkerReloadMercy/time.Second))
	if cfg.LimitAS > 0 {
		s.log.printf("limiting address space of processes...")
		s.log.printf("your process address space limit is %d bytes (%d MB)", cfg.LimitAS, cfg.LimitAS>>20)
	}
	s.log.printf("*** Operational MODE: %s ***", operationalMode(&cfg))
	s.log.printf("spawned uWSGI master process (pid: %d)", s.pid)

	if !cfg.DisableAccounting {
		s.recorder = &metrics.Recorder{}
	}
	s.mu.Lock()
	for i := 1; i <= cfg.Processes; i++ {
		sl := &slot{id: i}
		s.slots = append(s.slots, sl)
		if cfg.cheaperMode() && i > cfg.CheaperInitial {
			sl.cheap = true
			continue
		}
		if _, err := s.startWorker(sl, &cfg, 0, false, "start"); err != nil {
			s.mu.Unlock()
			s.abortStart()
			return err
		}
	}
	workers := s.currentWorkers()
	s.mu.Unlock()

	if cfg.NeedApp {
		for _, w := range workers {
			<-w.ready
			if w.readyInfo.App < 0 {
				// The worker exits on its own after this READY; once it is
				// reaped its output (the traceback, "unable to load app")
				// is all in the log, so GAME OVER comes last, as on uWSGI.
				select {
				case <-w.exited:
				case <-time.After(outputWaitDelay + time.Second):
				}
				s.log.printf("*** no app loaded. GAME OVER ***")
				s.abortStart()
				return fmt.Errorf("%w: %s", ErrNoApp, appError(&cfg, w.readyInfo))
			}
		}
	}
	for _, l := range s.listeners {
		s.startAcceptors(l, &cfg)
	}
	s.startSampler()
	if s.statsLn != nil {
		s.statsSrv = &stats.Server{
			Addr: cfg.Stats, HTTP: cfg.StatsHTTP, Timeout: cfg.SocketTimeout,
			Format:   stats.Format{Minified: cfg.StatsMinified, NoCores: cfg.StatsNoCores},
			Snapshot: s.statsSnapshot, Logf: s.log.printf,
		}
		go s.statsSrv.Serve(s.statsLn)
	}
	if s.fifo != nil {
		s.fifo.start()
	}
	s.startDaemons(&cfg)
	go s.watchdog()
	go s.supervise()
	s.started.Store(true)
	return nil
}

func appError(cfg *Config, r workerproto.Ready) string {
	if r.Error != "" {
		return "the app did not load: " + r.Error
	}
	return "the app did not load (see the traceback above)"
}

func operationalMode(cfg *Config) string {
	switch {
	case cfg.Processes > 1 && cfg.Threads > 1:
		return "preforking+threaded"
	case cfg.Processes > 1:
		return "preforking"
	case cfg.Threads > 1:
		return "threaded"
	}
	return "single process"
}

// startAcceptors starts accepting on l (more acceptors for a blocking
// socket when the number of cores grew).
func (s *Server) startAcceptors(l *listener, cfg *Config) {
	if !l.blocking {
		if l.acceptors == 0 {
			l.acceptors = 1
			s.acceptWG.Add(1)
			go s.acceptLoop(l)
		}
		return
	}
	if l.acceptors == 0 {
		if err := s.startUWSGILoop(l); err == nil {
			l.acceptors = 1
			l.loop = true
			return
		} else if !errors.Is(err, errors.ErrUnsupported) {
			s.log.printf("uwsgi socket %s: no event loop (%v); serving it with blocking acceptors", l.addr, err)
		}
	}
	if l.loop {
		return
	}
	for n := acceptorsFor(cfg); l.acceptors < n; l.acceptors++ {
		s.acceptWG.Add(1)
		go s.blockingAcceptLoop(l)
	}
}

// startSampler starts the metrics sampler over the worker slots.
func (s *Server) startSampler() {
	s.sampler = &metrics.Sampler{
		Recorder: s.recorder,
		Now:      s.Now,
		Targets:  s.metricsTargets,
		Gauges: func() metrics.Gauges {
			_, waiting := s.pool.stats()
			return metrics.Gauges{ListenQueue: waiting + s.kernelBacklog()}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopSampler = cancel
	go s.sampler.Run(ctx)
}

// metricsTargets lists every worker slot with its serving process.
func (s *Server) metricsTargets() []metrics.Target {
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	byslot := map[*slot][]*worker{}
	for w := range s.workers {
		byslot[w.slot] = append(byslot[w.slot], w)
	}
	out := make([]metrics.Target, 0, len(s.slots))
	for _, sl := range s.slots {
		t := metrics.Target{WorkerID: sl.id}
		for _, w := range byslot[sl] {
			t.InFlight += w.busyCores()
		}
		if w := servingWorker(sl, byslot[sl], cfg.NeedApp); w != nil {
			t.PID = w.pid
		}
		out = append(out, t)
	}
	return out
}

// abortStart undoes a Start that failed after spawning workers.
func (s *Server) abortStart() {
	s.stopping.Store(true)
	s.mu.Lock()
	ws := s.allWorkers()
	s.mu.Unlock()
	for _, w := range ws {
		w.retire()
		w.kill(syscall.SIGKILL)
	}
	for _, w := range ws {
		<-w.exited
	}
	s.pool.close()
	s.closeListeners(true)
	if s.statsLn != nil {
		s.statsLn.Close()
	}
	if s.fifo != nil {
		s.fifo.close()
	}
	s.cfg().removePidfiles()
	s.cleanupScript()
	s.closeLog()
	close(s.done)
}

// currentWorkers lists the slots' current workers. Call with s.mu held.
func (s *Server) currentWorkers() []*worker {
	var out []*worker
	for _, sl := range s.slots {
		if sl.current != nil {
			out = append(out, sl.current)
		}
	}
	return out
}

// allWorkers lists every live worker process. Call with s.mu held.
func (s *Server) allWorkers() []*worker {
	out := make([]*worker, 0, len(s.workers))
	for w := range s.workers {
		out = append(out, w)
	}
	return out
}

// slotByID returns worker slot id. Call with s.mu held.
func (s *Server) slotByID(id int) (*slot, error) {
	if id < 1 || id > len(s.slots) {
		return nil, fmt.Errorf("no worker %d (there are %d)", id, len(s.slots))
	}
	return s.slots[id-1], nil
}

// Stop shuts down gracefully: the sockets close, requests in flight finish
// (up to worker-reload-mercy), then the workers exit. It returns when
// everything is down.
func (s *Server) Stop() {
	s.stop(false)
}

// Kill shuts down at once: workers are killed, connections cut. Called
// while a graceful Stop is under way, it makes that one brutal.
func (s *Server) Kill() {
	s.stop(true)
}

func (s *Server) stop(brutal bool) {
	if s.done == nil {
		return // never started
	}
	if brutal {
		s.hurryOnce.Do(func() { close(s.hurry) })
	}
	s.stopOnce.Do(func() {
		go s.shutdown(brutal)
	})
	<-s.done
}

// hurryUp turns a graceful shutdown under way into a brutal one: requests
// in flight are cut (the caller kills the workers).
func (s *Server) hurryUp() {
	s.log.printf("SIGINT/SIGTERM received...killing workers...")
	s.connMu.Lock()
	for c := range s.conns {
		c.shutdown(true)
	}
	s.connMu.Unlock()
	for _, lp := range s.loops {
		lp.shutdown(loopBrutal)
	}
}

func (s *Server) shutdown(brutal bool) {
	cfg := s.cfg()
	how := "graceful"
	if brutal {
		how = "brutal"
	}
	s.emit(Event{Kind: EventStopping, Reason: how})
	s.mu.Lock()
	s.stopping.Store(true)
	s.cancelChainLocked()
	s.mu.Unlock()
	s.unpause()
	if brutal {
		s.log.printf("SIGINT/SIGTERM received...killing workers...")
	} else {
		s.log.printf("graceful shutdown triggered...")
	}
	// The daemons stop beside the workers, as in uWSGI; a Kill during a
	// graceful stop SIGKILLs them too.
	daemonsDone := make(chan struct{})
	go func() {
		var hurry <-chan struct{}
		if !brutal {
			hurry = s.hurry
		}
		s.stopDaemons(hurry)
		close(daemonsDone)
	}()
	s.closeListeners(false)
	if s.statsSrv != nil {
		s.statsSrv.Close()
	}
	if s.fifo != nil {
		s.fifo.close()
	}

	// Idle keep-alive connections close now; busy ones after their request.
	s.connMu.Lock()
	for c := range s.conns {
		c.shutdown(brutal)
	}
	s.connMu.Unlock()
	if brutal {
		for _, lp := range s.loops {
			lp.shutdown(loopBrutal)
		}
	}
	mercy := cfg.WorkerReloadMercy
	if cfg.ReloadMercy > 0 {
		mercy = cfg.ReloadMercy
	}
	deadline := time.NewTimer(mercy)
	defer deadline.Stop()
	noMercy := false
	connsDone := make(chan struct{})
	go func() { s.connWG.Wait(); close(connsDone) }()
	if !brutal {
		select {
		case <-connsDone:
		case <-deadline.C:
			noMercy = true
			s.verbose("requests are taking too much time to finish...NO MERCY !!!")
		case <-s.hurry:
			brutal = true
			s.hurryUp()
		}
	}

	s.mu.Lock()
	ws := s.allWorkers()
	for _, w := range ws {
		if w.why == "" {
			w.why = whyStop
		}
	}
	s.mu.Unlock()
	for _, w := range ws {
		w.retire()
		if brutal {
			w.kill(syscall.SIGKILL)
		}
	}
	for _, w := range ws {
		if noMercy && !w.dead.Load() {
			s.verbose("worker %d (pid: %d) is taking too much time to die...NO MERCY !!!", w.slot.id, w.pid)
			w.kill(syscall.SIGKILL)
		}
		select {
		case <-w.exited:
		case <-deadline.C:
			noMercy = true
			s.verbose("worker %d (pid: %d) is taking too much time to die...NO MERCY !!!", w.slot.id, w.pid)
			w.kill(syscall.SIGKILL)
			<-w.exited
		case <-s.hurry:
			if !brutal {
				brutal = true
				s.hurryUp()
				for _, o := range ws {
					o.kill(syscall.SIGKILL)
				}
			}
			<-w.exited
		}
	}
	s.pool.close()
	// Connections still open (brutal, or past mercy) are cut.
	s.connMu.Lock()
	for c := range s.conns {
		if c.raw != nil {
			c.raw.cut(false)
		} else {
			c.Close()
		}
	}
	s.connMu.Unlock()
	for _, lp := range s.loops {
		lp.shutdown(loopCutAll)
	}
	s.connWG.Wait()
	s.acceptWG.Wait()
	for _, l := range s.listeners {
		if l.blocking {
			syscall.Close(l.fd)
		}
	}
	if s.stopSampler != nil {
		s.stopSampler()
	}

	<-daemonsDone
	s.log.printf("goodbye to uWSGI.")
	if cfg.Vacuum {
		for _, p := range cfg.pidfiles() {
			if os.Remove(p.path) == nil {
				s.log.printf("VACUUM: %s removed.", p.option)
			}
		}
		for _, l := range s.listeners {
			if l.unixPath != "" && os.Remove(l.unixPath) == nil {
				s.log.printf("VACUUM: unix socket %s removed.", l.unixPath)
			}
		}
	}
	s.cleanupScript()
	s.closeLog()
	s.emit(Event{Kind: EventStopped, Reason: how})
	close(s.done)
}

// Wait blocks until the server has stopped.
func (s *Server) Wait() error {
	<-s.done
	return s.waitErr
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }
