package nginxconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTree(t *testing.T) {
	src := "# leading\nworker_processes 4;  # same line\n\nevents {\n    worker_connections 768; # c\n    # dangling\n}\nhttp { server { listen 80 # inner\n default_server; } } # after http\n"
	f, err := Parse("x.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, f)
	top := f.Block.Directives
	if len(top) != 3 {
		t.Fatalf("got %d top-level directives", len(top))
	}
	wp := top[0]
	if wp.Name != "worker_processes" || wp.Arg(0) != "4" || wp.Block != nil || wp.Line != 2 || wp.Col != 1 {
		t.Errorf("worker_processes parsed as %+v", wp)
	}
	if len(wp.Comments) != 1 || wp.Comments[0].Text != "# leading" {
		t.Errorf("leading comment: %+v", wp.Comments)
	}
	if wp.LineComment == nil || wp.LineComment.Text != "# same line" {
		t.Errorf("line comment: %+v", wp.LineComment)
	}
	ev := top[1]
	if ev.Block == nil || len(ev.Block.Directives) != 1 || ev.EndLine != 4 {
		t.Fatalf("events parsed as %+v", ev)
	}
	if wc := ev.Block.Directives[0]; wc.LineComment == nil || wc.LineComment.Text != "# c" {
		t.Errorf("worker_connections line comment: %+v", wc.LineComment)
	}
	if len(ev.Block.Comments) != 1 || ev.Block.Comments[0].Text != "# dangling" {
		t.Errorf("dangling comments: %+v", ev.Block.Comments)
	}
	listen := top[2].Block.Directives[0].Block.Directives[0]
	if listen.Name != "listen" || strings.Join(listen.Values(), ",") != "80,default_server" || listen.Line != 8 || listen.EndLine != 9 {
		t.Errorf("listen parsed as %+v", listen)
	}
	if len(listen.InnerComments) != 1 || listen.InnerComments[0].Text != "# inner" {
		t.Errorf("inner comments: %+v", listen.InnerComments)
	}
	if top[2].LineComment == nil || top[2].LineComment.Text != "# after http" {
		t.Errorf("http's line comment: %+v", top[2].LineComment)
	}
	if got := listen.Source(); got != "listen 80 # inner\n default_server;" {
		t.Errorf("Source() = %q", got)
	}
	if got := listen.String(); got != "listen 80 default_server;" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		msg  string
		line int
		// directives read before the error, depth first
		before string
	}{
		{";", `unexpected ";"`, 1, ""},
		{"a;\n{", `unexpected "{"`, 2, "a"},
		{"a;\n}", `unexpected "}"`, 2, "a"},
		{"a b }", `unexpected "}"`, 1, ""},
		{"a { b; c { d;\n", `unexpected end of file, expecting "}"`, 2, "a b c d"},
		{"a { b;\nc", `unexpected end of file, expecting ";" or "}"`, 2, "a b"},
		{"a;\nb \"x\"y;", `unexpected "y"`, 2, "a"},
		{"a { b; } \"", `unexpected end of file, expecting ";" or "}"`, 1, "a b"},
		{"a\n\n", `unexpected end of file, expecting ";" or "}"`, 3, ""},
	}
	for _, tt := range tests {
		f, err := Parse("t.conf", []byte(tt.src))
		d, ok := err.(*Diagnostic)
		if !ok {
			t.Errorf("Parse(%q): error %v, want a *Diagnostic", tt.src, err)
			continue
		}
		if d.Msg != tt.msg || d.Line != tt.line || d.File != "t.conf" || f.Err != d {
			t.Errorf("Parse(%q): %q at line %d, want %q at line %d", tt.src, d.Msg, d.Line, tt.msg, tt.line)
		}
		var names []string
		f.Walk(func(d *Directive) bool { names = append(names, d.Name); return true })
		if got := strings.Join(names, " "); got != tt.before {
			t.Errorf("Parse(%q): read %q before the error, want %q", tt.src, got, tt.before)
		}
		checkTree(t, f)
	}
}

// testdataFiles are the real-world configs: Debian's /etc/nginx, nginx's and
// uWSGI/Django/Flask/Gunicorn's documentation examples, and an edge-case file.
func testdataFiles(t *testing.T) []string {
	var files []string
	err := filepath.Walk("testdata", func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && !strings.Contains(p, "/fuzz/") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("only %d testdata files", len(files))
	}
	return files
}

func TestRoundTripTestdata(t *testing.T) {
	for _, p := range testdataFiles(t) {
		t.Run(p, func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(p, src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := f.Bytes(); string(got) != string(src) {
				t.Fatal("Bytes() differs from the input")
			}
			toks, _ := Lex(src)
			var sb strings.Builder
			for _, tk := range toks {
				sb.WriteString(tk.Raw)
			}
			if sb.String() != string(src) {
				t.Fatal("the tokens do not cover the input")
			}
			n := 0
			f.Walk(func(*Directive) bool { n++; return true })
			if n == 0 {
				t.Fatal("no directives")
			}
			checkTree(t, f)
		})
	}
}

// TestSystemConfig loads the installed Debian configuration itself.
func TestSystemConfig(t *testing.T) {
	cfg, err := Load("/etc/nginx/nginx.conf", nil)
	if err != nil {
		t.Fatalf("Load(/etc/nginx/nginx.conf): %v", err)
	}
	if len(cfg.Files) < 3 {
		t.Errorf("read %d files, want nginx.conf, mime.types and the default site", len(cfg.Files))
	}
	for _, f := range cfg.Files {
		src, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Bytes()) != string(src) {
			t.Errorf("%s: Bytes() differs from the file", f.Path)
		}
	}
	// Every warning is a known directive without effect.
	for _, d := range cfg.Diagnostics {
		if d.Severity != SeverityWarning || !strings.HasSuffix(d.Msg, "has no effect in wsgideck") {
			t.Errorf("unexpected diagnostic: %v", d)
		}
	}
	http := cfg.Main.Block.Get("http")
	if http == nil {
		t.Fatal("no http block")
	}
	if types := http.Block.Get("types"); types == nil || types.File.Path != "/etc/nginx/mime.types" {
		t.Errorf("types block from mime.types not found through the include: %+v", types)
	}
	if srv := http.Block.Get("server"); srv == nil || !strings.HasPrefix(srv.File.Path, "/etc/nginx/sites-enabled/") {
		t.Errorf("server from sites-enabled not found through the include")
	}
}
