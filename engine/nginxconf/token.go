package nginxconf

import "fmt"

// TokenKind says what a Token is.
type TokenKind uint8

const (
	// TokenSpace is a run of whitespace: ' ', '\t', '\r' and '\n'.
	TokenSpace TokenKind = iota + 1
	// TokenComment runs from '#' to the end of the line, line end excluded.
	TokenComment
	// TokenWord is a directive name or argument, bare or quoted.
	TokenWord
	// TokenSemicolon is the ';' that ends a simple directive.
	TokenSemicolon
	// TokenBlockStart is the '{' that opens a block.
	TokenBlockStart
	// TokenBlockEnd is the '}' that closes a block.
	TokenBlockEnd
	// TokenError holds the input from where lexing failed to its end, so
	// that a highlighter can still show every byte.
	TokenError
)

var tokenKindNames = [...]string{
	TokenSpace:      "space",
	TokenComment:    "comment",
	TokenWord:       "word",
	TokenSemicolon:  "semicolon",
	TokenBlockStart: "block start",
	TokenBlockEnd:   "block end",
	TokenError:      "error",
}

func (k TokenKind) String() string {
	if int(k) < len(tokenKindNames) && tokenKindNames[k] != "" {
		return tokenKindNames[k]
	}
	return fmt.Sprintf("TokenKind(%d)", uint8(k))
}

// Token is one lexical element of a config file. Start and End are byte
// offsets into the source ([Start, End)); Line and Col (1-based, Col counted
// in runes) locate Start.
type Token struct {
	Kind TokenKind
	// Raw is the source text of the token, quotes and escapes included.
	Raw string
	// Value is what nginx makes of a word: quotes removed and escapes
	// resolved. For other kinds it equals Raw.
	Value string
	// Quoted is set for a word written in single or double quotes; Raw[0]
	// says which.
	Quoted     bool
	Start, End int
	Line, Col  int
}
