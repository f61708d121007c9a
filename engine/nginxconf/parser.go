package nginxconf

import (
	"bytes"
	"strings"
)

// Parse parses one file without following includes. On a syntax error it
// returns the file with what was read before the error (and f.Err set) and
// the error, a *Diagnostic naming path and the line, worded as nginx words
// it.
func Parse(path string, src []byte) (*File, error) {
	f := &File{Path: path, Src: src}
	f.Block = &Block{Open: -1, Close: -1, File: f}
	toks, lexErr := Lex(src)
	p := &parser{f: f, toks: toks}
	if lexErr != nil {
		p.lexErr = lexErr.(*Diagnostic)
	}
	f.index()
	if d := p.block(f.Block, true); d != nil {
		d.File = path
		f.Err = d
		return f, d
	}
	return f, nil
}

type parser struct {
	f      *File
	toks   []Token
	i      int
	lexErr *Diagnostic
}

func argOf(t Token) Arg {
	return Arg{Value: t.Value, Raw: t.Raw, Quoted: t.Quoted, Start: t.Start, End: t.End, Line: t.Line, Col: t.Col}
}

// commentOf makes a Comment of a comment token. A "\r" before the line end
// belongs to the line end, not to the comment.
func commentOf(t Token) Comment {
	text := strings.TrimRight(t.Raw, "\r")
	return Comment{Text: text, Start: t.Start, End: t.Start + len(text), Line: t.Line, Col: t.Col}
}

func (p *parser) errAt(t Token, msg string) *Diagnostic {
	return &Diagnostic{Msg: msg, Line: t.Line, Col: t.Col, Offset: t.Start}
}

// block reads directives into b until its "}" (or the end of the file for
// the top level). It mirrors ngx_conf_parse: the statement-level errors are
// the ones ngx_conf_read_token and ngx_conf_parse report.
func (p *parser) block(b *Block, top bool) *Diagnostic {
	src := p.f.Src
	var (
		cur     *Directive // statement being read
		leading []Comment  // comments waiting for the next directive
	)
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		p.i++
		switch t.Kind {
		case TokenSpace:
		case TokenComment:
			c := commentOf(t)
			if cur != nil {
				cur.InnerComments = append(cur.InnerComments, c)
				continue
			}
			if n := len(b.Directives); n > 0 && len(leading) == 0 {
				last := b.Directives[n-1]
				if last.LineComment == nil && last.End <= t.Start &&
					!bytes.ContainsRune(src[last.End:t.Start], '\n') {
					last.LineComment = &c
					continue
				}
			}
			leading = append(leading, c)
		case TokenWord:
			if cur == nil {
				cur = &Directive{
					Name: t.Value, NameWord: argOf(t), File: p.f, Parent: b,
					Line: t.Line, Col: t.Col, Start: t.Start, Comments: leading,
				}
				leading = nil
				continue
			}
			cur.Args = append(cur.Args, argOf(t))
		case TokenSemicolon:
			if cur == nil {
				return p.errAt(t, `unexpected ";"`)
			}
			cur.End, cur.EndLine = t.End, t.Line
			b.Directives = append(b.Directives, cur)
			cur = nil
		case TokenBlockStart:
			if cur == nil {
				return p.errAt(t, `unexpected "{"`)
			}
			d := cur
			cur = nil
			d.EndLine = t.Line
			d.Block = &Block{Open: t.Start, Close: -1, Parent: d, File: p.f}
			b.Directives = append(b.Directives, d)
			err := p.block(d.Block, false)
			if d.Block.Close >= 0 {
				d.End = d.Block.Close + 1
			} else {
				d.End = len(src)
			}
			if err != nil {
				return err
			}
		case TokenBlockEnd:
			if cur != nil || top {
				return p.errAt(t, `unexpected "}"`)
			}
			b.Close = t.Start
			b.Comments = leading
			return nil
		case TokenError:
			return p.lexErr
		}
	}
	if p.lexErr != nil {
		return p.lexErr
	}
	b.Comments = leading
	eof := Token{Line: 1 + bytes.Count(src, []byte{'\n'}), Start: len(src)}
	eof.Col = len([]rune(string(src[bytes.LastIndexByte(src, '\n')+1:]))) + 1
	if cur != nil {
		return p.errAt(eof, `unexpected end of file, expecting ";" or "}"`)
	}
	if !top {
		return p.errAt(eof, `unexpected end of file, expecting "}"`)
	}
	return nil
}
