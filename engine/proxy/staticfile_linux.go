//go:build linux

package proxy

import (
	"io"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// open opens the file at path, which must end in a NUL byte (the buffer
// is passed to the kernel as it is, without a copy).
func (f *staticFile) open(path []byte) error {
	var fd uintptr
	var errno syscall.Errno
	for {
		fd, _, errno = syscall.Syscall6(syscall.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&path[0])),
			uintptr(syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK), 0, 0, 0)
		if errno != syscall.EINTR {
			break
		}
	}
	runtime.KeepAlive(path)
	if errno != 0 {
		return errno
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(fd), &st); err != nil {
		syscall.Close(int(fd))
		return err
	}
	mode := st.Mode & syscall.S_IFMT
	*f = staticFile{fd: int(fd), size: st.Size, mtime: st.Mtim.Sec,
		isDir: mode == syscall.S_IFDIR, isRegular: mode == syscall.S_IFREG}
	return nil
}

// atFDCWD is AT_FDCWD (-100) as the kernel takes it.
var atFDCWD = uintptr(^uint(99))

// readAt fills p from off, reading until p is full or the file ends.
func (f *staticFile) readAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Pread(f.fd, p[done:], off+int64(done))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// file wraps the descriptor as an *os.File, for sendfile.
func (f *staticFile) file() *os.File {
	if f.f == nil {
		f.f = os.NewFile(uintptr(f.fd), "")
	}
	return f.f
}

func (f *staticFile) close() {
	if f.f != nil {
		f.f.Close()
		return
	}
	syscall.Close(f.fd)
}
