package appserver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// masterFIFO is uWSGI's master-fifo: a named pipe the master reads
// one-character commands from (core/fifo.c). Like uWSGI, the FIFO is
// re-created each time its writer goes away, at the path of the slot
// selected last ('0'..'9' pick one of several master-fifo paths).
type masterFIFO struct {
	s     *Server
	paths []string

	mu      sync.Mutex
	slot    int
	file    *os.File // open for reading, while a writer is connected
	closed  bool
	created string // the FIFO this loop made last, removed at the end
	running bool
	done    chan struct{}
}

func newMasterFIFO(s *Server, paths []string) (*masterFIFO, error) {
	f := &masterFIFO{s: s, paths: paths, done: make(chan struct{})}
	if err := f.create(paths[0]); err != nil {
		return nil, err
	}
	return f, nil
}

// create (re)makes the FIFO at path, owner-only like uWSGI's.
func (f *masterFIFO) create(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("master-fifo %s: %w", path, err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("master-fifo %s: %w (is the directory writable?)", path, err)
	}
	f.mu.Lock()
	f.created = path
	f.mu.Unlock()
	return nil
}

// start serves the FIFO in a goroutine of its own until close.
func (f *masterFIFO) start() {
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	go f.run()
}

// run serves the FIFO until close: open (which waits for a writer), read
// commands until the writer goes, re-create, again.
func (f *masterFIFO) run() {
	defer close(f.done)
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return
		}
		path := f.created
		f.mu.Unlock()

		// Opening for reading blocks until a writer opens the FIFO;
		// close unblocks it by opening it for writing.
		file, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			f.s.log.printf("master-fifo %s: %v", path, err)
			return
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			file.Close()
			return
		}
		f.file = file
		f.mu.Unlock()

		buf := make([]byte, 64)
		for {
			n, err := file.Read(buf)
			for _, b := range buf[:n] {
				f.command(b)
			}
			if err != nil {
				if err != io.EOF && !errors.Is(err, os.ErrClosed) {
					f.s.log.printf("master-fifo %s: %v", path, err)
				}
				break
			}
		}
		f.mu.Lock()
		f.file = nil
		file.Close()
		if f.closed {
			f.mu.Unlock()
			return
		}
		next := f.paths[f.slot]
		f.mu.Unlock()
		// "fifo destroyed, recreate it", at the selected slot's path.
		if err := f.create(next); err != nil {
			f.s.log.printf("%v", err)
			return
		}
	}
}

// command runs one master-fifo command (core/fifo.c's table).
func (f *masterFIFO) command(b byte) {
	s := f.s
	switch {
	case b >= '0' && b <= '9':
		i := int(b - '0')
		f.mu.Lock()
		if i < len(f.paths) {
			f.slot = i
		}
		path := f.paths[f.slot]
		f.mu.Unlock()
		s.verbose("active master fifo is now %s", path)
	case b == 'r':
		go s.selfReload(ReloadGraceful, true, "master-fifo r")
	case b == 'R':
		go s.selfReload(ReloadBrutal, true, "master-fifo R")
	case b == 'w':
		go s.selfReload(ReloadGraceful, false, "master-fifo w")
	case b == 'W':
		go s.selfReload(ReloadBrutal, false, "master-fifo W")
	case b == 'c':
		go s.selfReload(ReloadChain, false, "master-fifo c")
	case b == 'q':
		go s.Stop()
	case b == 'Q':
		go s.Kill()
	case b == 's':
		s.LogStats()
	case b == 'l':
		s.reopenLog()
	case b == 'L':
		s.rotateLog()
	case b == 'p':
		s.TogglePause()
	case b == 'P':
		if err := s.writePidfiles(s.cfg()); err != nil {
			s.log.printf("master-fifo P: %v", err)
		}
	case b == '+':
		if _, err := s.AddWorker(); err != nil {
			s.log.printf("master-fifo +: %v", err)
		}
	case b == '-':
		if _, err := s.RemoveWorker(); err != nil {
			s.log.printf("master-fifo -: %v", err)
		}
	}
	// Anything else (the newline echo adds, commands of features this
	// engine has not) is ignored, as uWSGI does.
}

// close stops the loop and removes the FIFO.
func (f *masterFIFO) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	file := f.file
	running := f.running
	f.mu.Unlock()
	if file != nil {
		file.Close()
	}
	for running {
		// Wake an open() waiting for a writer (until the loop is gone: it
		// may be just about to call open).
		f.mu.Lock()
		path := f.created
		f.mu.Unlock()
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		select {
		case <-f.done:
			running = false
		case <-time.After(20 * time.Millisecond):
		}
	}
	f.mu.Lock()
	os.Remove(f.created)
	f.mu.Unlock()
}
