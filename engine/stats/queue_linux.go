//go:build linux

package stats

import (
	"net"

	"golang.org/x/sys/unix"
)

// ListenQueue reads how many connections wait in the accept queue of a
// TCP listener, and the queue's size, as uWSGI does on Linux for
// "listen_queue" and a socket's "queue"/"max_queue": from TCP_INFO, whose
// tcpi_unacked and tcpi_sacked fields hold those two numbers for a
// listening socket. ok is false for other listeners (unix sockets) and
// when the kernel does not say.
func ListenQueue(ln net.Listener) (queue, size int, ok bool) {
	tl, isTCP := ln.(*net.TCPListener)
	if !isTCP {
		return 0, 0, false
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var info *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || gerr != nil {
		return 0, 0, false
	}
	return int(info.Unacked), int(info.Sacked), true
}
