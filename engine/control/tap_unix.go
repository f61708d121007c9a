//go:build unix

package control

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// accessTap is the named pipe the proxy's tap access log writes to, and
// the goroutine that reads it.
type accessTap struct {
	// path is the pipe's name for the proxy: "/dev/fd/N", this process's
	// own descriptor of it. The pipe has no name in the file system once
	// open, so nothing is left behind, even by a process that is killed.
	path string
	f    *os.File
	done chan struct{}
}

// newAccessTap makes the pipe and starts reading it, calling fn for each
// line.
func newAccessTap(fn func(line string)) (*accessTap, error) {
	dir, err := os.MkdirTemp("", "wsgideck-tap-")
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "access.pipe")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, fmt.Errorf("tap: mkfifo %s: %w", path, err)
	}
	// Opened for reading and writing: the open does not wait for a
	// writer, and reads never see end-of-file while the proxy closes and
	// reopens its log files (on every reload).
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	// The descriptor's number, without Fd (which would make reads
	// blocking, and Close unable to end the reader).
	var fd uintptr
	sc, err := f.SyscallConn()
	if err == nil {
		err = sc.Control(func(d uintptr) { fd = d })
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tap: %w", err)
	}
	t := &accessTap{path: "/dev/fd/" + strconv.Itoa(int(fd)), f: f, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		br := bufio.NewReaderSize(f, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if line = strings.TrimSuffix(line, "\n"); line != "" && err == nil {
				fn(line)
			}
			if err != nil {
				return
			}
		}
	}()
	return t, nil
}

// close stops reading; the pipe goes with its last descriptor.
func (t *accessTap) close() {
	t.f.Close()
	<-t.done
}
