//go:build !linux

package proxy

import (
	"errors"
	"net"
)

// waitHangup would wait for the peer to close the connection without
// reading; only Linux has the means here (poll's POLLRDHUP), so it
// reports errors.ErrUnsupported and the caller peeks instead.
func waitHangup(nc net.Conn) (hangup bool, sockErr, err error) {
	return false, nil, errors.ErrUnsupported
}
