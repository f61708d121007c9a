package proxy

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// waitHangup waits, until nc's read deadline, for the peer to close or
// reset the connection, without reading anything: what the peer sent
// stays in the socket. hangup reports the peer gone, with the socket's
// pending error (a reset) in sockErr; otherwise err is why the wait
// ended (the deadline, or nc closed under it).
//
// It is nginx's watch of a client whose request waits: with epoll it
// tests the EPOLLRDHUP the kernel reports for a peer that shut its side
// down, whether or not unread data is left, and takes SO_ERROR for the
// log. Here poll(2) with POLLRDHUP asks the same of the socket, and the
// runtime's poller, which listens for EPOLLRDHUP too, wakes the wait.
func waitHangup(nc net.Conn) (hangup bool, sockErr, err error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false, nil, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, nil, errors.ErrUnsupported
	}
	err = rc.Read(func(fd uintptr) bool {
		fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
		for {
			n, perr := unix.Poll(fds[:], 0)
			if perr == unix.EINTR {
				continue
			}
			if perr != nil || n == 0 || fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) == 0 {
				// nothing yet (data alone does not count): wait for
				// the poller's next word on the socket
				return false
			}
			break
		}
		hangup = true
		if v, gerr := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); gerr == nil && v != 0 {
			sockErr = syscall.Errno(v)
		}
		return true
	})
	return hangup, sockErr, err
}
