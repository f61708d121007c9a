//go:build !linux

package appserver

import "errors"

// Without epoll the uwsgi socket is served by blocking acceptors
// (rawconn.go); uwsgiLoop exists so that the pool and the server compile.
type uwsgiLoop struct{}

const (
	loopBrutal int32 = iota + 1
	loopCutAll
)

func (s *Server) startUWSGILoop(l *listener) error { return errors.ErrUnsupported }

func (lp *uwsgiLoop) deliver(c *core, self bool) {}
func (lp *uwsgiLoop) shutdown(mode int32)        {}

const uwsgiLoopSupported = false

func recvNow(fd int, p []byte) (int, error) { return 0, errors.ErrUnsupported }

func sendNowFD(fd int, p []byte) (int, error) { return 0, errors.ErrUnsupported }
