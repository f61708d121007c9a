package appserver

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Where the event loop (uwsgiloop_linux.go) is not available, and for the
// requests it hands over (big bodies, static-map, limit-post), the uwsgi
// socket is served the way uWSGI's workers serve it: a fixed set of
// acceptor goroutines each block in accept(2) and handle the connection
// they get with plain blocking system calls, and connections not yet taken
// wait in the kernel's backlog. nginx opens one connection per request, so
// the per-connection cost dominates there; Go's netpoller would add an
// epoll registration and removal, a getsockname, and an EAGAIN read plus a
// wakeup to every connection.

// rawConn is an accepted connection used with blocking system calls. Its
// deadlines are enforced by the server's watchdog, which shuts the socket
// down when a read or write outlives them (no system call per request).
type rawConn struct {
	fd     int
	remote net.Addr
	local  net.Addr

	mu       sync.Mutex // orders close against the watchdog's shutdown
	closed   bool
	timedOut atomic.Bool

	readDeadline  atomic.Int64 // unix nanoseconds, 0 for none
	writeDeadline atomic.Int64
	busyUntil     atomic.Int64 // the deadline of the system call in progress
}

var _ net.Conn = (*rawConn)(nil)

// errRawTimeout is what a read or write cut by the watchdog returns.
var errRawTimeout = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout (socket-timeout)" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }
func (*timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

func (c *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.busyUntil.Store(c.readDeadline.Load())
	defer c.busyUntil.Store(0)
	for {
		n, err := syscall.Read(c.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if c.timedOut.Load() {
			return max(n, 0), errRawTimeout
		}
		if err != nil {
			return 0, &net.OpError{Op: "read", Net: "raw", Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *rawConn) Write(p []byte) (int, error) {
	c.busyUntil.Store(c.writeDeadline.Load())
	defer c.busyUntil.Store(0)
	written := 0
	for written < len(p) {
		n, err := syscall.Write(c.fd, p[written:])
		if err == syscall.EINTR {
			continue
		}
		if c.timedOut.Load() {
			return written, errRawTimeout
		}
		if err != nil {
			return written, &net.OpError{Op: "write", Net: "raw", Err: err}
		}
		written += n
	}
	return written, nil
}

func (c *rawConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return syscall.Close(c.fd)
}

// cut shuts the socket down, waking a blocked read or write; safe from any
// goroutine while the connection is open.
func (c *rawConn) cut(timeout bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if timeout {
		c.timedOut.Store(true)
	}
	syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
}

// expired reports whether the system call in progress is past its deadline.
func (c *rawConn) expired(now int64) bool {
	d := c.busyUntil.Load()
	return d != 0 && now > d
}

func (c *rawConn) LocalAddr() net.Addr  { return c.local }
func (c *rawConn) RemoteAddr() net.Addr { return c.remote }

func (c *rawConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *rawConn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Store(unixNanoOrZero(t))
	if !t.IsZero() && !t.After(time.Now()) {
		// A deadline in the past: the server is stopping.
		c.cut(true)
	}
	return nil
}

func (c *rawConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNanoOrZero(t))
	return nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func sockaddrToAddr(sa syscall.Sockaddr, unixName string) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	}
	return &net.UnixAddr{Name: unixName, Net: "unix"}
}

// blockingAcceptLoop is one acceptor of a uwsgi socket: accept, serve the
// request, close, again.
func (s *Server) blockingAcceptLoop(l *listener) {
	defer s.acceptWG.Done()
	var delay time.Duration
	for {
		fd, sa, err := acceptCloexec(l.fd)
		if err != nil {
			if s.stopping.Load() {
				return
			}
			switch {
			case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EAGAIN):
				continue
			case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EBADF):
				return // the listener was shut down
			}
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			s.log.printf("accept() on %s: %v; retrying in %v", l.addr, err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		rc := &rawConn{fd: fd, remote: sockaddrToAddr(sa, ""), local: l.localAddr}
		cc := &clientConn{Conn: rc, l: l, raw: rc}
		if !s.trackConn(cc) {
			rc.Close()
			return
		}
		s.serveUWSGI(cc)
	}
}

// watchdog enforces the deadlines of blocking connections.
func (s *Server) watchdog() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			ns := now.UnixNano()
			s.connMu.Lock()
			for c := range s.conns {
				if c.raw != nil && c.raw.expired(ns) {
					c.raw.cut(true)
				}
			}
			s.connMu.Unlock()
		}
	}
}

// acceptorsFor is how many acceptors a uwsgi socket gets: one per core, so
// every core can be busy, plus a few more holding parsed requests ready for
// the next free core. Connections beyond that wait in the kernel's backlog
// (the listen queue), as with uWSGI.
func acceptorsFor(cfg *Config) int {
	cores := cfg.Processes * cfg.Threads
	return max(cores+min(cores, 8), 4)
}
