package nginxconf

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// dumpTree renders every node of a file with its offsets and positions, so
// that two trees can be compared as text.
func dumpTree(f *File) string {
	var sb strings.Builder
	var block func(b *Block, depth int)
	pad := func(depth int) string { return strings.Repeat("  ", depth) }
	comment := func(kind string, c Comment, depth int) {
		fmt.Fprintf(&sb, "%s%s %q [%d,%d) %d:%d\n", pad(depth), kind, c.Text, c.Start, c.End, c.Line, c.Col)
	}
	block = func(b *Block, depth int) {
		fmt.Fprintf(&sb, "%sblock open=%d close=%d\n", pad(depth), b.Open, b.Close)
		for _, d := range b.Directives {
			for _, c := range d.Comments {
				comment("comment", c, depth+1)
			}
			fmt.Fprintf(&sb, "%sdirective %q [%d,%d) %d:%d end-line %d\n", pad(depth+1), d.Name, d.Start, d.End, d.Line, d.Col, d.EndLine)
			for _, a := range append([]Arg{d.NameWord}, d.Args...) {
				fmt.Fprintf(&sb, "%sword %q raw %q quoted=%v [%d,%d) %d:%d\n", pad(depth+2), a.Value, a.Raw, a.Quoted, a.Start, a.End, a.Line, a.Col)
			}
			for _, c := range d.InnerComments {
				comment("inner", c, depth+2)
			}
			if d.LineComment != nil {
				comment("line-comment", *d.LineComment, depth+2)
			}
			if d.Block != nil {
				block(d.Block, depth+2)
			}
		}
		for _, c := range b.Comments {
			comment("dangling", c, depth+1)
		}
	}
	block(f.Block, 0)
	return sb.String()
}

// checkTree checks that a parsed (or edited) file's tree agrees with its
// bytes: every span holds the text the node says, positions are right,
// children lie inside their parents and in order, and parsing the bytes
// afresh gives the same tree.
func checkTree(t testing.TB, f *File) {
	t.Helper()
	src := f.Src
	pos := func(what string, off, line, col int) {
		if l, c := f.Position(off); l != line || c != col {
			t.Errorf("%s at %d: position %d:%d, want %d:%d", what, off, line, col, l, c)
		}
	}
	word := func(a Arg) {
		if a.Start < 0 || a.End > len(src) || a.Start >= a.End {
			t.Errorf("word %q: bad span [%d,%d)", a.Raw, a.Start, a.End)
			return
		}
		if got := string(src[a.Start:a.End]); got != a.Raw {
			t.Errorf("word at %d: raw %q, source holds %q", a.Start, a.Raw, got)
		}
		toks, err := Lex([]byte(a.Raw + ";"))
		if err != nil || toks[0].Value != a.Value || toks[0].Quoted != a.Quoted {
			t.Errorf("word %q: value %q does not lex from its raw text (%v)", a.Raw, a.Value, err)
		}
		pos("word "+a.Raw, a.Start, a.Line, a.Col)
	}
	comment := func(c Comment) {
		if got := string(src[c.Start:c.End]); got != c.Text || !strings.HasPrefix(got, "#") || strings.HasSuffix(got, "\r") {
			t.Errorf("comment at %d: text %q, source holds %q", c.Start, c.Text, got)
		}
		pos("comment", c.Start, c.Line, c.Col)
	}
	var block func(b *Block, lo, hi int)
	block = func(b *Block, lo, hi int) {
		prev := lo
		for _, d := range b.Directives {
			if d.File != f || d.Parent != b {
				t.Errorf("directive %q: wrong File or Parent", d.Name)
			}
			if d.Start < prev || d.End > hi || d.Start != d.NameWord.Start {
				t.Errorf("directive %q [%d,%d) outside [%d,%d) or before its sibling", d.Name, d.Start, d.End, prev, hi)
			}
			prev = d.End
			word(d.NameWord)
			pos("directive "+d.Name, d.Start, d.Line, d.Col)
			for _, a := range d.Args {
				word(a)
			}
			for _, c := range d.Comments {
				comment(c)
			}
			for _, c := range d.InnerComments {
				comment(c)
			}
			if d.LineComment != nil {
				comment(*d.LineComment)
			}
			if d.Block == nil {
				if src[d.End-1] != ';' {
					t.Errorf("directive %q does not end with ';'", d.Name)
				}
				if l, _ := f.Position(d.End - 1); l != d.EndLine {
					t.Errorf("directive %q: end line %d, want %d", d.Name, d.EndLine, l)
				}
				continue
			}
			if src[d.Block.Open] != '{' || d.Block.Parent != d || d.Block.File != f {
				t.Errorf("directive %q: block does not open at %d", d.Name, d.Block.Open)
			}
			if l, _ := f.Position(d.Block.Open); l != d.EndLine {
				t.Errorf("directive %q: end line %d, want %d", d.Name, d.EndLine, l)
			}
			if d.Block.Close >= 0 && (src[d.Block.Close] != '}' || d.End != d.Block.Close+1) {
				t.Errorf("directive %q: block does not close at %d", d.Name, d.Block.Close)
			}
			block(d.Block, d.Block.Open+1, d.End)
		}
		for _, c := range b.Comments {
			comment(c)
		}
	}
	block(f.Block, 0, len(src))

	again, err := Parse(f.Path, f.Bytes())
	if (err == nil) != (f.Err == nil) {
		t.Errorf("reparsing: error %v, the file had %v", err, f.Err)
	}
	if got, want := dumpTree(again), dumpTree(f); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		lo := max(0, i-3)
		t.Errorf("reparsing the bytes gives a different tree, from dump line %d\n--- tree\n%s\n--- reparsed\n%s\n--- source\n%q",
			i, strings.Join(wl[lo:min(len(wl), i+4)], "\n"), strings.Join(gl[lo:min(len(gl), i+4)], "\n"), f.Src)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
