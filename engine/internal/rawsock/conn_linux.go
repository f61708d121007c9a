//go:build linux

package rawsock

import (
	"io"
	"syscall"
	"unsafe"
)

// Supported reports whether this system has raw sockets.
const Supported = true

// Conn reads and writes one socket with raw system calls. It is reused
// from socket to socket with Bind; it must not be copied once bound, and
// carries one read and one write at a time.
type Conn struct {
	// OnReadWait, when set, is called each time a read finds nothing to
	// read, before it waits for data.
	OnReadWait func()
	// OnWriteWait, when set, is called each time a send finds the socket
	// full (or its connect pending), before it waits.
	OnWriteWait func()

	rc syscall.RawConn

	// the operation in progress, for the callbacks, which are bound once:
	// a method value made per call would be allocated per call
	buf             []byte
	n               int
	errno           syscall.Errno
	readFn, writeFn func(fd uintptr) bool

	// the Control operation in progress (reuse_linux.go)
	op    int
	sa    sockaddr
	ctlFn func(fd uintptr)
}

// Bind makes c read and write the socket rc reaches (nil unbinds). It
// reports false when it cannot use raw system calls.
func (c *Conn) Bind(rc syscall.RawConn) bool {
	c.rc = rc
	if c.readFn == nil {
		c.readFn, c.writeFn = c.doRead, c.doWrite
	}
	return rc != nil
}

// Bound reports whether c has a socket.
func (c *Conn) Bound() bool { return c.rc != nil }

var _ io.ReadWriter = (*Conn)(nil)

// Read reads once into p, waiting until there is data. A closed peer is
// io.EOF; a failure is the system call's syscall.Errno, or the poller's
// error (os.ErrDeadlineExceeded, net.ErrClosed...).
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.buf = p
	err := c.rc.Read(c.readFn)
	c.buf = nil
	if err != nil {
		return 0, err
	}
	if c.errno != 0 {
		errno := c.errno
		c.errno = 0
		return 0, errno
	}
	if c.n == 0 {
		return 0, io.EOF
	}
	return c.n, nil
}

// doRead is one read attempt; it reports false to wait for data. It is
// recv(), as nginx's: recvfrom without flags or address.
func (c *Conn) doRead(fd uintptr) bool {
	return c.attempt(fd, syscall.SYS_RECVFROM, 0, c.OnReadWait)
}

// Write writes all of p, waiting whenever the socket takes nothing. A
// failure is the system call's syscall.Errno (a failed connect's too), or
// the poller's error; written counts what was sent before it.
func (c *Conn) Write(p []byte) (written int, err error) {
	for len(p) > 0 {
		c.buf = p
		err = c.rc.Write(c.writeFn)
		c.buf = nil
		if err != nil {
			return written, err
		}
		if c.errno != 0 {
			errno := c.errno
			c.errno = 0
			return written, errno
		}
		written += c.n
		p = p[c.n:]
	}
	return written, nil
}

// doWrite is one send attempt; it reports false to wait until the socket
// takes data. MSG_NOSIGNAL: a closed peer is EPIPE, not a signal.
func (c *Conn) doWrite(fd uintptr) bool {
	return c.attempt(fd, syscall.SYS_SENDTO, syscall.MSG_NOSIGNAL, c.OnWriteWait)
}

// attempt runs one recvfrom or sendto of c.buf on fd, again after a
// signal. It reports false when the call would block, after onWait.
func (c *Conn) attempt(fd, trap, flags uintptr, onWait func()) bool {
	for {
		n, _, errno := syscall.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&c.buf[0])), uintptr(len(c.buf)), flags, 0, 0)
		switch errno {
		case 0:
			c.n, c.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if onWait != nil {
				onWait()
			}
			return false
		default:
			c.n, c.errno = 0, errno
			return true
		}
	}
}
