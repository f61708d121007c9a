package upstream

import (
	"net"
	"time"
)

// writeChunk bounds one Write so that the send timeout is, as in nginx, a
// limit between two successive writes rather than on the whole request.
const writeChunk = 64 << 10

// timedConn applies nginx's upstream timers to a connection: every read and
// every write gets its own deadline, so a slow but steady peer is fine and
// only a stall of the whole timeout fails.
type timedConn struct {
	net.Conn
	readTimeout, sendTimeout time.Duration
}

func (c *timedConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.readTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *timedConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > writeChunk {
			chunk = chunk[:writeChunk]
		}
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.sendTimeout)); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}
