package nginxconf

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Editing. Every edit replaces one byte range of File.Src and moves the
// offsets of the nodes after it; nothing else in the file changes. Nodes
// keep their identity: a *Directive held before an edit is still valid (and
// up to date) after it, unless it was removed or replaced.

var errDetached = errors.New("nginxconf: directive is not part of a file")

// splice replaces f.Src[start:end] with text and moves every node offset at
// or after end. Nodes inside [start, end) are the caller's to rebuild.
func (f *File) splice(start, end int, text string) {
	delta := len(text) - (end - start)
	src := make([]byte, 0, len(f.Src)+delta)
	src = append(src, f.Src[:start]...)
	src = append(src, text...)
	src = append(src, f.Src[end:]...)
	f.Src = src
	f.index()
	if delta == 0 {
		return
	}
	// A node starting at end moves; a node ending at start does not (text
	// inserted right after it is not part of it).
	from := func(x *int) {
		if *x >= end {
			*x += delta
		}
	}
	to := func(x *int) {
		if *x >= end && *x > start {
			*x += delta
		}
	}
	f.eachSpan(func(s, e *int) {
		if s != nil {
			from(s)
		}
		if e != nil {
			to(e)
		}
	})
}

// eachSpan calls fn with pointers to the start and end offsets of every
// node in the file (a block's braces come as starts with a nil end).
func (f *File) eachSpan(fn func(start, end *int)) {
	var block func(b *Block)
	comments := func(cs []Comment) {
		for i := range cs {
			fn(&cs[i].Start, &cs[i].End)
		}
	}
	block = func(b *Block) {
		if b.Open >= 0 {
			fn(&b.Open, nil)
		}
		if b.Close >= 0 {
			fn(&b.Close, nil)
		}
		comments(b.Comments)
		for _, d := range b.Directives {
			fn(&d.Start, &d.End)
			fn(&d.NameWord.Start, &d.NameWord.End)
			for i := range d.Args {
				fn(&d.Args[i].Start, &d.Args[i].End)
			}
			comments(d.Comments)
			comments(d.InnerComments)
			if d.LineComment != nil {
				fn(&d.LineComment.Start, &d.LineComment.End)
			}
			if d.Block != nil {
				block(d.Block)
			}
		}
	}
	block(f.Block)
}

// relocate recomputes every node's line and column from its offsets.
func (f *File) relocate() {
	var block func(b *Block)
	comments := func(cs []Comment) {
		for i := range cs {
			cs[i].Line, cs[i].Col = f.Position(cs[i].Start)
		}
	}
	arg := func(a *Arg) { a.Line, a.Col = f.Position(a.Start) }
	block = func(b *Block) {
		comments(b.Comments)
		for _, d := range b.Directives {
			d.Line, d.Col = f.Position(d.Start)
			arg(&d.NameWord)
			for i := range d.Args {
				arg(&d.Args[i])
			}
			comments(d.Comments)
			comments(d.InnerComments)
			if d.LineComment != nil {
				d.LineComment.Line, d.LineComment.Col = f.Position(d.LineComment.Start)
			}
			if d.Block != nil {
				d.EndLine, _ = f.Position(d.Block.Open)
				block(d.Block)
			} else {
				d.EndLine, _ = f.Position(d.End - 1)
			}
		}
	}
	block(f.Block)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// lineStart returns the offset of the first byte of the line holding off.
func (f *File) lineStart(off int) int { return bytes.LastIndexByte(f.Src[:off], '\n') + 1 }

// lineEnd returns the offset of the '\n' ending the line holding off, or
// len(Src).
func (f *File) lineEnd(off int) int {
	if i := bytes.IndexByte(f.Src[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(f.Src)
}

// firstOnLine reports whether only blanks precede off on its line.
func (f *File) firstOnLine(off int) bool { return isBlank(f.Src[f.lineStart(off):off]) }

// newline is the file's line ending: "\r\n" if it uses them, else "\n".
func (f *File) newline() string {
	if bytes.Contains(f.Src, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// wordAt lexes text, which must be one word, and places it at offset off.
func wordAt(text string, off int) Arg {
	toks, _ := Lex([]byte(text + ";"))
	for _, t := range toks {
		if t.Kind == TokenWord {
			a := argOf(t)
			a.Start += off
			a.End += off
			return a
		}
	}
	return Arg{}
}

// replaceWord rewrites the word at *a with value, keeping the words around
// it apart.
func (d *Directive) replaceWord(a *Arg, value string) error {
	if err := checkWord(value); err != nil {
		return err
	}
	f := d.File
	text := QuoteWord(value)
	pre, post := "", ""
	if a.Start > 0 && !isSpaceByte(f.Src[a.Start-1]) && f.Src[a.Start-1] != ';' && f.Src[a.Start-1] != '{' && f.Src[a.Start-1] != '}' {
		pre = " "
	}
	if a.End < len(f.Src) && !isSpaceByte(f.Src[a.End]) && f.Src[a.End] != ';' && (f.Src[a.End] != '{' || runsIntoBrace(text)) {
		post = " "
	}
	start := a.Start
	f.splice(a.Start, a.End, pre+text+post)
	*a = wordAt(text, start+len(pre))
	f.relocate()
	return nil
}

// SetName renames the directive in place.
func (d *Directive) SetName(name string) error {
	if d.File == nil {
		return errDetached
	}
	if err := d.replaceWord(&d.NameWord, name); err != nil {
		return err
	}
	d.Name = name
	return nil
}

// SetArg replaces argument i, leaving the rest of the file as it was.
func (d *Directive) SetArg(i int, value string) error {
	if d.File == nil {
		return errDetached
	}
	if i < 0 || i >= len(d.Args) {
		return fmt.Errorf("nginxconf: %s has no argument %d", d.Name, i)
	}
	if d.Args[i].Value == value {
		return nil
	}
	return d.replaceWord(&d.Args[i], value)
}

// SetArgs makes the directive's arguments values. Arguments that keep their
// value keep their text; changed ones are rewritten in place; extra ones
// are appended after the last, one space apart; surplus ones are cut
// together with the space (and any comments) before them.
func (d *Directive) SetArgs(values ...string) error {
	if d.File == nil {
		return errDetached
	}
	for _, v := range values {
		if err := checkWord(v); err != nil {
			return err
		}
	}
	f := d.File
	common := min(len(values), len(d.Args))
	for i := 0; i < common; i++ {
		if err := d.SetArg(i, values[i]); err != nil {
			return err
		}
	}
	after := d.NameWord.End
	if common > 0 {
		after = d.Args[common-1].End
	}
	switch {
	case len(values) > len(d.Args):
		var sb strings.Builder
		var offs []int
		for _, v := range values[common:] {
			sb.WriteByte(' ')
			offs = append(offs, sb.Len())
			sb.WriteString(QuoteWord(v))
		}
		if after < len(f.Src) && f.Src[after] == '{' && runsIntoBrace(sb.String()) {
			sb.WriteByte(' ')
		}
		f.splice(after, after, sb.String())
		for i, v := range values[common:] {
			d.Args = append(d.Args, wordAt(QuoteWord(v), after+offs[i]))
		}
	case len(values) < len(d.Args):
		end := d.Args[len(d.Args)-1].End
		d.InnerComments = slices.DeleteFunc(d.InnerComments, func(c Comment) bool {
			return c.Start >= after && c.Start < end
		})
		d.Args = d.Args[:common]
		keep := ""
		if end < len(f.Src) && f.Src[end] == '{' && after > 0 && runsIntoBrace(string(f.Src[after-1])) {
			keep = " "
		}
		f.splice(after, end, keep)
	}
	f.relocate()
	return nil
}

// Remove deletes the directive (with its block and same-line comment) from
// its file. When the directive has its line(s) to itself the whole lines go;
// otherwise only its text and the blanks after it. Comments above it stay,
// and now belong to whatever follows.
func (d *Directive) Remove() error {
	f, b := d.File, d.Parent
	if f == nil || b == nil {
		return errDetached
	}
	i := slices.Index(b.Directives, d)
	if i < 0 {
		return fmt.Errorf("nginxconf: directive %q is not in its block", d.Name)
	}
	start, end := d.Start, d.End
	if d.LineComment != nil {
		end = d.LineComment.End
	}
	ls, le := f.lineStart(start), f.lineEnd(end)
	switch {
	case isBlank(f.Src[ls:start]) && isBlank(f.Src[end:le]):
		start, end = ls, le
		if end < len(f.Src) {
			end++ // the '\n'
		}
	case !isBlank(f.Src[end:le]):
		for end < le && (f.Src[end] == ' ' || f.Src[end] == '\t') {
			end++
		}
	default:
		for start > ls && (f.Src[start-1] == ' ' || f.Src[start-1] == '\t') {
			start--
		}
	}
	// The comments above d now lead the next directive, or dangle.
	if len(d.Comments) > 0 {
		if i+1 < len(b.Directives) {
			next := b.Directives[i+1]
			next.Comments = append(slices.Clone(d.Comments), next.Comments...)
		} else {
			b.Comments = append(slices.Clone(d.Comments), b.Comments...)
		}
	}
	b.Directives = slices.Delete(b.Directives, i, i+1)
	f.splice(start, end, "")
	f.relocate()
	d.File, d.Parent = nil, nil
	return nil
}

// indentOf returns the blanks before off when off is first on its line.
func (f *File) indentOf(off int) (string, bool) {
	ls := f.lineStart(off)
	if !isBlank(f.Src[ls:off]) {
		return "", false
	}
	return string(f.Src[ls:off]), true
}

// indentUnit guesses one level of indentation from the file: the first
// nested directive whose parent starts its own line gives it. Files without
// nesting get a tab if any line starts with one, else four spaces.
func (f *File) indentUnit() string {
	unit := ""
	f.Walk(func(d *Directive) bool {
		if unit != "" || d.Parent == nil || d.Parent.Parent == nil {
			return unit == ""
		}
		ci, ok1 := f.indentOf(d.Start)
		pi, ok2 := f.indentOf(d.Parent.Parent.Start)
		if ok1 && ok2 && len(ci) > len(pi) && strings.HasPrefix(ci, pi) {
			unit = ci[len(pi):]
		}
		return unit == ""
	})
	if unit != "" {
		return unit
	}
	if bytes.HasPrefix(f.Src, []byte("\t")) || bytes.Contains(f.Src, []byte("\n\t")) {
		return "\t"
	}
	return "    "
}

// blockIndent returns the indentation of directives directly in b.
func (b *Block) childIndent(near int) string {
	f := b.File
	if n := len(b.Directives); n > 0 {
		for _, i := range []int{near - 1, near, 0} {
			if i >= 0 && i < n {
				if ind, ok := f.indentOf(b.Directives[i].Start); ok {
					return ind
				}
			}
		}
	}
	if b.Parent == nil {
		return ""
	}
	pi, _ := f.indentOf(b.Parent.Start)
	return pi + f.indentUnit()
}

// Append adds a new directive at the end of the block; see Insert.
func (b *Block) Append(nd *Directive) (*Directive, error) { return b.Insert(len(b.Directives), nd) }

// Insert adds a new directive, built with NewDirective or
// NewBlockDirective, as the block's i-th directive and returns the parsed,
// live directive (nd itself stays detached). The text is made by Format
// with the indentation of the neighbouring directives (for an empty block,
// the parent's plus the file's indentation unit) and goes on its own
// line(s) when the neighbours have theirs, or inline, one space apart, in a
// one-line block. Every other byte of the file stays as it was.
func (b *Block) Insert(i int, nd *Directive) (*Directive, error) {
	f := b.File
	if f == nil {
		return nil, errDetached
	}
	if i < 0 || i > len(b.Directives) {
		return nil, fmt.Errorf("nginxconf: index %d out of range (block has %d directives)", i, len(b.Directives))
	}
	if b.Parent != nil && b.Close < 0 {
		return nil, fmt.Errorf("nginxconf: cannot insert into a block that is not closed (%s)", f.Path)
	}
	if err := checkNew(nd); err != nil {
		return nil, err
	}
	nl := f.newline()
	indent := b.childIndent(i)
	unit := f.indentUnit()
	var sb strings.Builder
	writeDirective(&sb, nd, indent, unit, nl)
	lined := sb.String()          // first line indented
	inline := lined[len(indent):] // no leading indent
	sep := " "                    // between an inline directive and the one before it
	if len(nd.Comments) > 0 {
		// A comment cannot share a line with what comes before it (it
		// would become that directive's line comment), so an inline
		// insertion with comments starts on a line of its own.
		inline, sep = nl+lined, ""
	}

	var at int
	var text string
	switch {
	case i < len(b.Directives):
		// Go above the comments that lead the directive now at i, from
		// the first one that starts its own line.
		t := b.Directives[i]
		first := t.Start
		for _, c := range t.Comments {
			if f.firstOnLine(c.Start) {
				first = c.Start
				break
			}
		}
		if f.firstOnLine(first) {
			at, text = f.lineStart(first), lined+nl
		} else {
			at, text = t.Start, inline+" "
		}
	case len(b.Directives) > 0:
		last := b.Directives[len(b.Directives)-1]
		end := last.End
		if last.LineComment != nil {
			end = last.LineComment.End
		}
		le := f.lineEnd(end)
		switch {
		case !isBlank(f.Src[end:le]):
			at, text = end, sep+inline
		case le == len(f.Src):
			at, text = len(f.Src), nl+lined
		default:
			at, text = le+1, lined+nl
		}
	case b.Parent == nil:
		at = len(f.Src)
		text = lined + nl
		if at > 0 && f.Src[at-1] != '\n' {
			text = nl + text
		}
	default:
		if f.firstOnLine(b.Close) {
			at, text = f.lineStart(b.Close), lined+nl
		} else {
			pi, _ := f.indentOf(b.Parent.Start)
			at, text = b.Close, nl+lined+nl+pi
		}
	}

	// Parse the new text on its own, then move its nodes into place.
	frag, err := Parse(f.Path, []byte(text))
	if err != nil || len(frag.Block.Directives) != 1 {
		return nil, fmt.Errorf("nginxconf: formatting %s gave text that does not parse: %v", nd.Name, err)
	}
	d := frag.Block.Directives[0]
	f.splice(at, at, text)
	frag.eachSpan(func(s, e *int) {
		if s != nil {
			*s += at
		}
		if e != nil {
			*e += at
		}
	})
	d.Parent = b
	adopt(d, f)
	// Comments now above the new directive (dangling ones, or ones that
	// led the directive it was put before) lead it instead.
	var lead []Comment
	take := func(cs *[]Comment) {
		for len(*cs) > 0 && (*cs)[0].Start < at {
			lead = append(lead, (*cs)[0])
			*cs = (*cs)[1:]
		}
	}
	if i < len(b.Directives) {
		take(&b.Directives[i].Comments)
	} else {
		take(&b.Comments)
	}
	d.Comments = append(lead, d.Comments...)
	b.Directives = slices.Insert(b.Directives, i, d)
	f.relocate()
	return d, nil
}

// adopt makes d and everything under it belong to f.
func adopt(d *Directive, f *File) {
	d.File = f
	if d.Block != nil {
		d.Block.File = f
		for _, c := range d.Block.Directives {
			c.Parent = d.Block
			adopt(c, f)
		}
	}
}

// runsIntoBrace reports whether text, written right before a "{", would
// join it: a bare word ending in "$" makes "${", which opens a ${name}
// variable and swallows the block ("listen 0{}" with its argument set to
// "$").
func runsIntoBrace(text string) bool { return strings.HasSuffix(text, "$") }
