package confedit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// INI is a uwsgi.ini file held for lossless editing: its lines exactly as
// read, each with its line end. Edits replace, insert or delete whole
// lines, or only the value (or key) bytes of one line; every other byte
// stays as it was.
//
// Lines are read with uWSGI's rules (core/ini.c): trimmed of spaces, tabs
// and CRs; a line starting with ";" or "#" is a comment; "[name]" starts a
// section; anything else in the chosen section is an option, its key and
// value split at the first "=" and trimmed ("master" alone is the key
// master with an empty value, which uWSGI reads as true). Every section
// with the chosen name counts, as in uWSGI. Keys match by uWSGI's
// canonical name, so editing "processes" finds "workers = 4".
//
// Values are never expanded: Entry.Value is the text as written
// ("%d/static"), which is what an editor must show and write back.
type INI struct {
	name    string
	section string
	lines   []string // each with its '\n', except perhaps the last
}

// An Entry is one option line of the chosen section.
type Entry struct {
	Key   string // as written: "workers"
	Name  string // uWSGI's canonical name: "processes" (the key itself when unknown)
	Value string // as written, trimmed, not expanded ("" for a bare flag)
	Line  int    // 1-based
}

// ParseINI reads data as the uwsgi.ini called name (for messages only).
// section is the section edits apply to; "" means "uwsgi", as for
// uwsgi --ini FILE. Any bytes are accepted: uWSGI itself never rejects a
// line, it ignores what it cannot use.
func ParseINI(name string, data []byte, section string) *INI {
	if section == "" {
		section = "uwsgi"
	}
	f := &INI{name: name, section: section}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			f.lines = append(f.lines, string(data))
			break
		}
		f.lines = append(f.lines, string(data[:i+1]))
		data = data[i+1:]
	}
	return f
}

// Name is the file name given to ParseINI.
func (f *INI) Name() string { return f.name }

// Section is the section edits apply to.
func (f *INI) Section() string { return f.section }

// Bytes returns the file's current content.
func (f *INI) Bytes() []byte {
	var b bytes.Buffer
	for _, l := range f.lines {
		b.WriteString(l)
	}
	return b.Bytes()
}

// lineKind classifies a line.
type lineKind uint8

const (
	lineBlank lineKind = iota
	lineComment
	lineSection
	lineOption
)

// parsedLine locates the parts of one line. Offsets index the line's text.
type parsedLine struct {
	kind                 lineKind
	section              string // for lineSection
	keyStart, keyEnd     int
	eq                   int // offset of '=', -1 for a bare key
	valueStart, valueEnd int
}

func isBlankByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// parseLine applies uWSGI's rules to one line. uWSGI handles each line as
// a C string, so a NUL ends what it reads; the bytes after it are kept but
// never edited.
func parseLine(raw string) parsedLine {
	eff := strings.TrimSuffix(raw, "\n")
	if nul := strings.IndexByte(eff, 0); nul >= 0 {
		eff = eff[:nul]
	}
	s, e := 0, len(eff)
	for s < e && isBlankByte(eff[s]) {
		s++
	}
	for e > s && isBlankByte(eff[e-1]) {
		e--
	}
	if s == e {
		return parsedLine{kind: lineBlank}
	}
	switch eff[s] {
	case '[':
		name := ""
		if e-s > 1 {
			name = eff[s+1 : e-1] // uWSGI drops the last byte, whatever it is
		}
		return parsedLine{kind: lineSection, section: name}
	case ';', '#':
		return parsedLine{kind: lineComment}
	}
	p := parsedLine{kind: lineOption, keyStart: s, eq: -1}
	eq := strings.IndexByte(eff[s:e], '=')
	if eq < 0 {
		p.keyEnd, p.valueStart, p.valueEnd = e, e, e
		return p
	}
	p.eq = s + eq
	k := p.eq
	for k > s && isBlankByte(eff[k-1]) {
		k--
	}
	p.keyEnd = k
	v := p.eq + 1
	for v < e && isBlankByte(eff[v]) {
		v++
	}
	p.valueStart, p.valueEnd = v, e
	return p
}

// canonicalName resolves uWSGI's aliases ("workers" -> "processes").
func canonicalName(key string) string {
	if s, ok := uwsgiini.LookupSpec(key); ok {
		return s.Name
	}
	return key
}

// scan calls fn for every option line in the chosen section, with its
// index in f.lines.
func (f *INI) scan(fn func(i int, p parsedLine) bool) {
	current := ""
	for i, l := range f.lines {
		p := parseLine(l)
		switch p.kind {
		case lineSection:
			current = p.section
		case lineOption:
			if current == f.section && !fn(i, p) {
				return
			}
		}
	}
}

func (f *INI) entry(i int, p parsedLine) Entry {
	l := f.lines[i]
	key := l[p.keyStart:p.keyEnd]
	return Entry{Key: key, Name: canonicalName(key), Value: l[p.valueStart:p.valueEnd], Line: i + 1}
}

// Entries returns every option of the section, in file order.
func (f *INI) Entries() []Entry {
	var out []Entry
	f.scan(func(i int, p parsedLine) bool {
		out = append(out, f.entry(i, p))
		return true
	})
	return out
}

// All returns every occurrence of key (by canonical name), in order.
func (f *INI) All(key string) []Entry {
	name := canonicalName(key)
	var out []Entry
	for _, e := range f.Entries() {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Get returns the last occurrence of key: the one uWSGI uses for an
// option that takes one value.
func (f *INI) Get(key string) (Entry, bool) {
	all := f.All(key)
	if len(all) == 0 {
		return Entry{}, false
	}
	return all[len(all)-1], true
}

// Set gives key the value: the last occurrence (the effective one) is
// rewritten in place, only its value bytes changing; without one, a new
// line is added at the end of the section. Earlier occurrences stay as
// they are (uWSGI ignores them for a single-value option).
func (f *INI) Set(key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if e, ok := f.Get(key); ok {
		return f.SetAt(e.Line, value)
	}
	return f.insert(f.appendAt(), key, value)
}

// Add adds one more occurrence of a repeatable key (socket, env,
// static-map, pythonpath...), on a new line after the last occurrence of
// the same key, or at the end of the section.
func (f *INI) Add(key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	at := f.appendAt()
	if all := f.All(key); len(all) > 0 {
		at = all[len(all)-1].Line // insert after it: index Line
	}
	return f.insert(at, key, value)
}

// RemoveValue removes the last occurrence of key whose value is value,
// and reports whether there was one.
func (f *INI) RemoveValue(key, value string) bool {
	all := f.All(key)
	for k := len(all) - 1; k >= 0; k-- {
		if all[k].Value == value {
			f.deleteLine(all[k].Line - 1)
			return true
		}
	}
	return false
}

// Remove removes every occurrence of key and returns how many there were.
func (f *INI) Remove(key string) int {
	all := f.All(key)
	for k := len(all) - 1; k >= 0; k-- {
		f.deleteLine(all[k].Line - 1)
	}
	return len(all)
}

// SetAt replaces the value of the option on line (1-based), keeping the
// key, the spacing around "=" and anything after the value as written. A
// bare key ("master") gets " = value" in the file's style.
func (f *INI) SetAt(line int, value string) error {
	i, p, err := f.optionAt(line)
	if err != nil {
		return err
	}
	if err := checkValue(value); err != nil {
		return err
	}
	l := f.lines[i]
	if p.eq < 0 {
		if value == "" {
			return nil
		}
		f.lines[i] = l[:p.keyEnd] + f.separator() + value + l[p.keyEnd:]
		return nil
	}
	if value == "" {
		// "key =" keeps its '=' and drops the blanks after it.
		f.lines[i] = l[:p.eq+1] + l[p.valueEnd:]
		return nil
	}
	f.lines[i] = l[:p.valueStart] + value + l[p.valueEnd:]
	return nil
}

// RenameAt replaces the key of the option on line, keeping its value and
// spacing: "http-socket = :3031" becomes "socket = :3031".
func (f *INI) RenameAt(line int, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	i, p, err := f.optionAt(line)
	if err != nil {
		return err
	}
	l := f.lines[i]
	f.lines[i] = l[:p.keyStart] + key + l[p.keyEnd:]
	return nil
}

// RemoveAt removes the option on line, with its line end.
func (f *INI) RemoveAt(line int) error {
	i, _, err := f.optionAt(line)
	if err != nil {
		return err
	}
	f.deleteLine(i)
	return nil
}

// InsertAt adds "key = value" as a new line before line (1-based; one past
// the last line appends). It is for callers that place options
// themselves, next to a related one; Set and Add choose the place.
func (f *INI) InsertAt(line int, key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if line < 1 || line > len(f.lines)+1 {
		return fmt.Errorf("%s: no line %d (the file has %d)", f.name, line, len(f.lines))
	}
	return f.insert(line-1, key, value)
}

func (f *INI) optionAt(line int) (int, parsedLine, error) {
	var found bool
	var p parsedLine
	f.scan(func(i int, q parsedLine) bool {
		if i == line-1 {
			found, p = true, q
			return false
		}
		return true
	})
	if !found {
		return 0, p, fmt.Errorf("%s:%d: not an option line of section [%s]", f.name, line, f.section)
	}
	return line - 1, p, nil
}

// appendAt is the line index where a new option of the section goes:
// after its last option line, or right after the last [section] header
// when it has none, or -1 when the file has no such section.
func (f *INI) appendAt() int {
	at := -1
	current := ""
	for i, l := range f.lines {
		p := parseLine(l)
		switch p.kind {
		case lineSection:
			current = p.section
			if current == f.section {
				at = i + 1
			}
		case lineOption:
			if current == f.section {
				at = i + 1
			}
		}
	}
	return at
}

// insert adds "key = value" as line index at; at == -1 appends a new
// [section] header first.
func (f *INI) insert(at int, key, value string) error {
	if err := checkValue(value); err != nil {
		return err
	}
	nl := f.newline()
	text := key + f.separator() + value + nl
	if value == "" {
		text = key + nl // a bare key: uWSGI reads it as "", which a flag takes as true
	}
	if at < 0 {
		f.endLastLine(nl)
		if len(f.lines) > 0 && parseLine(f.lines[len(f.lines)-1]).kind != lineBlank {
			f.lines = append(f.lines, nl) // a blank line before the new section
		}
		f.lines = append(f.lines, "["+f.section+"]"+nl, text)
		return nil
	}
	if at > 0 && at == len(f.lines) {
		f.endLastLine(nl)
	}
	f.lines = append(f.lines[:at], append([]string{text}, f.lines[at:]...)...)
	return nil
}

// endLastLine gives the last line a line end, so that a line can follow.
func (f *INI) endLastLine(nl string) {
	if n := len(f.lines); n > 0 && !strings.HasSuffix(f.lines[n-1], "\n") {
		f.lines[n-1] += nl
	}
}

// deleteLine removes line index i. Removing an unterminated last line
// leaves the line before it last, with its line end: the file then ends
// in a newline, which it did before that line.
func (f *INI) deleteLine(i int) {
	f.lines = append(f.lines[:i], f.lines[i+1:]...)
}

// newline is the file's line end: "\r\n" when it uses them.
func (f *INI) newline() string {
	for _, l := range f.lines {
		if strings.HasSuffix(l, "\r\n") {
			return "\r\n"
		}
		if strings.HasSuffix(l, "\n") {
			return "\n"
		}
	}
	return "\n"
}

// separator is how the file writes "=": " = " unless its options are
// written "key=value".
func (f *INI) separator() string {
	spaced, tight := 0, 0
	f.scan(func(i int, p parsedLine) bool {
		if p.eq < 0 {
			return true
		}
		if p.keyEnd == p.eq && p.valueStart == p.eq+1 {
			tight++
		} else if p.keyEnd < p.eq {
			spaced++
		}
		return true
	})
	if tight > spaced {
		return "="
	}
	return " = "
}

var errEmptyKey = errors.New("an option name cannot be empty")

func checkKey(key string) error {
	switch {
	case key == "":
		return errEmptyKey
	case strings.ContainsAny(key, "=\n\r\x00"):
		return fmt.Errorf("option name %q: it cannot contain '=' or a line break", key)
	case isBlankByte(key[0]) || isBlankByte(key[len(key)-1]):
		return fmt.Errorf("option name %q: uWSGI trims blanks around names; write it without them", key)
	case key[0] == '[' || key[0] == ';' || key[0] == '#':
		return fmt.Errorf("option name %q: a line starting with %q is not an option in uwsgi.ini", key, key[:1])
	}
	return nil
}

func checkValue(v string) error {
	switch {
	case strings.ContainsAny(v, "\n\r\x00"):
		return fmt.Errorf("value %q: uwsgi.ini values are one line; it cannot hold a line break or NUL", v)
	case v != "" && (isBlankByte(v[0]) || isBlankByte(v[len(v)-1])):
		return fmt.Errorf("value %q: uWSGI trims blanks around values and has no quoting, so it cannot start or end with a blank", v)
	}
	return nil
}
