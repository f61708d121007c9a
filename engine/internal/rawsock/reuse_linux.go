//go:build linux

package rawsock

import (
	"errors"
	"syscall"
	"unsafe"
)

// A TCP socket whose connection ended cleanly can be connected again,
// which saves what a new socket costs besides its connect: socket(), the
// poller's registration and its removal, and close(), each with work in
// the runtime; close() is also an ordinary system call, which lets the
// runtime hand the processor to another thread and wakes its monitor. The
// packets are those of a close: [Conn.Dissolve] sends the FIN that close
// would send and then dissolves the association (connect with AF_UNSPEC,
// which Linux documents for TCP), and [Conn.Redial] connects the socket
// again.

// the operations run through RawConn.Control
const (
	opPeerClosed = iota + 1
	opDissolve
	opRedial
)

// control runs op on the bound socket's descriptor. The descriptor cannot
// be closed meanwhile.
func (c *Conn) control(op int) error {
	if c.ctlFn == nil {
		c.ctlFn = c.doControl
	}
	c.op, c.errno, c.n = op, 0, 0
	if err := c.rc.Control(c.ctlFn); err != nil {
		return err
	}
	if c.errno != 0 {
		errno := c.errno
		c.errno = 0
		return errno
	}
	return nil
}

func (c *Conn) doControl(fd uintptr) {
	switch c.op {
	case opPeerClosed:
		var b [1]byte
		for {
			n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, syscall.MSG_PEEK, 0, 0)
			if errno == syscall.EINTR {
				continue
			}
			c.n, c.errno = int(n), errno
			return
		}
	case opDissolve:
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SHUTDOWN, fd, syscall.SHUT_WR, 0); errno != 0 {
			c.errno = errno
			return
		}
		// a sockaddr of family AF_UNSPEC (0)
		var unspec [16]byte
		_, _, c.errno = syscall.RawSyscall(syscall.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&unspec[0])), uintptr(len(unspec)))
	case opRedial:
		connected, errno := c.sa.connect(fd)
		c.n, c.errno = 0, errno
		if connected {
			c.n = 1
		}
	}
}

// PeerClosed reports whether the peer has ended the connection and
// nothing is left to read: the stream's end is all a read would find.
func (c *Conn) PeerClosed() bool {
	return c.control(opPeerClosed) == nil && c.n == 0
}

// Dissolve ends the connection of c's TCP socket as close would, sending
// its FIN, and leaves the socket unconnected, for Redial. Use it only
// once the peer has closed and everything was read (PeerClosed): the
// association is dropped at once, without waiting for the peer's last
// acknowledgement, and anything the peer would still send is refused.
// After a failure the socket is only good for closing.
func (c *Conn) Dissolve() error { return c.control(opDissolve) }

// Redial connects c's socket, which Dissolve left unconnected, to
// address, as Dial does. An address of another family than the socket's,
// or one Dial does not take, is errors.ErrUnsupported; the caller then
// closes the socket and dials anew.
func (c *Conn) Redial(network, address string) (connected bool, err error) {
	if network == "unix" || !c.sa.set(network, address) {
		return false, errors.ErrUnsupported
	}
	err = c.control(opRedial)
	if err == syscall.EAFNOSUPPORT || err == syscall.EINVAL {
		return false, errors.ErrUnsupported
	}
	return c.n == 1, err
}
