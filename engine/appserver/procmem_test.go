package appserver

import (
	"os"
	"testing"
)

func TestParseStatm(t *testing.T) {
	m, err := parseStatm([]byte("3487 2049 1358 691 0 1222 0\n"))
	if err != nil || m.VSZ != 3487*pageSize || m.RSS != 2049*pageSize {
		t.Errorf("parseStatm: %+v %v", m, err)
	}
	for _, bad := range []string{"", "12", "a b c", "1 -2 3", "99999999999999999999 1"} {
		if _, err := parseStatm([]byte(bad)); err == nil {
			t.Errorf("parseStatm(%q) accepted", bad)
		}
	}
	self, err := readMemInfo(os.Getpid())
	if err != nil || self.RSS == 0 || self.VSZ < self.RSS {
		t.Errorf("readMemInfo(self): %+v %v", self, err)
	}
	if _, err := readMemInfo(1 << 30); err == nil {
		t.Error("read a process that does not exist")
	}
}

func FuzzParseStatm(f *testing.F) {
	f.Add([]byte("3487 2049 1358 691 0 1222 0\n"))
	f.Add([]byte("0 0"))
	f.Add([]byte(" 1\t2 "))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseStatm(b)
		if err != nil {
			return
		}
		if m.VSZ%pageSize != 0 || m.RSS%pageSize != 0 {
			t.Errorf("sizes not in pages: %+v", m)
		}
	})
}
