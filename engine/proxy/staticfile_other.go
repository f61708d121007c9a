//go:build !linux

package proxy

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// open opens the file at path, which ends in a NUL byte.
func (f *staticFile) open(path []byte) error {
	if n := len(path); n > 0 && path[n-1] == 0 {
		path = path[:n-1]
	}
	osf, err := os.Open(string(path))
	if err != nil {
		return unwrapPathError(err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return unwrapPathError(err)
	}
	*f = staticFile{f: osf, size: st.Size(), mtime: st.ModTime().Unix(),
		isDir: st.IsDir(), isRegular: st.Mode().IsRegular()}
	return nil
}

// unwrapPathError returns the system's error inside a *fs.PathError: the
// caller names the path itself, as Linux's raw open does.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readAt fills p from off, reading until p is full or the file ends.
func (f *staticFile) readAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// file is the open *os.File, for sendfile.
func (f *staticFile) file() *os.File { return f.f }

func (f *staticFile) close() { f.f.Close() }
