package detect

import (
	"strings"
	"testing"
)

func stmtTexts(src string) []string {
	var out []string
	for _, s := range scanPython([]byte(src)) {
		var parts []string
		for _, t := range s.toks {
			if t.kind == tString {
				parts = append(parts, "'"+t.text+"'")
			} else {
				parts = append(parts, t.text)
			}
		}
		out = append(out, itoa(s.line)+"@"+itoa(s.indent)+": "+strings.Join(parts, " "))
	}
	return out
}

func TestScanPython(t *testing.T) {
	src := "\"\"\"Module doc: app = Flask(__name__)\n\"\"\"\n" + // 1-2
		"import os, sys  # app = Flask(x)\n" + // 3
		"x = (1,\n     2)\n" + // 4-5
		"y = 1 + \\\n    2; z = rb'\\'q'\n" + // 6-7
		"def f(a,\n      b=\"\"\"\n)\"\"\"):\n" + // 8-10
		"\tif a:\n" + // 11
		"\t\treturn f'{a!r}'\n" + // 12
		"s = 'unterminated\n" + // 13
		"w = 1.5e-3 ** 2\n" // 14
	got := stmtTexts(src)
	want := []string{
		"1@0: 'Module doc: app = Flask(__name__)\n'",
		"3@0: import os , sys",
		"4@0: x = ( 1 , 2 )",
		"6@0: y = 1 + 2",
		"7@0: z = '\\'q'",
		"8@0: def f ( a , b = '\n)' ) :",
		"11@8: if a :",
		"12@16: return 'a!r'",
		"13@0: s = 'unterminated'",
		"14@0: w = 1.5e-3 ** 2",
	}
	// The '{a!r}' f-string keeps its braces as text.
	want[7] = "12@16: return '{a!r}'"
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ss := scanPython([]byte(src))
	if ss[3].src != "y = 1 + \\" || ss[4].src != "y = 1 + \\" && ss[4].src != "2; z = rb'\\'q'" {
		t.Errorf("evidence text: %q, %q", ss[3].src, ss[4].src)
	}
}

func TestScanPythonCRLFAndEmpty(t *testing.T) {
	got := stmtTexts("a = 1\r\n\r\n  # c\r\nb = 2")
	if strings.Join(got, "|") != "1@0: a = 1|4@0: b = 2" {
		t.Errorf("got %q", got)
	}
	if len(scanPython(nil)) != 0 || len(scanPython([]byte("\n\n# only\n"))) != 0 {
		t.Error("empty source gave statements")
	}
}

// FuzzPythonSource feeds arbitrary text through the tokenizer and every
// rule that reads it: nothing may panic or loop, and statements are
// well-formed.
func FuzzPythonSource(f *testing.F) {
	for _, seed := range []string{
		"from flask import Flask\napp = Flask(__name__, static_folder='s')\n",
		"def create_app(a, *, b=1, **kw):\n    app = Flask(__name__)\n    return app\n",
		"import os\nBASE_DIR = Path(__file__).resolve().parent.parent\nSTATIC_ROOT = os.path.join(BASE_DIR, 'x')\n",
		"class A:\n    def __call__(self, environ, start_response):\n        pass\napplication = A()\n",
		"async def app(scope, receive, send):\n    pass\n",
		"x = '''\n", "f(((", ")))]]]", "a = b = c\n", "\\", "'\\", "from . import (a as b,)\n",
		"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x.settings')\n",
		"A = A / A / A / A / A\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		stmts := scanPython(src)
		for _, s := range stmts {
			if len(s.toks) == 0 || s.line < 1 || s.indent < 0 {
				t.Fatalf("bad statement %+v", s)
			}
		}
		ff := &fileFacts{path: "m.py", module: "m", stmts: stmts}
		analyze(ff)
		settingsModuleIn("m.py", stmts)
		vals := map[string]settingValue{}
		for _, s := range stmts {
			if targets, rhs := assignment(s.toks); len(targets) > 0 {
				vals[targets[0]] = settingValue{expr: rhs, file: "m.py"}
				env := &pathEnv{s: &search{root: "/p"}, vals: vals, projDir: "."}
				env.eval(rhs, "m.py", 0)
			}
		}
	})
}
