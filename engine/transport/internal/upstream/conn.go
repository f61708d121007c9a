package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/rawsock"
)

// DialFunc opens a connection; the connect timeout comes through ctx.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// writeChunk bounds one Write on a net.Conn so that the send timeout is, as
// in nginx, a limit between two successive writes rather than on the whole
// request.
const writeChunk = 64 << 10

// Conn is one connection to an upstream under nginx's timers: the read and
// send timeouts bound each wait between two successive reads or writes, not
// the whole exchange.
//
// Where it can (Linux, an IP address or a unix socket path, no Dial
// function), Conn opens a non-blocking socket with raw system calls and
// waits through the runtime's poller, as nginx's event loop does (see
// engine/internal/rawsock): no getsockname, getpeername or setsockopt, no
// wait for the connect before the first write (the kernel answers it),
// and no thread handed over while a system call runs. Otherwise it uses a
// net.Conn.
//
// With KeepSocket, a TCP connection that ended cleanly (the upstream
// closed it after its answer, everything was read, nothing failed) leaves
// its socket to the next dial, which connects it again: the packets are
// those of a close and a new connect, and a socket(), the poller's
// registration and removal, and a close() are saved (see
// rawsock.Conn.Dissolve).
//
// A Conn carries one request at a time and is reused after Close. It must
// not be copied once used.
type Conn struct {
	// ReadTimeout and SendTimeout are the upstream's read and send timers;
	// zero means DefaultTimeout.
	ReadTimeout, SendTimeout time.Duration

	// OnWait, when set, is called each time a read finds nothing to read,
	// before the connection waits. nginx writes what it holds for the client
	// at that moment; the proxy does the same through OnWait. On a
	// net.Conn, where a read that would block cannot be told from one that
	// will not, it is called before every read.
	OnWait func()

	// KeepSocket keeps the TCP socket of a connection that ended cleanly
	// for the next dial. It is for a Conn reused from request to request:
	// the kept socket is closed by the next dial to another kind of
	// address, by Discard, or when the Conn is garbage collected.
	KeepSocket bool

	file *os.File     // the raw socket: open, or kept (see KeepSocket)
	raw  rawsock.Conn // reads and writes file
	nc   net.Conn     // the net.Conn, when open

	// live is set while file carries a connection; tcp when it is a TCP
	// socket; eof once a read found the stream's end; failed once a read
	// or write failed; deadlines once a deadline was set on file.
	live, tcp, eof, failed, deadlines bool

	// established is set once the connect is known to have succeeded:
	// before, a failed write is a failed connect.
	established bool
	// connectBy is when the connect times out.
	connectBy time.Time
}

// Established reports whether the connection is known to be established.
// A raw socket's non-blocking connect is settled by its first write.
func (c *Conn) Established() bool { return c.established }

// Open reports whether the connection is open.
func (c *Conn) Open() bool { return c.nc != nil || c.live }

// dial opens the connection. A failure is the connect's error: the
// context's deadline (the connect timeout), or the errno.
func (c *Conn) dial(ctx context.Context, dial DialFunc, network, address string, timeout time.Duration) error {
	c.established = false
	if dial == nil {
		if c.file != nil {
			// a kept socket
			connected, err := c.raw.Redial(network, address)
			if err == nil {
				c.opened(network, connected, timeout)
				return nil
			}
			c.Discard()
			if _, ok := err.(syscall.Errno); ok {
				return err
			}
			// another family of address, or a socket closed meanwhile:
			// a new socket
		}
		f, connected, err := rawsock.Dial(network, address)
		if err == nil {
			return c.openRaw(network, f, connected, timeout)
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
		var d net.Dialer
		// TCP keep-alive probes are off, as in nginx: they cost system
		// calls per connection and an upstream connection lives for one
		// request.
		d.KeepAlive = -1
		dial = d.DialContext
	}
	if ctx == nil {
		ctx = context.Background()
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dial(dctx, network, address)
	if err != nil {
		if dctx.Err() != nil && ctx.Err() == nil {
			return context.DeadlineExceeded
		}
		return err
	}
	c.nc = nc
	c.established = true
	return nil
}

// openRaw makes f, a socket rawsock.Dial opened, the connection.
func (c *Conn) openRaw(network string, f *os.File, connected bool, timeout time.Duration) error {
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	c.file = f
	c.raw.Bind(rc)
	if c.raw.OnReadWait == nil {
		// bound once: the Conn is reused
		c.raw.OnReadWait, c.raw.OnWriteWait = c.readWait, c.writeWait
	}
	c.opened(network, connected, timeout)
	return nil
}

// opened starts a connection on file.
func (c *Conn) opened(network string, connected bool, timeout time.Duration) {
	c.live, c.tcp, c.eof, c.failed = true, network != "unix", false, false
	c.connectBy = time.Now().Add(timeout)
	c.established = connected
}

// readWait runs when a read of the raw socket finds nothing: nginx writes
// what it holds for the client (OnWait), then waits at most the read
// timeout.
func (c *Conn) readWait() {
	if c.OnWait != nil {
		c.OnWait()
	}
	c.file.SetReadDeadline(time.Now().Add(orDefault(c.ReadTimeout)))
	c.deadlines = true
}

// writeWait runs when the raw socket takes nothing: it waits until the
// connect timeout while the connect is pending, else the send timeout.
func (c *Conn) writeWait() {
	by := c.connectBy
	if c.established {
		by = time.Now().Add(orDefault(c.SendTimeout))
	}
	c.file.SetWriteDeadline(by)
	c.deadlines = true
}

// Read reads from the upstream, waiting at most the read timeout for data.
func (c *Conn) Read(p []byte) (int, error) {
	if c.live {
		n, err := c.raw.Read(p)
		if err != nil {
			if err == io.EOF {
				c.eof = true
			} else {
				c.failed = true
			}
		}
		return n, err
	}
	if c.nc == nil {
		return 0, net.ErrClosed
	}
	if c.OnWait != nil {
		c.OnWait()
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(orDefault(c.ReadTimeout))); err != nil {
		return 0, err
	}
	return c.nc.Read(p)
}

// Write writes all of p, waiting at most the send timeout each time the
// upstream takes nothing, or, before the connection is established, until
// the connect timeout.
func (c *Conn) Write(p []byte) (int, error) {
	if c.live {
		n, err := c.raw.Write(p)
		if n > 0 {
			// a send went through: the connect succeeded
			c.established = true
		}
		if err != nil {
			c.failed = true
		}
		return n, err
	}
	if c.nc == nil {
		return 0, net.ErrClosed
	}
	written := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > writeChunk {
			chunk = chunk[:writeChunk]
		}
		if err := c.nc.SetWriteDeadline(time.Now().Add(orDefault(c.SendTimeout))); err != nil {
			return written, err
		}
		n, err := c.nc.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Close closes the connection; the Conn may then be dialled again. With
// KeepSocket, a TCP connection that ended cleanly is dissolved and its
// socket kept.
func (c *Conn) Close() error {
	var err error
	if c.live {
		c.live = false
		if !c.keep() {
			err = c.Discard()
		}
	}
	if c.nc != nil {
		err = c.nc.Close()
		c.nc = nil
	}
	c.established = false
	return err
}

// keep dissolves a connection that ended cleanly, for the next dial, and
// reports whether it did.
func (c *Conn) keep() bool {
	if !c.KeepSocket || !c.tcp || c.failed || !c.established {
		return false
	}
	if !c.eof && !c.raw.PeerClosed() {
		return false
	}
	if c.raw.Dissolve() != nil {
		return false
	}
	if c.deadlines {
		// a deadline left armed would fire while the socket waits, and
		// fail the next connection's first wait once passed
		c.file.SetDeadline(time.Time{})
		c.deadlines = false
	}
	return true
}

// Discard closes the raw socket, whether it carries a connection or is
// kept.
func (c *Conn) Discard() error {
	if c.file == nil {
		return nil
	}
	err := c.file.Close()
	c.file, c.live, c.deadlines = nil, false, false
	c.raw.Bind(nil)
	return err
}

// closer returns what closes the open connection from another goroutine,
// for a cancelled request; it does not touch c.
func (c *Conn) closer() io.Closer {
	if c.nc != nil {
		return c.nc
	}
	if c.live {
		return c.file
	}
	return nil
}

var _ io.ReadWriteCloser = (*Conn)(nil)
