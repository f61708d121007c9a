//go:build linux || freebsd

package appserver

import "syscall"

// workerProcAttr puts a worker in a process group of its own, which keeps
// the terminal's ^C away from it (the master decides how workers stop), and
// asks the kernel to SIGKILL it if the master dies without cleaning up.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
