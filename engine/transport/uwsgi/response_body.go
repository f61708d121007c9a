package uwsgi

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// responseBody is the upstream's body: the bytes read along with the head,
// then the connection, up to the upstream's Content-Length or to EOF.
// Closing it closes the connection: the uwsgi protocol has no framing, so a
// connection carries exactly one request.
type responseBody struct {
	buffered  []byte
	conn      io.Reader // the timed connection
	remaining int64     // bytes left, or -1 to read to EOF
	upstream  string
	ctx       context.Context
	closeConn func() // closes the connection, once
	closeOnce sync.Once
	err       error // sticky error
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.remaining == 0 {
		b.finish(io.EOF)
		return 0, io.EOF
	}
	if b.remaining > 0 && int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	var n int
	var err error
	if len(b.buffered) > 0 {
		n = copy(p, b.buffered)
		b.buffered = b.buffered[n:]
	} else {
		n, err = b.conn.Read(p)
	}
	if b.remaining > 0 {
		b.remaining -= int64(n)
	}
	switch {
	case err == io.EOF && b.remaining > 0:
		err = &Error{Status: http.StatusBadGateway, Phase: ReadingBody, Reason: errPrematureClose.Error(), Upstream: b.upstream, Err: io.ErrUnexpectedEOF}
	case err == io.EOF:
	case err != nil && b.ctx.Err() != nil:
		err = b.ctx.Err()
	case err != nil:
		err = ioError(ReadingBody, b.upstream, "recv", err)
	case b.remaining == 0:
		err = io.EOF
	}
	if err != nil {
		b.finish(err)
	}
	return n, err
}

// finish records a terminal error and releases the connection at once,
// without waiting for Close.
func (b *responseBody) finish(err error) {
	b.err = err
	b.release()
}

func (b *responseBody) release() {
	b.closeOnce.Do(b.closeConn)
}

func (b *responseBody) Close() error {
	if b.err == nil {
		b.err = net.ErrClosed
	}
	b.release()
	return nil
}
