package appserver

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
)

// memInfo is a process's memory use, in bytes.
type memInfo struct {
	VSZ, RSS uint64
}

var pageSize = uint64(os.Getpagesize())

// readMemInfo reads /proc/PID/statm: one small read, cheap enough to do
// after every request when reload-on-rss or memory-report asks for it.
func readMemInfo(pid int) (memInfo, error) {
	var buf [128]byte
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return memInfo{}, err
	}
	n, err := f.Read(buf[:])
	f.Close()
	if err != nil {
		return memInfo{}, err
	}
	return parseStatm(buf[:n])
}

// parseStatm reads the first two fields of /proc/PID/statm: the sizes of
// the whole program and of its resident set, in pages.
func parseStatm(b []byte) (memInfo, error) {
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return memInfo{}, errors.New("statm: want at least 2 fields")
	}
	size, err1 := strconv.ParseUint(string(fields[0]), 10, 64)
	rss, err2 := strconv.ParseUint(string(fields[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return memInfo{}, errors.New("statm: fields are not numbers")
	}
	if size > math.MaxUint64/pageSize || rss > math.MaxUint64/pageSize {
		return memInfo{}, errors.New("statm: sizes out of range")
	}
	return memInfo{VSZ: size * pageSize, RSS: rss * pageSize}, nil
}
