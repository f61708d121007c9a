package appserver

import "golang.org/x/sys/unix"

// tcpAcceptBacklog is the number of connections waiting in a blocking TCP
// listening socket's accept queue, read from TCP_INFO (for a listener, the
// kernel reports the queue length in tcpi_unacked). 0 when it cannot say.
func tcpAcceptBacklog(fd int) int {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0
	}
	return int(info.Unacked)
}
