//go:build !linux

package metrics

// newPlatformSource has no faster source than gopsutil off Linux.
func newPlatformSource() ProcSource { return nil }
