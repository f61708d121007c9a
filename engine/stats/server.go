package stats

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Logf writes one log line; the engine passes its master logger.
type Logf func(format string, args ...any)

// DefaultTimeout is uWSGI's default socket-timeout, which bounds how long a
// stats-http client has to send its request.
const DefaultTimeout = 4 * time.Second

// httpHead is what uWSGI's stats-http answers before the document.
const httpHead = "HTTP/1.0 200 OK\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json\r\n\r\n"

// maxConns bounds the connections served at once; more wait in the listen
// backlog. A stats reader polls about once a second.
const maxConns = 32

// ErrServerClosed is returned by Serve and ListenAndServe after Close.
var ErrServerClosed = errors.New("stats: server closed")

// Server is the stats server: for every connection it writes the document
// for a fresh Snapshot and closes, as uWSGI's master does. It reads nothing
// from plain stats clients; with HTTP (stats-http) it first reads the
// request head.
//
// Set the fields before the first Serve; they are not changed afterwards.
type Server struct {
	// Addr is the `stats` option value, for ListenAndServe and the startup
	// log line.
	Addr string
	// HTTP answers as stats-http does: wait for a request (nothing within
	// Timeout drops the connection), then an HTTP/1.0 response.
	HTTP bool
	// Format is stats-minified and stats-no-cores.
	Format Format
	// Timeout bounds each connection: reading the request (HTTP) and
	// writing the document. Zero means DefaultTimeout (socket-timeout).
	Timeout time.Duration
	// Snapshot returns the master's current state; it is called once per
	// connection, from the connection's goroutine. Required.
	Snapshot func() Snapshot
	// Logf receives the startup line and errors; nil discards them.
	Logf Logf

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup
	sem       chan struct{}
	bufs      sync.Pool
}

// ListenAndServe binds s.Addr (see Listen) and serves it until Close.
func (s *Server) ListenAndServe() error {
	ln, err := Listen(s.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve logs uWSGI's startup line for ln and serves it until Close, which
// makes it return ErrServerClosed. Serve closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if s.Snapshot == nil {
		return errors.New("stats: Server.Snapshot is nil: the master must provide its state")
	}
	if !s.track(ln) {
		return ErrServerClosed
	}
	defer s.untrack(ln)
	s.logf("*** Stats server enabled on %s fd: %d ***", s.displayAddr(ln), listenerFD(ln))

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: wait instead of
				// spinning, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("stats: accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("stats: accept on %s: %w", s.displayAddr(ln), err)
		}
		backoff = 0
		s.semaphore() <- struct{}{}
		if !s.trackConn(c) {
			<-s.semaphore()
			c.Close()
			return ErrServerClosed
		}
		go func() {
			defer func() { <-s.semaphore() }()
			defer s.untrackConn(c)
			s.serveConn(c)
		}()
	}
}

// Close stops every Serve, closes the connections being served and waits
// for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// serveConn answers one client.
func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c.SetDeadline(time.Now().Add(timeout))

	bp := s.buffer()
	defer s.bufs.Put(bp)
	buf := (*bp)[:0]

	if s.HTTP {
		req := buf[:maxRequestHead]
		if _, _, err := readRequestHead(c, req); err != nil {
			return // nothing arrived in time: drop it, as uWSGI does
		}
		buf = append(buf, httpHead...)
	}
	snap, ok := s.snapshot()
	if !ok {
		return
	}
	buf = AppendJSON(buf, &snap, s.Format)
	*bp = buf
	if _, err := c.Write(buf); err != nil {
		return
	}

	// Half-close, then read what the client may still send until it
	// closes: closing a socket with unread input makes the kernel send a
	// reset, which can destroy the document before the client reads it.
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		io.Copy(io.Discard, io.LimitReader(c, 1<<16))
	}
}

// snapshot calls s.Snapshot, turning a panic in the master's callback into a
// log line and a dropped connection instead of a dead master.
func (s *Server) snapshot() (snap Snapshot, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("stats: Snapshot panicked: %v", r)
			ok = false
		}
	}()
	return s.Snapshot(), true
}

func (s *Server) buffer() *[]byte {
	if bp, ok := s.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 16<<10)
	return &b
}

func (s *Server) displayAddr(ln net.Listener) string {
	if s.Addr != "" && !strings.HasSuffix(s.Addr, ":0") {
		return s.Addr
	}
	return ln.Addr().String()
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Server) semaphore() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sem == nil {
		s.sem = make(chan struct{}, maxConns)
	}
	return s.sem
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}
