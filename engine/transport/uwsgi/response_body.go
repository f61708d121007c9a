package uwsgi

import (
	"io"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// responseBody is the upstream's body: the bytes read along with the head,
// then the connection, up to the upstream's Content-Length or to EOF.
// Closing it closes the connection: the uwsgi protocol has no framing, so a
// connection carries exactly one request.
type responseBody struct {
	upstream.BodyEnd
	buffered  []byte
	conn      io.Reader // the connection
	remaining int64     // bytes left, or -1 to read to EOF
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.Err != nil {
		return 0, b.Err
	}
	if b.remaining == 0 {
		b.Finish(io.EOF)
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
		err = upstream.PrematureBodyEnd(b.X.Target.Name(), upstream.ErrPrematureClose.Error(), io.ErrUnexpectedEOF)
	case err == io.EOF:
	case err != nil:
		err = b.X.BodyError(err)
	case b.remaining == 0:
		err = io.EOF
	}
	if err != nil {
		b.Finish(err)
	}
	return n, err
}
