//go:build linux || freebsd

package peertest

import "syscall"

// peerProcAttr gives a peer a process group of its own, so stopping it
// reaches its workers too, and has the kernel SIGKILL it if the test binary
// dies without stopping it.
func peerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
