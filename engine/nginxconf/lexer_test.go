package nginxconf

import (
	"strings"
	"testing"
)

// words lexes src and returns the words' values and the kinds of the
// punctuation, as "value" or ";", "{", "}".
func lexSummary(t *testing.T, src string) ([]string, error) {
	t.Helper()
	toks, err := Lex([]byte(src))
	var out []string
	var raw strings.Builder
	for _, tk := range toks {
		raw.WriteString(tk.Raw)
		switch tk.Kind {
		case TokenWord:
			out = append(out, "w:"+tk.Value)
		case TokenSemicolon:
			out = append(out, ";")
		case TokenBlockStart:
			out = append(out, "{")
		case TokenBlockEnd:
			out = append(out, "}")
		case TokenComment:
			out = append(out, "c:"+tk.Raw)
		}
	}
	if raw.String() != src {
		t.Fatalf("tokens of %q concatenate to %q", src, raw.String())
	}
	return out, err
}

func TestLexRules(t *testing.T) {
	tests := []struct {
		rule string
		src  string
		want string // tokens joined by " | "
		err  string
	}{
		// Rule 1: whitespace is space, tab, CR, LF.
		{"whitespace", "a\tb\r\nc  d;", "w:a | w:b | w:c | w:d | ;", ""},
		{"formfeed is not whitespace", "a\fb;", "w:a\fb | ;", ""},
		// Rule 2: ; { } at token start; # starts a comment.
		{"semicolon", "a;b;", "w:a | ; | w:b | ;", ""},
		{"block", "a{b;}", "w:a | { | w:b | ; | }", ""},
		{"block end", "}}", "} | }", ""},
		{"comment", "# hi\na; # there", "c:# hi | w:a | ; | c:# there", ""},
		{"comment CRLF", "#x\r\na;", "c:#x\r | w:a | ;", ""},
		{"empty comment", "#\n", "c:#", ""},
		// Rule 3: inside a bare word only whitespace ; { end it.
		{"hash mid-word", "a#b;", "w:a#b | ;", ""},
		{"brace mid-word", "a}b;", "w:a}b | ;", ""},
		{"quotes mid-word", `a"b'c;`, `w:a"b'c | ;`, ""},
		{"word then brace", "a{", "w:a | {", ""},
		{"parens are word chars", "($a = b);", "w:($a | w:= | w:b) | ;", ""},
		// Rule 4: ${ does not end a bare word.
		{"variable brace", "a${b}c;", "w:a${b}c | ;", ""},
		{"variable brace at start", "${x};", "w:${x} | ;", ""},
		{"dollar then space brace", "a$ {", "w:a$ | {", ""},
		{"brace without dollar", "a{b", "w:a | {", `unexpected end of file, expecting ";" or "}"`},
		// Rule 5: quoted words and what may follow them.
		{"double quoted", `"a b";`, "w:a b | ;", ""},
		{"single quoted", `'a;b{c}';`, "w:a;b{c} | ;", ""},
		{"empty quoted", `"" '';`, "w: | w: | ;", ""},
		{"quoted then brace", `"a"{`, "w:a | {", ""},
		{"quoted then paren", `($a = "b") {`, "w:($a | w:= | w:b | w:) | {", ""},
		{"quoted then parens", `"b"));`, "w:b | w:)) | ;", ""},
		{"quoted then word", `"a"b;`, "w:a", `unexpected "b"`},
		{"quoted then quote", `"a""b";`, "w:a", `unexpected """`},
		{"quoted then hash", `"a"#c`, "w:a", `unexpected "#"`},
		{"quoted then close", `"a"}`, "w:a", `unexpected "}"`},
		{"quoted spans lines", "\"a\nb\";", "w:a\nb | ;", ""},
		{"hash in quotes", `"#x";`, "w:#x | ;", ""},
		{"dollar brace in quotes", `"${a}";`, "w:${a} | ;", ""},
		// Rule 6: escapes.
		{"escaped quote", `"a\"b";`, `w:a"b | ;`, ""},
		{"escaped single", `'a\'b';`, `w:a'b | ;`, ""},
		{"escaped backslash", `"a\\b";`, `w:a\b | ;`, ""},
		{"control escapes", `"\t\r\n";`, "w:\t\r\n | ;", ""},
		{"other escapes kept", `"\d\.\$";`, `w:\d\.\$ | ;`, ""},
		{"escapes in bare words", `a\"b\\c\nd\.e;`, "w:a\"b\\c\nd\\.e | ;", ""},
		{"escaped space in bare word", `a\ b;`, `w:a\ b | ;`, ""},
		{"escaped semicolon", `a\;b;`, `w:a\;b | ;`, ""},
		{"escaped brace", `^/a\{2\}$ {`, `w:^/a\{2\}$ | {`, ""},
		{"escaped quote at word start", `\"a;`, `w:"a | ;`, ""},
		// Rule 7: 4096-byte tokens.
		{"long word", strings.Repeat("a", 4095) + ";", "w:" + strings.Repeat("a", 4095) + " | ;", ""},
		{"too long word", strings.Repeat("a", 4096) + ";", "", `too long parameter "aaaaaaaaaa..." started`},
		{"word and space too long", strings.Repeat("a", 4095) + " b;", "w:" + strings.Repeat("a", 4095), `too long parameter "aaaaaaaaaa..." started`},
		{"long word at end", strings.Repeat("a", 4095) + " ", "w:" + strings.Repeat("a", 4095), ""},
		{"too long quoted", `"` + strings.Repeat("a", 4096) + `";`, "", `too long parameter, probably missing terminating """ character`},
		{"too long single", `'` + strings.Repeat("a", 4096) + `';`, "", `too long parameter, probably missing terminating "'" character`},
		{"long quoted", `"` + strings.Repeat("a", 4094) + `";`, "w:" + strings.Repeat("a", 4094) + " | ;", ""},
		{"too long comment", "#" + strings.Repeat("c", 4100) + "\na;", "", `too long parameter "#ccccccccc..." started`},
		{"long comment at end", "#" + strings.Repeat("c", 5000), "", `too long parameter "#ccccccccc..." started`},
		{"comment of 4096 at end", "#" + strings.Repeat("c", 4095), "c:#" + strings.Repeat("c", 4095), ""},
		// Rule 8: end of file inside a word.
		{"eof in word", "a", "", `unexpected end of file, expecting ";" or "}"`},
		{"eof in quotes", `a "b`, "w:a", `unexpected end of file, expecting ";" or "}"`},
		{"eof after escape", `a\`, "", `unexpected end of file, expecting ";" or "}"`},
		{"eof after quote", `"a"`, "w:a", `unexpected end of file, expecting ";" or "}"`},
		{"eof in comment", "a; #x", "w:a | ; | c:#x", ""},
		{"utf-8", "server_name café.example;", "w:server_name | w:café.example | ;", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := lexSummary(t, tt.src)
			g := strings.Join(got, " | ")
			if tt.want != "" || tt.err == "" {
				if g != tt.want {
					t.Errorf("Lex(%.40q) = %.200q, want %.200q", tt.src, g, tt.want)
				}
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Lex(%.40q): unexpected error %v", tt.src, err)
			case tt.err != "" && err == nil:
				t.Errorf("Lex(%.40q): no error, want %q", tt.src, tt.err)
			case tt.err != "" && err.(*Diagnostic).Msg != tt.err:
				t.Errorf("Lex(%.40q): error %q, want %q", tt.src, err.(*Diagnostic).Msg, tt.err)
			}
		})
	}
}

func TestLexPositions(t *testing.T) {
	src := "a  b;\n\tcafé \"d\ne\" f;\n# c\n}"
	toks, err := Lex([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		raw        string
		line, col  int
		start, end int
	}
	var got []pos
	for _, tk := range toks {
		if tk.Kind != TokenSpace {
			got = append(got, pos{tk.Raw, tk.Line, tk.Col, tk.Start, tk.End})
		}
	}
	want := []pos{
		{"a", 1, 1, 0, 1}, {"b", 1, 4, 3, 4}, {";", 1, 5, 4, 5},
		{"café", 2, 2, 7, 12}, {"\"d\ne\"", 2, 7, 13, 18}, {"f", 3, 4, 19, 20}, {";", 3, 5, 20, 21},
		{"# c", 4, 1, 22, 25}, {"}", 5, 1, 26, 27},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d tokens %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestLexErrorPosition(t *testing.T) {
	tests := []struct {
		src        string
		line, col  int
		errorToken string
	}{
		{"a;\nb \"c\"d;", 2, 6, `d;`},
		{"a;\n\n\"" + strings.Repeat("x", 5000) + "\";", 3, 2, "\"" + strings.Repeat("x", 5000) + "\";"},
		{"a;\n  b \"c\nd", 3, 2, "\"c\nd"},
	}
	for _, tt := range tests {
		toks, err := Lex([]byte(tt.src))
		d, ok := err.(*Diagnostic)
		if !ok {
			t.Fatalf("Lex(%.30q): error %v, want a *Diagnostic", tt.src, err)
		}
		if d.Line != tt.line || d.Col != tt.col {
			t.Errorf("Lex(%.30q): error at %d:%d, want %d:%d (%s)", tt.src, d.Line, d.Col, tt.line, tt.col, d.Msg)
		}
		last := toks[len(toks)-1]
		if tt.errorToken == "" {
			if last.Kind == TokenError {
				t.Errorf("Lex(%.30q): unexpected error token %q", tt.src, last.Raw)
			}
		} else if last.Kind != TokenError || last.Raw != tt.errorToken {
			t.Errorf("Lex(%.30q): last token %v %.30q, want error token %.30q", tt.src, last.Kind, last.Raw, tt.errorToken)
		}
	}
}
