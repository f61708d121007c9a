package proxy

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// bufferedBody is a client request body read to its end before the
// upstream is contacted (nginx's request buffering), so that a retry on the
// next server can send it again.
type bufferedBody struct {
	mem  []byte
	file *os.File
	size int64
}

// noBody is the body of a request without one; it is never written to.
var noBody bufferedBody

// memBodyLimit is how much of a body stays in memory; the rest goes to an
// unlinked temporary file.
const memBodyLimit = 64 << 10

// reader returns a fresh reader over the whole body.
func (b *bufferedBody) reader() io.Reader {
	if b == nil {
		return bytes.NewReader(nil)
	}
	if b.file == nil {
		return bytes.NewReader(b.mem)
	}
	return io.MultiReader(bytes.NewReader(b.mem), io.NewSectionReader(b.file, 0, b.size-int64(len(b.mem))))
}

func (b *bufferedBody) close() {
	if b != nil && b.file != nil {
		b.file.Close()
		b.file = nil
	}
}

// bufferBody reads the request body for an upstream. It returns 0, or the
// status to answer with: 413 past client_max_body_size, 408 on the client
// body timeout (the connection is then closed), 400 for a broken body.
func (r *request) bufferBody() (*bufferedBody, int) {
	br := &r.body
	if br.eof && br.read == 0 {
		return &noBody, 0
	}
	b := &bufferedBody{}
	br.limit = r.conf.clientMaxBodySize
	c := r.c
	var chunk [32 << 10]byte
	for {
		r.now = c.srv.clock.now()
		c.setReadDeadline(r.now.Add(r.conf.bodyTimeout))
		n, err := br.Read(chunk[:])
		if n > 0 {
			if b.file == nil && len(b.mem)+n <= memBodyLimit {
				b.mem = append(b.mem, chunk[:n]...)
			} else {
				if b.file == nil {
					f, ferr := os.CreateTemp("", "wsgideck-body-")
					if ferr != nil {
						r.errorf(levelCrit, "could not buffer the request body (%v)", ferr)
						return nil, 500
					}
					os.Remove(f.Name())
					b.file = f
				}
				if _, werr := b.file.Write(chunk[:n]); werr != nil {
					b.close()
					r.errorf(levelCrit, "could not buffer the request body (%v)", werr)
					return nil, 500
				}
			}
			b.size += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			b.close()
			r.keepAlive = false
			switch {
			case errors.Is(err, errBodyTooLarge):
				r.errorf(levelError, "client intended to send too large chunked body: %d+%d bytes", br.read, br.overSize)
				r.c.lingering = true
				return nil, 413
			case isTimeout(err):
				r.errorf(levelInfo, "client timed out (110: Connection timed out) while reading client request body")
				return nil, 408
			case errors.Is(err, errBadChunk):
				r.errorf(levelInfo, "client sent invalid chunked body")
				return nil, 400
			}
			r.errorf(levelInfo, "client prematurely closed connection")
			return nil, 400
		}
	}
	return b, 0
}
