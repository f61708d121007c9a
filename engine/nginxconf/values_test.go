package nginxconf

import (
	"testing"
	"time"
)

func TestParseValues(t *testing.T) {
	sizes := []struct {
		in     string
		size   int64 // -1: invalid
		offset int64
	}{
		{"0", 0, 0}, {"1024", 1024, 1024}, {"8k", 8192, 8192}, {"8K", 8192, 8192},
		{"10m", 10 << 20, 10 << 20}, {"1g", -1, 1 << 30}, {"10MB", -1, -1}, {"", -1, -1},
		{"k", -1, -1}, {"-1", -1, -1}, {" 1", -1, -1}, {"1.5m", -1, -1},
		{"9223372036854775807", 9223372036854775807, 9223372036854775807},
		{"9223372036854775808", -1, -1}, {"9007199254740992k", -1, -1},
	}
	for _, tt := range sizes {
		s, err := ParseSize(tt.in)
		if (err != nil) != (tt.size < 0) || err == nil && s != tt.size {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, s, err, tt.size)
		}
		o, err := ParseOffset(tt.in)
		if (err != nil) != (tt.offset < 0) || err == nil && o != tt.offset {
			t.Errorf("ParseOffset(%q) = %d, %v; want %d", tt.in, o, err, tt.offset)
		}
	}
	times := []struct {
		in      string
		ms, sec int64 // -1: invalid
	}{
		{"10", 10000, 10}, {"10s", 10000, 10}, {"500ms", 500, -1}, {"1m", 60000, 60},
		{"1h 30m", 5400000, 5400}, {"1h30m", 5400000, 5400}, {"1d", 86400000, 86400},
		{"1w", 604800000, 604800}, {"1M", -1, 2592000}, {"1y", -1, 31536000},
		{"1m1h", -1, -1}, {"1s 1", 2000, 2}, {"1 1s", -1, -1}, {"", -1, -1}, {"s", -1, -1}, {"1x", -1, -1},
		{"1s500ms", 1500, -1}, {"1 2", 3000, 3}, {"60s ", 60000, 60},
	}
	for _, tt := range times {
		ms, err := ParseTime(tt.in, false)
		if (err != nil) != (tt.ms < 0) || err == nil && ms != tt.ms {
			t.Errorf("ParseTime(%q, ms) = %d, %v; want %d", tt.in, ms, err, tt.ms)
		}
		sec, err := ParseTime(tt.in, true)
		if (err != nil) != (tt.sec < 0) || err == nil && sec != tt.sec {
			t.Errorf("ParseTime(%q, s) = %d, %v; want %d", tt.in, sec, err, tt.sec)
		}
	}
	if d, err := ParseDuration("1m 30s"); err != nil || d != 90*time.Second {
		t.Errorf("ParseDuration = %v, %v", d, err)
	}
	for in, want := range map[string]bool{"on": true, "ON": true, "Off": false} {
		if got, err := ParseFlag(in); err != nil || got != want {
			t.Errorf("ParseFlag(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFlag("yes"); err == nil {
		t.Error("ParseFlag(yes) succeeded")
	}
	if n, err := ParseNumber("768"); err != nil || n != 768 {
		t.Errorf("ParseNumber = %d, %v", n, err)
	}
}

func TestSplitLocation(t *testing.T) {
	tests := []struct {
		args []string
		kind LocationKind
		path string
		err  string
	}{
		{[]string{"/"}, LocationPrefix, "/", ""},
		{[]string{"=", "/"}, LocationExact, "/", ""},
		{[]string{"=/"}, LocationExact, "/", ""},
		{[]string{"^~", "/admin/"}, LocationPrefixNoRegex, "/admin/", ""},
		{[]string{"^~/admin/"}, LocationPrefixNoRegex, "/admin/", ""},
		{[]string{"~", `\.php$`}, LocationRegex, `\.php$`, ""},
		{[]string{`~\.php$`}, LocationRegex, `\.php$`, ""},
		{[]string{"~*", `\.jpg$`}, LocationRegexCaseless, `\.jpg$`, ""},
		{[]string{`~*\.jpg$`}, LocationRegexCaseless, `\.jpg$`, ""},
		{[]string{"@fallback"}, LocationNamed, "@fallback", ""},
		{[]string{"^"}, LocationPrefix, "^", ""},
		{[]string{"="}, LocationExact, "", ""},
		{[]string{""}, LocationPrefix, "", ""},
		{[]string{"=~", "/x"}, 0, "", `invalid location modifier "=~"`},
		{[]string{"/a", "/b"}, 0, "", `invalid location modifier "/a"`},
		{nil, 0, "", `invalid number of arguments in "location" directive`},
	}
	for _, tt := range tests {
		loc, err := SplitLocation(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("SplitLocation(%q): error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || loc.Kind != tt.kind || loc.Path != tt.path {
			t.Errorf("SplitLocation(%q) = %+v, %v; want %v %q", tt.args, loc, err, tt.kind, tt.path)
		}
	}
	if got := (Location{LocationRegexCaseless, `\.jpg$`}).String(); got != `~* \.jpg$` {
		t.Errorf("String() = %q", got)
	}
}

func TestQuoteWord(t *testing.T) {
	tests := map[string]string{
		"plain":       "plain",
		"":            `""`,
		"a b":         `"a b"`,
		"a;b":         `"a;b"`,
		"{":           `"{"`,
		"}":           `"}"`,
		"a}":          "a}",
		"#x":          `"#x"`,
		"a#b":         "a#b",
		"${host}":     "${host}",
		`\.php$`:      `\.php$`,
		`a\nb`:        `"a\\nb"`,
		"tab\there":   "\"tab\there\"",
		`say "hi"`:    `'say "hi"'`,
		`it's "x"`:    `"it's \"x\""`,
		`trailing\`:   `"trailing\\"`,
		"multi\nline": "\"multi\nline\"",
		"é":           "é",
	}
	for in, want := range tests {
		got := QuoteWord(in)
		if got != want {
			t.Errorf("QuoteWord(%q) = %q, want %q", in, got, want)
		}
		toks, err := Lex([]byte(got + ";"))
		if err != nil || toks[0].Value != in {
			t.Errorf("QuoteWord(%q) = %q does not lex back (%v)", in, got, err)
		}
	}
}

func TestArity(t *testing.T) {
	tests := []struct {
		a    Arity
		ok   []int
		bad  []int
		name string
	}{
		{Args0, []int{0}, []int{1}, "NOARGS"},
		{Args12, []int{1, 2}, []int{0, 3}, "TAKE12"},
		{Args0 | Args1, []int{0, 1}, []int{2}, "NOARGS|TAKE1"},
		{ArgsFlag, []int{1}, []int{0, 2}, "FLAG"},
		{Args1More, []int{1, 9}, []int{0}, "1MORE"},
		{Args2More, []int{2, 20}, []int{1}, "2MORE"},
		{ArgsAny, []int{0, 50}, nil, "ANY"},
		{Args1 | Args2 | Args3 | Args4 | Args5 | Args6 | Args7, []int{7}, []int{8}, "TAKE1234567"},
	}
	for _, tt := range tests {
		for _, n := range tt.ok {
			if !tt.a.Allows(n) {
				t.Errorf("%v should allow %d", tt.a, n)
			}
		}
		for _, n := range tt.bad {
			if tt.a.Allows(n) {
				t.Errorf("%v should not allow %d", tt.a, n)
			}
		}
		if tt.a.String() != tt.name {
			t.Errorf("String() = %q, want %q", tt.a, tt.name)
		}
	}
}

func TestLookup(t *testing.T) {
	srv := Lookup("server")
	if len(srv) != 2 || srv[0].Contexts != CtxHTTP || !srv[0].Block || srv[1].Contexts != CtxUpstream || srv[1].Block {
		t.Errorf("server: %+v", srv)
	}
	if l := Lookup("location"); len(l) != 1 || !l[0].Implemented || l[0].Args != Args12 {
		t.Errorf("location: %+v", l)
	}
	if s := Lookup("sendfile"); len(s) != 1 || s[0].Implemented || s[0].Value != ValueFlag {
		t.Errorf("sendfile: %+v", s)
	}
	if Lookup("http2") != nil || Lookup("stream") != nil {
		t.Error("directives nginx 1.22 does not know without load_module are known")
	}
	for name := range implemented {
		if Lookup(name) == nil {
			t.Errorf("implemented directive %q is not an nginx directive", name)
		}
	}
	// Everything Debian's default configuration uses is known.
	f, err := Parse("nginx.conf", mustRead(t, "testdata/debian/nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	f.Walk(func(d *Directive) bool {
		if Lookup(d.Name) == nil && d.Parent.Parent == nil || d.Parent.Parent != nil && d.Parent.Parent.Name != "types" && Lookup(d.Name) == nil {
			t.Errorf("%s is unknown", d.Name)
		}
		return true
	})
	if n := len(KnownDirectives()); n < 500 {
		t.Errorf("only %d known directives", n)
	}
	if got := (CtxHTTP | CtxServer | CtxIfInLocation).String(); got != "http, server, if in location" {
		t.Errorf("Context.String() = %q", got)
	}
}
