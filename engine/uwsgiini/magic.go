package uwsgiini

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// magicTable is uWSGI's magic_table: what %X becomes at read time. Every
// byte has an entry and unknown ones are empty, so "%z" vanishes and a "%"
// at the end of a line swallows the newline, joining two lines (checked
// against uwsgi 2.0.21).
type magicTable [256]string

// fileMagic describes the config file being read (config_magic_table_fill).
type fileMagic struct {
	o, p, s, d, e, n, c, x, i, j string
	parts                        []string // %0..%9
}

// describe computes the per-file magic variables for name (as written,
// relative to cwd) read with the given explicit section ("" when none).
func describe(cwd, name, section string) fileMagic {
	m := fileMagic{o: name, x: section}
	if name == "" {
		return m
	}
	abs := name
	if !strings.HasPrefix(name, "/") {
		abs = cwd + "/" + name
	}
	// uWSGI keeps a symlink's own path and realpath()s anything else.
	m.p = abs
	if fi, err := os.Lstat(abs); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			m.p = real
		}
	} else if err != nil {
		m.p = filepath.Clean(abs)
	}
	if fi, err := os.Stat(m.p); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			m.i = strconv.FormatUint(uint64(st.Ino), 10)
		}
	}
	slash := strings.LastIndexByte(m.p, '/')
	m.s = m.p[slash+1:]
	m.d = m.p[:slash+1]
	dir := strings.TrimSuffix(m.d, "/")
	if k := strings.LastIndexByte(dir, '/'); k >= 0 {
		m.c = dir[k+1:]
	}
	for _, part := range strings.Split(dir, "/") {
		if part != "" && len(m.parts) < 10 {
			m.parts = append(m.parts, part)
		}
	}
	// %e comes from the name as written, %n from the file name: uWSGI's
	// own asymmetry ("dir.x/all" has the extension "x/all").
	if k := strings.LastIndexByte(name, '.'); k >= 0 {
		m.e = name[k+1:]
	}
	m.n = m.s
	if k := strings.LastIndexByte(m.s, '.'); k >= 0 {
		m.n = m.s[:k]
	}
	m.j = djb33xHex(m.p)
	return m
}

// djb33xHex is uWSGI's %j: the djb33x hash of the full path, printed as
// the hex of its four bytes in (little-endian) memory order.
func djb33xHex(s string) string {
	h := uint32(5381)
	for i := 0; i < len(s); i++ {
		h = (h<<5 + h) ^ uint32(int32(int8(s[i]))) // C char is signed
	}
	return fmt.Sprintf("%02X%02X%02X%02X", byte(h), byte(h>>8), byte(h>>16), byte(h>>24))
}

// table builds the magic table for one file. first describes the first
// config file loaded, which the upper-case variables refer to.
func (st *state) table(cur, first fileMagic) *magicTable {
	var t magicTable
	t['%'], t['('], t['['] = "%", "%(", "\x1b"
	t['v'], t['h'], t['k'], t['V'] = st.cwd, st.host, strconv.Itoa(st.cpus), st.l.version()
	t['u'], t['U'], t['g'], t['G'] = st.id.UID, st.id.User, st.id.GID, st.id.Group
	t['t'] = strconv.FormatInt(st.now.Unix(), 10)
	t['T'] = strconv.FormatInt(st.now.UnixMicro(), 10)
	t['b'] = st.exe
	for lower, f := range map[byte]func(fileMagic) string{
		'o': func(m fileMagic) string { return m.o }, 'p': func(m fileMagic) string { return m.p },
		's': func(m fileMagic) string { return m.s }, 'd': func(m fileMagic) string { return m.d },
		'e': func(m fileMagic) string { return m.e }, 'n': func(m fileMagic) string { return m.n },
		'c': func(m fileMagic) string { return m.c }, 'x': func(m fileMagic) string { return m.x },
		'i': func(m fileMagic) string { return m.i }, 'j': func(m fileMagic) string { return m.j },
	} {
		t[lower], t[lower-'a'+'A'] = f(cur), f(first)
	}
	for k, part := range cur.parts {
		t['0'+k] = part
	}
	return &t
}

// substitute applies the magic table to a whole file, as uWSGI does before
// it splits lines. starts[k] is the 1-based input line output line k
// begins on, so options keep their real line numbers even when "%" at a
// line end joins lines.
func substitute(data []byte, t *magicTable) (string, []int) {
	var b strings.Builder
	b.Grow(len(data))
	line := 1
	starts := []int{1}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '%' {
			b.WriteByte(c)
			if c == '\n' {
				line++
				starts = append(starts, line)
			}
			continue
		}
		if i+1 == len(data) {
			break // uWSGI sees the terminating NUL here: "%" disappears
		}
		i++
		rep := t[data[i]]
		b.WriteString(rep)
		for n := strings.Count(rep, "\n"); n > 0; n-- {
			starts = append(starts, line)
		}
		if data[i] == '\n' {
			line++
		}
	}
	return b.String(), starts
}
