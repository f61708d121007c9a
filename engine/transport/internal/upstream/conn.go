package upstream

import (
	"context"
	"io"
	"net"
	"time"
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
// waits through the runtime's poller, as nginx's event loop does: no
// getsockname, getpeername or setsockopt, no wait for the connect before
// the first write (the kernel answers it), and no thread handed over while
// a system call runs. Otherwise it uses a net.Conn.
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

	sys sysConn  // the raw socket, when open
	nc  net.Conn // the net.Conn, when open

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
func (c *Conn) Open() bool { return c.nc != nil || c.sys.open() }

// dial opens the connection. A failure is the connect's error: the
// context's deadline (the connect timeout), or the errno.
func (c *Conn) dial(ctx context.Context, dial DialFunc, network, address string, timeout time.Duration) error {
	c.established = false
	if dial == nil {
		if ok, err := c.sys.dial(network, address); ok {
			if err != nil {
				return err
			}
			c.connectBy = time.Now().Add(timeout)
			c.established = c.sys.connected
			return nil
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

// Read reads from the upstream, waiting at most the read timeout for data.
func (c *Conn) Read(p []byte) (int, error) {
	if c.sys.open() {
		return c.sys.read(c, p)
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
	if c.sys.open() {
		return c.sys.write(c, p)
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

// Close closes the connection; the Conn may then be dialled again.
func (c *Conn) Close() error {
	var err error
	if c.sys.open() {
		err = c.sys.close()
	}
	if c.nc != nil {
		err = c.nc.Close()
		c.nc = nil
	}
	c.established = false
	return err
}

// closer returns what closes the open connection from another goroutine,
// for a cancelled request; it does not touch c.
func (c *Conn) closer() io.Closer {
	if c.nc != nil {
		return c.nc
	}
	return c.sys.closer()
}

var _ io.ReadWriteCloser = (*Conn)(nil)
