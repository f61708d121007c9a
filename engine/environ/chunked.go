package environ

import (
	"bufio"
	"errors"
	"io"
)

// ErrChunked is wrapped by errors for a malformed chunked request body.
var ErrChunked = errors.New("malformed chunked body")

// ChunkedReader de-chunks an HTTP/1.1 request body (RFC 9112 7.1), reading
// chunk extensions and trailers and discarding them. It reads nothing past the
// trailers, so the connection can serve the next request.
type ChunkedReader struct {
	br   *bufio.Reader
	left int64 // bytes left in the current chunk
	done bool
	err  error
	line []byte
}

// NewChunkedReader returns a reader of the de-chunked body in br.
func NewChunkedReader(br *bufio.Reader) *ChunkedReader {
	return &ChunkedReader{br: br}
}

// Reset starts reading a new body from the same reader.
func (c *ChunkedReader) Reset(br *bufio.Reader) {
	c.br, c.left, c.done, c.err = br, 0, false, nil
}

// Done reports whether the whole body, trailers included, was read.
func (c *ChunkedReader) Done() bool { return c.done }

func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if err := c.beginChunk(); err != nil {
			c.err = err
			return 0, err
		}
		if c.done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		err = c.endChunk()
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *ChunkedReader) readLine() ([]byte, error) {
	c.line = c.line[:0]
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(c.line)+len(frag) > 4096 {
			return nil, errors.Join(ErrChunked, errors.New("chunk line too long"))
		}
		c.line = append(c.line, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	l := c.line[:len(c.line)-1]
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	return l, nil
}

func (c *ChunkedReader) beginChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	// Drop chunk extensions.
	for i, b := range line {
		if b == ';' {
			line = line[:i]
			break
		}
	}
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
		line = line[:len(line)-1]
	}
	if len(line) == 0 || len(line) > 15 {
		return errors.Join(ErrChunked, errors.New("bad chunk size line"))
	}
	var n int64
	for _, b := range line {
		if !isHex(b) {
			return errors.Join(ErrChunked, errors.New("bad chunk size"))
		}
		n = n<<4 | int64(unhex(b))
	}
	if n == 0 {
		// Trailers: header lines up to an empty line, ignored.
		for i := 0; ; i++ {
			t, err := c.readLine()
			if err != nil {
				return err
			}
			if len(t) == 0 {
				break
			}
			if i > 64 {
				return errors.Join(ErrChunked, errors.New("too many trailers"))
			}
		}
		c.done = true
		return nil
	}
	c.left = n
	return nil
}

func (c *ChunkedReader) endChunk() error {
	b, err := c.br.ReadByte()
	if err == nil && b == '\r' {
		b, err = c.br.ReadByte()
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if b != '\n' {
		return errors.Join(ErrChunked, errors.New("chunk not followed by CRLF"))
	}
	return nil
}
