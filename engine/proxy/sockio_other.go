//go:build !linux

package proxy

import (
	"net"
	"time"
)

// sockIO reads and writes a client connection; elsewhere than Linux it is
// the net.Conn's own Read and Write.
type sockIO struct {
	nc net.Conn
	// pendingDeadline, when set, is the read deadline to set before the
	// socket is next read
	pendingDeadline time.Time
}

func (s *sockIO) init(c *conn, nc net.Conn) { s.nc = nc }

// deferReadDeadline makes t the read deadline from the next read of the
// socket on.
func (s *sockIO) deferReadDeadline(t time.Time) { s.pendingDeadline = t }

func (s *sockIO) Read(p []byte) (int, error) {
	if !s.pendingDeadline.IsZero() {
		s.nc.SetReadDeadline(s.pendingDeadline)
		s.pendingDeadline = time.Time{}
	}
	return s.nc.Read(p)
}

func (s *sockIO) Write(p []byte) (int, error) { return s.nc.Write(p) }
