package appserver

import (
	"bytes"
	"io"
	"os"
)

// spoolMemory is how much of a buffered request body stays in memory when
// post-buffering does not say otherwise; the rest goes to a temp file.
const spoolMemory = 1 << 20

// spool holds a request body read before dispatch: in memory up to a limit,
// then in an unlinked temp file (what uWSGI's post-buffering and nginx's
// client_body_buffer_size do).
type spool struct {
	mem  []byte
	file *os.File
	size int64
}

// fill reads all of r. memLimit is the in-memory part (post-buffering);
// 0 means spoolMemory.
func (s *spool) fill(r io.Reader, memLimit int64) error {
	s.close()
	if memLimit <= 0 {
		memLimit = spoolMemory
	}
	buf := bytes.NewBuffer(s.mem[:0])
	n, err := io.Copy(buf, io.LimitReader(r, memLimit))
	s.mem, s.size = buf.Bytes(), n
	if err != nil {
		return err
	}
	if n < memLimit {
		return nil
	}
	// At the limit: anything more goes to a file.
	f, err := os.CreateTemp("", "wsgideck-body-")
	if err != nil {
		return err
	}
	os.Remove(f.Name())
	s.file = f
	m, err := io.Copy(f, r)
	s.size += m
	if err != nil {
		return err
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// first appends up to max bytes of the body's start to dst.
func (s *spool) first(dst []byte, max int) []byte {
	return append(dst[:0], s.mem[:min(len(s.mem), max)]...)
}

// rest returns a reader of the body after its first skip bytes.
func (s *spool) rest(skip int) io.Reader {
	mem := bytes.NewReader(s.mem[skip:])
	if s.file == nil {
		return mem
	}
	return io.MultiReader(mem, s.file)
}

// close drops the body (keeping the memory buffer for reuse).
func (s *spool) close() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.mem, s.size = s.mem[:0], 0
}
