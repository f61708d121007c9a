package nginxconf

import (
	"fmt"
	"unicode/utf8"
)

// maxToken is NGX_CONF_BUFFER: nginx reads a file through a buffer of this
// size, and a token that does not fit in it is an error.
const maxToken = 4096

// Lex splits src into tokens exactly as nginx 1.22's ngx_conf_read_token
// does. Concatenating the Raw text of the returned tokens gives src back.
//
// On a lexical error (a quoted word followed by something other than
// whitespace, ";", "{" or ")"; a token longer than 4096 bytes; end of input
// inside a word) Lex returns the tokens read so far, then a TokenError token
// holding the rest of the input, and a *Diagnostic whose File is empty.
// Errors that depend on statement structure (a ";" with no directive name, a
// "}" after words) are the parser's; see Parse.
func Lex(src []byte) ([]Token, error) {
	lx := &lexer{src: src, line: 1}
	err := lx.run()
	return lx.toks, err
}

type lexer struct {
	src       []byte
	toks      []Token
	line      int // line of the byte being read
	lineStart int // offset of the first byte of that line

	// The token being built: kind 0 when none.
	curKind            TokenKind
	curStart, curLine  int
	curCol             int
	curQuoted, curBare bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// begin starts a token of kind k at offset p, ending any whitespace token.
func (lx *lexer) begin(k TokenKind, p int) {
	if lx.curKind == k {
		return
	}
	if lx.curKind == TokenSpace {
		lx.emit(TokenSpace, lx.curStart, p, false)
	}
	lx.curKind = k
	lx.curStart = p
	lx.curLine = lx.line
	lx.curCol = utf8.RuneCount(lx.src[lx.lineStart:p]) + 1
}

// emit appends the current token with span [start, end).
func (lx *lexer) emit(k TokenKind, start, end int, quoted bool) {
	raw := string(lx.src[start:end])
	val := raw
	if k == TokenWord {
		if quoted {
			val = unescape(lx.src[start+1 : end-1])
		} else {
			val = unescape(lx.src[start:end])
		}
	}
	lx.toks = append(lx.toks, Token{
		Kind: k, Raw: raw, Value: val, Quoted: quoted,
		Start: start, End: end, Line: lx.curLine, Col: lx.curCol,
	})
	lx.curKind = 0
}

// single emits a one-byte token (';', '{', '}') at p.
func (lx *lexer) single(k TokenKind, p int) {
	lx.begin(k, p)
	lx.emit(k, p, p+1, false)
}

func (lx *lexer) fail(consumed, at, line int, format string, args ...any) error {
	// Whatever was being built, and everything after it, becomes one
	// error token so that no byte goes missing.
	from := consumed
	if lx.curKind != 0 {
		if lx.curKind == TokenSpace {
			lx.emit(TokenSpace, lx.curStart, consumed, false)
		} else {
			from = lx.curStart
		}
	}
	if from < len(lx.src) {
		lx.curKind = TokenError
		lx.curStart = from
		lx.curLine, lx.curCol = lx.position(from)
		lx.emit(TokenError, from, len(lx.src), false)
	}
	_, col := lx.position(at)
	return &Diagnostic{Msg: fmt.Sprintf(format, args...), Line: line, Col: col, Offset: at}
}

// position returns the line and rune column of offset p.
func (lx *lexer) position(p int) (line, col int) {
	line = 1
	ls := 0
	for i := 0; i < p && i < len(lx.src); i++ {
		if lx.src[i] == '\n' {
			line++
			ls = i + 1
		}
	}
	if p > len(lx.src) {
		p = len(lx.src)
	}
	return line, utf8.RuneCount(lx.src[ls:p]) + 1
}

// run is ngx_conf_read_token turned into one pass over the whole input. The
// state variables keep nginx's names; start is nginx's "start" (where the
// pending token began, as far as the 4096-byte buffer is concerned), which
// is what decides "too long parameter".
func (lx *lexer) run() error {
	src := lx.src
	var (
		needSpace, sharpComment, variable bool
		quoted, sQuoted, dQuoted          bool
		lastSpace                         = true
		start, startLine                  = 0, 1
	)
	pos := 0
	for {
		if pos > 0 && src[pos-1] == '\n' && lx.lineStart < pos {
			lx.line++
			lx.lineStart = pos
		}
		if pos >= len(src) {
			if !lastSpace {
				return lx.fail(pos, pos, lx.line, `unexpected end of file, expecting ";" or "}"`)
			}
			if lx.curKind != 0 {
				lx.emit(lx.curKind, lx.curStart, pos, false)
			}
			return nil
		}
		if pos-start >= maxToken {
			switch {
			case dQuoted:
				return lx.fail(pos, start, startLine, `too long parameter, probably missing terminating """ character`)
			case sQuoted:
				return lx.fail(pos, start, startLine, `too long parameter, probably missing terminating "'" character`)
			}
			return lx.fail(pos, start, startLine, `too long parameter "%s..." started`, src[start:start+10])
		}

		p := pos
		ch := src[pos]
		pos++
		chLine := lx.line
		if ch == '\n' {
			if sharpComment {
				sharpComment = false
				lx.emit(TokenComment, lx.curStart, p, false)
			}
		}
		if sharpComment {
			continue
		}
		if quoted {
			quoted = false
			continue
		}

		if needSpace {
			if isSpace(ch) {
				lastSpace = true
				needSpace = false
				lx.begin(TokenSpace, p)
				continue
			}
			switch ch {
			case ';':
				lx.single(TokenSemicolon, p)
				needSpace, lastSpace, variable = false, true, false
				start, startLine = pos, chLine
				continue
			case '{':
				lx.single(TokenBlockStart, p)
				needSpace, lastSpace, variable = false, true, false
				start, startLine = pos, chLine
				continue
			case ')':
				// Lets "if ($a = "b")" through; the ")" starts a
				// new word below.
				lastSpace = true
				needSpace = false
			default:
				return lx.fail(p, p, chLine, `unexpected "%s"`, src[p:p+1])
			}
		}

		if lastSpace {
			start, startLine = p, chLine
			if isSpace(ch) {
				lx.begin(TokenSpace, p)
				continue
			}
			switch ch {
			case ';':
				lx.single(TokenSemicolon, p)
				start = pos
				continue
			case '{':
				lx.single(TokenBlockStart, p)
				start = pos
				continue
			case '}':
				lx.single(TokenBlockEnd, p)
				start = pos
				continue
			case '#':
				sharpComment = true
				lx.begin(TokenComment, p)
				continue
			case '\\':
				quoted = true
			case '"':
				start++
				dQuoted = true
			case '\'':
				start++
				sQuoted = true
			case '$':
				variable = true
			}
			lastSpace = false
			lx.begin(TokenWord, p)
			continue
		}

		if ch == '{' && variable {
			continue
		}
		variable = false
		if ch == '\\' {
			quoted = true
			continue
		}
		if ch == '$' {
			variable = true
			continue
		}

		switch {
		case dQuoted:
			if ch == '"' {
				dQuoted = false
				needSpace = true
				lx.emit(TokenWord, lx.curStart, pos, true)
			}
		case sQuoted:
			if ch == '\'' {
				sQuoted = false
				needSpace = true
				lx.emit(TokenWord, lx.curStart, pos, true)
			}
		case isSpace(ch) || ch == ';' || ch == '{':
			lastSpace = true
			lx.emit(TokenWord, lx.curStart, p, false)
			switch ch {
			case ';':
				lx.single(TokenSemicolon, p)
				start, startLine = pos, chLine
			case '{':
				lx.single(TokenBlockStart, p)
				start, startLine = pos, chLine
			default:
				lx.begin(TokenSpace, p)
			}
		}
	}
}

// unescape resolves the escapes nginx resolves: \" \' \\ become the
// character, \t \r \n become control characters, and any other backslash is
// kept along with the character after it.
func unescape(b []byte) string {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			switch b[i+1] {
			case '"', '\'', '\\':
				out = append(out, b[i+1])
				i += 2
				continue
			case 't':
				out = append(out, '\t')
				i += 2
				continue
			case 'r':
				out = append(out, '\r')
				i += 2
				continue
			case 'n':
				out = append(out, '\n')
				i += 2
				continue
			}
		}
		out = append(out, c)
		i++
	}
	return string(out)
}
