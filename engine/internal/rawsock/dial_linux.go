//go:build linux

package rawsock

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"unsafe"
)

// Dial opens a non-blocking socket to address and starts its connect:
// network is "tcp", "tcp4", "tcp6" (address an IP and a port) or "unix"
// (a path). connected reports a connect that succeeded at once; otherwise
// it is in progress and the first write settles it (a failed connect
// fails that write with its errno). The file is registered with the
// runtime's poller; its SyscallConn is for [Conn.Bind], its deadlines are
// the socket's.
//
// An address it does not take (a host name, an IPv6 zone, an abstract or
// too long unix path) is errors.ErrUnsupported: the caller then uses the
// net package. Otherwise a failure is the socket's or the connect's
// syscall.Errno.
func Dial(network, address string) (f *os.File, connected bool, err error) {
	var sa sockaddr
	if !sa.set(network, address) {
		return nil, false, errors.ErrUnsupported
	}
	fd, _, errno := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(sa.family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if errno != 0 {
		return nil, false, errno
	}
	connected, errno = sa.connect(fd)
	if errno != 0 {
		syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		return nil, false, errno
	}
	// os.NewFile registers the non-blocking descriptor with the poller
	return os.NewFile(fd, ""), connected, nil
}

// sockaddr is an address as the kernel takes it.
type sockaddr struct {
	raw    [unsafe.Sizeof(syscall.RawSockaddrUnix{})]byte
	size   int
	family int
}

// set fills sa with address; it reports false for an address Dial does
// not take.
func (sa *sockaddr) set(network, address string) bool {
	*sa = sockaddr{}
	switch network {
	case "unix":
		if address == "" || address[0] == '@' || len(address) >= len(syscall.RawSockaddrUnix{}.Path) {
			return false
		}
		u := (*syscall.RawSockaddrUnix)(unsafe.Pointer(&sa.raw[0]))
		u.Family = syscall.AF_UNIX
		for i := 0; i < len(address); i++ {
			u.Path[i] = int8(address[i])
		}
		sa.family, sa.size = syscall.AF_UNIX, int(unsafe.Offsetof(u.Path))+len(address)+1
	case "tcp", "tcp4", "tcp6":
		ap, err := netip.ParseAddrPort(address)
		if err != nil || ap.Addr().Zone() != "" {
			return false
		}
		ip := ap.Addr().Unmap()
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && ip.Is4() {
			return false
		}
		port := ap.Port()
		if ip.Is4() {
			in := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&sa.raw[0]))
			in.Family = syscall.AF_INET
			p := (*[2]byte)(unsafe.Pointer(&in.Port))
			p[0], p[1] = byte(port>>8), byte(port)
			in.Addr = ip.As4()
			sa.family, sa.size = syscall.AF_INET, syscall.SizeofSockaddrInet4
		} else {
			in := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&sa.raw[0]))
			in.Family = syscall.AF_INET6
			p := (*[2]byte)(unsafe.Pointer(&in.Port))
			p[0], p[1] = byte(port>>8), byte(port)
			in.Addr = ip.As16()
			sa.family, sa.size = syscall.AF_INET6, syscall.SizeofSockaddrInet6
		}
	default:
		return false
	}
	return true
}

// connect starts fd's connect to sa. A connect in progress is not an
// error.
func (sa *sockaddr) connect(fd uintptr) (connected bool, errno syscall.Errno) {
	for {
		_, _, errno = syscall.RawSyscall(syscall.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&sa.raw[0])), uintptr(sa.size))
		if errno != syscall.EINTR {
			break
		}
	}
	switch errno {
	case 0:
		return true, 0
	case syscall.EINPROGRESS, syscall.EALREADY:
		return false, 0
	}
	return false, errno
}
