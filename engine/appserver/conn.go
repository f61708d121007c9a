package appserver

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// closeListeners stops accepting. A blocking socket is shut down, which
// wakes its acceptors; its descriptor is closed once they are gone
// (closeNow: at once, when no acceptor ever ran).
func (s *Server) closeListeners(closeNow bool) {
	for _, l := range s.listeners {
		if l.blocking {
			syscall.Shutdown(l.fd, syscall.SHUT_RDWR)
			if closeNow {
				syscall.Close(l.fd)
			}
			continue
		}
		if ul, ok := l.ln.(*net.UnixListener); ok {
			// Vacuum decides whether the socket file goes.
			ul.SetUnlinkOnClose(false)
		}
		l.ln.Close()
	}
}

// acceptLoop accepts connections on l until it closes.
func (s *Server) acceptLoop(l *listener) {
	defer s.acceptWG.Done()
	var delay time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: back off like net/http does.
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			s.log.printf("accept() on %s: %v; retrying in %v", l.addr, err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		cc := &clientConn{Conn: conn, l: l}
		if !s.trackConn(cc) {
			conn.Close()
			continue
		}
		switch l.sock.Proto {
		case ProtoHTTP:
			go s.serveHTTP(cc)
		case ProtoFastCGI:
			go s.serveFastCGI(cc)
		default:
			go s.serveUWSGI(cc)
		}
	}
}

func (s *Server) trackConn(c *clientConn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) untrackConn(c *clientConn) {
	c.Close()
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
	s.connWG.Done()
}

// clientConn is a client connection with the state graceful shutdown needs:
// an idle connection (between requests) can be closed at once.
type clientConn struct {
	net.Conn
	raw     *rawConn // the same connection, when served with blocking calls
	l       *listener
	mu      sync.Mutex
	idle    bool
	closing bool
}

// enterIdle marks the connection as waiting for its next request; false
// means the server is stopping and the connection should close.
func (c *clientConn) enterIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = !c.closing
	return !c.closing
}

// leaveIdle marks the start of a request; false means stop.
func (c *clientConn) leaveIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = false
	return !c.closing
}

func (c *clientConn) shutdown(brutal bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.idle || brutal {
		c.SetReadDeadline(time.Unix(1, 0))
	}
}
