package project

import (
	"net"
	"strconv"
)

// Default local ports, as in the demo: nginx's 8080, uWSGI's classic
// 3031 and stats 9191.
const (
	DefaultProxyPort = 8080
	DefaultAppPort   = 3031
	DefaultStatsPort = 9191
)

// portFree reports whether a TCP port can be bound on 127.0.0.1 now.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// FreePort returns the first port from start up that is free on
// 127.0.0.1 and not in avoid, or 0 when none is within 1000 ports. It
// marks the port in avoid.
func FreePort(start int, avoid map[int]bool) int {
	for p := start; p < start+1000 && p < 65536; p++ {
		if !avoid[p] && portFree(p) {
			avoid[p] = true
			return p
		}
	}
	return 0
}

// usedPorts lists the ports the Store's projects are configured with, so
// that a new project does not take a port another one uses while it is
// stopped.
func (s *Store) usedPorts() map[int]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := map[int]bool{}
	for _, p := range s.list {
		for _, port := range []int{p.Config.ProxyPort, p.Config.AppPort, p.Config.StatsPort} {
			if port != 0 {
				used[port] = true
			}
		}
	}
	return used
}
