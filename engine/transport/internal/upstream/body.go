package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// DefaultBodyBufferSize is nginx's client_body_buffer_size on 64-bit
// platforms: bodies up to this size stay in memory, larger ones go to a
// temporary file.
const DefaultBodyBufferSize = 16 << 10

// ErrClientBody is wrapped by errors reading the client's request body. They
// are the client's fault, not the upstream's: nginx answers 400 (or 408 on
// its client_body_timeout, 413 past client_max_body_size) and never
// connects.
var ErrClientBody = errors.New("reading client request body")

// Body is a client body read to the end before the upstream is dialled, as
// nginx does with request buffering on: a slow client never holds an
// application worker, and the length is known even for a chunked request.
type Body struct {
	mem  []byte
	file *os.File // the part past mem, already unlinked; nil if none
	size int64
}

// ReadBody reads r.Body completely and closes it. memLimit is the in-memory
// part (0 means DefaultBodyBufferSize); dir is where the rest is spilled
// ("" means os.TempDir()).
func ReadBody(r *http.Request, memLimit int, dir string) (*Body, error) {
	if memLimit <= 0 {
		memLimit = DefaultBodyBufferSize
	}
	if r.Body == nil || r.Body == http.NoBody {
		return &Body{}, nil
	}
	defer r.Body.Close()
	if r.ContentLength == 0 {
		return &Body{}, nil
	}
	b := &Body{}
	src := io.Reader(r.Body)
	if r.ContentLength > 0 {
		src = io.LimitReader(r.Body, r.ContentLength)
		if r.ContentLength <= int64(memLimit) {
			b.mem = make([]byte, r.ContentLength)
			n, err := io.ReadFull(src, b.mem)
			b.mem, b.size = b.mem[:n], int64(n)
			if err != nil && err != io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: %w", ErrClientBody, err)
			}
			return b, b.checkLength(r)
		}
	} else {
		// Unknown length: keep up to memLimit in memory, spill the rest.
		buf := make([]byte, memLimit)
		n, err := io.ReadFull(src, buf)
		b.mem, b.size = buf[:n], int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrClientBody, err)
		}
	}
	f, err := os.CreateTemp(dir, "wsgideck-body-")
	if err != nil {
		return nil, fmt.Errorf("buffering request body: %w", err)
	}
	// Unlinked at once: the open file is all we need, and nothing is left
	// behind if the process dies.
	os.Remove(f.Name())
	b.file = f
	n, err := io.Copy(f, src)
	b.size += n
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("%w: %w", ErrClientBody, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Close()
		return nil, fmt.Errorf("buffering request body: %w", err)
	}
	if err := b.checkLength(r); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// checkLength rejects a body shorter than its Content-Length: the client
// closed early.
func (b *Body) checkLength(r *http.Request) error {
	if r.ContentLength > 0 && b.size < r.ContentLength {
		return fmt.Errorf("%w: %w (got %d of %d bytes)", ErrClientBody, io.ErrUnexpectedEOF, b.size, r.ContentLength)
	}
	return nil
}

// Size is the body's length in bytes.
func (b *Body) Size() int64 { return b.size }

// InMemory returns the part of the body held in memory, and whether that is
// all of it (nothing went to a temporary file).
func (b *Body) InMemory() (mem []byte, whole bool) { return b.mem, b.file == nil }

// NewBody returns a body read by the caller: mem, then, when rest is not
// nil, the size-len(mem) bytes from the start of rest. The caller keeps
// rest and closes it; the body only reads it, from its start each time it
// is sent.
func NewBody(mem []byte, rest *os.File, size int64) Body {
	return Body{mem: mem, file: rest, size: size}
}

// WriteTo sends the whole body, from its start.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b.mem)
	total := int64(n)
	if err != nil || b.file == nil {
		return total, err
	}
	m, err := io.Copy(w, b.rest())
	return total + m, err
}

// Reader returns the whole body from its start.
func (b *Body) Reader() io.Reader {
	if b.file == nil {
		return bytes.NewReader(b.mem)
	}
	return io.MultiReader(bytes.NewReader(b.mem), b.rest())
}

// rest reads the part past mem, from its start.
func (b *Body) rest() io.Reader {
	return io.NewSectionReader(b.file, 0, b.size-int64(len(b.mem)))
}

// Close releases the temporary file, if any.
func (b *Body) Close() error {
	if b.file == nil {
		return nil
	}
	err := b.file.Close()
	b.file = nil
	return err
}
