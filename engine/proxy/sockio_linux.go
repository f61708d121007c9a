//go:build linux

package proxy

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// sockIO reads and writes a client connection with raw system calls,
// waiting through the runtime's poller, as nginx's event loop does. A raw
// system call keeps the goroutine's processor: a send on loopback runs the
// receiver's TCP work inline, and handing the processor to another thread
// meanwhile, as an ordinary system call lets the runtime do, costs more
// than the call. The connection's deadlines apply as they do to nc's own
// Read and Write.
type sockIO struct {
	c  *conn
	nc net.Conn
	rc syscall.RawConn // nil: use nc

	// the operation in progress, for the callbacks, which are bound once
	buf             []byte
	n               int
	errno           syscall.Errno
	readFn, writeFn func(fd uintptr) bool
	// writeDeadline is set while a send_timeout deadline is armed
	writeDeadline bool
	// pendingDeadline, when set, is the read deadline to set before the
	// socket is next read
	pendingDeadline time.Time
}

var _ io.ReadWriter = (*sockIO)(nil)

func (s *sockIO) init(c *conn, nc net.Conn) {
	s.c, s.nc = c, nc
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.rc = rc
			s.readFn, s.writeFn = s.doRead, s.doWrite
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
	if s.rc == nil {
		return s.nc.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.buf = p
	err := s.rc.Read(s.readFn)
	s.buf = nil
	if err != nil {
		return 0, err
	}
	if s.errno != 0 {
		errno := s.errno
		s.errno = 0
		return 0, os.NewSyscallError("read", errno)
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	return s.n, nil
}

// doRead is one read attempt; it reports false to wait for data.
func (s *sockIO) doRead(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)))
		switch errno {
		case 0:
			s.n, s.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			s.n, s.errno = 0, errno
			return true
		}
	}
}

// Write writes all of p. When the client takes nothing, it waits at most
// send_timeout, which nginx sets only between two successive writes.
func (s *sockIO) Write(p []byte) (int, error) {
	if s.rc == nil {
		return s.nc.Write(p)
	}
	written := 0
	var err error
	for len(p) > 0 {
		s.buf = p
		err = s.rc.Write(s.writeFn)
		s.buf = nil
		if err == nil && s.errno != 0 {
			err = os.NewSyscallError("write", s.errno)
			s.errno = 0
		}
		if err != nil {
			break
		}
		written += s.n
		p = p[s.n:]
	}
	if s.writeDeadline {
		// a deadline left armed would fail a later write at once
		s.nc.SetWriteDeadline(time.Time{})
		s.writeDeadline = false
	}
	return written, err
}

// doWrite is one send attempt; it reports false to wait until the client
// takes data.
func (s *sockIO) doWrite(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), syscall.MSG_NOSIGNAL, 0, 0)
		switch errno {
		case 0:
			s.n, s.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if conf := s.c.req.conf; conf != nil && conf.sendTimeout > 0 {
				s.nc.SetWriteDeadline(s.c.srv.clock.now().Add(conf.sendTimeout))
				s.writeDeadline = true
			}
			return false
		default:
			s.n, s.errno = 0, errno
			return true
		}
	}
}
