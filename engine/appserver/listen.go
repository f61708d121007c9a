package appserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// listener is one bound socket and what requests on it need to know.
type listener struct {
	sock       Socket
	index      int
	ln         net.Listener // nil for a blocking (uwsgi) socket
	fd         int          // the descriptor; owned by the listener when blocking
	blocking   bool         // served by blocking acceptors (see rawconn.go)
	acceptors  int
	loop       bool // served by a uwsgiLoop
	localAddr  net.Addr
	kind       string // "TCP" or "UNIX"
	addr       string // resolved address, for logs and Addrs
	unixPath   string // a filesystem socket to remove on vacuum
	serverPort string // SERVER_PORT for the environ
}

// isUnixAddr is uWSGI's rule: an address with a ':' is TCP, anything else a
// unix socket path.
func isUnixAddr(addr string) bool { return !strings.Contains(addr, ":") }

// bindSocket creates, binds and listens with the given backlog. Unix and
// uwsgi sockets are made by hand (Go's net.Listen always uses somaxconn,
// and the uwsgi socket's blocking acceptors need a plain descriptor);
// other TCP sockets come from listenTCP.
func bindSocket(s Socket, index, backlog int, chmod string) (*listener, error) {
	l := &listener{sock: s, index: index}
	var fd int
	var err error
	if isUnixAddr(s.Addr) {
		fd, err = bindUnix(s.Addr, backlog, chmod)
		l.kind, l.addr, l.serverPort = "UNIX", s.Addr, "80"
		if !strings.HasPrefix(s.Addr, "@") {
			l.unixPath = s.Addr
		}
	} else if s.Proto != ProtoUWSGI {
		if err := l.listenTCP(s.Addr, backlog); err != nil {
			return nil, bindError(s, err)
		}
		return l, nil
	} else {
		var sa syscall.Sockaddr
		fd, sa, err = bindTCP(s.Addr, backlog)
		if err == nil {
			l.kind = "TCP"
			l.addr, l.serverPort = formatSockaddr(sa)
		}
	}
	if err != nil {
		return nil, bindError(s, err)
	}
	l.fd = fd
	if l.kind == "TCP" {
		// Report the port the kernel chose for ":0".
		if sa, err := syscall.Getsockname(fd); err == nil {
			l.addr, l.serverPort = formatSockaddr(sa)
			l.localAddr = sockaddrToAddr(sa, "")
		}
	} else {
		l.localAddr = &net.UnixAddr{Name: s.Addr, Net: "unix"}
	}
	if s.Proto == ProtoUWSGI {
		l.blocking = true
		return l, nil
	}
	f := os.NewFile(uintptr(fd), s.Addr)
	l.ln, err = net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, bindError(s, err)
	}
	return l, nil
}

func bindError(s Socket, err error) error {
	what := s.Option + " " + s.Addr
	if s.Where != "" {
		what += " (" + s.Where + ")"
	}
	var hint string
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		hint = ": address already in use; another process is listening there: stop it or pick another port"
	case errors.Is(err, syscall.EACCES):
		hint = ": permission denied; ports below 1024 need root, and a unix socket needs a writable directory"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		hint = ": address not available on this machine; use 127.0.0.1 or 0.0.0.0"
	default:
		hint = ": " + err.Error()
	}
	return fmt.Errorf("cannot bind %s%s", what, hint)
}

// resolveTCP reads "host:port", ":port" or "*:port" the way uWSGI does:
// no host means every IPv4 address, and a name resolves to its first IPv4
// address if it has one.
func resolveTCP(addr string) (net.IP, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, 0, fmt.Errorf("invalid port %q", portStr)
	}
	var ip net.IP
	switch host {
	case "", "*", "0.0.0.0":
		ip = net.IPv4zero
	default:
		if ip = net.ParseIP(host); ip == nil {
			ips, err := net.LookupIP(host)
			if err != nil || len(ips) == 0 {
				return nil, 0, fmt.Errorf("cannot resolve %q", host)
			}
			ip = ips[0]
			for _, cand := range ips {
				if cand.To4() != nil {
					ip = cand
					break
				}
			}
		}
	}
	return ip, port, nil
}

// listenTCP makes the listener of a TCP socket served through Go's
// netpoller (http-socket, fastcgi-socket). It comes from a ListenConfig,
// not from a hand-made socket through net.FileListener, because only a
// ListenConfig can turn off TCP keep-alive probes: Go's listener otherwise
// sets them up on every accepted connection (four setsockopt calls each).
// uWSGI and nginx do not probe either; their clients are on loopback or
// behind a proxy that closes idle connections itself. Go listens with
// somaxconn, so the backlog is set afterwards: listen(2) on a listening
// socket changes it.
func (l *listener) listenTCP(addr string, backlog int) error {
	ip, port, err := resolveTCP(addr)
	if err != nil {
		return err
	}
	network := "tcp6"
	if ip.To4() != nil {
		network = "tcp4" // never a dual-stack socket for 0.0.0.0
	}
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return err
	}
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			l.fd = int(fd)
			err = syscall.Listen(int(fd), backlog)
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		ln.Close()
		return err
	}
	a := ln.Addr().(*net.TCPAddr)
	l.ln, l.kind, l.localAddr = ln, "TCP", a
	l.addr, l.serverPort = net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port)), strconv.Itoa(a.Port)
	return nil
}

func bindTCP(addr string, backlog int) (int, syscall.Sockaddr, error) {
	ip, port, err := resolveTCP(addr)
	if err != nil {
		return -1, nil, err
	}
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if ip4 := ip.To4(); ip4 != nil {
		sa4 := &syscall.SockaddrInet4{Port: port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		family = syscall.AF_INET6
		sa6 := &syscall.SockaddrInet6{Port: port}
		copy(sa6.Addr[:], ip.To16())
		sa = sa6
	}
	fd, err := socketCloexec(family, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return -1, nil, err
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, nil, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return -1, nil, err
	}
	return fd, sa, nil
}

func formatSockaddr(sa syscall.Sockaddr) (addr, port string) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), strconv.Itoa(a.Port)
	case *syscall.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port)), strconv.Itoa(a.Port)
	}
	return "", "0"
}

func bindUnix(path string, backlog int, chmod string) (int, error) {
	name := path
	if strings.HasPrefix(path, "@") {
		name = "\x00" + path[1:]
	} else if fi, err := os.Lstat(path); err == nil {
		// A stale socket from an earlier run is replaced, as uWSGI does;
		// anything else at that path is left alone and the bind fails.
		if fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
	}
	fd, err := socketCloexec(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: name}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if chmod != "" && name == path {
		mode, err := strconv.ParseUint(chmod, 8, 32)
		if err != nil {
			syscall.Close(fd)
			return -1, fmt.Errorf("chmod-socket %q: want an octal mode like 660", chmod)
		}
		if err := os.Chmod(path, os.FileMode(mode)); err != nil {
			syscall.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// somaxconn is the kernel's cap on listen backlogs (0 when unknown).
func somaxconn() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
