//go:build unix && !linux && !freebsd

package peertest

import "syscall"

// peerProcAttr gives a peer a process group of its own, so stopping it
// reaches its workers too.
//
// What is lost without Pdeathsig (macOS and the other BSDs): t.Cleanup
// still stops every peer when a test ends or fails, but a test binary that
// dies before its cleanups run (SIGKILL, a crash, go test's -timeout
// panic) leaves nginx or uWSGI running until killed by hand. The peer
// tests run on Linux (.ci/test); this keeps them compiling elsewhere.
// Windows is not supported: peers are stopped by signalling their process
// group.
func peerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
