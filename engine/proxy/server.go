package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Logf writes one line of diagnostics.
type Logf func(format string, args ...any)

// Version is the proxy's version as the Server header shows it.
var Version = "0.1.0"

// Options configure a Server.
type Options struct {
	// Identity is the Server header and the footer of stock error pages;
	// "" means "wsgideck/"+Version. server_tokens off keeps the part
	// before the "/".
	Identity string
	// Logf receives what nginx would write to its error log when no
	// error_log file is configured (and, with it, errors opening that
	// file). nil discards.
	Logf Logf
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnRequest, when set, is called once for each finished request,
	// after its log phase, whatever access_log says: the requests nginx
	// would log, including those answered 400 or 408 for a bad or late
	// request head. It runs on the connection's goroutine before the
	// answer is flushed, so it must return quickly; it is called from
	// many connections at once.
	OnRequest func(RequestRecord)
}

// Server serves a Config on its listening addresses.
type Server struct {
	identity string
	logf     Logf
	clock    *clock
	// onRequest is Options.OnRequest
	onRequest func(RequestRecord)

	cfg atomic.Pointer[Config]

	mu        sync.Mutex
	listeners map[string]*listener
	conns     map[*conn]struct{}
	connWG    sync.WaitGroup
	nextID    atomic.Uint64
	draining  atomic.Bool
	closed    bool

	// closing is closed when the server stops at once (Close, or
	// Shutdown whose ctx ended): a wait nothing else ends, such as a
	// limit_req delay, selects on it.
	closing     chan struct{}
	closingOnce sync.Once
	// graceEnded is set when Shutdown's ctx ended before its requests
	// did: those still waiting are then ended as nginx's
	// worker_shutdown_timeout ends them (logged with status 000), not
	// dropped as its fast shutdown drops them.
	graceEnded atomic.Bool

	readers readerPool
	writers writerPool
	calls   callPool

	errLog atomic.Pointer[errorLog]
}

// listener is one bound socket.
type listener struct {
	key  string
	ln   net.Listener
	done chan struct{}
}

// NewServer returns a Server that serves nothing until Start.
func NewServer(opts Options) *Server {
	s := &Server{
		identity:  opts.Identity,
		logf:      opts.Logf,
		onRequest: opts.OnRequest,
		listeners: map[string]*listener{},
		conns:     map[*conn]struct{}{},
		closing:   make(chan struct{}),
	}
	if s.identity == "" {
		s.identity = "wsgideck/" + Version
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s.clock = newClock(now)
	s.readers.size = largeHeaderBufSize
	s.writers.size = 16 << 10
	return s
}

func (s *Server) config() *Config { return s.cfg.Load() }

// Config returns the configuration being served.
func (s *Server) Config() *Config { return s.cfg.Load() }

// Start binds every address of cfg and starts serving it.
func (s *Server) Start(cfg *Config) error { return s.apply(cfg) }

// Reload switches to cfg without dropping connections: addresses cfg no
// longer lists are closed, new ones are bound, and requests already being
// processed finish with the old configuration. When a new address cannot be
// bound, nothing changes and the error is returned.
func (s *Server) Reload(cfg *Config) error { return s.apply(cfg) }

func (s *Server) apply(cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if err := cfg.openLogs(); err != nil {
		return err
	}
	want := cfg.bindings()
	var opened []*listener
	for _, b := range want {
		if _, ok := s.listeners[b.key]; ok {
			continue
		}
		ln, err := listen(b)
		if err != nil {
			for _, l := range opened {
				l.ln.Close()
			}
			cfg.closeLogs()
			return err
		}
		opened = append(opened, &listener{key: b.key, ln: ln, done: make(chan struct{})})
	}
	cfg.adoptZones(s.cfg.Load())
	old := s.cfg.Swap(cfg)
	s.errLog.Store(cfg.newErrorLog(s.logf))
	keep := map[string]bool{}
	for _, b := range want {
		keep[b.key] = true
	}
	for key, l := range s.listeners {
		if !keep[key] {
			l.ln.Close()
			delete(s.listeners, key)
		}
	}
	for _, l := range opened {
		s.listeners[l.key] = l
		go s.acceptLoop(l)
	}
	if old != nil {
		// give requests in flight a moment before their log files close
		go func() {
			time.Sleep(2 * time.Second)
			old.closeLogs()
		}()
	}
	return nil
}

// Addrs returns the bound addresses.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.ln.Addr())
	}
	return out
}

func listen(b binding) (net.Listener, error) {
	if b.network == "unix" {
		os.Remove(b.addr)
		ln, err := net.Listen("unix", b.addr)
		if err != nil {
			return nil, fmt.Errorf("bind() to unix:%s failed (%v)", b.addr, errnoText(err))
		}
		return ln, nil
	}
	ln, err := net.Listen(b.network, b.addr)
	if err != nil {
		return nil, fmt.Errorf("bind() to %s failed (%v)", b.addr, errnoText(err))
	}
	return ln, nil
}

// errnoText gives the "98: Address already in use" part of an error.
func errnoText(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

func (s *Server) acceptLoop(l *listener) {
	defer close(l.done)
	var delay time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off as net/http does
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			s.errorf(levelAlert, "accept() failed (%v)", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		c := newConn(s, nc, s.nextID.Add(1))
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.connWG.Done()
}

// Shutdown stops accepting, closes idle connections and waits for the
// requests in progress to finish (nginx's SIGQUIT), limit_req delays
// included. When ctx ends first the remaining connections are closed, as
// nginx's worker_shutdown_timeout closes them: a request still delayed
// ends without an answer and is logged with status 000.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	for key, l := range s.listeners {
		l.ln.Close()
		delete(s.listeners, key)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			s.finish()
			return nil
		case <-ctx.Done():
			s.graceEnded.Store(true)
			s.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// closeIdle wakes connections waiting for a request so that they end.
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if st := c.state.Load(); st == connIdle || st == connNew {
			c.nc.SetReadDeadline(time.Unix(1, 0))
		}
	}
}

// Close stops everything at once (nginx's SIGTERM): connections are
// closed, and a request in a limit_req delay ends at once, with no answer
// and no log line, as it does when an nginx worker exits.
func (s *Server) Close() error {
	// before the sockets close, so that a wait they end knows why
	s.closingOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	s.closed = true
	s.draining.Store(true)
	for key, l := range s.listeners {
		l.ln.Close()
		delete(s.listeners, key)
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.connWG.Wait()
	s.finish()
	return nil
}

// stopping reports whether Close has begun.
func (s *Server) stopping() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *Server) finish() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if cfg := s.cfg.Load(); cfg != nil {
		cfg.closeLogs()
	}
}

// clock caches the Date header, which changes once a second.
type clock struct {
	now  func() time.Time
	date atomic.Pointer[cachedDate]
}

type cachedDate struct {
	sec  int64
	text string
}

func newClock(now func() time.Time) *clock { return &clock{now: now} }

// httpDateAt is the Date header for t, or for now when t is zero.
func (c *clock) httpDateAt(t time.Time) string {
	if t.IsZero() {
		t = c.now()
	}
	sec := t.Unix()
	if d := c.date.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &cachedDate{sec: sec, text: t.UTC().Format(httpTimeFormat)}
	c.date.Store(d)
	return d.text
}

// readerPool and writerPool recycle connection buffers.
type readerPool struct {
	p    sync.Pool
	size int
}

func (p *readerPool) get(r io.Reader) *bufio.Reader {
	if v := p.p.Get(); v != nil {
		br := v.(*bufio.Reader)
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, p.size)
}

func (p *readerPool) put(br *bufio.Reader) {
	br.Reset(nil)
	p.p.Put(br)
}

type writerPool struct {
	p    sync.Pool
	size int
}

func (p *writerPool) get(w io.Writer) *bufio.Writer {
	if v := p.p.Get(); v != nil {
		bw := v.(*bufio.Writer)
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, p.size)
}

func (p *writerPool) put(bw *bufio.Writer) {
	bw.Reset(nil)
	p.p.Put(bw)
}

// binding is one socket to bind.
type binding struct {
	key     string
	network string
	addr    string
}

// bindings lists the sockets cfg needs: like nginx, a port with a wildcard
// address is bound once on the wildcard, and connections to its specific
// addresses are told apart by their local address.
func (cfg *Config) bindings() []binding {
	wild := map[string]bool{}
	for _, l := range cfg.Listens {
		if l.Network == "tcp" && l.Wildcard {
			wild[l.familyPort()] = true
		}
	}
	var out []binding
	seen := map[string]bool{}
	for _, l := range cfg.Listens {
		b := binding{network: l.Network, addr: l.Addr}
		if l.Network == "tcp" && !l.Wildcard && wild[l.familyPort()] {
			continue
		}
		if l.Network == "tcp" {
			b.network = "tcp4"
			if strings.HasPrefix(l.Addr, "[") {
				b.network = "tcp6"
			}
		}
		b.key = b.network + " " + b.addr
		if seen[b.key] {
			continue
		}
		seen[b.key] = true
		out = append(out, b)
	}
	return out
}

func (l *Listen) familyPort() string {
	if strings.HasPrefix(l.Addr, "[") {
		return "6:" + l.Port
	}
	return "4:" + l.Port
}

// listenFor finds the listen group a connection arrived on.
func (cfg *Config) listenFor(c *conn) *Listen {
	if c.unix {
		for _, l := range cfg.Listens {
			if l.Network == "unix" && "unix:"+l.Addr == c.localIP {
				return l
			}
		}
		for _, l := range cfg.Listens {
			if l.Network == "unix" {
				return l
			}
		}
		return nil
	}
	var wildcard *Listen
	ip := c.localIP
	v6 := strings.Contains(ip, ":")
	for _, l := range cfg.Listens {
		if l.Network != "tcp" || l.Port != c.localPort {
			continue
		}
		if strings.HasPrefix(l.Addr, "[") != v6 {
			continue
		}
		if l.Wildcard {
			if wildcard == nil {
				wildcard = l
			}
			continue
		}
		if l.host() == ip {
			return l
		}
	}
	return wildcard
}

// host is the address part of a TCP listen address, without brackets.
func (l *Listen) host() string {
	h, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return l.Addr
	}
	return h
}
