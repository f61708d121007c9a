package proxy

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/rawsock"
)

// sockIO reads and writes a client connection: on Linux with raw system
// calls through the runtime's poller, as nginx's event loop does (see
// engine/internal/rawsock), elsewhere with the net.Conn's own Read and
// Write. The connection's deadlines apply either way.
type sockIO struct {
	c   *conn
	nc  net.Conn
	raw rawsock.Conn // bound when the raw system calls are used

	// writeDeadline is set while a send_timeout deadline is armed
	writeDeadline bool
	// pendingDeadline, when set, is the read deadline to set before the
	// socket is next read
	pendingDeadline time.Time
}

var _ io.ReadWriter = (*sockIO)(nil)

func (s *sockIO) init(c *conn, nc net.Conn) {
	s.c, s.nc = c, nc
	if !rawsock.Supported {
		return
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil && s.raw.Bind(rc) {
			s.raw.OnWriteWait = s.armSendTimeout
		}
	}
}

// deferReadDeadline makes t the read deadline from the next read of the
// socket on; until then the deadline costs nothing.
func (s *sockIO) deferReadDeadline(t time.Time) { s.pendingDeadline = t }

func (s *sockIO) Read(p []byte) (int, error) {
	if !s.pendingDeadline.IsZero() {
		s.nc.SetReadDeadline(s.pendingDeadline)
		s.pendingDeadline = time.Time{}
	}
	if !s.raw.Bound() {
		return s.nc.Read(p)
	}
	n, err := s.raw.Read(p)
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError("read", errno)
	}
	return n, err
}

// Write writes all of p. When the client takes nothing, it waits at most
// send_timeout, which nginx sets only between two successive writes.
func (s *sockIO) Write(p []byte) (int, error) {
	if !s.raw.Bound() {
		return s.nc.Write(p)
	}
	n, err := s.raw.Write(p)
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError("write", errno)
	}
	if s.writeDeadline {
		// a deadline left armed would fail a later write at once
		s.nc.SetWriteDeadline(time.Time{})
		s.writeDeadline = false
	}
	return n, err
}

// armSendTimeout runs when the client takes nothing, before the wait.
func (s *sockIO) armSendTimeout() {
	if conf := s.c.req.conf; conf != nil && conf.sendTimeout > 0 {
		s.nc.SetWriteDeadline(s.c.srv.clock.now().Add(conf.sendTimeout))
		s.writeDeadline = true
	}
}
