package appserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/assets"
	"github.com/wsgideck/wsgideck/engine/environ"
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
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnRequest, when set, is called after every request (from the
	// request's goroutine: keep it quick).
	OnRequest func(RequestEvent)

	cfgMu  sync.Mutex
	config *Config // the running configuration (with defaults)

	log          *logWriter
	logOut       io.Writer
	logFile      *os.File
	python       string
	workerScript string
	workerDir    string // a private temp dir to remove, if we made one
	hostname     string
	pid          int

	listeners []*listener
	pool      pool

	mu      sync.Mutex
	slots   []*slot
	gen     int
	workers map[*worker]struct{} // live processes, retiring ones included

	lastAppError string

	totalReqs atomic.Uint64

	connMu   sync.Mutex
	conns    map[*clientConn]struct{}
	connWG   sync.WaitGroup
	acceptWG sync.WaitGroup

	started  atomic.Bool // Start has finished
	stopping atomic.Bool
	stopOnce sync.Once
	done     chan struct{}
	waitErr  error
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
	s.done = make(chan struct{})
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
	if max := somaxconn(); max > 0 && cfg.Listen > max {
		s.closeLog()
		return fmt.Errorf("Listen queue size is greater than the system max net.core.somaxconn (%d).", max)
	}
	python, err := s.findPython(&cfg)
	if err != nil {
		s.closeLog()
		return err
	}
	s.python = python
	if err := s.writeWorkerScript(); err != nil {
		s.closeLog()
		return err
	}
	for i, sock := range cfg.Sockets {
		l, err := bindSocket(sock, i, cfg.Listen, cfg.ChmodSocket)
		if err != nil {
			s.closeListeners(true)
			s.cleanupScript()
			s.closeLog()
			return err
		}
		s.listeners = append(s.listeners, l)
		s.log.printf("uwsgi socket %d bound to %s address %s fd %d", i, l.kind, l.addr, l.fd)
	}
	if cfg.Pidfile != "" {
		if err := os.WriteFile(cfg.Pidfile, []byte(strconv.Itoa(s.pid)+"\n"), 0o644); err != nil {
			s.closeListeners(true)
			s.cleanupScript()
			s.closeLog()
			return fmt.Errorf("pidfile %s: %w", cfg.Pidfile, err)
		}
	}
	s.log.printf("your server socket listen backlog is limited to %d connections", cfg.Listen)
	s.log.printf("your mercy for graceful operations on workers is %d seconds", int(cfg.WorkerReloadMercy/time.Second))
	s.log.printf("*** Operational MODE: %s ***", operationalMode(&cfg))
	s.log.printf("spawned uWSGI master process (pid: %d)", s.pid)

	s.mu.Lock()
	for i := 1; i <= cfg.Processes; i++ {
		sl := &slot{id: i}
		s.slots = append(s.slots, sl)
		w, err := s.spawnWorker(sl, &cfg, 0)
		if err != nil {
			s.mu.Unlock()
			s.abortStart()
			return err
		}
		sl.current = w
		s.workers[w] = struct{}{}
		s.log.printf("spawned uWSGI worker %d (pid: %d, cores: %d)", i, w.pid, cfg.Threads)
	}
	workers := s.currentWorkers()
	s.mu.Unlock()

	if cfg.NeedApp {
		for _, w := range workers {
			<-w.ready
			if w.readyInfo.App < 0 {
				s.log.printf("*** no app loaded. GAME OVER ***")
				s.abortStart()
				return fmt.Errorf("%w: %s", ErrNoApp, appError(&cfg, w.readyInfo))
			}
		}
	}
	for _, l := range s.listeners {
		s.startAcceptors(l, &cfg)
	}
	go s.watchdog()
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
	for n := acceptorsFor(cfg); l.acceptors < n; l.acceptors++ {
		s.acceptWG.Add(1)
		go s.blockingAcceptLoop(l)
	}
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
	if s.cfg().Pidfile != "" {
		os.Remove(s.cfg().Pidfile)
	}
	s.cleanupScript()
	s.closeLog()
	close(s.done)
}

func (s *Server) openLog(cfg *Config) error {
	out := s.Log
	if cfg.LogTo != "" {
		f, err := os.OpenFile(cfg.LogTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("logto %s: %w", cfg.LogTo, err)
		}
		s.logFile = f
		out = f
	}
	if out == nil {
		out = os.Stderr
	}
	s.logOut = out
	s.log = &logWriter{w: out}
	return nil
}

func (s *Server) closeLog() {
	s.log.flush()
	if s.logFile != nil {
		s.logFile.Close()
	}
}

// findPython picks the worker interpreter: Config.Python, else home's (or
// the virtualenv's) bin/python, else python3 on PATH.
func (s *Server) findPython(cfg *Config) (string, error) {
	if cfg.Python != "" {
		p, err := exec.LookPath(cfg.Python)
		if err != nil {
			return "", fmt.Errorf("python %s: %w", cfg.Python, err)
		}
		return p, nil
	}
	if cfg.Home != "" {
		for _, name := range []string{"python3", "python"} {
			p := filepath.Join(cfg.Home, "bin", name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, nil
			}
		}
		return "", fmt.Errorf("home/virtualenv %s has no bin/python3: create it with `python3 -m venv %s` or fix the path", cfg.Home, cfg.Home)
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New("no python3 on PATH: install Python 3, or set --python PATH or home/virtualenv")
	}
	return p, nil
}

// writeWorkerScript puts the embedded worker program where the interpreter
// can run it: a per-user cache file named by its hash (written once,
// atomically), or a private temp dir when there is no cache dir.
func (s *Server) writeWorkerScript() error {
	sum := sha256.Sum256(assets.WorkerPy)
	name := "worker-" + hex.EncodeToString(sum[:8]) + ".py"
	if dir, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(dir, "wsgideck")
		path := filepath.Join(dir, name)
		if b, err := os.ReadFile(path); err == nil && string(b) == string(assets.WorkerPy) {
			s.workerScript = path
			return nil
		}
		if os.MkdirAll(dir, 0o755) == nil {
			if tmp, err := os.CreateTemp(dir, name+".*"); err == nil {
				_, werr := tmp.Write(assets.WorkerPy)
				cerr := tmp.Close()
				if werr == nil && cerr == nil && os.Rename(tmp.Name(), path) == nil {
					s.workerScript = path
					return nil
				}
				os.Remove(tmp.Name())
			}
		}
	}
	dir, err := os.MkdirTemp("", "wsgideck-worker-")
	if err != nil {
		return fmt.Errorf("cannot write the worker program: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, assets.WorkerPy, 0o644); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("cannot write the worker program: %w", err)
	}
	s.workerDir, s.workerScript = dir, path
	return nil
}

func (s *Server) cleanupScript() {
	if s.workerDir != "" {
		os.RemoveAll(s.workerDir)
	}
}

// Addrs returns the bound addresses, in config order ("127.0.0.1:8000",
// or the unix socket path), with the real port for ":0".
func (s *Server) Addrs() []string {
	out := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.addr
	}
	return out
}

// PID is the master's process id.
func (s *Server) PID() int { return s.pid }

// currentWorkers lists the slots' current workers. Call with s.mu held.
func (s *Server) currentWorkers() []*worker {
	var out []*worker
	for _, sl := range s.slots {
		sl.mu.Lock()
		if sl.current != nil {
			out = append(out, sl.current)
		}
		sl.mu.Unlock()
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

// workerReady runs when a worker's first core reported READY: a worker
// started by a reload replaces the old worker of its slot only now, so the
// app is never without ready workers.
func (s *Server) workerReady(w *worker) {
	if info := w.readyInfo; info.App < 0 && info.Error != "" {
		// Each worker prints its traceback; the reason, named plainly, is
		// logged once per distinct failure.
		s.mu.Lock()
		fresh := info.Error != s.lastAppError
		s.lastAppError = info.Error
		s.mu.Unlock()
		if fresh {
			s.log.printf("*** %s ***", appError(s.cfg(), info))
		}
	}
	s.mu.Lock()
	var old []*worker
	for o := range s.workers {
		if o.slot == w.slot && o != w && o.gen < w.gen && !o.retiring.Load() {
			old = append(old, o)
		}
	}
	s.mu.Unlock()
	for _, o := range old {
		s.retireWithMercy(o)
	}
}

// retireWithMercy retires w and kills it if it is still alive after
// worker-reload-mercy.
func (s *Server) retireWithMercy(w *worker) {
	w.retire()
	mercy := s.cfg().WorkerReloadMercy
	go func() {
		t := time.NewTimer(mercy)
		defer t.Stop()
		select {
		case <-w.exited:
		case <-t.C:
			s.log.printf("%s - worker %d (pid: %d) is taking too much time to die...NO MERCY !!!", s.now().Format(ctimeLayout), w.slot.id, w.pid)
			w.kill(syscall.SIGKILL)
		}
	}()
}

// workerExited runs when a worker process has been reaped.
func (s *Server) workerExited(w *worker) {
	s.pool.removeWorker(w)
	s.mu.Lock()
	delete(s.workers, w)
	s.mu.Unlock()
	if w.retiring.Load() || s.stopping.Load() {
		since := w.retireAt
		if since.IsZero() {
			since = w.born
		}
		s.log.printf("worker %d buried after %d seconds", w.slot.id, int(s.now().Sub(since).Seconds()))
		return
	}
	w.slot.mu.Lock()
	current := w.slot.current == w
	w.slot.mu.Unlock()
	if !current || (!s.started.Load() && s.cfg().NeedApp) {
		// Start is deciding on need-app: no respawn, it will give up.
		return
	}
	if w.exitCode() == NoAppExitCode {
		s.log.printf("OOPS ! failed loading app in worker %d (pid %d) :( trying again...", w.slot.id, w.pid)
	} else {
		s.log.printf("DAMN ! worker %d (pid: %d) %s :( trying respawn ...", w.slot.id, w.pid, w.exitDescription())
	}
	delay := time.Duration(0)
	if s.now().Sub(w.born) < time.Second {
		s.log.printf("worker respawning too fast !!! i have to sleep a bit (2 seconds)...")
		delay = 2 * time.Second
	}
	time.AfterFunc(delay, func() { s.respawn(w.slot, w) })
}

// respawn puts a new worker in sl, replacing dead.
func (s *Server) respawn(sl *slot, dead *worker) {
	if s.stopping.Load() {
		return
	}
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.mu.Lock()
	if sl.current != dead {
		sl.mu.Unlock()
		return
	}
	sl.mu.Unlock()
	w, err := s.spawnWorker(sl, cfg, dead.gen)
	if err != nil {
		s.log.printf("cannot respawn worker %d: %v", sl.id, err)
		// Try again later rather than leave the slot empty.
		time.AfterFunc(2*time.Second, func() { s.respawn(sl, dead) })
		return
	}
	sl.mu.Lock()
	sl.current = w
	sl.mu.Unlock()
	sl.respawns.Add(1)
	s.workers[w] = struct{}{}
	s.log.printf("Respawned uWSGI worker %d (new pid: %d)", sl.id, w.pid)
}

// Reload replaces every worker gracefully, as uWSGI's SIGHUP does: new
// workers start (with cfg's app settings when cfg is not nil), and each old
// worker stops taking requests once its replacement is ready, finishes what
// it is doing and exits. The sockets stay open throughout.
func (s *Server) Reload(cfg *Config) error {
	if s.stopping.Load() {
		return errors.New("the server is stopping")
	}
	s.cfgMu.Lock()
	next := *s.config
	if cfg != nil {
		c := cfg.withDefaults()
		if err := c.Validate(); err != nil {
			s.cfgMu.Unlock()
			return err
		}
		if !sameSockets(c.Sockets, next.Sockets) {
			s.log.printf("reload: socket changes need a restart; keeping the sockets already bound")
		}
		c.Sockets, c.Listen, c.LogTo, c.Pidfile = next.Sockets, next.Listen, next.LogTo, next.Pidfile
		next = c
	}
	s.config = &next
	s.cfgMu.Unlock()

	s.log.printf("...gracefully killing workers...")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	var retireNow []*worker
	for i := len(s.slots); i < next.Processes; i++ {
		s.slots = append(s.slots, &slot{id: i + 1})
	}
	for i, sl := range s.slots {
		sl.mu.Lock()
		old := sl.current
		sl.mu.Unlock()
		if i >= next.Processes {
			// The reload lowered processes: this slot goes away.
			if old != nil {
				retireNow = append(retireNow, old)
			}
			sl.mu.Lock()
			sl.current = nil
			sl.mu.Unlock()
			continue
		}
		w, err := s.spawnWorker(sl, &next, s.gen)
		if err != nil {
			s.log.printf("reload: cannot spawn worker %d: %v (keeping the old one)", sl.id, err)
			continue
		}
		sl.mu.Lock()
		sl.current = w
		sl.mu.Unlock()
		s.workers[w] = struct{}{}
		s.log.printf("spawned uWSGI worker %d (pid: %d, cores: %d)", sl.id, w.pid, next.Threads)
	}
	s.slots = s.slots[:next.Processes]
	for _, w := range retireNow {
		go s.retireWithMercy(w)
	}
	for _, l := range s.listeners {
		s.startAcceptors(l, &next)
	}
	return nil
}

// RecycleWorker replaces worker id (1-based) the way Reload replaces all of
// them: a new process starts, and the old one stops taking requests once
// the new one is ready, finishes what it is doing and exits. It is the hook
// for recycling policies (max-requests, reload-on-rss, chain reloads).
func (s *Server) RecycleWorker(id int) error {
	if s.stopping.Load() {
		return errors.New("the server is stopping")
	}
	cfg := s.cfg()
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.slots) {
		return fmt.Errorf("no worker %d (there are %d)", id, len(s.slots))
	}
	sl := s.slots[id-1]
	s.gen++
	w, err := s.spawnWorker(sl, cfg, s.gen)
	if err != nil {
		return err
	}
	sl.mu.Lock()
	sl.current = w
	sl.mu.Unlock()
	sl.respawns.Add(1)
	s.workers[w] = struct{}{}
	s.log.printf("Respawned uWSGI worker %d (new pid: %d)", sl.id, w.pid)
	return nil
}

// SignalWorker sends sig to worker id's current process. A worker that
// dies of it is respawned like any dead worker (harakiri sends SIGKILL).
func (s *Server) SignalWorker(id int, sig syscall.Signal) error {
	s.mu.Lock()
	if id < 1 || id > len(s.slots) {
		s.mu.Unlock()
		return fmt.Errorf("no worker %d (there are %d)", id, len(s.slots))
	}
	sl := s.slots[id-1]
	s.mu.Unlock()
	sl.mu.Lock()
	w := sl.current
	sl.mu.Unlock()
	if w == nil || w.dead.Load() {
		return fmt.Errorf("worker %d is not running", id)
	}
	w.kill(sig)
	return nil
}

func sameSockets(a, b []Socket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Proto != b[i].Proto || a[i].Addr != b[i].Addr {
			return false
		}
	}
	return true
}

// Stop shuts down gracefully: the sockets close, requests in flight finish
// (up to worker-reload-mercy), then the workers exit. It returns when
// everything is down.
func (s *Server) Stop() {
	s.stop(false)
}

// Kill shuts down at once: workers are killed, connections cut.
func (s *Server) Kill() {
	s.stop(true)
}

func (s *Server) stop(brutal bool) {
	s.stopOnce.Do(func() {
		go s.shutdown(brutal)
	})
	<-s.done
}

func (s *Server) shutdown(brutal bool) {
	cfg := s.cfg()
	s.stopping.Store(true)
	if brutal {
		s.log.printf("SIGINT/SIGTERM received...killing workers...")
	} else {
		s.log.printf("graceful shutdown triggered...")
	}
	s.closeListeners(false)

	// Idle keep-alive connections close now; busy ones after their request.
	s.connMu.Lock()
	for c := range s.conns {
		c.shutdown(brutal)
	}
	s.connMu.Unlock()
	mercy := time.NewTimer(cfg.WorkerReloadMercy)
	defer mercy.Stop()
	connsDone := make(chan struct{})
	go func() { s.connWG.Wait(); close(connsDone) }()
	if !brutal {
		select {
		case <-connsDone:
		case <-mercy.C:
			s.log.printf("%s - requests are taking too much time to finish...NO MERCY !!!", s.now().Format(ctimeLayout))
		}
	}

	s.mu.Lock()
	ws := s.allWorkers()
	s.mu.Unlock()
	for _, w := range ws {
		w.retire()
		if brutal {
			w.kill(syscall.SIGKILL)
		}
	}
	for _, w := range ws {
		select {
		case <-w.exited:
		case <-mercy.C:
			s.log.printf("%s - worker %d (pid: %d) is taking too much time to die...NO MERCY !!!", s.now().Format(ctimeLayout), w.slot.id, w.pid)
			for _, w := range ws {
				w.kill(syscall.SIGKILL)
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
	s.connWG.Wait()
	s.acceptWG.Wait()
	for _, l := range s.listeners {
		if l.blocking {
			syscall.Close(l.fd)
		}
	}

	s.log.printf("goodbye to uWSGI.")
	if cfg.Vacuum {
		if cfg.Pidfile != "" && os.Remove(cfg.Pidfile) == nil {
			s.log.printf("VACUUM: pidfile removed.")
		}
		for _, l := range s.listeners {
			if l.unixPath != "" && os.Remove(l.unixPath) == nil {
				s.log.printf("VACUUM: unix socket %s removed.", l.unixPath)
			}
		}
	}
	s.cleanupScript()
	s.closeLog()
	close(s.done)
}

// closeListeners stops accepting. A blocking socket is shut down, which
// wakes its acceptors; its descriptor is closed once they are gone
// (closeNow: at once, when no acceptor ever ran).
func (s *Server) closeListeners(closeNow bool) {
	for _, l := range s.listeners {
		if l.blocking {
			syscall.Shutdown(l.fd, syscall.SHUT_RDWR)
			if closeNow {
				syscall.Close(l.fd)
			}
			continue
		}
		if ul, ok := l.ln.(*net.UnixListener); ok {
			// Vacuum decides whether the socket file goes.
			ul.SetUnlinkOnClose(false)
		}
		l.ln.Close()
	}
}

// Wait blocks until the server has stopped.
func (s *Server) Wait() error {
	<-s.done
	return s.waitErr
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// acceptLoop accepts connections on l until it closes.
func (s *Server) acceptLoop(l *listener) {
	defer s.acceptWG.Done()
	var delay time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: back off like net/http does.
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			s.log.printf("accept() on %s: %v; retrying in %v", l.addr, err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		cc := &clientConn{Conn: conn, l: l}
		if !s.trackConn(cc) {
			conn.Close()
			continue
		}
		switch l.sock.Proto {
		case ProtoHTTP:
			go s.serveHTTP(cc)
		case ProtoFastCGI:
			go s.serveFastCGI(cc)
		default:
			go s.serveUWSGI(cc)
		}
	}
}

func (s *Server) trackConn(c *clientConn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) untrackConn(c *clientConn) {
	c.Close()
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
	s.connWG.Done()
}

// clientConn is a client connection with the state graceful shutdown needs:
// an idle connection (between requests) can be closed at once.
type clientConn struct {
	net.Conn
	raw     *rawConn // the same connection, when served with blocking calls
	l       *listener
	mu      sync.Mutex
	idle    bool
	closing bool
}

// enterIdle marks the connection as waiting for its next request; false
// means the server is stopping and the connection should close.
func (c *clientConn) enterIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = !c.closing
	return !c.closing
}

// leaveIdle marks the start of a request; false means stop.
func (c *clientConn) leaveIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = false
	return !c.closing
}

func (c *clientConn) shutdown(brutal bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.idle || brutal {
		c.SetReadDeadline(time.Unix(1, 0))
	}
}

// handle runs one request on a core and logs it. first is body data the
// frontend already holds (it counts toward info.ContentLength).
func (s *Server) handle(rq *request, resp responder) exchange {
	start := s.now()
	c, err := s.pool.get(context.Background())
	if err != nil {
		resp.fail(503)
		x := exchange{status: 503, app: -1, refused: true}
		s.logRequest(rq, nil, 0, &x, start)
		return x
	}
	c.markBusy(start, &rq.info)
	x := c.serve(&rq.env, &rq.info, rq.first, &rq.body, resp, rq.proto)
	c.markIdle()
	c.requests.Add(1)
	w := c.w
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
	finishExchange(&x, resp)
	s.logRequest(rq, w, c.id, &x, start)
	return x
}

func (s *Server) logRequest(rq *request, w *worker, core int, x *exchange, start time.Time) {
	end := s.now()
	total := s.totalReqs.Add(1)
	pid, slotID := s.pid, 0
	appReqs := int64(-1)
	if w != nil {
		pid, slotID = w.pid, w.slot.id
		w.requests.Add(1)
		w.txBytes.Add(x.bodyBytes)
		if x.outcome == workerproto.OutcomeError || x.outcome == workerproto.OutcomeAbort {
			w.exceptions.Add(1)
		}
		if x.app >= 0 {
			appReqs = w.slot.requests.Add(1)
		}
	}
	if !s.cfg().DisableLogging {
		proto := rq.info.Proto
		if proto == "" {
			proto = rq.proto
		}
		s.log.request(&requestLog{
			pid: pid, app: x.app, appReqs: appReqs, totalReqs: total,
			remoteAddr: rq.info.RemoteAddr, remoteUser: rq.info.RemoteUser,
			vars: rq.info.Vars, varsBytes: rq.info.VarsBytes,
			start: start, method: rq.info.Method, uri: rq.info.URI,
			bodyBytes: x.bodyBytes, duration: end.Sub(start), via: rq.via,
			proto: proto, status: x.status, headers: x.headers, headerBytes: x.headerBytes,
			switches: x.switches, core: core,
		})
	}
	if s.OnRequest != nil {
		s.OnRequest(RequestEvent{
			Worker: slotID, PID: pid, Core: core, Start: start, Duration: end.Sub(start),
			Method: rq.info.Method, URI: rq.info.URI, RemoteAddr: rq.info.RemoteAddr,
			Status: x.status, BodyBytes: x.bodyBytes, Outcome: outcomeName(x, rq),
			Socket: rq.socket, Static: rq.via != "",
		})
	}
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
