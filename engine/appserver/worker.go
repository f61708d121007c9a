package appserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// slot is worker number N (1-based, as uWSGI numbers them). It outlives the
// processes that fill it: respawns and reloads put a new worker in the slot,
// and the counters uWSGI keeps across respawns live here.
type slot struct {
	id int

	// Counters kept across respawns; the request path adds to them.
	requests    atomic.Int64          // requests served by an app in this slot
	appRequests [maxApps]atomic.Int64 // per app id ("req: A/B" shows the app's)
	appExcepts  [maxApps]atomic.Int64
	allRequests atomic.Int64 // every request the slot's workers served (stats "requests")
	exceptions  atomic.Int64
	harakiris   atomic.Int64
	tx          atomic.Int64 // response bytes, headers and body
	runningTime atomic.Int64 // ns spent serving requests
	avgRT       atomic.Int64 // ns, uWSGI's running (avg+rt)/2
	respawns    atomic.Int64 // spawns after a death or a recycle (WorkerInfo.Respawns)

	// The rest is guarded by Server.mu.
	current      *worker // the newest process; nil while cheap
	spawns       int64   // every spawn: uWSGI's respawn_count
	lastSpawn    time.Time
	cheap        bool // stopped by the cheaper algorithm (or RemoveWorker)
	fastDeaths   int  // consecutive deaths on start, for the backoff
	backoffUntil time.Time
	lastDeath    *Death
}

// maxApps is how many apps (the default one and mounts) a worker may
// have; the worker protocol's END frame carries ids up to 254.
const maxApps = 64

// Why a worker process is being retired: what its exit is logged as.
const (
	whyReload = "reload"
	whyBrutal = "brutal reload"
	whyChain  = "chain reload"
	// whyWorkers: a reload of the workers only (master-fifo w and W,
	// touch-workers-reload), which uWSGI logs as respawns.
	whyWorkers = "workers reload"
	whyRecycle = "recycle"
	whyCheap   = "cheaper"
	whyStop    = "stop"
	whyRemoved = "removed"
)

// worker is one Python worker process.
type worker struct {
	s     *Server
	slot  *slot
	gen   int    // reload generation
	seq   uint64 // spawn order: a higher seq replaces a lower one in a slot
	cmd   *exec.Cmd
	out   *workerOutput // nil when the log file is the process's stdout/stderr
	pid   int
	cores []*core
	born  time.Time

	ready     chan struct{} // closed once core 0 sent READY (or the worker died)
	readyOnce sync.Once
	readyInfo workerproto.Ready
	readyAt   time.Time

	readyWG sync.WaitGroup // the awaitReady goroutines
	exited  chan struct{}  // closed when the process has been reaped
	state   *os.ProcessState
	waitErr error

	retiring atomic.Bool  // no new requests; cores close as they go idle
	retireAt atomic.Int64 // unix ns of retire()
	dead     atomic.Bool

	requests   atomic.Int64 // this process's requests (uWSGI's delta_requests)
	exceptions atomic.Int64
	txBytes    atomic.Int64

	// why is set (under Server.mu) when the master decides the process
	// goes: one of the why* constants, or "" for an unplanned death.
	why        string
	recycling  atomic.Bool // a replacement was asked for (max-requests, ...)
	harakiri   atomic.Bool // killed by harakiri
	harakiriAt time.Time
	tries      int // harakiri attempts
}

// spawnWorker starts a worker process for slot sl. Its cores join the pool
// as their READY frames arrive. Call with s.mu held (it reads s.seq).
func (s *Server) spawnWorker(sl *slot, cfg *Config, gen int) (*worker, error) {
	s.seq++
	w := &worker{s: s, slot: sl, gen: gen, seq: s.seq, ready: make(chan struct{}), exited: make(chan struct{})}
	wc := workerproto.WorkerConfig{
		ID:               sl.id,
		Cores:            cfg.Threads,
		MultiProcess:     cfg.Processes > 1,
		Chdir:            cfg.Chdir,
		Module:           cfg.Module,
		WSGIFile:         cfg.WSGIFile,
		Callable:         cfg.Callable,
		PythonPath:       cfg.PythonPath,
		NeedApp:          cfg.NeedApp,
		Version:          Version,
		Node:             s.hostname,
		ControlFD:        workerproto.FirstCoreFD + cfg.Threads,
		LimitAS:          cfg.LimitAS,
		PyAutoreload:     cfg.PyAutoreload.Seconds(),
		Imports:          cfg.Imports,
		PyArgv:           cfg.PyArgv,
		ManageScriptName: cfg.ManageScriptName,
		LogDate:          cfg.LogDate,
		LogDateFormat:    cfg.LogDateFormat,
	}
	for _, m := range cfg.Mounts {
		wc.Mounts = append(wc.Mounts, workerproto.Mount{Mountpoint: m.Mountpoint, App: m.App})
	}
	js, err := json.Marshal(wc)
	if err != nil {
		return nil, err
	}

	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	for i := 0; i < cfg.Threads; i++ {
		fds, err := socketpairCloexec(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			w.closeCores()
			return nil, fmt.Errorf("core channel: %w", err)
		}
		childEnds = append(childEnds, os.NewFile(uintptr(fds[1]), "core-child"))
		parent := os.NewFile(uintptr(fds[0]), "core")
		if !s.corePolled {
			// A blocking descriptor, outside the netpoller: the event
			// loops read it with MSG_DONTWAIT.
			w.cores = append(w.cores, newCore(w, i, parent))
			continue
		}
		conn, err := net.FileConn(parent)
		parent.Close()
		if err != nil {
			w.closeCores()
			return nil, fmt.Errorf("core channel: %w", err)
		}
		w.cores = append(w.cores, newCore(w, i, conn.(*net.UnixConn)))
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		w.closeCores()
		return nil, fmt.Errorf("control channel: %w", err)
	}
	childEnds = append(childEnds, controlW)

	var args []string
	if cfg.Optimize > 0 {
		args = append(args, "-"+strings.Repeat("O", cfg.Optimize))
	}
	cmd := exec.Command(s.python, append(args, s.workerScript)...)
	cmd.Env = workerEnv(os.Environ(), cfg)
	cmd.Env = append(cmd.Env, workerproto.ConfigEnv+"="+string(js))
	if os.Getenv("PYTHONUNBUFFERED") == "" {
		// print() in the app should reach the log as it happens.
		cmd.Env = append(cmd.Env, "PYTHONUNBUFFERED=1")
	}
	// An *os.File log is the workers' stdout and stderr directly, as in
	// uWSGI: their output never passes through the master. Otherwise each
	// worker gets a pipe of its own, cut into whole lines.
	// When the log file may be rotated or reopened under them, the lines
	// pass through the master, which follows the file (uWSGI's workers
	// would keep writing to the renamed one until respawned).
	var out *workerOutput
	if _, isFile := s.logOut.(*os.File); isFile && s.WorkerOutput == nil && !cfg.logMoves() {
		cmd.Stdout, cmd.Stderr = s.logOut, s.logOut
	} else {
		out = newWorkerOutput()
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = outputWaitDelay
	}
	cmd.ExtraFiles = childEnds
	cmd.SysProcAttr = workerProcAttr()
	if err := cmd.Start(); err != nil {
		w.closeCores()
		controlR.Close()
		if out != nil {
			out.setDst(nil)
		}
		return nil, fmt.Errorf("cannot start the worker interpreter %s: %w (set --python or home/virtualenv)", s.python, err)
	}
	w.cmd, w.pid, w.born = cmd, cmd.Process.Pid, s.now()
	if out != nil {
		w.out = out
		switch {
		case s.WorkerOutput != nil:
			out.setDst(s.WorkerOutput(sl.id, w.pid))
		case cfg.logMoves():
			out.setDst(s.log)
		default:
			out.setDst(s.logOut)
		}
	}
	// The READY readers are counted before wait() can wait for them.
	w.readyWG.Add(len(w.cores))
	for _, c := range w.cores {
		go w.awaitReady(c)
	}
	go w.readControl(controlR)
	go w.wait()
	return w, nil
}

// workerEnv is the workers' environment: the master's, with env added and
// unenv removed.
func workerEnv(base []string, cfg *Config) []string {
	env := append(append([]string(nil), base...), cfg.Env...)
	if len(cfg.Unenv) == 0 {
		return env
	}
	out := env[:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(cfg.Unenv, name) {
			out = append(out, kv)
		}
	}
	return out
}

// awaitReady reads a core's READY frame, then puts the core in the pool.
func (w *worker) awaitReady(c *core) {
	defer w.readyWG.Done()
	h, err := c.r.Next()
	var info workerproto.Ready
	if err == nil && h.Type != workerproto.TypeReady {
		err = fmt.Errorf("worker sent %v before READY", h)
	}
	if err == nil {
		var p []byte
		if p, err = c.r.Payload(h); err == nil {
			info, err = workerproto.ParseReady(p)
		}
	}
	if err != nil {
		c.broken = true
		c.close()
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
			// Alive but not speaking the protocol: it cannot serve.
			w.s.log.printf("worker %d (pid: %d) core %d: %v; killing the worker", w.slot.id, w.pid, c.id, err)
			w.kill(syscall.SIGKILL)
		}
		// wait() marks the worker ready (as failed) once it is reaped.
		return
	}
	if c.id == 0 {
		w.markReady(info, false)
	}
	if info.App < 0 && w.s.cfg().NeedApp {
		c.close()
		return
	}
	w.s.pool.put(c)
}

// markReady records the worker's READY (synthetic when the worker died
// without sending one) and tells the server, once.
func (w *worker) markReady(info workerproto.Ready, synthetic bool) {
	w.readyOnce.Do(func() {
		w.readyInfo = info
		if !synthetic {
			w.readyAt = w.s.now()
		}
		close(w.ready)
		if !synthetic {
			w.s.workerReady(w)
		}
	})
}

// isReady reports whether the worker sent READY (with or without an app).
func (w *worker) isReady() bool {
	select {
	case <-w.ready:
		return !w.dead.Load()
	default:
		return false
	}
}

// serving reports whether the worker takes requests: ready with its app
// (or without one, when need-app is off), and not retiring.
func (w *worker) serving(needApp bool) bool {
	if !w.isReady() || w.retiring.Load() {
		return false
	}
	return w.readyInfo.App >= 0 || !needApp
}

// wait reaps the process and tells the server.
func (w *worker) wait() {
	w.waitErr = w.cmd.Wait()
	w.state = w.cmd.ProcessState
	if w.out != nil {
		// Its last words (a traceback) come before the news of its death.
		w.out.flush()
	}
	w.dead.Store(true)
	// READY frames the worker sent before exiting are still buffered in the
	// channels; read them before closing (a need-app failure reports its
	// reason that way).
	w.readyWG.Wait()
	w.closeCores()
	w.markReady(workerproto.Ready{PID: w.pid, App: -1, Error: "the worker exited before it was ready"}, true)
	// The server hears of the exit before anyone waiting on exited
	// proceeds: a stop then logs the worker's burial before its goodbye.
	w.s.workerExited(w)
	close(w.exited)
}

// readControl serves the worker's control channel until the worker exits.
func (w *worker) readControl(f *os.File) {
	defer f.Close()
	r := workerproto.NewReader(f, 4096)
	for {
		h, err := r.Next()
		if err != nil {
			return
		}
		p, err := r.Payload(h)
		if err != nil {
			return
		}
		switch h.Type {
		case workerproto.TypeAutoreload:
			w.s.autoreload(w, string(p))
		case workerproto.TypeRecycle:
			w.s.recycleAsync(w, string(p), "")
		}
	}
}

// retire stops giving w new requests: idle cores close now, busy ones when
// their request ends. The process exits once all its cores are closed.
func (w *worker) retire() {
	if w.retiring.Swap(true) {
		return
	}
	w.retireAt.Store(w.s.now().UnixNano())
	for _, c := range w.s.pool.removeWorker(w) {
		c.close()
	}
}

func (w *worker) closeCores() {
	for _, c := range w.cores {
		c.close()
	}
}

// kill sends sig to the worker's process.
func (w *worker) kill(sig syscall.Signal) {
	if w.cmd != nil && w.cmd.Process != nil && !w.dead.Load() {
		w.cmd.Process.Signal(sig)
	}
}

// busyCores counts the cores serving a request now.
func (w *worker) busyCores() int {
	n := 0
	for _, c := range w.cores {
		if c.busySince.Load() != 0 {
			n++
		}
	}
	return n
}

// exitDescription is uWSGI's wording for how a worker ended.
func (w *worker) exitDescription() string {
	if sig := w.exitSignal(); sig != 0 {
		return fmt.Sprintf("died, killed by signal %d", sig)
	}
	return "died"
}

// exitSignal is the signal that killed the worker, 0 for none.
func (w *worker) exitSignal() int {
	if w.state != nil {
		if ws, ok := w.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return int(ws.Signal())
		}
	}
	return 0
}

func (w *worker) exitCode() int {
	if w.state == nil {
		return -1
	}
	return w.state.ExitCode()
}

// exitReason says plainly how the process ended, for the API.
func (w *worker) exitReason() string {
	if sig := w.exitSignal(); sig != 0 {
		return fmt.Sprintf("killed by signal %d (%s)", sig, syscall.Signal(sig))
	}
	return fmt.Sprintf("exited with code %d", w.exitCode())
}
