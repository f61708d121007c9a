package appserver

import (
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

func TestFromINI(t *testing.T) {
	ini, err := uwsgiini.Parse("/srv/app/uwsgi.ini", []byte(`[uwsgi]
plugins = python3
socket = /tmp/app.sock
http-socket = :8080
http = 127.0.0.1:9090
fastcgi-socket = 127.0.0.1:9000
chdir = /srv/app
module = mysite.wsgi:application
callable = app
home = /srv/venv
pythonpath = /srv/lib
pythonpath = /srv/more
env = A=1
env = B=2
processes = 4
threads = 2
enable-threads = true
listen = 64
buffer-size = 32k
post-buffering = 8192
vacuum = true
pidfile = /tmp/app.pid
static-map = /static=/srv/static
static-map = /media=/srv/media
logto = /tmp/app.log
disable-logging = true
need-app = true
lazy-apps = true
master = true
worker-reload-mercy = 5
socket-timeout = 10
harakiri = 30
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromINI(ini)
	if err != nil {
		t.Fatal(err)
	}
	wantSockets := []Socket{
		{Proto: ProtoUWSGI, Addr: "/tmp/app.sock", Option: "socket", Where: "/srv/app/uwsgi.ini:3"},
		{Proto: ProtoHTTP, Addr: ":8080", Option: "http-socket", Where: "/srv/app/uwsgi.ini:4"},
		{Proto: ProtoHTTP, Addr: "127.0.0.1:9090", Option: "http", Where: "/srv/app/uwsgi.ini:5"},
		{Proto: ProtoFastCGI, Addr: "127.0.0.1:9000", Option: "fastcgi-socket", Where: "/srv/app/uwsgi.ini:6"},
	}
	if len(c.Sockets) != len(wantSockets) {
		t.Fatalf("sockets %+v", c.Sockets)
	}
	for i := range wantSockets {
		if c.Sockets[i] != wantSockets[i] {
			t.Errorf("socket %d: %+v, want %+v", i, c.Sockets[i], wantSockets[i])
		}
	}
	checks := map[string]bool{
		"chdir":          c.Chdir == "/srv/app",
		"module":         c.Module == "mysite.wsgi:application",
		"callable":       c.Callable == "app",
		"home":           c.Home == "/srv/venv",
		"pythonpath":     strings.Join(c.PythonPath, ",") == "/srv/lib,/srv/more",
		"env":            strings.Join(c.Env, ",") == "A=1,B=2",
		"processes":      c.Processes == 4,
		"threads":        c.Threads == 2,
		"enable-threads": c.EnableThreads,
		"listen":         c.Listen == 64,
		"buffer-size":    c.BufferSize == 32768,
		"post-buffering": c.PostBuffering == 8192,
		"vacuum":         c.Vacuum,
		"pidfile":        c.Pidfile == "/tmp/app.pid",
		"static-map":     len(c.StaticMaps) == 2 && c.StaticMaps[1] == StaticMap{Mount: "/media", Dir: "/srv/media"},
		"logto":          c.LogTo == "/tmp/app.log",
		"disable-log":    c.DisableLogging,
		"need-app":       c.NeedApp,
		"lazy-apps":      c.LazyApps,
		"master":         c.Master,
		"mercy":          c.WorkerReloadMercy == 5*time.Second,
		"socket-timeout": c.SocketTimeout == 10*time.Second,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not read: %+v", name, c)
		}
	}
	pending := Pending(ini)
	if len(pending) != 1 || pending[0].Line != 32 || !strings.Contains(pending[0].String(), "harakiri is not supported") {
		t.Errorf("pending %v", pending)
	}
}

func TestFromINIErrors(t *testing.T) {
	cases := map[string]string{
		"static-map = /static\nwsgi-file = a.py\nhttp-socket = :1\n": "uwsgi.ini:2: static-map = /static: want /mountpoint=/directory",
		"buffer-size = 70000\nwsgi-file = a.py\n":                    "buffer-size",
		"processes = 0\nwsgi-file = a.py\n":                          "uwsgi.ini:2: processes: 0: want 1 or more",
		"env = NOEQUALS\nwsgi-file = a.py\n":                         "uwsgi.ini:2: env = NOEQUALS: want NAME=value",
		"http-socket = :1\n":                                         "no app configured",
		"threads = lots\nwsgi-file = a.py\n":                         "uwsgi.ini:2",
	}
	for body, want := range cases {
		ini, err := uwsgiini.Parse("uwsgi.ini", []byte("[uwsgi]\n"+body), "")
		if err == nil {
			_, err = FromINI(ini)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", body, err, want)
		}
	}
	// The uWSGI command line, as the headless command passes it.
	ini, err := uwsgiini.FromArgs([]string{"--http", ":9090", "--wsgi-file", "foobar.py", "--master", "--processes", "4", "--threads", "2"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromINI(ini)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sockets) != 1 || c.Sockets[0].Proto != ProtoHTTP || c.Sockets[0].Addr != ":9090" || c.WSGIFile != "foobar.py" || c.Processes != 4 || c.Threads != 2 {
		t.Errorf("from args: %+v", c)
	}
}

func TestRequestLogLineFormat(t *testing.T) {
	var out syncBuffer
	l := &logWriter{w: &out}
	start := time.Date(2026, 11, 22, 0, 54, 46, 0, time.UTC)
	l.request(&requestLog{
		pid: 12766, app: 0, appReqs: 1, totalReqs: 1, remoteAddr: "127.0.0.1",
		vars: 28, varsBytes: 303, start: start, method: "GET", uri: "/hello?x=1",
		bodyBytes: 11, duration: 400 * time.Microsecond, proto: "HTTP/1.1", status: 200,
		headers: 1, headerBytes: 44, switches: 1, core: 0,
	})
	l.flush()
	// The line from the shared reference, as real uWSGI 2.0.21 printed it.
	want := "[pid: 12766|app: 0|req: 1/1] 127.0.0.1 () {28 vars in 303 bytes} [Sun Nov 22 00:54:46 2026] GET /hello?x=1 => generated 11 bytes in 0 msecs (HTTP/1.1 200) 1 headers in 44 bytes (1 switches on core 0)\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	// Batched lines come out before the next master line, in order.
	l.request(&requestLog{pid: 1, app: -1, appReqs: -1, totalReqs: 2, start: start, method: "GET", uri: "/a", proto: "HTTP/1.0", status: 500})
	l.printf("goodbye to uWSGI.")
	if !strings.HasSuffix(out.String(), "(HTTP/1.0 500) 0 headers in 0 bytes (0 switches on core 0)\ngoodbye to uWSGI.\n") {
		t.Errorf("order: %q", out.String())
	}
}
