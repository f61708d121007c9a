//go:build unix && !linux

package appserver

// tcpAcceptBacklog reports 0: only Linux says how full a listening socket's
// accept queue is (TCP_INFO's tcpi_unacked), as stats.ListenQueue also
// finds. Elsewhere the listen queue in snapshots, metrics and the stats
// server counts only requests waiting for a core, not connections the
// kernel holds before accept (uWSGI shows 0 there too).
func tcpAcceptBacklog(fd int) int { return 0 }
