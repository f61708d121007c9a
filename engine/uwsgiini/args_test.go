package uwsgiini

import (
	"errors"
	"strings"
	"testing"
)

func TestFromArgsForms(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"app.ini": "[uwsgi]\nprocesses = 2\nchdir = %d\n[dev]\nprocesses = 8\n",
	})
	l := testLoader(dir, nil)
	for _, tc := range []struct {
		name string
		args []string
		want string // "line raw=value" per option
	}{
		{"the uWSGI quickstart line",
			[]string{"--http", ":9090", "--wsgi-file", "foobar.py", "--master", "--processes", "4", "--threads", "2", "--stats", "127.0.0.1:9191"},
			"command line argument 1 http=:9090\ncommand line argument 3 wsgi-file=foobar.py\ncommand line argument 5 master=true\ncommand line argument 6 processes=4\ncommand line argument 8 threads=2\ncommand line argument 10 stats=127.0.0.1:9191\n"},
		{"key=value and values that look like options",
			[]string{"--socket=:3031", "--env", "--weird=1", "--log-format=%(addr) - %(uri)"},
			"command line argument 1 socket=:3031\ncommand line argument 2 env=--weird=1\ncommand line argument 4 log-format=%(addr) - %(uri)\n"},
		{"short flags, clustered and attached",
			[]string{"-M", "-p4", "-s", ":3031", "-TLw", "app:application", "-H/venv"},
			"command line argument 1 -M=true\ncommand line argument 2 -p=4\ncommand line argument 3 -s=:3031\ncommand line argument 5 -T=true\ncommand line argument 5 -L=true\ncommand line argument 5 -w=app:application\ncommand line argument 7 -H=/venv\n"},
		{"optional arguments take only attached values",
			[]string{"--http-keepalive", "--log-date=%Y", "-C", "-C660", "--chmod-socket=664"},
			"command line argument 1 http-keepalive=true\ncommand line argument 2 log-date=%Y\ncommand line argument 3 -C=true\ncommand line argument 4 -C=660\ncommand line argument 5 chmod-socket=664\n"},
		{"unique prefixes of long names",
			[]string{"--processe", "3", "--enable-thr"},
			"command line argument 1 processe=3\ncommand line argument 3 enable-thr=true\n"},
		{"--ini is read in place",
			[]string{"--processes", "1", "--ini", "app.ini", "--master"},
			"command line argument 1 processes=1\ncommand line argument 3 ini=app.ini\napp.ini:2 processes=2\napp.ini:3 chdir=" + dir + "/\ncommand line argument 5 master=true\n"},
		{"positional ini files are read after every option, as uWSGI does",
			[]string{"app.ini", "--processes", "4"},
			"command line argument 2 processes=4\napp.ini:2 processes=2\napp.ini:3 chdir=" + dir + "/\n"},
		{"positional file:section",
			[]string{"app.ini:dev"},
			"app.ini:5 processes=8\n"},
		{"-- ends the options",
			[]string{"--master", "--", "app.ini:dev"},
			"command line argument 1 master=true\napp.ini:5 processes=8\n"},
		{"set-placeholder and -S",
			[]string{"--set-ph", "x=1", "-S", "y=%(x)", "--env", "Y=%(y)"},
			"command line argument 1 set-ph=x=1\ncommand line argument 1 x=1\ncommand line argument 3 -S=y=%(x)\ncommand line argument 3 y=1\ncommand line argument 5 env=Y=1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := l.FromArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(c); got != tc.want {
				t.Errorf("got\n%swant\n%s", got, tc.want)
			}
		})
	}
}

func TestFromArgsSemantics(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.ini": "[uwsgi]\nprocesses = 2\nsocket = a\n"})
	c, err := testLoader(dir, nil).FromArgs([]string{"--ini", "app.ini", "--processes", "4", "--uwsgi-socket", "b", "-s", "c", "--workers", "6"})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Int("processes", 1); n != 6 {
		t.Errorf("processes = %d: later options override earlier ones", n)
	}
	if got := strings.Join(c.All("socket"), ","); got != "a,b,c" {
		t.Errorf("sockets = %s: list options add up", got)
	}
	if o, _ := c.Lookup("-p"); o.Key != "" {
		t.Errorf("short flags are not option names: %+v", o)
	}
	if c.Bool("master") {
		t.Errorf("master absent must be false")
	}
}

func TestFromArgsErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.ini": "[uwsgi]\n"})
	for _, tc := range []struct {
		args []string
		line int
		msg  string
	}{
		{[]string{"--master", "--proccesses", "4"}, 2, "did you mean --processes?"},
		{[]string{"--proc", "4"}, 1, "ambiguous"},
		{[]string{"--master=false"}, 1, "takes no value"},
		{[]string{"--socket"}, 1, "needs a value"},
		{[]string{"-p"}, 1, "needs a value"},
		{[]string{"-Mk"}, 1, "unknown option -k"},
		{[]string{"--master", "app.py"}, 2, "wsgideck reads .ini files only"},
		{[]string{"missing.ini"}, 1, "cannot read missing.ini"},
		{[]string{"--ini", "missing.ini"}, 1, "cannot read missing.ini"},
		{[]string{"--set-ph", "novalue"}, 1, "NAME=VALUE"},
		{[]string{"--strict", "--set-ph", "a=1", "--env", "%(a)", "app.ini"}, 0, ""},
	} {
		_, err := testLoader(dir, nil).FromArgs(tc.args)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.args, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Line != tc.line || e.File != "" || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%q: got %v, want %q at argument %d", tc.args, err, tc.msg, tc.line)
		}
	}
}
