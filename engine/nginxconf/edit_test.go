package nginxconf

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// commonEnds returns the lengths of the longest common prefix and the
// longest common suffix of old and new, each taken on its own (they may
// overlap). new is old with old[a:b] replaced, for some a <= prefix and
// b >= len(old)-suffix.
func commonEnds(old, new []byte) (prefix, suffix int) {
	n := min(len(old), len(new))
	for prefix < n && old[prefix] == new[prefix] {
		prefix++
	}
	for suffix < n && old[len(old)-1-suffix] == new[len(new)-1-suffix] {
		suffix++
	}
	return prefix, suffix
}

func parseString(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("t.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func find(t *testing.T, f *File, name string, nth int) *Directive {
	t.Helper()
	var found *Directive
	i := 0
	f.Walk(func(d *Directive) bool {
		if d.Name == name {
			if i == nth && found == nil {
				found = d
			}
			i++
		}
		return true
	})
	if found == nil {
		t.Fatalf("no %s #%d", name, nth)
	}
	return found
}

func TestEditGolden(t *testing.T) {
	tests := []struct {
		name string
		src  string
		edit func(t *testing.T, f *File) error
		want string
	}{
		{"set arg", "server {\n\tlisten 80 default_server; # main\n}\n",
			func(t *testing.T, f *File) error { return find(t, f, "listen", 0).SetArg(0, "8080") },
			"server {\n\tlisten 8080 default_server; # main\n}\n"},
		{"set args keeps spacing", "listen   80   default_server;",
			func(t *testing.T, f *File) error { return find(t, f, "listen", 0).SetArgs("8080", "default_server") },
			"listen   8080   default_server;"},
		{"set args appends", "index index.html;\n",
			func(t *testing.T, f *File) error { return find(t, f, "index", 0).SetArgs("index.html", "index.htm") },
			"index index.html index.htm;\n"},
		{"set args cuts", "listen 80 # port\n  default_server ssl; # c\n",
			func(t *testing.T, f *File) error { return find(t, f, "listen", 0).SetArgs("80") },
			"listen 80; # c\n"},
		{"set args to none", "internal   ;",
			func(t *testing.T, f *File) error { return find(t, f, "internal", 0).SetArgs() },
			"internal   ;"},
		{"set args quotes", "add_header X a;",
			func(t *testing.T, f *File) error {
				return find(t, f, "add_header", 0).SetArgs("X-Msg", `it's "x"; {y}`, "")
			},
			`add_header X-Msg "it's \"x\"; {y}" "";`},
		{"set arg regex keeps backslashes", "location ~ \\.php$ {}",
			func(t *testing.T, f *File) error { return find(t, f, "location", 0).SetArg(1, `^/a\{2\}\.py$`) },
			"location ~ ^/a\\{2\\}\\.py$ {}"},
		{"set arg keeps a paren apart", `if ($a = "b") {}`,
			func(t *testing.T, f *File) error { return find(t, f, "if", 0).SetArg(2, "c") },
			`if ($a = c ) {}`},
		{"set name", "gzip  on;",
			func(t *testing.T, f *File) error { return find(t, f, "gzip", 0).SetName("gzip_static") },
			"gzip_static  on;"},
		{"remove line", "a;\n\tb 1; # about b\n\tc;\n",
			func(t *testing.T, f *File) error { return find(t, f, "b", 0).Remove() },
			"a;\n\tc;\n"},
		{"remove keeps comments above", "a;\n# about b\nb;\nc;\n",
			func(t *testing.T, f *File) error { return find(t, f, "b", 0).Remove() },
			"a;\n# about b\nc;\n"},
		{"remove inline", "location / { a; b; c; }\n",
			func(t *testing.T, f *File) error { return find(t, f, "b", 0).Remove() },
			"location / { a; c; }\n"},
		{"remove inline last", "x { a; b;}",
			func(t *testing.T, f *File) error { return find(t, f, "b", 0).Remove() },
			"x { a; }"},
		{"remove last line without newline", "a;\nb;",
			func(t *testing.T, f *File) error { return find(t, f, "b", 0).Remove() },
			"a;\n"},
		{"remove block", "server {\n    location / {\n        return 200;\n    }\n    listen 80;\n}\n",
			func(t *testing.T, f *File) error { return find(t, f, "location", 0).Remove() },
			"server {\n    listen 80;\n}\n"},
		{"append with tabs", "http {\n\tgzip on;\n\n\tinclude x;\n}\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "http", 0).Block.Append(NewDirective("server_tokens", "off"))
				return err
			},
			"http {\n\tgzip on;\n\n\tinclude x;\n\tserver_tokens off;\n}\n"},
		{"insert first", "server {\n    listen 80;\n}\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "server", 0).Block.Insert(0, NewDirective("server_name", "example.com", "www.example.com"))
				return err
			},
			"server {\n    server_name example.com www.example.com;\n    listen 80;\n}\n"},
		{"insert above comments", "server {\n  listen 80;\n  # the root\n  root /srv;\n}\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "server", 0).Block.Insert(1, NewDirective("index", "index.html"))
				return err
			},
			"server {\n  listen 80;\n  index index.html;\n  # the root\n  root /srv;\n}\n"},
		{"insert block with body", "http {\n  server {\n    listen 80;\n  }\n}\n",
			func(t *testing.T, f *File) error {
				loc := NewBlockDirective("location", []string{"/static/"},
					NewDirective("alias", "/srv/app/static/"),
					NewDirective("expires", "30d"))
				loc.WithComment("static files")
				_, err := find(t, f, "server", 0).Block.Append(loc)
				return err
			},
			"http {\n  server {\n    listen 80;\n    # static files\n    location /static/ {\n      alias /srv/app/static/;\n      expires 30d;\n    }\n  }\n}\n"},
		{"insert into empty block", "events {}\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "events", 0).Block.Append(NewDirective("worker_connections", "768"))
				return err
			},
			"events {\n    worker_connections 768;\n}\n"},
		{"insert into empty multi-line block", "http {\n\tserver {\n\t}\n}\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "server", 0).Block.Append(NewDirective("listen", "80"))
				return err
			},
			"http {\n\tserver {\n\t\tlisten 80;\n\t}\n}\n"},
		{"insert into one-liner", "location / { return 200; }\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "location", 0).Block.Append(NewDirective("add_header", "X-A", "b"))
				return err
			},
			"location / { return 200; add_header X-A b; }\n"},
		{"insert inline with a comment", "location / { return 200; }\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "location", 0).Block.Append(NewDirective("expires", "1h").WithComment("cache"))
				return err
			},
			"location / { return 200;\n    # cache\n    expires 1h; }\n"},
		{"insert inline before", "location / { return 200; }\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "location", 0).Block.Insert(0, NewDirective("internal"))
				return err
			},
			"location / { internal; return 200; }\n"},
		{"append at end of file without newline", "a;",
			func(t *testing.T, f *File) error {
				_, err := f.Block.Append(NewDirective("b"))
				return err
			},
			"a;\nb;"},
		{"append after a line comment", "a; # x\n# dangling\n",
			func(t *testing.T, f *File) error {
				_, err := f.Block.Append(NewDirective("b"))
				return err
			},
			"a; # x\nb;\n# dangling\n"},
		{"append to empty file", "",
			func(t *testing.T, f *File) error {
				_, err := f.Block.Append(NewBlockDirective("events", nil))
				return err
			},
			"events {\n}\n"},
		{"crlf", "server {\r\n  listen 80;\r\n}\r\n",
			func(t *testing.T, f *File) error {
				_, err := find(t, f, "server", 0).Block.Append(NewBlockDirective("location", []string{"/"}, NewDirective("return", "204")))
				return err
			},
			"server {\r\n  listen 80;\r\n  location / {\r\n    return 204;\r\n  }\r\n}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseString(t, tt.src)
			if err := tt.edit(t, f); err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
			checkTree(t, f)
		})
	}
}

func TestEditKeepsNodes(t *testing.T) {
	src, err := os.ReadFile("testdata/debian/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	f := parseString(t, string(src))
	gzip := find(t, f, "gzip", 0)
	access := find(t, f, "access_log", 0)
	before := gzip.Source()
	if err := access.SetArgs("/var/log/wsgideck/access.log", "combined"); err != nil {
		t.Fatal(err)
	}
	if _, err := find(t, f, "http", 0).Block.Insert(0, NewDirective("charset", "utf-8")); err != nil {
		t.Fatal(err)
	}
	if gzip.Source() != before || gzip.File != f {
		t.Errorf("a directive held across edits lost its place: %q", gzip.Source())
	}
	if l, _ := f.Position(gzip.Start); l != gzip.Line {
		t.Errorf("line %d, position says %d", gzip.Line, l)
	}
	if err := access.Remove(); err != nil {
		t.Fatal(err)
	}
	if access.File != nil || access.Remove() == nil {
		t.Error("a removed directive should be detached")
	}
	checkTree(t, f)
}

func TestEditRejects(t *testing.T) {
	f := parseString(t, "a { b; }\n")
	b := find(t, f, "b", 0)
	if err := b.SetArg(0, "x"); err == nil {
		t.Error("SetArg out of range succeeded")
	}
	if err := b.SetArgs(strings.Repeat("x", 5000)); err == nil {
		t.Error("a 5000-byte word was accepted")
	}
	if _, err := f.Block.Append(b); err == nil {
		t.Error("inserting a directive that is already in a file succeeded")
	}
	if err := NewDirective("x").SetArgs("y"); err == nil {
		t.Error("editing a detached directive succeeded")
	}
	if _, err := f.Block.Insert(5, NewDirective("x")); err == nil {
		t.Error("insert out of range succeeded")
	}
	g, _ := Parse("u.conf", []byte("a {\n b;\n"))
	if _, err := g.Block.Directives[0].Block.Append(NewDirective("c")); err == nil {
		t.Error("inserting into an unclosed block succeeded")
	}
	if string(f.Bytes()) != "a { b; }\n" {
		t.Errorf("a rejected edit changed the file: %q", f.Bytes())
	}
}

// TestRandomEdits applies random edits to the real-world configs and checks
// after each one that only the bytes the edit is about changed, and that the
// tree still agrees with the bytes.
func TestRandomEdits(t *testing.T) {
	seed := int64(1)
	if s := os.Getenv("NGINXCONF_EDIT_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewSource(seed))
	values := []string{"on", "off", "8080", "a b", `q"uote`, `back\slash`, "$host", "${x}y", "", "#x", "}", "tab\there", "é"}
	for _, p := range testdataFiles(t) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(p, src)
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 30; step++ {
			var all []*Directive
			f.Walk(func(d *Directive) bool { all = append(all, d); return true })
			old := f.Bytes()
			var lo, hi int // the part of old the edit may touch
			switch op := rng.Intn(4); {
			case op == 0 && len(all) > 0:
				d := all[rng.Intn(len(all))]
				if len(d.Args) == 0 {
					continue
				}
				i := rng.Intn(len(d.Args))
				lo, hi = d.Args[i].Start, d.Args[i].End
				if err := d.SetArg(i, values[rng.Intn(len(values))]); err != nil {
					t.Fatal(err)
				}
			case op == 1 && len(all) > 0:
				d := all[rng.Intn(len(all))]
				lo, hi = f.lineStart(d.Start), f.lineEnd(d.End)+1
				if err := d.Remove(); err != nil {
					t.Fatal(err)
				}
			case op == 2 && len(all) > 0:
				d := all[rng.Intn(len(all))]
				vals := d.Values()
				vals = append(vals, values[rng.Intn(len(values))])
				if len(vals) > 2 && rng.Intn(2) == 0 {
					vals = vals[:1]
				}
				lo, hi = d.NameWord.End, d.End
				if err := d.SetArgs(vals...); err != nil {
					t.Fatal(err)
				}
			default:
				b := f.Block
				var blocks []*Block
				for _, d := range all {
					if d.Block != nil && d.Block.Close >= 0 {
						blocks = append(blocks, d.Block)
					}
				}
				if len(blocks) > 0 && rng.Intn(3) > 0 {
					b = blocks[rng.Intn(len(blocks))]
				}
				nd := NewDirective("added", values[rng.Intn(len(values))])
				if rng.Intn(2) == 0 {
					nd = NewBlockDirective("added_block", nil, nd)
				}
				if rng.Intn(3) == 0 {
					nd.WithComment("added on step", "#second line")
				}
				if _, err := b.Insert(rng.Intn(len(b.Directives)+1), nd); err != nil {
					t.Fatal(err)
				}
				lo, hi = 0, 0 // a pure insertion: no old byte may change
			}
			got := f.Bytes()
			prefix, suffix := commonEnds(old, got)
			if hi == 0 && lo == 0 {
				if prefix+suffix < len(old) {
					t.Fatalf("%s step %d: an insertion changed old bytes", p, step)
				}
			} else if prefix < lo-1 || len(old)-suffix > hi+1 {
				t.Fatalf("%s step %d: bytes [%d,%d) changed, the edit was about [%d,%d)", p, step, prefix, len(old)-suffix, lo, hi)
			}
			checkTree(t, f)
			if t.Failed() {
				t.Fatalf("%s step %d", p, step)
			}
		}
	}
}

// A word ending in "$" written right before a "{" would make "${", which
// opens a ${name} variable and swallows the block: the edits keep a space
// there. (Found by FuzzNginxHelpers: "server{listen 0{}}" with listen set
// to "$".)
func TestEditKeepsDollarOffTheBrace(t *testing.T) {
	for _, c := range []struct {
		src  string
		edit func(d *Directive) error
	}{
		{"listen 0{}", func(d *Directive) error { return d.SetArg(0, "$") }},
		{"listen 0{}", func(d *Directive) error { return d.SetArgs("0", "$") }},
		{"listen a$ b{}", func(d *Directive) error { return d.SetArgs("a$") }},
	} {
		f, err := Parse("t.conf", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.edit(f.Block.Directives[0]); err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		g, err := Parse("t.conf", f.Bytes())
		if err != nil {
			t.Errorf("%q edited to %q, which does not parse: %v", c.src, f.Bytes(), err)
			continue
		}
		if d := g.Block.Directives[0]; d.Block == nil {
			t.Errorf("%q edited to %q: the block is gone", c.src, f.Bytes())
		}
	}
}
