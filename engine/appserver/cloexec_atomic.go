//go:build linux || freebsd || netbsd || openbsd || dragonfly

package appserver

import "syscall"

// These kernels create descriptors with close-on-exec already set
// (SOCK_CLOEXEC, accept4), so a worker forked at the same moment can never
// inherit a listening socket, a client connection or another worker's core
// channel.

func socketCloexec(domain, typ, proto int) (int, error) {
	return syscall.Socket(domain, typ|syscall.SOCK_CLOEXEC, proto)
}

func socketpairCloexec(domain, typ, proto int) ([2]int, error) {
	return syscall.Socketpair(domain, typ|syscall.SOCK_CLOEXEC, proto)
}

func acceptCloexec(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_CLOEXEC)
}
