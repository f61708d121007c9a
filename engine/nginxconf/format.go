package nginxconf

import (
	"fmt"
	"strings"
)

// QuoteWord renders a value as a word nginx reads back as exactly that
// value: bare when it can be, otherwise in double quotes (single quotes
// when the value holds a double quote and no single one), with backslashes
// doubled only where nginx would otherwise take them as an escape.
func QuoteWord(v string) string {
	if bareWord(v) {
		return v
	}
	q := byte('"')
	if strings.IndexByte(v, '"') >= 0 && strings.IndexByte(v, '\'') < 0 {
		q = '\''
	}
	var sb strings.Builder
	sb.Grow(len(v) + 2)
	sb.WriteByte(q)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == q:
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\\':
			// A backslash is kept by nginx unless the next character
			// makes an escape with it, or it would escape the closing
			// quote; only then is it doubled.
			if i+1 == len(v) || strings.IndexByte(`"'\tnr`, v[i+1]) >= 0 {
				sb.WriteString(`\\`)
			} else {
				sb.WriteByte('\\')
			}
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(q)
	return sb.String()
}

// bareWord reports whether v can be written unquoted: it must lex as one
// bare word with the same value, and hold no quote characters (legal in a
// bare word, but confusing to read).
func bareWord(v string) bool {
	if v == "" || strings.ContainsAny(v, "\"'") {
		return false
	}
	toks, err := Lex([]byte(v + ";"))
	return err == nil && len(toks) == 2 && toks[0].Kind == TokenWord && toks[0].Value == v && toks[0].Raw == v
}

// checkWord makes sure a value can be written at all: the quoted form must
// lex back to the value and fit nginx's 4096-byte token limit.
func checkWord(v string) error {
	w := QuoteWord(v)
	toks, err := Lex([]byte(w + ";"))
	if err != nil || len(toks) != 2 || toks[0].Kind != TokenWord || toks[0].Value != v {
		if err != nil {
			return fmt.Errorf("nginxconf: cannot write %q as an nginx word: %v", v, err)
		}
		return fmt.Errorf("nginxconf: cannot write %q as an nginx word", v)
	}
	return nil
}

// NewDirective returns a detached simple directive ("name args;") for
// Block.Insert.
func NewDirective(name string, args ...string) *Directive {
	d := &Directive{Name: name, NameWord: Arg{Value: name}}
	for _, a := range args {
		d.Args = append(d.Args, Arg{Value: a})
	}
	return d
}

// NewBlockDirective returns a detached block directive ("name args { body }")
// for Block.Insert.
func NewBlockDirective(name string, args []string, body ...*Directive) *Directive {
	d := NewDirective(name, args...)
	d.Block = &Block{Directives: body, Open: -1, Close: -1, Parent: d}
	return d
}

// WithComment adds comment lines above a new (detached) directive; each
// line gets a "# " unless it already starts with "#". It returns d. A
// directive that is already in a file is left alone: its comments are text
// in the file.
func (d *Directive) WithComment(lines ...string) *Directive {
	if d.File != nil {
		return d
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "#") {
			l = "# " + l
		}
		d.Comments = append(d.Comments, Comment{Text: l})
	}
	return d
}

// Format renders a directive built with NewDirective or NewBlockDirective,
// each line starting with indent, nested blocks indented one unit more,
// without a trailing newline. It is for new nodes only: parsed directives
// keep their own text, and Source gives it.
func Format(d *Directive, indent, unit string) string {
	var sb strings.Builder
	writeDirective(&sb, d, indent, unit, "\n")
	return sb.String()
}

func writeDirective(sb *strings.Builder, d *Directive, indent, unit, nl string) {
	for _, c := range d.Comments {
		sb.WriteString(indent)
		sb.WriteString(strings.ReplaceAll(c.Text, "\n", " "))
		sb.WriteString(nl)
	}
	sb.WriteString(indent)
	sb.WriteString(QuoteWord(d.Name))
	for _, a := range d.Args {
		sb.WriteByte(' ')
		sb.WriteString(QuoteWord(a.Value))
	}
	if d.Block == nil {
		sb.WriteByte(';')
		return
	}
	sb.WriteString(" {")
	for _, c := range d.Block.Directives {
		sb.WriteString(nl)
		writeDirective(sb, c, indent+unit, unit, nl)
	}
	sb.WriteString(nl)
	sb.WriteString(indent)
	sb.WriteByte('}')
}

// checkNew validates a detached directive before it is written.
func checkNew(d *Directive) error {
	if d == nil {
		return fmt.Errorf("nginxconf: nil directive")
	}
	if d.File != nil {
		return fmt.Errorf("nginxconf: directive %q is already in %s; build new ones with NewDirective", d.Name, d.File.Path)
	}
	if err := checkWord(d.Name); err != nil {
		return err
	}
	for _, a := range d.Args {
		if err := checkWord(a.Value); err != nil {
			return err
		}
	}
	if d.Block != nil {
		for _, c := range d.Block.Directives {
			if err := checkNew(c); err != nil {
				return err
			}
		}
	}
	return nil
}
