//go:build unix && !linux && !freebsd && !netbsd && !openbsd && !dragonfly

package appserver

import "syscall"

// macOS (and the other unixes without SOCK_CLOEXEC) sets close-on-exec in
// a second call. socket() and socketpair() hold syscall.ForkLock across
// both calls, as package net does, so os/exec cannot fork in between.
//
// Windows is not supported by the engine at all (these files are built for
// unix only): the master hands workers unix socketpairs and listening
// descriptors and signals process groups, none of which Windows has.

func socketCloexec(domain, typ, proto int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := syscall.Socket(domain, typ, proto)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	return fd, nil
}

func socketpairCloexec(domain, typ, proto int) ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(domain, typ, proto)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}

// acceptCloexec cannot hold ForkLock: the listening socket is blocking, and
// a held read lock would stall every worker spawn until a client arrives.
// What is lost: a worker forked between accept() and CloseOnExec inherits
// that one client connection (it stays open until the worker exits, or
// closes, so the client may wait for EOF). The window is two system calls
// wide; Linux and the BSDs close it with accept4.
func acceptCloexec(fd int) (int, syscall.Sockaddr, error) {
	nfd, sa, err := syscall.Accept(fd)
	if err != nil {
		return -1, nil, err
	}
	syscall.CloseOnExec(nfd)
	return nfd, sa, nil
}
