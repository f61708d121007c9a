package detect

import "bytes"

// This file splits Python source into logical statements of tokens. It is
// not a Python parser: it knows just enough (strings of every kind,
// comments, brackets, line continuations, indentation, semicolons) that the
// patterns detection looks for are never fooled by a docstring or a comment
// that happens to contain "app = Flask(__name__)". It never fails: broken
// source gives fewer or odder statements, never an error or a panic.

type tokKind uint8

const (
	tName   tokKind = iota + 1 // identifiers and keywords
	tNumber                    // numeric literals
	tString                    // string literals; text is the content between the quotes
	tOp                        // operators and punctuation
)

type token struct {
	kind tokKind
	text string
	line int
}

// A stmt is one logical line: the tokens from its first physical line to
// the newline that ends it outside brackets.
type stmt struct {
	line   int     // 1-based line of the first token
	indent int     // columns of indentation (tabs to multiples of 8)
	toks   []token // never empty
	src    string  // the first physical line, trimmed, for evidence
}

func (s stmt) first() string { return s.toks[0].text }

// isHeader reports a compound statement's header line ("def f(x):",
// "if x:"), whose body follows on the next, more indented, lines.
func (s stmt) isHeader() bool {
	last := s.toks[len(s.toks)-1]
	if last.kind != tOp || last.text != ":" || s.toks[0].kind != tName {
		return false
	}
	switch s.toks[0].text {
	case "if", "elif", "else", "try", "except", "finally", "for", "while", "with", "def", "class", "async", "match", "case":
		return true
	}
	return false
}

// scanPython splits src into statements.
func scanPython(src []byte) []stmt {
	s := scanner{src: src, line: 1, atLineStart: true}
	s.run()
	return s.out
}

type scanner struct {
	src         []byte
	i           int
	line        int
	depth       int // bracket nesting; newlines inside brackets do not end a statement
	atLineStart bool
	indent      int // indentation of the physical line being read
	lineOff     int // offset where the current statement's first line starts
	cur         *stmt
	out         []stmt
}

func (s *scanner) run() {
	for s.i < len(s.src) {
		if s.atLineStart {
			s.measureIndent()
			continue
		}
		c := s.src[s.i]
		switch {
		case c == '\n':
			s.newline()
		case c == '\r':
			if s.i+1 < len(s.src) && s.src[s.i+1] == '\n' {
				s.i++
			}
			s.newline()
		case c == ' ' || c == '\t' || c == '\f':
			s.i++
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '\r' {
				s.i++
			}
		case c == '\\':
			s.i++
			if s.i < len(s.src) && s.src[s.i] == '\r' {
				s.i++
			}
			if s.i < len(s.src) && s.src[s.i] == '\n' {
				s.i++
				s.line++ // an explicit continuation: the statement goes on
			}
		case c == '"' || c == '\'':
			s.str()
		case isDigit(c) || (c == '.' && s.i+1 < len(s.src) && isDigit(s.src[s.i+1])):
			s.number()
		case isNameStart(c):
			s.name()
		case c == ';' && s.depth == 0:
			s.i++
			s.end()
		default:
			s.op()
		}
	}
	s.end()
}

func (s *scanner) measureIndent() {
	col := 0
	start := s.i
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ':
			col++
		case '\t':
			col = (col/8 + 1) * 8
		case '\f':
			col = 0
		default:
			goto done
		}
		s.i++
	}
done:
	s.atLineStart = false
	if s.cur == nil {
		s.indent = col
		s.lineOff = start
	}
}

func (s *scanner) newline() {
	s.i++
	s.line++
	if s.depth == 0 {
		s.end()
		s.atLineStart = true
	}
}

// end closes the current statement, if any.
func (s *scanner) end() {
	if s.cur == nil {
		return
	}
	rest := s.src[min(s.lineOff, len(s.src)):]
	if j := bytes.IndexAny(rest, "\r\n"); j >= 0 {
		rest = rest[:j]
	}
	s.cur.src = string(bytes.TrimSpace(rest))
	s.out = append(s.out, *s.cur)
	s.cur = nil
	s.depth = 0
	// A statement after ';' shares the line, and its indentation.
	s.lineOff = s.i
	for s.lineOff > 0 && s.src[s.lineOff-1] != '\n' && s.src[s.lineOff-1] != '\r' {
		s.lineOff--
	}
}

func (s *scanner) emit(kind tokKind, text string, line int) {
	if s.cur == nil {
		s.cur = &stmt{line: line, indent: s.indent}
	}
	s.cur.toks = append(s.cur.toks, token{kind: kind, text: text, line: line})
}

func (s *scanner) name() {
	start := s.i
	for s.i < len(s.src) && isNameChar(s.src[s.i]) {
		s.i++
	}
	word := s.src[start:s.i]
	if s.i < len(s.src) && (s.src[s.i] == '"' || s.src[s.i] == '\'') && isStringPrefix(word) {
		s.str()
		return
	}
	s.emit(tName, string(word), s.line)
}

// str reads a string literal whose opening quote is at s.i (after any
// prefix such as r or f).
func (s *scanner) str() {
	line := s.line
	q := s.src[s.i]
	triple := s.i+2 < len(s.src) && s.src[s.i+1] == q && s.src[s.i+2] == q
	if triple {
		s.i += 3
	} else {
		s.i++
	}
	body := s.i
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\\':
			s.i++
			if s.i < len(s.src) {
				if s.src[s.i] == '\n' {
					s.line++
				}
				s.i++
			}
			continue
		case c == '\n':
			if !triple {
				// Unterminated: stop at the end of the line, as Python's
				// tokenizer reports it, and let the newline end the statement.
				s.emit(tString, string(s.src[body:s.i]), line)
				return
			}
			s.line++
		case c == q && (!triple || (s.i+2 < len(s.src) && s.src[s.i+1] == q && s.src[s.i+2] == q)):
			s.emit(tString, string(s.src[body:s.i]), line)
			if triple {
				s.i += 3
			} else {
				s.i++
			}
			return
		}
		s.i++
	}
	s.emit(tString, string(s.src[body:]), line)
}

func (s *scanner) number() {
	start := s.i
	for s.i < len(s.src) {
		c := s.src[s.i]
		if isNameChar(c) || c == '.' {
			s.i++
			continue
		}
		// Exponent signs: 1e-5, 1E+3.
		if (c == '+' || c == '-') && (s.src[s.i-1] == 'e' || s.src[s.i-1] == 'E') && !bytes.HasPrefix(bytes.ToLower(s.src[start:s.i]), []byte("0x")) {
			s.i++
			continue
		}
		break
	}
	s.emit(tNumber, string(s.src[start:s.i]), s.line)
}

var ops3 = []string{"**=", "//=", ">>=", "<<=", "..."}
var ops2 = []string{"==", "!=", "<=", ">=", "**", "//", "->", ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "<<", ">>"}

func (s *scanner) op() {
	rest := s.src[s.i:]
	for _, group := range [][]string{ops3, ops2} {
		for _, o := range group {
			if bytes.HasPrefix(rest, []byte(o)) {
				s.i += len(o)
				s.emit(tOp, o, s.line)
				return
			}
		}
	}
	c := s.src[s.i]
	s.i++
	switch c {
	case '(', '[', '{':
		s.depth++
	case ')', ']', '}':
		if s.depth > 0 {
			s.depth--
		}
	}
	s.emit(tOp, string(c), s.line)
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isNameStart(c byte) bool { return c == '_' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isNameChar(c byte) bool  { return isNameStart(c) || isDigit(c) }

// isStringPrefix reports whether word may prefix a string literal: r, b,
// u, f, t and their two-letter combinations, in any case.
func isStringPrefix(word []byte) bool {
	if len(word) == 0 || len(word) > 2 {
		return false
	}
	w := string(bytes.ToLower(word))
	switch w {
	case "r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt":
		return true
	}
	return false
}
