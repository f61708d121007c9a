package appserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Daemon is a command the master runs beside the workers and keeps
// running: uWSGI's external daemons (core/daemons.c), most often a Celery
// worker. attach-daemon, attach-control-daemon, smart-attach-daemon,
// smart-attach-daemon2 and attach-daemon2 each give one.
//
// A plain daemon (no Pidfile) must stay in the foreground: the master runs
// it with /bin/sh -c in a session of its own and respawns it when it
// exits. A smart daemon is watched through its Pidfile instead: once a
// second the master reads the pid there and respawns the command when that
// process is gone. Without Daemonize the command is expected to go to the
// background and write the pidfile itself (smart-attach-daemon); with it
// the command stays in the foreground and the master writes the pidfile
// (smart-attach-daemon2).
type Daemon struct {
	Option  string // the option that configured it ("attach-daemon"), for messages
	Where   string // its config line ("uwsgi.ini:12"); may be ""
	Command string // run with /bin/sh -c, as uWSGI runs it
	// Pidfile makes it a smart daemon; relative to Chdir.
	Pidfile string
	// Daemonize: the command stays in the foreground and the master
	// writes its pid to Pidfile (smart-attach-daemon2, daemonize=).
	Daemonize bool
	// Freq is how many checks (one a second) a smart daemon that has not
	// written a live pid to its pidfile gets before it is respawned.
	// 0 means uWSGI's 10.
	Freq int
	// StopSignal stops it (SIGTERM when 0); ReloadSignal, when set,
	// replaces it when a reload stops the daemon (attach-daemon2's
	// stopsignal and reloadsignal).
	StopSignal, ReloadSignal syscall.Signal
	// Control (attach-control-daemon, control=): when it dies, the whole
	// server stops, instead of the daemon being respawned.
	Control bool
	// Stdin keeps the master's stdin (stdin=, daemons-honour-stdin);
	// otherwise the daemon reads /dev/null.
	Stdin bool
	// Chdir is where it runs; default Config.Chdir.
	Chdir string
	// Touch lists files whose change (mtime) sends it StopSignal, so that
	// it is respawned (touch=).
	Touch []string
	// MaxThrottle caps the delay before respawning a daemon that keeps
	// dying (max_throttle=); 0 means uWSGI's 300 s.
	MaxThrottle time.Duration
}

// Defaults of uWSGI's daemons.
const (
	defaultDaemonFreq = 10
	// daemonMercy is how long a daemon gets to stop before SIGKILL when
	// reload-mercy is not set (uWSGI's 3 s).
	daemonMercy = 3 * time.Second
	// maxDaemonThrottle is uWSGI's cap on the respawn delay.
	maxDaemonThrottle = 300
	// daemonShell runs every daemon command, as uWSGI's
	// uwsgi_exec_command_with_args does.
	daemonShell = "/bin/sh"
)

func (d *Daemon) stopSignal() syscall.Signal {
	if d.StopSignal > 0 {
		return d.StopSignal
	}
	return syscall.SIGTERM
}

func (d *Daemon) smart() bool { return d.Pidfile != "" }

// DaemonStatus is a daemon's state in a Snapshot.
type DaemonStatus string

const (
	DaemonRunning   DaemonStatus = "running"   // its process runs (a smart daemon's: the pid in its pidfile)
	DaemonWaiting   DaemonStatus = "waiting"   // a smart daemon started; its pidfile holds no live pid yet
	DaemonThrottled DaemonStatus = "throttled" // it died soon after starting; respawn delayed
	DaemonStopping  DaemonStatus = "stopping"  // being stopped (reload or stop)
	DaemonStopped   DaemonStatus = "stopped"   // not running and not going to be respawned
)

// DaemonState is one external daemon in a Snapshot.
type DaemonState struct {
	ID        int // 1-based, in config order (the events' Event.Daemon)
	Option    string
	Command   string
	Pidfile   string
	PID       int // 0 when none runs
	Status    DaemonStatus
	Spawns    int // since the start or the last reload (uWSGI's respawns)
	LastSpawn time.Time
	// LastExit says how the process the master started last ended, ""
	// before it did ("exited with code 1", "killed by signal 9 (killed)").
	LastExit string
}

// daemonSet is the master's external daemons.
type daemonSet struct {
	s    *Server
	quit chan struct{} // closed when the server stops: ends the check loop
	wg   sync.WaitGroup

	mu       sync.Mutex
	cfg      *Config
	cur      []*daemon // the configured ones
	old      []*daemon // replaced by a reload and being stopped
	stopping bool
	nextID   int
}

// daemon is one configured daemon and what the master knows of it. The
// fields after spec are guarded by daemonSet.mu.
type daemon struct {
	id   int
	spec Daemon
	// pidfile is spec.Pidfile resolved against Chdir (the log names it
	// as written, as uWSGI does).
	pidfile string

	registered    bool        // respawned when it dies; false once stopping
	proc          *daemonProc // the process the master started last, while it runs
	pid           int         // the daemon's pid: proc's, or a smart daemon's pidfile's
	pgid          int         // the session the master started it in (0: none known)
	status        int         // uWSGI's: 0 never started, 1 started, 2 monitored (smart)
	pidfileChecks int
	hasDaemonized bool
	spawns        int
	lastSpawn     time.Time
	throttle      *time.Timer // a delayed respawn
	lastExit      string
	stoppingNow   bool
	touch         []touchFile
}

// daemonProc is one process the master started for a daemon.
type daemonProc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed once reaped
}

// startDaemons runs cfg's daemons, as uWSGI does once its workers are
// spawned (uwsgi_daemons_spawn_all), and starts their once-a-second check.
func (s *Server) startDaemons(cfg *Config) {
	ds := &daemonSet{s: s, quit: make(chan struct{}), cfg: cfg}
	ds.mu.Lock()
	ds.cur = ds.build(cfg.Daemons, nil)
	ds.spawnAllLocked("start")
	ds.mu.Unlock()
	s.daemons.Store(ds)
	go ds.loop()
}

// build makes the daemons of specs, reusing from keep a smart daemon with
// the same command and pidfile (a reload keeps it running, as uWSGI
// does: it finds its pidfile valid after re-executing).
func (ds *daemonSet) build(specs []Daemon, keep []*daemon) []*daemon {
	out := make([]*daemon, 0, len(specs))
	for _, sp := range specs {
		pidfile := ds.under(sp.Pidfile)
		var d *daemon
		for i, k := range keep {
			if k != nil && k.spec.smart() && k.spec.Command == sp.Command && k.pidfile == pidfile {
				d, keep[i] = k, nil
				break
			}
		}
		if d == nil {
			ds.nextID++
			d = &daemon{id: ds.nextID}
		}
		d.spec, d.pidfile = sp, pidfile
		d.registered = true
		d.spawns, d.lastSpawn, d.status, d.pidfileChecks = 0, time.Time{}, 0, 0
		d.touch = d.touch[:0]
		for _, p := range sp.Touch {
			f := touchFile{path: ds.under(p), kind: "daemon"}
			f.stamp = f.look()
			d.touch = append(d.touch, f)
		}
		out = append(out, d)
	}
	return out
}

// under resolves p against Chdir, where uWSGI is when it reads it.
func (ds *daemonSet) under(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || ds.cfg.Chdir == "" {
		return p
	}
	return ds.cfg.Chdir + "/" + p
}

// spawnAllLocked starts every registered daemon not running yet; a smart
// daemon whose pidfile names a live process is adopted instead.
func (ds *daemonSet) spawnAllLocked(why string) {
	for _, d := range ds.cur {
		if !d.registered {
			continue
		}
		if d.spec.smart() {
			if pid := readPidfile(d.pidfile); pid > 0 {
				d.pid = pid
				ds.s.log.printf("[uwsgi-daemons] found valid/active pidfile for \"%s\" (pid: %d)", d.spec.Command, pid)
				continue
			}
		}
		if d.proc == nil && d.throttle == nil {
			ds.spawnLocked(d, why)
		}
	}
}

// spawnLocked starts d, after uWSGI's throttle when it was spawned less
// than 4 seconds ago: as many seconds as it was spawned, less the seconds
// since, at least 1 and at most MaxThrottle (300 s).
func (ds *daemonSet) spawnLocked(d *daemon, why string) {
	if !d.registered || ds.stopping {
		return
	}
	now := ds.s.now()
	throttle := 0
	if !d.lastSpawn.IsZero() {
		if since := int(now.Unix() - d.lastSpawn.Unix()); since <= 3 {
			throttle = max(d.spawns-since, 1)
			limit := maxDaemonThrottle
			if d.spec.MaxThrottle > 0 {
				limit = max(int(d.spec.MaxThrottle/time.Second), 1)
			}
			throttle = min(throttle, limit)
		}
	}
	respawn := d.spawns > 0
	d.spawns++
	d.lastSpawn = now
	d.status, d.pidfileChecks, d.hasDaemonized = 1, 0, false
	if throttle == 0 {
		ds.execLocked(d, respawn, why)
		return
	}
	ds.s.log.printf("[uwsgi-daemons] throttling \"%s\" for %d seconds", d.spec.Command, throttle)
	var t *time.Timer
	t = time.AfterFunc(time.Duration(throttle)*time.Second, func() {
		ds.mu.Lock()
		defer ds.mu.Unlock()
		if d.throttle != t {
			return // cancelled
		}
		d.throttle = nil
		if d.registered && !ds.stopping {
			ds.execLocked(d, respawn, why)
		}
	})
	d.throttle = t
}

// execLocked runs d's command now.
func (ds *daemonSet) execLocked(d *daemon, respawn bool, why string) {
	s, cfg := ds.s, ds.cfg
	re := ""
	if respawn {
		re = "re"
	}
	s.log.printf("[uwsgi-daemons] %sspawning \"%s\" (uid: %d gid: %d)", re, d.spec.Command, os.Getuid(), os.Getgid())
	cmd := exec.Command(daemonShell, "-c", d.spec.Command)
	cmd.Env = workerEnv(os.Environ(), cfg)
	cmd.Dir = cfg.Chdir
	if d.spec.Chdir != "" {
		cmd.Dir = ds.under(d.spec.Chdir)
	}
	if d.spec.Stdin || cfg.DaemonsHonourStdin {
		cmd.Stdin = os.Stdin
	}
	// The daemon writes where the workers do. A pipe is read by a
	// goroutine of ours rather than exec's, so that the process is reaped
	// when it exits even if a child it left in the background (a
	// daemonizing command) keeps the pipe open.
	var pipeR *os.File
	if f, isFile := s.logOut.(*os.File); isFile && !cfg.logMoves() {
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			s.log.printf("[uwsgi-daemons] unable to spawn \"%s\": %v", d.spec.Command, err)
			ds.failedLocked(d, why)
			return
		}
		pipeR = r
		cmd.Stdout, cmd.Stderr = w, w
		defer w.Close()
	}
	cmd.SysProcAttr = daemonProcAttr()
	if err := cmd.Start(); err != nil {
		if pipeR != nil {
			pipeR.Close()
		}
		s.log.printf("[uwsgi-daemons] unable to spawn \"%s\": %v", d.spec.Command, err)
		ds.failedLocked(d, why)
		return
	}
	if pipeR != nil {
		go copyDaemonOutput(pipeR, s.log)
	}
	p := &daemonProc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	d.proc, d.pid, d.pgid = p, p.pid, p.pid
	if d.spec.Daemonize {
		// uWSGI's double fork writes the pidfile from the daemon itself;
		// here the master's own child is the daemon.
		d.hasDaemonized = true
		s.log.printf("writing pidfile to %s", d.spec.Pidfile)
		if err := os.WriteFile(d.pidfile, []byte(strconv.Itoa(p.pid)+"\n"), 0o644); err != nil {
			s.log.printf("[uwsgi-daemons] cannot write pidfile %s: %v", d.spec.Pidfile, err)
		}
	}
	if respawn && why == "start" {
		why = "respawn"
	}
	s.emit(Event{Kind: EventDaemonSpawned, Daemon: d.id, PID: p.pid, Reason: why})
	go ds.reap(d, p)
}

// failedLocked handles a daemon that could not even start: as when its
// command exits at once, it is respawned after a throttle.
func (ds *daemonSet) failedLocked(d *daemon, why string) {
	d.lastExit = "could not start"
	if !d.spec.smart() {
		d.lastSpawn = ds.s.now()
		ds.spawnLocked(d, why)
	}
}

// copyDaemonOutput passes a daemon's output to the log in whole lines
// until every process holding the pipe has closed it.
func copyDaemonOutput(r *os.File, log io.Writer) {
	defer r.Close()
	out := newWorkerOutput()
	out.setDst(log)
	io.Copy(out, r)
	out.flush()
}

// reap waits for p and decides what its exit means.
func (ds *daemonSet) reap(d *daemon, p *daemonProc) {
	p.cmd.Wait()
	st := p.cmd.ProcessState
	close(p.done)
	how := processExit(st)
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if d.proc == p {
		d.proc = nil
		d.lastExit = how
	}
	ds.s.emit(Event{Kind: EventDaemonExited, Daemon: d.id, PID: p.pid, Reason: how, ExitCode: st.ExitCode(), Signal: exitSignalOf(st)})
	if d.spec.smart() {
		if !d.spec.Daemonize {
			// The command went to the background (or failed): the
			// pidfile tells which. uWSGI reports its own child's end.
			d.hasDaemonized = true
			if sig := exitSignalOf(st); sig != 0 {
				ds.s.log.printf("subprocess %d exited by signal %d", p.pid, sig)
			} else {
				ds.s.log.printf("subprocess %d exited with code %d", p.pid, st.ExitCode())
			}
		}
		return // the check notices when the daemon is gone
	}
	if !d.registered || ds.stopping || d.proc != nil {
		return
	}
	d.pid = 0
	if d.spec.Control {
		// uWSGI's gracefully_kill_them_all: the master goes with it.
		go ds.s.Stop()
		return
	}
	ds.spawnLocked(d, "respawn")
}

// loop runs the once-a-second check of uWSGI's master cycle.
func (ds *daemonSet) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ds.quit:
			return
		case <-t.C:
		}
		ds.check()
	}
}

// check watches the smart daemons' pidfiles (uwsgi_daemons_smart_check)
// and the touch files.
func (ds *daemonSet) check() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.stopping {
		return
	}
	for _, d := range ds.cur {
		if !d.registered || d.throttle != nil {
			continue
		}
		for i := range d.touch {
			f := &d.touch[i]
			stamp := f.look()
			if stamp == f.stamp {
				continue
			}
			f.stamp = stamp
			if d.pid > 0 {
				ds.s.verbose("*** %s has been touched... reloading daemon \"%s\" (pid: %d) !!! ***", f.path, d.spec.Command, d.pid)
				if syscall.Kill(-d.pid, d.spec.stopSignal()) != nil {
					syscall.Kill(d.pid, d.spec.stopSignal())
				}
			}
		}
		if !d.spec.smart() {
			continue
		}
		pid := readPidfile(d.pidfile)
		switch {
		case pid <= 0 && d.status == 2:
			ds.spawnLocked(d, "respawn")
		case pid <= 0:
			d.pidfileChecks++
			freq := d.spec.Freq
			if freq <= 0 {
				freq = defaultDaemonFreq
			}
			if d.pidfileChecks < freq {
				continue
			}
			if !d.hasDaemonized {
				ds.s.verbose("[uwsgi-daemons] \"%s\" (pid: %d) did not daemonize !!!", d.spec.Command, d.pid)
				d.pidfileChecks = 0
				continue
			}
			ds.s.log.printf("[uwsgi-daemons] found changed pidfile for \"%s\" (old_pid: %d new_pid: %d)", d.spec.Command, d.pid, pid)
			ds.spawnLocked(d, "respawn")
		case pid != d.pid:
			ds.s.log.printf("[uwsgi-daemons] found changed pid for \"%s\" (old_pid: %d new_pid: %d)", d.spec.Command, d.pid, pid)
			d.pid = pid
		default:
			d.status = 2
		}
	}
}

// reloadDaemons is what a whole reload does to the daemons, as uWSGI's
// re-exec does: the plain ones are stopped (ReloadSignal, else
// StopSignal) and started again, fresh; the smart ones keep running and
// are adopted again from their pidfiles. The daemons of next replace the
// running ones; a smart daemon no longer configured is stopped (uWSGI
// forgets it, running).
func (s *Server) reloadDaemons(next *Config) {
	ds := s.daemons.Load()
	if ds == nil {
		return
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.stopping {
		return
	}
	ds.cfg = next
	prev := ds.cur
	keep := make([]*daemon, 0, len(prev))
	for _, d := range prev {
		if d.spec.smart() && !d.stoppingNow {
			keep = append(keep, d)
		}
	}
	ds.cur = ds.build(next.Daemons, keep)
	var going []*daemon
	for _, d := range prev {
		if !slices.Contains(ds.cur, d) {
			ds.retireLocked(d)
			going = append(going, d)
		}
	}
	ds.old = append(ds.old, going...)
	victims := ds.signalLocked(going, true)
	mercy := ds.mercy()
	ds.wg.Add(1)
	go func() {
		defer ds.wg.Done()
		ds.finish(victims, mercy, nil)
		ds.mu.Lock()
		defer ds.mu.Unlock()
		ds.old = slices.DeleteFunc(ds.old, func(d *daemon) bool { return slices.Contains(going, d) })
		if !ds.stopping {
			ds.spawnAllLocked("reload")
		}
	}()
}

// retireLocked stops d from being respawned.
func (ds *daemonSet) retireLocked(d *daemon) {
	d.registered = false
	d.stoppingNow = true
	if d.throttle != nil {
		d.throttle.Stop()
		d.throttle = nil
	}
}

// mercy is how long a daemon gets to stop before SIGKILL: reload-mercy,
// else uWSGI's 3 seconds.
func (ds *daemonSet) mercy() time.Duration {
	if ds.cfg.ReloadMercy > 0 {
		return ds.cfg.ReloadMercy
	}
	return daemonMercy
}

// daemonVictim is a daemon being stopped.
type daemonVictim struct {
	d    *daemon
	pid  int // the daemon's pid (a smart daemon's from its pidfile)
	pgid int // the session the master started it in, 0 if none
	proc *daemonProc
}

// signalLocked sends each running daemon of ds its stop (or reload)
// signal: a plain daemon's whole process group, a smart daemon's pid and
// the group it was started in, whose other members would otherwise be
// orphaned.
func (ds *daemonSet) signalLocked(list []*daemon, reload bool) []daemonVictim {
	var out []daemonVictim
	for _, d := range list {
		v := daemonVictim{d: d, pid: d.pid, pgid: d.pgid, proc: d.proc}
		if d.spec.smart() {
			if pid := readPidfile(d.pidfile); pid > 0 && (pid == d.pid || d.pid <= 0) {
				v.pid = pid
			}
		}
		if !v.alive() {
			continue
		}
		sig := d.spec.stopSignal()
		if reload && d.spec.ReloadSignal > 0 {
			sig = d.spec.ReloadSignal
		}
		ds.s.log.printf("[uwsgi-daemons] stopping daemon (pid: %d): %s", v.pid, d.spec.Command)
		v.signal(sig)
		out = append(out, v)
	}
	return out
}

func (v *daemonVictim) alive() bool {
	return v.pid > 0 && processAlive(v.pid) || v.pgid > 0 && groupAlive(v.pgid)
}

func (v *daemonVictim) signal(sig syscall.Signal) {
	if v.pgid > 0 {
		syscall.Kill(-v.pgid, sig)
	}
	if v.pid > 0 && v.pid != v.pgid {
		syscall.Kill(v.pid, sig)
	}
}

// finish waits until the victims are gone, SIGKILLing those still alive
// after mercy or once hurry is closed, and until the master's own
// processes among them are reaped.
func (ds *daemonSet) finish(victims []daemonVictim, mercy time.Duration, hurry <-chan struct{}) {
	if len(victims) == 0 {
		return
	}
	deadline := time.NewTimer(mercy)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		alive := victims[:0:0]
		for _, v := range victims {
			if v.alive() {
				alive = append(alive, v)
			}
		}
		if len(alive) == 0 {
			break
		}
		killNow := false
		select {
		case <-tick.C:
		case <-deadline.C:
			killNow = true
		case <-hurry:
			killNow = true
		}
		if killNow {
			for _, v := range alive {
				ds.s.log.printf("[uwsgi-daemons] daemon did not die in time, killing (pid: %d): %s", v.pid, v.d.spec.Command)
				v.signal(syscall.SIGKILL)
			}
			break
		}
	}
	for _, v := range victims {
		if v.proc != nil {
			select {
			case <-v.proc.done:
			case <-time.After(mercy):
			}
		}
	}
}

// stopDaemons stops every daemon, smart ones too (uWSGI 2.0.21 leaves
// those running: the desktop app promises that nothing outlives it), and
// returns once they are gone: StopSignal, then SIGKILL after reload-mercy
// (3 s by default), or at once when hurry is closed (Kill).
func (s *Server) stopDaemons(hurry <-chan struct{}) {
	ds := s.daemons.Load()
	if ds == nil {
		return
	}
	ds.mu.Lock()
	if ds.stopping {
		ds.mu.Unlock()
		return
	}
	ds.stopping = true
	close(ds.quit)
	all := append(append([]*daemon(nil), ds.old...), ds.cur...)
	for _, d := range all {
		ds.retireLocked(d)
	}
	victims := ds.signalLocked(ds.cur, false)
	// Those a reload is stopping got their signal already; they are
	// waited for (and killed) here as well.
	for _, d := range ds.old {
		v := daemonVictim{d: d, pid: d.pid, pgid: d.pgid, proc: d.proc}
		if v.alive() {
			victims = append(victims, v)
		}
	}
	mercy := ds.mercy()
	ds.mu.Unlock()
	ds.finish(victims, mercy, hurry)
	ds.wg.Wait()
}

// daemonStates lists the daemons for Snapshot.
func (s *Server) daemonStates() []DaemonState {
	ds := s.daemons.Load()
	if ds == nil {
		return nil
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	out := make([]DaemonState, 0, len(ds.cur))
	for _, d := range ds.cur {
		st := DaemonState{ID: d.id, Option: d.spec.Option, Command: d.spec.Command, Pidfile: d.pidfile,
			Spawns: d.spawns, LastSpawn: d.lastSpawn, LastExit: d.lastExit}
		alive := d.pid > 0 && processAlive(d.pid)
		if alive {
			st.PID = d.pid
		}
		switch {
		case (ds.stopping || d.stoppingNow) && alive:
			st.Status = DaemonStopping
		case ds.stopping || d.stoppingNow:
			st.Status = DaemonStopped
		case d.throttle != nil:
			st.Status = DaemonThrottled
		case alive && (!d.spec.smart() || d.status == 2):
			st.Status = DaemonRunning
		case d.spec.smart() && d.registered:
			// Started (or adopted), not yet seen alive in its pidfile by
			// the once-a-second check.
			st.Status = DaemonWaiting
		default:
			st.Status = DaemonStopped
		}
		out = append(out, st)
	}
	return out
}

// readPidfile returns the live process named by a pidfile, or -1 (no
// file, no number, no such process), as uwsgi_check_pidfile does: the
// number is read as C's atoi reads it.
func readPidfile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	pid := atoi(string(b))
	if pid <= 0 || !processAlive(pid) {
		return -1
	}
	return pid
}

// atoi is C's: leading blanks, a sign, digits up to the first other byte.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<31 {
			return 0
		}
	}
	if neg {
		return -n
	}
	return n
}

// processAlive reports whether pid is a process that has not exited: a
// zombie (exited, not yet reaped) counts as gone, since where nothing
// reaps orphans (a container's init) it would otherwise never go.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _, ok := procStateGroup(pid)
	return !ok || state != 'Z'
}

// groupAlive reports whether process group pgid has a member that has not
// exited.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc: kill(2) said yes
	}
	if _, _, ok := procStateGroup(os.Getpid()); !ok {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, pg, ok := procStateGroup(pid); ok && pg == pgid && state != 'Z' {
			return true
		}
	}
	return false
}

// procStateGroup reads a process's state and process group from Linux's
// /proc/PID/stat; ok is false where there is no such file.
func procStateGroup(pid int) (state byte, pgrp int, ok bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(line[i+1:])
	if len(fields) < 3 {
		return 0, 0, false
	}
	pgrp, _ = strconv.Atoi(fields[2])
	return fields[0][0], pgrp, true
}

// daemonProcAttr starts a daemon in a session of its own, as uWSGI does
// (setsid): the terminal's ^C does not reach it, and its process group
// is stopped as a whole. Where the kernel can, it dies with the master.
func daemonProcAttr() *syscall.SysProcAttr {
	a := workerProcAttr()
	a.Setpgid = false
	a.Setsid = true
	return a
}

// processExit says how a process ended.
func processExit(st *os.ProcessState) string {
	if sig := exitSignalOf(st); sig != 0 {
		return fmt.Sprintf("killed by signal %d (%s)", sig, syscall.Signal(sig))
	}
	return fmt.Sprintf("exited with code %d", st.ExitCode())
}

func exitSignalOf(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}

// daemonErrors reports daemons that cannot run, for Config.Validate.
func daemonErrors(list []Daemon) []error {
	var errs []error
	for _, d := range list {
		opt := d.Option
		if opt == "" {
			opt = "daemon"
		}
		switch {
		case strings.TrimSpace(d.Command) == "":
			errs = append(errs, fmt.Errorf("%s%s: no command to run", where(d.Where), opt))
		case d.Daemonize && d.Pidfile == "":
			errs = append(errs, fmt.Errorf("%s%s %s: daemonize needs a pidfile", where(d.Where), opt, d.Command))
		case d.StopSignal < 0 || d.ReloadSignal < 0 || d.StopSignal > 64 || d.ReloadSignal > 64:
			errs = append(errs, fmt.Errorf("%s%s %s: a stop or reload signal out of range", where(d.Where), opt, d.Command))
		}
	}
	return errs
}
