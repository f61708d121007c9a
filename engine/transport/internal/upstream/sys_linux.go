//go:build linux

package upstream

import (
	"io"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// sysConn is a non-blocking socket driven with raw system calls, waiting
// through the runtime's poller (an *os.File over the descriptor). A raw
// system call keeps the goroutine's processor: a connect, send or close on
// loopback does the peer's TCP work inline, and handing the processor to
// another thread for that time, as an ordinary system call lets the
// runtime do, costs more than the call.
type sysConn struct {
	file      *os.File
	rc        syscall.RawConn
	connected bool // connect succeeded at once

	// the operation in progress, for the callbacks, which are bound once
	owner           *Conn
	buf             []byte
	n               int
	errno           syscall.Errno
	readFn, writeFn func(fd uintptr) bool
}

func (s *sysConn) open() bool { return s.file != nil }

// dial opens a socket to address and starts its connect. ok is false when
// the address is not one it takes (a host name, an abstract or too long
// unix path, an IPv6 zone): the caller then uses the net package.
func (s *sysConn) dial(network, address string) (ok bool, err error) {
	var sa [unsafe.Sizeof(syscall.RawSockaddrUnix{})]byte
	var family, size int
	switch network {
	case "unix":
		if address == "" || address[0] == '@' || len(address) >= len(syscall.RawSockaddrUnix{}.Path) {
			return false, nil
		}
		u := (*syscall.RawSockaddrUnix)(unsafe.Pointer(&sa[0]))
		u.Family = syscall.AF_UNIX
		for i := 0; i < len(address); i++ {
			u.Path[i] = int8(address[i])
		}
		family, size = syscall.AF_UNIX, int(unsafe.Offsetof(u.Path))+len(address)+1
	case "tcp", "tcp4", "tcp6":
		ap, perr := netip.ParseAddrPort(address)
		if perr != nil || ap.Addr().Zone() != "" {
			return false, nil
		}
		ip := ap.Addr().Unmap()
		port := ap.Port()
		if ip.Is4() {
			in := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&sa[0]))
			in.Family = syscall.AF_INET
			p := (*[2]byte)(unsafe.Pointer(&in.Port))
			p[0], p[1] = byte(port>>8), byte(port)
			in.Addr = ip.As4()
			family, size = syscall.AF_INET, syscall.SizeofSockaddrInet4
		} else {
			in := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&sa[0]))
			in.Family = syscall.AF_INET6
			p := (*[2]byte)(unsafe.Pointer(&in.Port))
			p[0], p[1] = byte(port>>8), byte(port)
			in.Addr = ip.As16()
			family, size = syscall.AF_INET6, syscall.SizeofSockaddrInet6
		}
	default:
		return false, nil
	}
	fd, _, errno := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if errno != 0 {
		return true, errno
	}
	s.connected = false
	for {
		_, _, errno = syscall.RawSyscall(syscall.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&sa[0])), uintptr(size))
		if errno != syscall.EINTR {
			break
		}
	}
	switch errno {
	case 0:
		s.connected = true
	case syscall.EINPROGRESS, syscall.EALREADY:
	default:
		syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		return true, errno
	}
	// os.NewFile registers the non-blocking descriptor with the poller
	s.file = os.NewFile(fd, "")
	rc, err := s.file.SyscallConn()
	if err != nil {
		s.file.Close()
		s.file = nil
		return true, err
	}
	s.rc = rc
	if s.readFn == nil {
		s.readFn, s.writeFn = s.doRead, s.doWrite
	}
	return true, nil
}

func (s *sysConn) read(c *Conn, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.owner, s.buf = c, p
	err := s.rc.Read(s.readFn)
	s.owner, s.buf = nil, nil
	if err != nil {
		return 0, err
	}
	if s.errno != 0 {
		errno := s.errno
		s.errno = 0
		return 0, errno
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	return s.n, nil
}

// doRead is one read attempt; it reports false to wait for data.
func (s *sysConn) doRead(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)))
		switch errno {
		case 0:
			s.n, s.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c := s.owner
			if c.OnWait != nil {
				c.OnWait()
			}
			s.file.SetReadDeadline(time.Now().Add(orDefault(c.ReadTimeout)))
			return false
		default:
			s.n, s.errno = 0, errno
			return true
		}
	}
}

func (s *sysConn) write(c *Conn, p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		s.owner, s.buf = c, p
		err := s.rc.Write(s.writeFn)
		s.owner, s.buf = nil, nil
		if err != nil {
			return written, err
		}
		if s.errno != 0 {
			errno := s.errno
			s.errno = 0
			return written, errno
		}
		c.established = true
		written += s.n
		p = p[s.n:]
	}
	return written, nil
}

// doWrite is one send attempt; it reports false to wait until the socket
// takes data: until the connect timeout while the connect is pending, else
// the send timeout. A connect that failed fails the send with its errno.
func (s *sysConn) doWrite(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), syscall.MSG_NOSIGNAL, 0, 0)
		switch errno {
		case 0:
			s.n, s.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c := s.owner
			by := c.connectBy
			if c.established {
				by = time.Now().Add(orDefault(c.SendTimeout))
			}
			s.file.SetWriteDeadline(by)
			return false
		default:
			s.n, s.errno = 0, errno
			return true
		}
	}
}

func (s *sysConn) close() error {
	err := s.file.Close()
	s.file, s.rc, s.connected = nil, nil, false
	return err
}

func (s *sysConn) closer() io.Closer {
	if s.file == nil {
		return nil
	}
	return s.file
}
