//go:build unix

package chart

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used. The
// benchmarks report it per operation as well as wall time, because on a
// shared machine wall time also counts time spent waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
