package proxy

import (
	"bufio"
	"errors"
	"io"
)

// errBodyTooLarge is a chunked body that grew past client_max_body_size.
var errBodyTooLarge = errors.New("client intended to send too large chunked body")

// errBadChunk is a malformed chunked body.
var errBadChunk = errors.New("client sent invalid chunked body")

// bodyReader reads a request body: Content-Length bytes, or a chunked body
// de-chunked. It sends "100 Continue" before the first read when the client
// asked for it.
type bodyReader struct {
	r       *request
	br      *bufio.Reader
	left    int64 // bytes left: of the body (length mode) or of the chunk
	chunked bool
	eof     bool
	err     error
	read    int64
	limit   int64 // 0: none (chunked bodies are checked while read)
	// overSize is the size of the chunk that took the body past limit,
	// for nginx's "%O+%O bytes".
	overSize int64
	// inChunk is set while data of a chunk is being read.
	inChunk bool
	expect  bool
	tested  bool // 100 Continue sent, or decided not to be sent
}

var _ io.Reader = (*bodyReader)(nil)

func (b *bodyReader) init(r *request) {
	*b = bodyReader{r: r, br: r.c.br}
	switch {
	case r.chunked:
		b.chunked = true
	case r.contentLength > 0:
		b.left = r.contentLength
	default:
		b.eof = true
	}
	if b.eof {
		return
	}
	if e := r.hdr(hExpect); (r.major > 1 || r.minor >= 1) && len(e) == 12 && containsFold(e, "100-continue") {
		b.expect = true
	}
}

// remaining reports whether body bytes may still be unread.
func (b *bodyReader) remaining() bool { return b.r != nil && !b.eof && b.err == nil }

// expectPending reports whether the client is waiting for "100 Continue"
// that was never sent.
func (b *bodyReader) expectPending(r *request) bool { return b.expect && !b.tested }

// testExpect sends "100 Continue" when the client asked for it, once
// (ngx_http_test_expect).
func (b *bodyReader) testExpect() {
	if !b.expect || b.tested {
		return
	}
	b.tested = true
	c := b.r.c
	c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	c.flush()
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	b.testExpect()
	if !b.chunked {
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err := b.br.Read(p)
		b.left -= int64(n)
		b.read += int64(n)
		if b.left == 0 {
			b.eof = true
		} else if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			b.err = err
		}
		if n > 0 {
			return n, nil
		}
		if b.eof {
			return 0, io.EOF
		}
		return 0, err
	}
	for !b.inChunk {
		size, err := b.chunkHeader()
		if err != nil {
			b.err = err
			return 0, err
		}
		if size == 0 {
			if err := b.trailers(); err != nil {
				b.err = err
				return 0, err
			}
			b.eof = true
			return 0, io.EOF
		}
		if b.limit > 0 && b.read+size > b.limit {
			b.overSize = size
			b.err = errBodyTooLarge
			return 0, b.err
		}
		b.left = size
		b.inChunk = true
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	b.read += int64(n)
	if b.left == 0 {
		b.inChunk = false
		if err := b.crlf(); err != nil {
			b.err = err
			return n, nil
		}
	}
	if err != nil && n == 0 {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		b.err = err
		return 0, err
	}
	return n, nil
}

// chunkHeader reads "hex-size[;ext]CRLF".
func (b *bodyReader) chunkHeader() (int64, error) {
	line, err := b.br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return 0, errBadChunk
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	var size int64
	i := 0
	for ; i < len(line); i++ {
		h, ok := unhex(line[i])
		if !ok {
			break
		}
		if size > (1<<62)/16 {
			return 0, errBadChunk
		}
		size = size<<4 | int64(h)
	}
	if i == 0 {
		return 0, errBadChunk
	}
	rest := line[i:]
	switch {
	case len(rest) >= 1 && (rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t'):
	case len(rest) == 2 && rest[0] == '\r':
	case len(rest) == 1:
	default:
		return 0, errBadChunk
	}
	return size, nil
}

// crlf reads the line end after a chunk's data.
func (b *bodyReader) crlf() error {
	c, err := b.br.ReadByte()
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	if c == '\r' {
		if c, err = b.br.ReadByte(); err != nil {
			return io.ErrUnexpectedEOF
		}
	}
	if c != '\n' {
		return errBadChunk
	}
	return nil
}

// trailers skips the trailer section after the last chunk.
func (b *bodyReader) trailers() error {
	for {
		line, err := b.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if err == bufio.ErrBufferFull {
				err = errBadChunk
			}
			return err
		}
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			return nil
		}
	}
}

// discard reads and drops the rest of the body.
func (b *bodyReader) discard() error {
	if b.eof {
		return nil
	}
	var buf [4096]byte
	for {
		_, err := b.Read(buf[:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
