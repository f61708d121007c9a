//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// keepOwner gives the new file the old one's owner and group. Only root
// can give a file away, and for anyone else the new file already belongs
// to them, so a failure here is expected and harmless.
func keepOwner(f *os.File, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}

// canWrite asks the kernel whether this process, with its effective ids,
// may open path for writing (nil if so): permission bits, ACLs and a
// read-only mount all count. Root may write any file on a writable mount.
func canWrite(path string) error {
	err := unix.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
	if err == unix.EACCES || err == unix.EPERM || err == unix.EROFS {
		return err
	}
	return nil // anything else is for the save itself to report
}

// ownerName names fi's owner: the user name, else the uid.
func ownerName(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "unknown"
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "uid " + uid
}
