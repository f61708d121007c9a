//go:build linux

package appserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
	"github.com/wsgideck/wsgideck/engine/workerproto"
)

// uwsgiLoop serves one uwsgi socket from one goroutine locked to its OS
// thread, around one epoll set: accept, read the request, parse it, hand it
// to an idle core, relay the core's frames to the client, close. See the
// "uwsgi socket" section of doc.go for why.
//
// Everything the loop waits for is in its epoll set: the listener (level
// triggered), the clients it is reading from or writing to, the cores it has
// used (edge triggered, registered once and left there: closing a core
// removes it), and an eventfd through which other goroutines hand it cores
// (pool.put) and stop requests. Requests the loop does not take on itself
// (bodies over firstChunkMax, static-map, limit-post) go to a goroutine
// running the blocking path (serveUWSGIFrom) with the bytes read so far.
type uwsgiLoop struct {
	s    *Server
	l    *listener
	epfd int
	evfd int

	conns map[int]*loopConn // by client descriptor
	cores map[int]*loopConn // by core descriptor: whose exchange uses it
	queue []*loopConn       // requests waiting for a core (one pool waiter each)
	free  []*loopConn

	accepting   bool
	acceptPause int64 // unix ns: accept errors (EMFILE) pause accepting until then
	events      []unix.EpollEvent
	nextCheck   int64
	brutalSeen  bool

	inMu   sync.Mutex
	inbox  []*core // handed over by pool.put; nil means the pool closed
	spare  []*core
	woken  bool
	exited bool

	stop atomic.Int32 // loopRunning, loopBrutal, loopCutAll
	raw  bool         // waits in epoll_wait keeping its P (see wait)
	idle bool         // the last wait returned no event: wait the ordinary way
	// idleWait is a duplicate of epfd in Go's netpoller (nil when it could
	// not be registered): an idle loop parks there instead of in a
	// blocking epoll_wait (see waitIdle).
	idleWait    *os.File
	idleWaitRaw syscall.RawConn
	id          int  // index in Server.loops
	tcp         bool // the listener is TCP (MSG_MORE applies)

	draining bool
}

// regBit is the loop's bit in core.loopRegs; loops past the 64th share
// none, and add the core to their epoll set each time (EEXIST is fine).
func (lp *uwsgiLoop) regBit() uint64 {
	if lp.id < 64 {
		return 1 << lp.id
	}
	return 0
}

// rawWaitMax is the longest raw wait, in milliseconds: the time without
// events after which a loop counts as idle (see wait).
const rawWaitMax = 50

// rawLoops counts the loops that keep a P while they wait.
var rawLoops atomic.Int32

// wait is epoll_wait. When GOMAXPROCS leaves a P for everything else, the
// loop keeps its own P while it waits (a raw system call, which the
// scheduler does not see): a blocking system call made the usual way hands
// the P back and forth through sysmon, and the thread must get a P again
// to run on, which behind nginx cost two thread wakeups per request. The
// scheduler still preempts the loop every 10 ms and stops it for the
// garbage collector: both send a signal, which ends epoll_wait with EINTR.
// The raw wait is capped at rawWaitMax so that a signal that arrived just
// before epoll_wait cannot hold up the collector for longer.
//
// Keeping the P is only worth it under load. An idle loop holding it looks
// to sysmon like a goroutine that never yields, so sysmon keeps waking to
// preempt it (about 100 signals a second, and 1% of a core for a server
// doing nothing; the desktop app runs the engine in-process). So a raw wait
// that returned no event makes the loop idle, and an idle loop
// waits the ordinary way, giving the P back, until the next event. Under
// load a raw wait nearly always returns events, so this costs nothing
// there.
func (lp *uwsgiLoop) wait(timeout int) (int, error) {
	if !lp.raw || lp.idle {
		if lp.idle && lp.idleWaitRaw != nil {
			return lp.waitIdle(timeout)
		}
		return unix.EpollWait(lp.epfd, lp.events, timeout)
	}
	if timeout < 0 || timeout > rawWaitMax {
		timeout = rawWaitMax
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(lp.epfd), uintptr(unsafe.Pointer(&lp.events[0])), uintptr(len(lp.events)), uintptr(timeout), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// waitIdle waits for the loop's next event in Go's netpoller, where the
// loop's epoll set is registered as one descriptor (it is readable when it
// has events). A blocking epoll_wait holds its thread in a system call,
// which sysmon notices and answers by taking the P away, and each time it
// does, sysmon polls more often for a while: in the desktop app, which
// runs the engine in-process, a loop waiting for slow requests kept sysmon
// waking about 1,000 times a second. Parked in the netpoller, the loop's
// goroutine is not in a system call at all. Waking it costs a handoff to
// its locked thread, which is why only an idle loop waits this way.
func (lp *uwsgiLoop) waitIdle(timeout int) (int, error) {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	if err := lp.idleWait.SetReadDeadline(deadline); err != nil {
		return unix.EpollWait(lp.epfd, lp.events, timeout)
	}
	var n int
	var werr error
	err := lp.idleWaitRaw.Read(func(uintptr) bool {
		n, werr = unix.EpollWait(lp.epfd, lp.events, 0)
		if werr == unix.EINTR {
			n, werr = 0, nil
		}
		return n > 0 || werr != nil
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return n, werr
}

// newIdleWait registers a duplicate of epfd in Go's netpoller for
// waitIdle; nil when that is not possible (the loop then waits in
// epoll_wait).
func newIdleWait(epfd int) (*os.File, syscall.RawConn) {
	dup, err := unix.FcntlInt(uintptr(epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, nil
	}
	f := os.NewFile(uintptr(dup), "epoll")
	// A deadline is refused on a file the netpoller did not take.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil
	}
	return f, rc
}

const (
	loopRunning int32 = iota
	loopBrutal
	loopCutAll
)

// epoll tags (EpollEvent.Pad) saying what a descriptor is.
const (
	tagListener = iota
	tagWake
	tagClient
	tagCore
)

// loopConn states.
const (
	lcReading   = iota // reading the request
	lcQueued           // parsed, waiting for a core
	lcExchange         // the request is on a core
	lcFinishing        // the exchange ended; writing the rest, then close
)

// loopConn is one client connection of the loop. It is the responder of
// its exchange: the response is built in out and written without waiting.
type loopConn struct {
	fd         int
	state      int
	registered bool
	inQueue    bool
	queued     bool // it waited in the queue for a core (Wait in its event)
	closed     bool
	parsed     bool   // the vars were parsed into rq
	in         []byte // request bytes read so far
	readBy     int64  // unix ns: socket-timeout for the whole request
	writeBy    int64  // unix ns: the pending write's deadline, 0 when none
	rq         request
	began      time.Time
	tries      int

	c        *core
	cin      []byte // bytes from the core not yet consumed, from cinOff
	cinOff   int
	bodyLeft int // rest of the BODY frame being relayed
	x        exchange
	started  bool // a status line is in out (or was written)
	paused   bool // out is full: the core is not read until the client drains it
	out      []byte
	outOff   int
	dead     bool // the client failed: output is discarded
	lp       *uwsgiLoop
}

var _ responder = (*loopConn)(nil)

// outHigh is how much response the loop buffers for one client before it
// stops reading that client's core (the worker then blocks on its write:
// back pressure, as with the blocking path's 8 KiB writer and a full
// socket buffer).
const outHigh = 256 << 10

func (s *Server) startUWSGILoop(l *listener) error {
	if err := unix.SetNonblock(l.fd, true); err != nil {
		return err
	}
	if l.kind == "TCP" {
		// accept returns a connection only once its request bytes are
		// there: nginx sends the request right after connecting, so the
		// first read needs no wait and no epoll registration.
		unix.SetsockoptInt(l.fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return err
	}
	lp := &uwsgiLoop{s: s, l: l, epfd: epfd, evfd: evfd, conns: map[int]*loopConn{}, cores: map[int]*loopConn{},
		accepting: true, events: make([]unix.EpollEvent, 128), tcp: l.kind == "TCP"}
	if lp.idleWait, lp.idleWaitRaw = newIdleWait(epfd); lp.idleWait == nil {
		s.log.printf("uwsgi socket %s: the idle loop waits in epoll_wait (its epoll set could not join Go's netpoller)", l.addr)
	}
	if err := lp.ctl(unix.EPOLL_CTL_ADD, l.fd, tagListener, unix.EPOLLIN); err != nil {
		lp.closeDescriptors()
		return err
	}
	if err := lp.ctl(unix.EPOLL_CTL_ADD, evfd, tagWake, unix.EPOLLIN); err != nil {
		lp.closeDescriptors()
		return err
	}
	lp.id = len(s.loops)
	s.loops = append(s.loops, lp)
	s.acceptWG.Add(1)
	go lp.run()
	return nil
}

func (lp *uwsgiLoop) ctl(op, fd, tag int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(tag)}
	return unix.EpollCtl(lp.epfd, op, fd, &ev)
}

// deliver hands the loop a core for its oldest queued request (nil: the
// pool closed). self is true when the loop itself called pool.put.
func (lp *uwsgiLoop) deliver(c *core, self bool) {
	lp.inMu.Lock()
	if lp.exited {
		lp.inMu.Unlock()
		if c != nil {
			lp.s.pool.put(c)
		}
		return
	}
	lp.inbox = append(lp.inbox, c)
	wake := !self && !lp.woken
	if wake {
		lp.woken = true
	}
	lp.inMu.Unlock()
	if wake {
		lp.wake()
	}
}

func (lp *uwsgiLoop) wake() {
	var one = [8]byte{1}
	unix.Write(lp.evfd, one[:])
}

// shutdown is Server.shutdown's word to the loop: brutal cuts the
// connections still sending their request; cutAll closes every one.
func (lp *uwsgiLoop) shutdown(mode int32) {
	lp.inMu.Lock()
	defer lp.inMu.Unlock()
	if lp.exited {
		return
	}
	if lp.stop.Load() < mode {
		lp.stop.Store(mode)
	}
	lp.woken = true
	lp.wake()
}

func (lp *uwsgiLoop) run() {
	defer lp.s.acceptWG.Done()
	// One thread does all of this socket's work, and the Go scheduler is
	// not involved per request: no goroutine is readied, parked or handed
	// between threads. epoll_wait is the only system call that blocks.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lp.raw = rawLoops.Add(1) < int32(runtime.GOMAXPROCS(0))
	defer func() {
		if lp.raw {
			rawLoops.Add(-1)
		}
	}()
	for {
		timeout := -1
		if len(lp.conns) > 0 || lp.acceptPause != 0 {
			timeout = 100
		}
		n, err := lp.wait(timeout)
		// Nothing happened: the wait timed out, or a preemption signal cut
		// it (sysmon sends one every 10 ms to a loop keeping its P, so an
		// idle loop rarely reaches the timeout).
		lp.idle = n == 0
		if err != nil && err != unix.EINTR {
			lp.s.log.printf("epoll_wait on %s: %v", lp.l.addr, err)
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < n; i++ {
			ev := &lp.events[i]
			fd := int(ev.Fd)
			switch ev.Pad {
			case tagListener:
				lp.acceptAll()
			case tagWake:
				var b [8]byte
				unix.Read(lp.evfd, b[:])
			case tagClient:
				if lc := lp.conns[fd]; lc != nil {
					lp.clientReady(lc)
				}
			case tagCore:
				if lc := lp.cores[fd]; lc != nil && lc.c != nil && lc.c.fd == fd {
					lp.pump(lc)
				}
			}
		}
		lp.drainInbox()
		if mode := lp.stop.Load(); mode != loopRunning {
			lp.stopping(mode)
		}
		if now := time.Now().UnixNano(); now >= lp.nextCheck && (len(lp.conns) > 0 || lp.acceptPause != 0) {
			lp.nextCheck = now + int64(100*time.Millisecond)
			lp.checkTimeouts(now)
		}
		if !lp.accepting && len(lp.conns) == 0 && len(lp.queue) == 0 && lp.s.stopping.Load() {
			lp.inMu.Lock()
			lp.exited = true
			inbox := lp.inbox
			lp.inbox = nil
			lp.inMu.Unlock()
			for _, c := range inbox {
				if c != nil {
					lp.s.pool.put(c)
				}
			}
			lp.closeDescriptors()
			return
		}
	}
}

// closeDescriptors closes the loop's own descriptors: the epoll set (and
// its netpoller duplicate) and the eventfd.
func (lp *uwsgiLoop) closeDescriptors() {
	if lp.idleWait != nil {
		lp.idleWait.Close()
	}
	unix.Close(lp.epfd)
	unix.Close(lp.evfd)
}

// acceptBatch is how many connections acceptAll takes per listener event.
// One: behind nginx a single connection is nearly always waiting, so
// accepting until EAGAIN cost a failing accept4 per request; the listener
// is level-triggered, so the next epoll_wait reports at once any
// connection left, and requests in progress keep moving under a flood.
const acceptBatch = 1

// acceptAll accepts what the listener holds, up to acceptBatch.
func (lp *uwsgiLoop) acceptAll() {
	if !lp.accepting || lp.acceptPause != 0 {
		return
	}
	for i := 0; i < acceptBatch; i++ {
		// accept4 with no address: the request's vars carry the
		// client's; the peer is only looked up for an error message.
		r, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lp.l.fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if errno != 0 {
			switch errno {
			case unix.EAGAIN:
				if lp.s.stopping.Load() {
					// A shut down unix listener says EAGAIN (and
					// EPOLLHUP, level-triggered), not EINVAL, to a
					// non-blocking accept.
					lp.accepting = false
					lp.ctl(unix.EPOLL_CTL_DEL, lp.l.fd, tagListener, 0)
				}
				return
			case unix.EINTR, unix.ECONNABORTED:
				continue
			case unix.EINVAL, unix.EBADF:
				// The listener was shut down: the server is stopping.
				lp.accepting = false
				lp.ctl(unix.EPOLL_CTL_DEL, lp.l.fd, tagListener, 0)
				return
			}
			if lp.s.stopping.Load() {
				lp.accepting = false
				lp.ctl(unix.EPOLL_CTL_DEL, lp.l.fd, tagListener, 0)
				return
			}
			// EMFILE and friends: back off, as the blocking acceptors did.
			lp.s.log.printf("accept() on %s: %v; retrying in %v", lp.l.addr, errno, 100*time.Millisecond)
			lp.acceptPause = time.Now().Add(100 * time.Millisecond).UnixNano()
			lp.ctl(unix.EPOLL_CTL_DEL, lp.l.fd, tagListener, 0)
			return
		}
		fd := int(r)
		if lp.s.stopping.Load() {
			unix.Close(fd)
			continue
		}
		lp.s.connWG.Add(1)
		lc := lp.newConn(fd)
		lp.conns[fd] = lc
		lp.readRequest(lc)
	}
}

func (lp *uwsgiLoop) newConn(fd int) *loopConn {
	var lc *loopConn
	if n := len(lp.free); n > 0 {
		lc = lp.free[n-1]
		lp.free = lp.free[:n-1]
	} else {
		lc = &loopConn{lp: lp, in: make([]byte, 0, 8<<10), cin: make([]byte, 0, 16<<10)}
	}
	lc.fd, lc.state = fd, lcReading
	lc.readBy = time.Now().Add(lp.s.cfg().SocketTimeout).UnixNano()
	return lc
}

// closeConn closes the client connection; its loopConn is reused once no
// queue refers to it.
func (lp *uwsgiLoop) closeConn(lc *loopConn) {
	if lc.closed {
		return
	}
	lc.closed = true
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(lc.fd), 0, 0)
	delete(lp.conns, lc.fd)
	lp.s.connWG.Done()
	if !lc.inQueue && lc.c == nil {
		lp.recycle(lc)
	}
}

func (lp *uwsgiLoop) recycle(lc *loopConn) {
	in, cin, out := lc.in[:0], lc.cin[:0], lc.out[:0]
	if cap(in) > 64<<10 {
		in = make([]byte, 0, 8<<10)
	}
	if cap(out) > outHigh*2 {
		out = nil
	}
	rq := lc.rq
	rq.reset()
	rq.first = rq.first[:0]
	*lc = loopConn{lp: lp, in: in, cin: cin, out: out, rq: rq}
	if len(lp.free) < 256 {
		lp.free = append(lp.free, lc)
	}
}

// register puts the client in the epoll set, for reading and writing, the
// first time the loop has to wait for it.
func (lp *uwsgiLoop) register(lc *loopConn) bool {
	if lc.registered {
		return true
	}
	if err := lp.ctl(unix.EPOLL_CTL_ADD, lc.fd, tagClient, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
		lp.s.log.printf("uwsgi socket %s: epoll: %v", lp.l.addr, err)
		return false
	}
	lc.registered = true
	return true
}

// peer names the client for an error message.
func (lp *uwsgiLoop) peer(lc *loopConn) string {
	if sa, err := unix.Getpeername(lc.fd); err == nil {
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
		case *unix.SockaddrInet6:
			return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
		}
	}
	return "@"
}

// readRequest reads what the client sent and dispatches the request once
// the header, vars and body are all in.
func (lp *uwsgiLoop) readRequest(lc *loopConn) {
	s := lp.s
	cfg := s.cfg()
	for {
		if done, ok := lp.parse(lc, cfg); !ok || done {
			return
		}
		if len(lc.in) == cap(lc.in) {
			lc.in = append(lc.in, 0)[:len(lc.in)]
		}
		n, err := rawRead(lc.fd, lc.in[len(lc.in):cap(lc.in)])
		switch {
		case n > 0:
			lc.in = lc.in[:len(lc.in)+n]
		case err == unix.EAGAIN:
			if !lp.register(lc) {
				lp.closeConn(lc)
			}
			return
		case err == unix.EINTR:
		default:
			// EOF or a reset before the request was complete: nothing to
			// answer (the blocking path logs nothing either).
			lp.closeConn(lc)
			return
		}
	}
}

// parse looks at the bytes read so far. done: the request was dispatched
// (or handed over); ok false: the connection was closed.
func (lp *uwsgiLoop) parse(lc *loopConn, cfg *Config) (done, ok bool) {
	s := lp.s
	in := lc.in
	if len(in) < uwsgiproto.HeaderSize {
		return false, true
	}
	h := uwsgiproto.DecodeHeader([uwsgiproto.HeaderSize]byte(in[:uwsgiproto.HeaderSize]))
	max := cfg.BufferSize
	if max <= 0 {
		max = uwsgiproto.DefaultBufferSize
	}
	if int(h.Size) > max {
		// Let ReadRequest word the error exactly as the blocking path does.
		_, _, err := uwsgiproto.ReadRequest(&prefixReader{pre: in, r: eofReader{}}, cfg.BufferSize)
		var bse *uwsgiproto.BlockSizeError
		if errors.As(err, &bse) {
			s.log.printf("%s", bse.Error())
			if hint := bse.Hint(); hint != "" {
				s.log.printf("hint (%s from %s): %s", lp.l.addr, lp.peer(lc), hint)
			}
		}
		lp.closeConn(lc)
		return false, false
	}
	varsEnd := uwsgiproto.HeaderSize + int(h.Size)
	if len(in) < varsEnd {
		if cap(in) < varsEnd {
			lc.in = append(make([]byte, 0, varsEnd+4096), in...)
		}
		return false, true
	}
	if !lc.parsed {
		lc.parsed = true
		vars, err := uwsgiproto.ParseVars(in[uwsgiproto.HeaderSize:varsEnd])
		if err != nil {
			if errors.Is(err, uwsgiproto.ErrNullKey) {
				s.log.printf("uwsgi key cannot be null. skip this var.")
			}
			lp.closeConn(lc)
			return false, false
		}
		if h.Modifier1 != 0 {
			s.log.printf("-- unavailable modifier requested: %d --", h.Modifier1)
			lp.closeConn(lc)
			return false, false
		}
		rq := &lc.rq
		rq.fromUWSGI(lp.l.index, vars, h)
		cl := rq.info.ContentLength
		if cl > firstChunkMax || len(cfg.StaticMaps) > 0 || cfg.LimitPost > 0 && cl > cfg.LimitPost {
			// Streamed bodies, static files and refusals stay with the
			// blocking path.
			lp.handOver(lc)
			return true, true
		}
		if need := varsEnd + int(cl); cap(lc.in) < need {
			lc.in = append(make([]byte, 0, need), in...)
			in = lc.in
		}
	}
	need := varsEnd + int(lc.rq.info.ContentLength)
	if len(in) < need {
		return false, true
	}
	lc.rq.first = append(lc.rq.first[:0], in[varsEnd:need]...)
	lp.dispatch(lc)
	return true, true
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// handOver gives the connection to a goroutine on the blocking path, with
// the bytes read so far.
func (lp *uwsgiLoop) handOver(lc *loopConn) {
	s := lp.s
	if lc.registered {
		lp.ctl(unix.EPOLL_CTL_DEL, lc.fd, tagClient, 0)
	}
	unix.SetNonblock(lc.fd, false)
	delete(lp.conns, lc.fd)
	pre := append([]byte(nil), lc.in...)
	rc := &rawConn{fd: lc.fd, local: lp.l.localAddr}
	if sa, err := syscall.Getpeername(lc.fd); err == nil {
		rc.remote = sockaddrToAddr(sa, "")
	} else {
		rc.remote = &net.UnixAddr{Name: "@", Net: "unix"}
	}
	cc := &clientConn{Conn: rc, l: lp.l, raw: rc}
	lc.closed = true
	lp.recycle(lc)
	ok := s.trackConn(cc)
	s.connWG.Done() // the loop's count; trackConn took its own
	if !ok {
		rc.Close()
		return
	}
	go s.serveUWSGIFrom(cc, pre)
}

// dispatch hands a complete request to an idle core, or queues it.
func (lp *uwsgiLoop) dispatch(lc *loopConn) {
	lc.began = lp.s.now()
	lc.state = lcQueued
	lc.queued = false
	lp.getCore(lc)
}

func (lp *uwsgiLoop) getCore(lc *loopConn) {
	for {
		c, err := lp.s.pool.tryGet(lp)
		if err != nil {
			lp.refuse(lc)
			return
		}
		if c == nil {
			lc.inQueue, lc.queued = true, true
			lp.queue = append(lp.queue, lc)
			return
		}
		if c.w.dead.Load() {
			// Its worker died after the core went idle.
			c.broken = true
			c.close()
			continue
		}
		lp.startExchange(lc, c)
		return
	}
}

// refuse answers 503: no core will come (the server is stopping).
func (lp *uwsgiLoop) refuse(lc *loopConn) {
	lc.state = lcFinishing
	lc.x = exchange{status: 503, app: -1, refused: true}
	lc.fail(503)
	lp.s.logRequest(&lc.rq, nil, 0, &lc.x, lc.began)
	lp.flush(lc)
}

// drainInbox gives the cores pool.put handed over to the queued requests,
// oldest first.
func (lp *uwsgiLoop) drainInbox() {
	if lp.draining {
		return // the outer call sees what was added
	}
	lp.draining = true
	defer func() { lp.draining = false }()
	for {
		lp.inMu.Lock()
		cores := lp.inbox
		lp.inbox, lp.spare = lp.spare[:0], cores
		lp.woken = false
		lp.inMu.Unlock()
		if len(cores) == 0 {
			return
		}
		for i, c := range cores {
			cores[i] = nil
			if len(lp.queue) == 0 {
				if c != nil {
					lp.s.pool.put(c)
				}
				continue
			}
			lc := lp.queue[0]
			lp.queue[0] = nil
			lp.queue = lp.queue[1:]
			lc.inQueue = false
			switch {
			case lc.closed:
				if c != nil {
					lp.s.pool.putFrom(c, lp)
				}
				lp.recycle(lc)
			case c == nil:
				lp.refuse(lc)
			case c.w.dead.Load():
				c.broken = true
				c.close()
				lp.getCore(lc)
			default:
				lp.startExchange(lc, c)
			}
		}
	}
}

// startExchange sends the request to c; the response comes back through
// pump as the core's descriptor turns readable.
func (lp *uwsgiLoop) startExchange(lc *loopConn, c *core) {
	s := lp.s
	now := s.now()
	c.markBusy(now, &lc.rq)
	lc.c = c
	lc.x = exchange{app: -1}
	if lc.queued {
		lc.x.taken = now
	}
	// A core is registered once in each loop's epoll set that uses it
	// (each socket has its loop, and cores are shared).
	if bit := lp.regBit(); c.loopRegs&bit == 0 {
		err := lp.ctl(unix.EPOLL_CTL_ADD, c.fd, tagCore, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET)
		if err != nil && err != unix.EEXIST {
			lp.lost(lc, fmt.Errorf("epoll: %w", err))
			return
		}
		c.loopRegs |= bit
	}
	lp.cores[c.fd] = lc
	lc.state = lcExchange
	c.wbuf = workerproto.AppendRequest(c.wbuf[:0], lc.rq.env.Bytes(), lc.rq.info.ContentLength, lc.rq.first)
	if err := c.sendNow(c.wbuf); err != nil {
		// The worker is gone and never saw the request: another core
		// can take it.
		c.broken = true
		c.close()
		c.markIdle()
		delete(lp.cores, c.fd)
		lc.c = nil
		if lc.tries < maxRedispatch {
			lc.tries++
			s.redispatched.Add(1)
			lc.state = lcQueued
			lp.getCore(lc)
			return
		}
		lc.state = lcFinishing
		c.requests.Add(1)
		lc.x.status = http.StatusBadGateway
		lc.x.workerErr, lc.x.undelivered = errWorkerLost, true
		lc.fail(lc.x.status)
		settleExchange(&lc.x, lc.rq.proto)
		s.logRequest(&lc.rq, c.w, c.id, &lc.x, lc.began)
		lp.flush(lc)
		return
	}
	lc.cin, lc.cinOff, lc.bodyLeft = lc.cin[:0], 0, 0
}

// pump relays what the core sent, until it has nothing more for now, the
// client's buffer is full, or the exchange ended.
func (lp *uwsgiLoop) pump(lc *loopConn) {
	for lc.c != nil && !lc.paused {
		if lp.consume(lc) {
			return
		}
		if lc.paused {
			return
		}
		if lc.cinOff > 0 {
			n := copy(lc.cin, lc.cin[lc.cinOff:])
			lc.cin, lc.cinOff = lc.cin[:n], 0
		}
		if len(lc.cin) == cap(lc.cin) {
			lc.cin = append(lc.cin, 0)[:len(lc.cin)]
		}
		n, err := lc.c.readNow(lc.cin[len(lc.cin):cap(lc.cin)])
		switch {
		case n > 0:
			lc.cin = lc.cin[:len(lc.cin)+n]
		case err == syscall.EAGAIN:
			// Nothing more from the worker right now: let the client see
			// what it has (streaming responses).
			if lc.x.sent && len(lc.out) > lc.outOff {
				lp.flush(lc)
			}
			return
		case err == syscall.EINTR:
		default:
			lp.lost(lc, err)
			return
		}
	}
}

// consume handles the frames in cin; true when the exchange ended.
func (lp *uwsgiLoop) consume(lc *loopConn) bool {
	x := &lc.x
	for {
		avail := lc.cin[lc.cinOff:]
		if lc.bodyLeft > 0 {
			if len(avail) == 0 {
				return false
			}
			k := min(lc.bodyLeft, len(avail))
			if x.sent && x.clientErr == nil {
				lc.out = append(lc.out, avail[:k]...)
			}
			lc.bodyLeft -= k
			lc.cinOff += k
			if len(lc.out)-lc.outOff >= outHigh {
				lp.flush(lc)
				if len(lc.out)-lc.outOff >= outHigh {
					lc.paused = true
					return false
				}
			}
			continue
		}
		if len(avail) < workerproto.HeaderSize {
			return false
		}
		h := workerproto.Header{Type: avail[0], Len: int(binary.LittleEndian.Uint32(avail[1:]))}
		if h.Type == workerproto.TypeBody {
			x.bodyBytes += int64(h.Len)
			lc.cinOff += workerproto.HeaderSize
			lc.bodyLeft = h.Len
			continue
		}
		if h.Len > workerproto.MaxControlPayload {
			lp.lost(lc, fmt.Errorf("%w: %v", workerproto.ErrFrameTooLarge, h))
			return true
		}
		if len(avail) < workerproto.HeaderSize+h.Len {
			if need := workerproto.HeaderSize + h.Len; cap(lc.cin) < need {
				lc.cin = append(make([]byte, 0, need), avail...)
				lc.cinOff = 0
			}
			return false
		}
		p := avail[workerproto.HeaderSize : workerproto.HeaderSize+h.Len]
		lc.cinOff += workerproto.HeaderSize + h.Len
		switch h.Type {
		case workerproto.TypeHeaders:
			if x.sent || x.clientErr != nil {
				continue
			}
			head, err := workerproto.ParseHeaders(p)
			if err != nil {
				lp.s.log.printf("invalid response headers from the app: %v", err)
				x.clientErr = err
				x.status = 500
				lc.fail(500)
				continue
			}
			x.status, x.headers = head.Code, head.Count
			x.headerBytes = len(lc.rq.proto) + 1 + len(head.Status) + 2 + len(head.Lines) + 2
			if len(head.Status) == 3 {
				x.headerBytes += 1 + len(httpStatusText(head.Code))
			}
			x.sent = true
			lc.start1(&head)
		case workerproto.TypeRead:
			// The whole body went with the request: the app asks past
			// it, and gets end of body.
			if _, err := workerproto.ParseRead(p); err != nil {
				lp.lost(lc, err)
				return true
			}
			c := lc.c
			c.wbuf = workerproto.AppendFrame(c.wbuf[:0], workerproto.TypeData, nil)
			if err := c.sendNow(c.wbuf); err != nil {
				lp.lost(lc, err)
				return true
			}
		case workerproto.TypeEnd:
			end, err := workerproto.ParseEnd(p)
			if err != nil {
				lp.lost(lc, err)
				return true
			}
			x.outcome, x.switches, x.app = end.Outcome, end.Switches, end.App
			lp.endExchange(lc)
			return true
		default:
			lp.lost(lc, fmt.Errorf("unexpected %v", h))
			return true
		}
	}
}

// endExchange is handle's epilogue: the core goes back (before the client
// gets the end of the response), the request is counted and logged, and
// the client gets the rest.
func (lp *uwsgiLoop) endExchange(lc *loopConn) {
	s := lp.s
	c := lc.c
	c.markIdle()
	delete(lp.cores, c.fd)
	lc.c = nil
	lc.paused = false
	c.requests.Add(1)
	w := c.w
	x := &lc.x
	if c.broken {
		if x.workerErr != nil && !errors.Is(x.workerErr, errWorkerLost) && !w.dead.Load() {
			s.log.printf("worker %d (pid: %d) core %d: %v; killing the worker", w.slot.id, w.pid, c.id, x.workerErr)
			w.kill(syscall.SIGKILL)
		}
	} else {
		s.pool.putFrom(c, lp)
		// The next queued request goes to the core before this client
		// hears back: the worker starts on it meanwhile.
		lp.drainInbox()
	}
	settleExchange(x, lc.rq.proto)
	s.logRequest(&lc.rq, w, c.id, x, lc.began)
	finishExchange(x, lc)
	lc.state = lcFinishing
	lp.flush(lc)
}

// lost is core.lost for the loop: the channel broke mid-request.
func (lp *uwsgiLoop) lost(lc *loopConn, err error) {
	c := lc.c
	c.broken = true
	c.close()
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		err = errWorkerLost
	}
	x := &lc.x
	x.workerErr = err
	x.harakiri = c.harakiri.Load()
	if x.sent {
		lc.abort()
	} else {
		x.status = http.StatusBadGateway
		if x.harakiri {
			x.status = http.StatusGatewayTimeout
		}
		x.headers, x.headerBytes = 0, 0
		lc.fail(x.status)
	}
	lp.endExchange(lc)
}

// flush writes out without waiting; what the client cannot take yet is
// written when it turns writable. A finished connection closes once out
// is written.
func (lp *uwsgiLoop) flush(lc *loopConn) {
	for lc.outOff < len(lc.out) && !lc.dead {
		var n int
		var err error
		if lp.tcp && lc.state == lcFinishing {
			// The last bytes: MSG_MORE holds them for the close that
			// follows, so the response and the FIN leave in one segment
			// and the client wakes once.
			n, err = sendFlags(lc.fd, lc.out[lc.outOff:], unix.MSG_MORE|unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
		} else {
			n, err = rawWrite(lc.fd, lc.out[lc.outOff:])
		}
		if n > 0 {
			lc.outOff += n
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			if lc.writeBy == 0 {
				lc.writeBy = time.Now().Add(writeTimeout(lp.s.cfg())).UnixNano()
			}
			if !lp.register(lc) {
				lp.clientFailed(lc, err)
			}
			return
		}
		if err == nil {
			err = io.ErrShortWrite
		}
		lp.clientFailed(lc, err)
	}
	lc.out, lc.outOff, lc.writeBy = lc.out[:0], 0, 0
	if lc.state == lcFinishing {
		lp.closeConn(lc)
	}
}

// clientFailed records that the client cannot be written to; the core's
// response is still read to its end (the channel must stay in step) and
// discarded.
func (lp *uwsgiLoop) clientFailed(lc *loopConn, err error) {
	lc.dead = true
	if lc.x.clientErr == nil {
		lc.x.clientErr = err
		if lc.state == lcExchange && lc.c != nil && !lc.c.broken {
			// The worker stops the response (see core.clientFailed); a
			// failed send shows as the channel's failure on its next read.
			lc.c.sendNow([]byte(workerproto.GoneFrame))
		}
	}
	lc.out, lc.outOff, lc.writeBy = lc.out[:0], 0, 0
	if lc.paused {
		lc.paused = false
		lp.pump(lc)
	}
	if lc.state == lcFinishing {
		lp.closeConn(lc)
	}
}

// clientReady handles an epoll event on a client.
func (lp *uwsgiLoop) clientReady(lc *loopConn) {
	switch lc.state {
	case lcReading:
		lp.readRequest(lc)
	case lcExchange, lcFinishing:
		if lc.outOff < len(lc.out) {
			lp.flush(lc)
		}
		if lc.paused && !lc.closed && len(lc.out)-lc.outOff < outHigh/4 {
			lc.paused = false
			lp.pump(lc)
		}
	}
}

// checkTimeouts enforces socket-timeout on requests being read and on
// writes to clients, and notices cores closed under an exchange (their
// epoll registration went with the close).
func (lp *uwsgiLoop) checkTimeouts(now int64) {
	if lp.acceptPause != 0 && now >= lp.acceptPause {
		lp.acceptPause = 0
		if lp.accepting {
			lp.ctl(unix.EPOLL_CTL_ADD, lp.l.fd, tagListener, unix.EPOLLIN)
		}
	}
	for _, lc := range lp.conns {
		switch {
		case lc.state == lcReading && now > lc.readBy:
			lp.s.log.printf("uwsgi request from %s on %s: no complete request within socket-timeout (%v)", lp.peer(lc), lp.l.addr, lp.s.cfg().SocketTimeout)
			lp.closeConn(lc)
		case lc.writeBy != 0 && now > lc.writeBy:
			lp.clientFailed(lc, errRawTimeout)
		case lc.state == lcExchange && lc.c != nil && lc.c.w.dead.Load():
			lp.pump(lc)
		}
	}
}

// stopping applies a shutdown mode: brutal cuts the requests still
// arriving; cutAll closes everything (the workers are gone by then).
func (lp *uwsgiLoop) stopping(mode int32) {
	if mode == loopBrutal && lp.brutalSeen {
		return
	}
	lp.brutalSeen = true
	for _, lc := range lp.conns {
		if lc.state == lcReading || mode == loopCutAll {
			if lc.c != nil {
				lc.c.markIdle()
				delete(lp.cores, lc.c.fd)
				lc.c = nil
			}
			lp.closeConn(lc)
		}
	}
}

// The responder side of loopConn: the response is built in out.

func (lc *loopConn) start1(head *workerproto.ResponseHead) {
	lc.started = true
	b := append(lc.out, lc.rq.proto...)
	b = append(b, ' ')
	b = head.AppendStatus(b)
	b = append(b, "\r\n"...)
	b = append(b, head.Lines...)
	lc.out = append(b, "\r\n"...)
}

func (lc *loopConn) start(head *workerproto.ResponseHead, size int64) error {
	lc.start1(head)
	return nil
}

func (lc *loopConn) Write(p []byte) (int, error) {
	if !lc.dead {
		lc.out = append(lc.out, p...)
	}
	return len(p), nil
}

func (lc *loopConn) flush() error  { return nil }
func (lc *loopConn) finish() error { return nil }
func (lc *loopConn) abort()        {}

func (lc *loopConn) fail(status int) {
	if lc.started {
		return
	}
	lc.started = true
	if lc.dead {
		return
	}
	lc.out = appendHTTPError(lc.out, status)
}

// appendHTTPError is writeHTTPError's response, appended to b.
func appendHTTPError(b []byte, status int) []byte {
	text := http.StatusText(status)
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(text)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, text...)
}

const uwsgiLoopSupported = true

// recvNow reads from a socket without waiting, whether or not the
// descriptor is in non-blocking mode.
func recvNow(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// The loop's system calls on descriptors that never block are raw: the
// scheduler does not see them, so the loop's P is never "in a system call"
// for sysmon to take away when the kernel runs a woken worker before the
// call returns (see wait).

func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// sendNow writes a whole frame to the core: at once when the channel has
// room (it is idle, so it has), else through the blocking Write.
func (c *core) sendNow(p []byte) error {
	c.sp = p
	if err := c.rc.Write(c.sendFn); err != nil {
		c.sp = nil
		return err
	}
	n, err := c.sn, c.serr
	c.sp = nil
	if err != nil && err != unix.EAGAIN {
		return err
	}
	if n < len(p) {
		_, err = c.conn.Write(p[max(n, 0):])
	}
	return err
}

// sendNowFD writes to a socket without waiting (MSG_NOSIGNAL: a dead
// worker is an EPIPE, not a signal).
func sendNowFD(fd int, p []byte) (int, error) {
	n, err := sendFlags(fd, p, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	return max(n, 0), err
}

func sendFlags(fd int, p []byte, flags int) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), uintptr(flags), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
