package proxy

import (
	"regexp/syntax"
	"strconv"
	"strings"
)

// pcreError words an RE2 syntax error the way nginx words PCRE2's for the
// same mistake: `pcre2_compile() failed: REASON in "PAT" at "REST"`, where
// REST is the pattern from the error on (left out when the error is at
// the end). ok is false for patterns PCRE2 would accept and RE2 does not
// (look-arounds, backreferences, possessive quantifiers, ...), which need
// a message of their own.
func pcreError(pat string, e *syntax.Error) (msg string, ok bool) {
	at := func(off int) string {
		if off < 0 || off >= len(pat) {
			return ""
		}
		return ` at "` + pat[off:] + `"`
	}
	idx := func() int {
		if e.Expr == "" {
			return -1
		}
		return strings.Index(pat, e.Expr)
	}
	var reason string
	off := len(pat)
	switch e.Code {
	case syntax.ErrMissingParen:
		reason = "missing closing parenthesis"
	case syntax.ErrUnexpectedParen:
		reason = "unmatched closing parenthesis"
		off = unmatchedParen(pat)
	case syntax.ErrMissingBracket:
		reason = "missing terminating ] for character class"
	case syntax.ErrTrailingBackslash:
		reason = `\ at end of pattern`
	case syntax.ErrMissingRepeatArgument:
		reason = "quantifier does not follow a repeatable item"
		off = idx()
	case syntax.ErrInvalidRepeatOp:
		// "a**" is an error in PCRE too; "a++" and "a*+" are possessive
		if len(e.Expr) < 2 || e.Expr[1] != '*' {
			return "", false
		}
		reason = "quantifier does not follow a repeatable item"
		if i := idx(); i >= 0 {
			off = i + 1
		}
	case syntax.ErrInvalidRepeatSize:
		lo, hi, ok := repeatBounds(e.Expr)
		switch {
		case !ok:
			return "", false
		case lo > 65535 || hi > 65535:
			reason = "number too big in {} quantifier"
		case hi >= 0 && hi < lo:
			reason = "numbers out of order in {} quantifier"
		default:
			// PCRE2 allows counts up to 65535, RE2 up to 1000
			return "", false
		}
		if i := idx(); i >= 0 {
			off = i + len(e.Expr) - 1
		}
	case syntax.ErrInvalidCharRange:
		switch {
		case strings.HasPrefix(e.Expr, "[:"):
			reason = "unknown POSIX class name"
			if i := idx(); i >= 0 {
				off = i + 2
			}
		case len(e.Expr) >= 3 && strings.Contains(e.Expr[1:], "-"):
			reason = "range out of order in character class"
			if i := idx(); i >= 0 {
				off = i + strings.LastIndexByte(e.Expr, '-') + 1
			}
		default:
			return "", false
		}
	case syntax.ErrInvalidNamedCapture:
		// an unterminated name; RE2 also refuses names PCRE2 takes
		if !strings.HasSuffix(pat, e.Expr) || strings.Contains(e.Expr, ">") {
			return "", false
		}
		reason = "syntax error in subpattern name (missing terminator?)"
	default:
		return "", false
	}
	// quoted as nginx quotes: the bytes as they are, no escapes
	return `pcre2_compile() failed: ` + reason + ` in "` + pat + `"` + at(off), true
}

// unmatchedParen is the offset of the first ")" that closes nothing.
func unmatchedParen(pat string) int {
	depth := 0
	inClass := false
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return len(pat)
}

// repeatBounds reads "{m}", "{m,}" or "{m,n}"; hi is -1 for "{m,}".
func repeatBounds(s string) (lo, hi int, ok bool) {
	if len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' {
		return 0, 0, false
	}
	a, b, comma := strings.Cut(s[1:len(s)-1], ",")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	switch {
	case !comma:
		return lo, lo, true
	case b == "":
		return lo, -1, true
	}
	hi, err = strconv.Atoi(b)
	if err != nil {
		return 0, 0, false
	}
	return lo, hi, true
}
