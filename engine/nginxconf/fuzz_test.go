package nginxconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	seeds := []string{
		"", ";", "{", "}", "a", "a;", "a{}", "a{b;}", "a \"b\" 'c';", `a "b"c;`, `($a = "b");`,
		"a${b}c;", "a#b;", "# c\na;", "a\\", `"\t\r\n\\\"\'\d"`, "a { b; } }", "\xff\xfe;", "a;\r\nb;",
		"location ~ ^/a\\{2\\}$ { return 204; }", "map $a $b { default 1; ~x 2; }",
		strings.Repeat("a", 4100) + ";", "\"" + strings.Repeat("b", 4100),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("testdata/*/*")
	more, _ := filepath.Glob("testdata/*.conf")
	for _, p := range append(files, more...) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8000 {
			f.Add(b)
		}
	}
}

func FuzzLex(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		toks, err := Lex(src)
		var sb strings.Builder
		end := 0
		for i, tk := range toks {
			if tk.Start != end || tk.End < tk.Start || string(src[tk.Start:tk.End]) != tk.Raw {
				t.Fatalf("token %d %+v does not continue at %d", i, tk, end)
			}
			if tk.Kind == TokenError && i != len(toks)-1 {
				t.Fatalf("an error token is not last")
			}
			end = tk.End
			sb.WriteString(tk.Raw)
		}
		if sb.String() != string(src) {
			t.Fatalf("tokens cover %q of %q", sb.String(), src)
		}
		if err != nil {
			if _, ok := err.(*Diagnostic); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		for _, tk := range toks {
			if tk.Kind == TokenWord && !tk.Quoted && strings.ContainsAny(tk.Raw[:1], "\"';{}#") {
				t.Fatalf("bare word %q starts with a special character", tk.Raw)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz.conf", src)
		if file == nil {
			t.Fatal("Parse returned no file")
		}
		if err == nil && string(file.Bytes()) != string(src) {
			t.Fatal("Bytes() of an unmodified parse differs from the input")
		}
		// Parse(Bytes(Parse(x))) gives the same tree, node for node.
		checkTree(t, file)
		// The checker takes anything the parser gives it.
		for _, ctx := range []Context{CtxMain, CtxHTTP, CtxLocation, CtxMap} {
			ds := CheckFile(file, ctx)
			if err != nil && ds.Err() == nil {
				t.Fatalf("the syntax error %v is missing from Check's result", err)
			}
		}
	})
}

// FuzzEdit applies edits chosen by the fuzzer to a parsed file and checks
// that the tree still agrees with the bytes after each one.
func FuzzEdit(f *testing.F) {
	f.Add([]byte("a { b 1; c; }\nd 2;\n"), []byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte("server {\n\tlisten 80; # x\n\tlocation / { return 200; }\n}\n"), []byte{3, 7, 11, 2, 0})
	f.Add([]byte("# only a comment"), []byte{3, 3})
	values := []string{"x", "a b", "", `"`, "}", "#", `\`, "${v}", "\n"}
	f.Fuzz(func(t *testing.T, src, ops []byte) {
		file, err := Parse("fuzz.conf", src)
		if err != nil || len(ops) > 16 {
			return
		}
		for i, op := range ops {
			var all []*Directive
			var blocks []*Block
			file.Walk(func(d *Directive) bool {
				all = append(all, d)
				if d.Block != nil {
					blocks = append(blocks, d.Block)
				}
				return true
			})
			v := values[int(op)%len(values)]
			switch op % 5 {
			case 0, 1:
				if len(all) > 0 {
					d := all[int(op)/5%len(all)]
					if len(d.Args) > 0 {
						_ = d.SetArg(int(op)%len(d.Args), v)
					} else {
						_ = d.SetArgs(v)
					}
				}
			case 2:
				if len(all) > 0 {
					_ = all[int(op)/5%len(all)].Remove()
				}
			case 3:
				b := file.Block
				if len(blocks) > 0 && op&8 != 0 {
					b = blocks[int(op)/16%len(blocks)]
				}
				nd := NewDirective("n", v)
				if op&16 != 0 {
					nd = NewBlockDirective("nb", []string{v}, nd)
				}
				if op&32 != 0 {
					nd.WithComment("c")
				}
				_, _ = b.Insert(int(op)/64%(len(b.Directives)+1), nd)
			case 4:
				if len(all) > 0 {
					_ = all[int(op)/5%len(all)].SetName("m" + v)
				}
			}
			checkTree(t, file)
			if t.Failed() {
				t.Fatalf("after op %d (%d)", i, op)
			}
		}
	})
}
