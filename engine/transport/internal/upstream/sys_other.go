//go:build !linux

package upstream

import (
	"io"
	"net"
)

// sysConn is the raw socket of Linux; elsewhere every connection is a
// net.Conn.
type sysConn struct{ connected bool }

func (s *sysConn) open() bool                                 { return false }
func (s *sysConn) dial(network, address string) (bool, error) { return false, nil }
func (s *sysConn) read(c *Conn, p []byte) (int, error)        { return 0, net.ErrClosed }
func (s *sysConn) write(c *Conn, p []byte) (int, error)       { return 0, net.ErrClosed }
func (s *sysConn) close() error                               { return nil }
func (s *sysConn) closer() io.Closer                          { return nil }
