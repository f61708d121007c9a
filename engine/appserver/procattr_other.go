//go:build unix && !linux && !freebsd

package appserver

import "syscall"

// workerProcAttr puts a worker in a process group of its own, which keeps
// the terminal's ^C away from it (the master decides how workers stop).
//
// What is lost without Pdeathsig (macOS, NetBSD, OpenBSD, DragonFly): the
// master still stops its workers itself when it exits normally or on
// SIGINT/SIGTERM, but if it is SIGKILLed or crashes, nothing kills them.
// An idle worker still exits soon after, when its core channel reads EOF;
// a worker that is busy (a long request, an endless loop, importing the
// app) runs on as an orphan until that work ends, or until it is killed
// by hand.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
