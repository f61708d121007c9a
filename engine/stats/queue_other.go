//go:build !linux

package stats

import "net"

// ListenQueue reports ok=false: only Linux says how full an accept queue
// is (uWSGI shows 0 elsewhere too).
func ListenQueue(ln net.Listener) (queue, size int, ok bool) { return 0, 0, false }
