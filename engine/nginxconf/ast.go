package nginxconf

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File is one config file: its path, its bytes, and the tree parsed from
// them. Every node's offsets index Src. Edits change Src and the tree
// together.
type File struct {
	// Path is the file's name as nginx would print it in an error: the
	// main file's path, or the conf prefix joined with the include pattern.
	Path string
	// Src is the file's current content. Treat it as read-only; edit
	// through the editing methods so that the tree stays in step.
	Src []byte
	// Block is the file's top level. Its Open and Close are -1.
	Block *Block
	// Err is the syntax error that stopped parsing, or nil. When it is set,
	// Block holds what was read before the error.
	Err *Diagnostic

	lines []int // offsets of line starts, built lazily
}

// Bytes returns a copy of the file's content. For a file that was parsed and
// not edited it is the input, byte for byte.
func (f *File) Bytes() []byte { return append([]byte(nil), f.Src...) }

// Position returns the line and column (1-based, in runes) of a byte
// offset in Src.
func (f *File) Position(offset int) (line, col int) {
	if f.lines == nil {
		f.index()
	}
	offset = max(0, min(offset, len(f.Src)))
	i := sort.SearchInts(f.lines, offset+1) - 1
	return i + 1, utf8.RuneCount(f.Src[f.lines[i]:offset]) + 1
}

// index records where the lines start. Parse and every edit call it, so
// that Position only reads and a file that is not being edited can be read
// from several goroutines.
func (f *File) index() {
	f.lines = []int{0}
	for i, c := range f.Src {
		if c == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
}

// Walk calls fn for every directive in the file, parents before children,
// in source order, without following includes. fn returns false to skip a
// directive's block.
func (f *File) Walk(fn func(d *Directive) bool) { f.Block.walk(fn) }

func (b *Block) walk(fn func(d *Directive) bool) {
	for _, d := range b.Directives {
		if fn(d) && d.Block != nil {
			d.Block.walk(fn)
		}
	}
}

// Block is the body of a block directive, or a file's top level.
type Block struct {
	// Directives are the block's own directives in source order. An
	// include directive appears here as itself; see Expand.
	Directives []*Directive
	// Comments are the comments after the last directive, before the
	// closing brace (or the end of the file).
	Comments []Comment
	// Open and Close are the offsets of the braces; both are -1 for a
	// file's top level, and Close is -1 when the file ended first.
	Open, Close int
	// Parent is the directive that owns the block; nil at the top level.
	Parent *Directive
	// File is the file the block was read from.
	File *File
}

// Expand returns the block's directives with every include directive
// replaced by the directives of the files it includes, recursively, in the
// order nginx reads them. This is the block as nginx sees it.
func (b *Block) Expand() []*Directive {
	var out []*Directive
	b.expand(&out, 0)
	return out
}

// maxIncludeDepth stops expansion of include chains that edits could have
// made circular after loading.
const maxIncludeDepth = 64

func (b *Block) expand(out *[]*Directive, depth int) {
	for _, d := range b.Directives {
		if d.IsInclude() && depth < maxIncludeDepth {
			for _, f := range d.Included {
				f.Block.expand(out, depth+1)
			}
			continue
		}
		*out = append(*out, d)
	}
}

// Find returns the directives called name in the expanded block.
func (b *Block) Find(name string) []*Directive {
	var out []*Directive
	for _, d := range b.Expand() {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// Get returns the first directive called name in the expanded block, or nil.
func (b *Block) Get(name string) *Directive {
	for _, d := range b.Expand() {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Directive is one statement: a name, arguments, and a block when it was
// written with braces. For map, types, geo, split_clients and charset_map
// bodies each entry is a Directive too, Name being its first word.
type Directive struct {
	// Name is the first word's value (quotes removed, escapes resolved).
	Name string
	// NameWord is the first word as written.
	NameWord Arg
	// Args are the words after the name.
	Args []Arg
	// Block is the body; nil for a directive that ended with ";".
	Block *Block

	// File is the file the directive was read from and Parent the block
	// that holds it.
	File   *File
	Parent *Block

	// Line and Col locate the name. EndLine is the line of the ";" or "{"
	// that ended the directive: nginx has read that far when it checks a
	// directive, so that is the line its messages carry.
	Line, Col int
	EndLine   int
	// Start is the offset of the name; End is just past the ";" or "}"
	// (the end of the file if the block was never closed).
	Start, End int

	// Comments are the comments between the previous directive (or the
	// start of the block) and this one, other than a same-line comment of
	// the previous directive.
	Comments []Comment
	// LineComment is a comment on the same line, after the ";" or "}".
	LineComment *Comment
	// InnerComments are comments between the directive's own words.
	InnerComments []Comment

	// Included holds, for an include directive, the files its pattern
	// matched in the order nginx reads them. It is nil otherwise, and for
	// an include that failed (see IncludeErr).
	Included []*File
	// IncludeErr is why an include directive could not be followed: the
	// file could not be read, or including it would recurse.
	IncludeErr *Diagnostic
}

// IsInclude reports whether d is an include directive that Load follows: the
// name include, one argument, no block.
func (d *Directive) IsInclude() bool {
	return d.Name == "include" && len(d.Args) == 1 && d.Block == nil
}

// Values returns the argument values.
func (d *Directive) Values() []string {
	out := make([]string, len(d.Args))
	for i, a := range d.Args {
		out[i] = a.Value
	}
	return out
}

// Arg returns the value of argument i, or "" if there is none.
func (d *Directive) Arg(i int) string {
	if i < 0 || i >= len(d.Args) {
		return ""
	}
	return d.Args[i].Value
}

// Source returns the directive's text as written, from its name to its ";"
// or "}".
func (d *Directive) Source() string { return string(d.File.Src[d.Start:d.End]) }

// Where returns "FILE:LINE" for the directive, in nginx's form.
func (d *Directive) Where() string { return d.File.Path + ":" + strconv.Itoa(d.EndLine) }

// Errorf returns an error about the directive in nginx's form, "MSG in
// FILE:LINE", for callers that check values further (the proxy reading a
// listen address, say).
func (d *Directive) Errorf(format string, args ...any) *Diagnostic {
	diag := &Diagnostic{Msg: fmt.Sprintf(format, args...), Line: d.EndLine, Col: d.Col, Offset: d.Start, Directive: d}
	if d.File != nil {
		diag.File = d.File.Path
	}
	return diag
}

// String renders the directive's head in a canonical form, for messages and
// debugging: name and arguments, quoted where needed, then " {...}" or ";".
func (d *Directive) String() string {
	var sb strings.Builder
	sb.WriteString(QuoteWord(d.Name))
	for _, a := range d.Args {
		sb.WriteByte(' ')
		sb.WriteString(QuoteWord(a.Value))
	}
	if d.Block != nil {
		sb.WriteString(" {...}")
	} else {
		sb.WriteByte(';')
	}
	return sb.String()
}

// Arg is one word of a directive.
type Arg struct {
	// Value is what nginx sees: quotes removed, escapes resolved.
	Value string
	// Raw is the word as written, quotes included.
	Raw string
	// Quoted is set when the word was written in quotes.
	Quoted bool
	// Start and End are the word's offsets in File.Src; Line and Col
	// (1-based, in runes) locate Start.
	Start, End int
	Line, Col  int
}

// Comment is a "#" comment.
type Comment struct {
	// Text runs from the "#" to the end of the line, the line end (and a
	// "\r" before it) excluded. Start and End delimit Text in File.Src.
	Text       string
	Start, End int
	Line, Col  int
}

// Config is a main file and every file it includes.
type Config struct {
	// Main is the file Load was given; Files holds it first, then every
	// included file in the order they were first included.
	Main  *File
	Files []*File
	// Prefix is the conf prefix relative includes are resolved against,
	// with a trailing slash.
	Prefix string
	// Context is the context Main's top level is read in (CtxMain for an
	// nginx.conf).
	Context Context
	// Diagnostics holds the result of the last Check.
	Diagnostics Diagnostics

	opts   Options
	byPath map[string]*File
	prev   map[string]*File // the files loaded before a Reload
}

// File returns the loaded file with the given path, or nil.
func (c *Config) File(path string) *File { return c.byPath[path] }
