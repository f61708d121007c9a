//go:build !linux

package rawsock

import (
	"errors"
	"os"
	"syscall"
)

// Supported reports whether this system has raw sockets.
const Supported = false

// Conn is Linux's raw socket; elsewhere it cannot be bound and callers
// use the net package.
type Conn struct {
	OnReadWait  func()
	OnWriteWait func()
}

// Bind refuses: there are no raw sockets here.
func (c *Conn) Bind(rc syscall.RawConn) bool { return false }

// Bound reports false.
func (c *Conn) Bound() bool { return false }

// Read fails: c is never bound.
func (c *Conn) Read(p []byte) (int, error) { return 0, errors.ErrUnsupported }

// Write fails: c is never bound.
func (c *Conn) Write(p []byte) (int, error) { return 0, errors.ErrUnsupported }

// Dial is errors.ErrUnsupported: the net package dials here.
func Dial(network, address string) (f *os.File, connected bool, err error) {
	return nil, false, errors.ErrUnsupported
}

// PeerClosed reports false: c is never bound.
func (c *Conn) PeerClosed() bool { return false }

// Dissolve fails: c is never bound.
func (c *Conn) Dissolve() error { return errors.ErrUnsupported }

// Redial is errors.ErrUnsupported: c is never bound.
func (c *Conn) Redial(network, address string) (connected bool, err error) {
	return false, errors.ErrUnsupported
}
