package stats

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// Listen binds the stats address the way uWSGI reads its `stats` option:
// TCP when addr contains ':' ("127.0.0.1:1717", ":1717", "[::1]:1717"), an
// abstract unix socket for "@name", otherwise a unix socket path.
//
// A unix socket left behind by a dead process is removed first, as uWSGI
// does; unlike uWSGI, a path that holds something other than a socket, or a
// socket some process still listens on, is refused instead of unlinked.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errors.New("stats: empty address: set stats to host:port, a unix socket path or @abstract-name")
	}
	if strings.Contains(addr, ":") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("stats: cannot listen on TCP %q: %w", addr, err)
		}
		return ln, nil
	}
	if !strings.HasPrefix(addr, "@") {
		if err := removeStaleSocket(addr); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("stats: cannot listen on unix socket %q: %w", addr, err)
	}
	return ln, nil
}

func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("stats: %s exists and is not a socket: remove it or choose another stats path", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("stats: %s is in use by another process: stop it or choose another stats path", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("stats: removing stale socket: %w", err)
	}
	return nil
}

// listenerFD is the file descriptor number of ln for uWSGI's startup line,
// or -1 when ln has none.
func listenerFD(ln net.Listener) int {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1
	}
	return fd
}
