package appserver

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
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
	id       int
	requests atomic.Int64 // requests served by the app in this slot ("req: A/B")
	respawns atomic.Int64

	mu      sync.Mutex
	current *worker
}

// worker is one Python worker process.
type worker struct {
	s     *Server
	slot  *slot
	gen   int // reload generation
	cmd   *exec.Cmd
	pid   int
	cores []*core
	born  time.Time

	ready     chan struct{} // closed once every core sent READY (or the worker died)
	readyOnce sync.Once
	readyInfo workerproto.Ready

	readyWG sync.WaitGroup // the awaitReady goroutines
	exited  chan struct{}  // closed when the process has been reaped
	state   *os.ProcessState
	waitErr error

	retiring atomic.Bool // no new requests; cores close as they go idle
	retireAt time.Time
	dead     atomic.Bool

	requests   atomic.Int64
	exceptions atomic.Int64
	txBytes    atomic.Int64
}

// spawnWorker starts a worker process for slot sl. Its cores join the pool
// as their READY frames arrive.
func (s *Server) spawnWorker(sl *slot, cfg *Config, gen int) (*worker, error) {
	w := &worker{s: s, slot: sl, gen: gen, ready: make(chan struct{}), exited: make(chan struct{})}
	wc := workerproto.WorkerConfig{
		ID:           sl.id,
		Cores:        cfg.Threads,
		MultiProcess: cfg.Processes > 1,
		Chdir:        cfg.Chdir,
		Module:       cfg.Module,
		WSGIFile:     cfg.WSGIFile,
		Callable:     cfg.Callable,
		PythonPath:   cfg.PythonPath,
		NeedApp:      cfg.NeedApp,
		Version:      Version,
		Node:         s.hostname,
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
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			w.closeCores()
			return nil, fmt.Errorf("core channel: %w", err)
		}
		childEnds = append(childEnds, os.NewFile(uintptr(fds[1]), "core-child"))
		parent := os.NewFile(uintptr(fds[0]), "core")
		conn, err := net.FileConn(parent)
		parent.Close()
		if err != nil {
			w.closeCores()
			return nil, fmt.Errorf("core channel: %w", err)
		}
		w.cores = append(w.cores, newCore(w, i, conn.(*net.UnixConn)))
	}

	cmd := exec.Command(s.python, s.workerScript)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Env = append(cmd.Env, workerproto.ConfigEnv+"="+string(js))
	if os.Getenv("PYTHONUNBUFFERED") == "" {
		// print() in the app should reach the log as it happens.
		cmd.Env = append(cmd.Env, "PYTHONUNBUFFERED=1")
	}
	cmd.Stdout = s.logOut
	cmd.Stderr = s.logOut
	cmd.ExtraFiles = childEnds
	// Its own process group keeps the terminal's ^C away from the workers
	// (the master decides how they stop); Pdeathsig kills a worker whose
	// master died without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.closeCores()
		return nil, fmt.Errorf("cannot start the worker interpreter %s: %w (set --python or home/virtualenv)", s.python, err)
	}
	w.cmd, w.pid, w.born = cmd, cmd.Process.Pid, s.now()
	go w.wait()
	w.readyWG.Add(len(w.cores))
	for _, c := range w.cores {
		go w.awaitReady(c)
	}
	return w, nil
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
		w.markReady(workerproto.Ready{PID: w.pid, App: -1, Error: "the worker exited before it was ready"})
		return
	}
	if c.id == 0 {
		w.markReady(info)
	}
	if info.App < 0 && w.s.cfg().NeedApp {
		c.close()
		return
	}
	w.s.pool.put(c)
}

func (w *worker) markReady(info workerproto.Ready) {
	w.readyOnce.Do(func() {
		w.readyInfo = info
		close(w.ready)
		w.s.workerReady(w)
	})
}

// wait reaps the process and tells the server.
func (w *worker) wait() {
	w.waitErr = w.cmd.Wait()
	w.state = w.cmd.ProcessState
	w.dead.Store(true)
	// READY frames the worker sent before exiting are still buffered in the
	// channels; read them before closing (a need-app failure reports its
	// reason that way).
	w.readyWG.Wait()
	w.closeCores()
	w.markReady(workerproto.Ready{PID: w.pid, App: -1, Error: "the worker exited before it was ready"})
	close(w.exited)
	w.s.workerExited(w)
}

// retire stops giving w new requests: idle cores close now, busy ones when
// their request ends. The process exits once all its cores are closed.
func (w *worker) retire() {
	if w.retiring.Swap(true) {
		return
	}
	w.retireAt = w.s.now()
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

// exitDescription is uWSGI's wording for how a worker ended.
func (w *worker) exitDescription() string {
	if w.state != nil {
		if ws, ok := w.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("died, killed by signal %d", int(ws.Signal()))
		}
	}
	return "died"
}

func (w *worker) exitCode() int {
	if w.state == nil {
		return -1
	}
	return w.state.ExitCode()
}
