package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tklauser/go-sysconf"
	"golang.org/x/sys/unix"
)

// procfsSource is the Linux ProcSource: a read of /proc/PID/stat gives the
// CPU times, threads, start and virtual size, and one of /proc/PID/statm
// the resident size (stat's rss field is the kernel's approximate per-CPU
// count, hundreds of KiB off; statm's is exact, as status' VmRSS). gopsutil
// reads three files per process for the same figures (stat, statm, and
// status, which it parses whole into a struct), which at 16 workers and
// 1 Hz was most of the sampler's cost.
//
// The two files of each process stay open between samples and are read
// again from offset 0 (procfs regenerates them on each read): one pread
// per file and sample, where opening them each time took eight system
// calls (os.Open's fcntl and epoll_ctl, read, close), 200 a second at 16
// workers, which counts in the desktop app's CPU.
type procfsSource struct {
	mu    sync.Mutex
	buf   []byte // a read of /proc/PID/stat; Stat is called one at a time, mu guards it anyway
	files map[int]*procFiles

	tick  time.Duration // one clock tick of /proc's times (USER_HZ)
	page  uint64        // bytes per page
	bootN int64         // boot time, unix ns; 0 until read
}

var _ ProcSource = (*procfsSource)(nil)

func newPlatformSource() ProcSource {
	hz, err := sysconf.Sysconf(sysconf.SC_CLK_TCK)
	if err != nil || hz <= 0 {
		hz = 100
	}
	return &procfsSource{buf: make([]byte, 1024), files: map[int]*procFiles{},
		tick: time.Second / time.Duration(hz), page: uint64(os.Getpagesize())}
}

// procFiles are a process's open /proc files, -1 when not open.
type procFiles struct{ stat, statm int }

func (f *procFiles) close() {
	for _, fd := range []*int{&f.stat, &f.statm} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

func (s *procfsSource) Stat(pid int) (ProcStat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[pid]
	if f == nil {
		f = &procFiles{stat: -1, statm: -1}
		s.files[pid] = f
	}
	st, err := s.stat(pid, f)
	if err != nil && (f.stat >= 0 || f.statm >= 0) {
		// The files may be of an earlier process with this pid, which
		// exited (reads then fail with ESRCH): open them anew, once.
		f.close()
		st, err = s.stat(pid, f)
	}
	if err != nil {
		f.close()
		delete(s.files, pid)
	}
	return st, err
}

func (s *procfsSource) stat(pid int, f *procFiles) (ProcStat, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	data, err := s.read(pid, dir+"/stat", &f.stat)
	if err != nil {
		return ProcStat{}, err
	}
	ps, err := parseProcStat(data)
	if err != nil {
		return ProcStat{}, fmt.Errorf("metrics: process %d: %s/stat: %w", pid, dir, err)
	}
	data, err = s.read(pid, dir+"/statm", &f.statm)
	if err != nil {
		return ProcStat{}, err
	}
	resident, err := parseStatm(data)
	if err != nil {
		return ProcStat{}, fmt.Errorf("metrics: process %d: %s/statm: %w", pid, dir, err)
	}
	st := ProcStat{
		CPU:     time.Duration(ps.utime+ps.stime) * s.tick,
		RSS:     resident * s.page,
		VSZ:     ps.vsize,
		Threads: int(ps.threads),
	}
	if boot := s.bootTime(); boot > 0 {
		st.Started = time.Unix(0, boot+int64(ps.start)*int64(s.tick))
	}
	return st, nil
}

// read reads file name of process pid into s.buf from its start, through
// *fd, which it opens when it is -1.
func (s *procfsSource) read(pid int, name string, fd *int) ([]byte, error) {
	if *fd < 0 {
		var err error
		for {
			*fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			*fd = -1
			return nil, fmt.Errorf("metrics: process %d: open %s: %w", pid, name, err)
		}
	}
	n, err := preadAll(*fd, &s.buf)
	if err != nil {
		return nil, fmt.Errorf("metrics: process %d: reading %s: %w", pid, name, err)
	}
	return s.buf[:n], nil
}

// parseStatm returns the second field of /proc/PID/statm: resident pages.
func parseStatm(b []byte) (uint64, error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("%d fields, want at least 2", len(f))
	}
	v, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resident pages: %q is not a number", f[1])
	}
	return v, nil
}

// preadAll reads the file open as fd into *buf from offset 0, growing
// *buf as needed, and returns the length read.
func preadAll(fd int, buf *[]byte) (int, error) {
	n := 0
	for {
		if n == len(*buf) {
			*buf = append(*buf, make([]byte, len(*buf))...)
		}
		m, err := unix.Pread(fd, (*buf)[n:], int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err // a failed read, even after some data
		case m == 0:
			if n == 0 {
				return 0, errors.New("empty file")
			}
			return n, nil
		}
		n += m
	}
}

// bootTime is the system's boot time (btime in /proc/stat), read once.
func (s *procfsSource) bootTime() int64 {
	if s.bootN != 0 {
		return s.bootN
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			if sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err == nil {
				s.bootN = sec * int64(time.Second)
			}
			break
		}
	}
	return s.bootN
}

// Forget closes pid's files.
func (s *procfsSource) Forget(pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[pid]; f != nil {
		f.close()
		delete(s.files, pid)
	}
}

// procStatFields are the fields of /proc/PID/stat a sample uses.
type procStatFields struct {
	utime, stime uint64 // clock ticks
	threads      uint64
	start        uint64 // clock ticks after boot
	vsize        uint64 // bytes
}

// parseProcStat parses a /proc/PID/stat line (see proc(5)). The command
// name, field 2, is in parentheses and may itself hold spaces and
// parentheses: the fields are counted from the last ')'.
func parseProcStat(b []byte) (procStatFields, error) {
	var out procStatFields
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return out, errors.New("no ')' closing the command name")
	}
	rest := b[i+1:]
	// Fields 3 (state) onwards; field k is at index k-3.
	want := [...]struct {
		field int
		dst   *uint64
	}{{14, &out.utime}, {15, &out.stime}, {20, &out.threads}, {22, &out.start}, {23, &out.vsize}}
	field, next := 3, 0
	for len(rest) > 0 && next < len(want) {
		rest = bytes.TrimLeft(rest, " ")
		j := bytes.IndexAny(rest, " \n")
		if j < 0 {
			j = len(rest)
		}
		tok := rest[:j]
		rest = rest[j:]
		if len(tok) == 0 {
			break
		}
		if field == want[next].field {
			v, err := strconv.ParseUint(string(tok), 10, 64)
			if err != nil {
				return out, fmt.Errorf("field %d: %q is not a number", field, tok)
			}
			*want[next].dst = v
			next++
		}
		field++
	}
	if next < len(want) {
		return out, fmt.Errorf("only %d fields, want at least %d", field-1, want[len(want)-1].field)
	}
	return out, nil
}
