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
buffer-size = 32768
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
mount = /app=app.py
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
		"harakiri":       c.Harakiri == 30*time.Second,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not read: %+v", name, c)
		}
	}
	if pending := Pending(ini); len(pending) != 0 {
		t.Errorf("pending %v", pending)
	}
	if len(c.Mounts) != 1 || c.Mounts[0] != (Mount{Mountpoint: "/app", App: "app.py"}) {
		t.Errorf("mount: %+v", c.Mounts)
	}
}

func TestFromINISupervision(t *testing.T) {
	ini, err := uwsgiini.Parse("/srv/app/uwsgi.ini", []byte(`[uwsgi]
http-socket = :8080
wsgi-file = app.py
processes = 8
harakiri = 20
max-requests = 1000
max-requests-delta = 10
min-worker-lifetime = 0
max-worker-lifetime = 3600
reload-on-rss = 512
reload-on-as = 1024
evil-reload-on-rss = 768
evil-reload-on-as = 2048
limit-as = 4096
memory-report = true
touch-reload = /srv/app/reload
touch-reload = /srv/app/reload2
touch-chain-reload = /srv/app/chain
touch-workers-reload = /srv/app/workers
fs-reload = /srv/app/conf
py-autoreload = 2
master-fifo = /tmp/fifo0
master-fifo = /tmp/fifo1
cheaper = 2
cheaper-initial = 4
cheaper-step = 2
cheaper-overload = 5
check-interval = 2
stats = 127.0.0.1:9191
stats-http = true
stats-minified = true
stats-no-cores = true
pidfile2 = /tmp/app2.pid
import = app.signals
import = app.tasks
limit-post = 10485760
static-map2 = /media=/srv
static-index = index.html
log-format = %(addr) %(uri) %(status)
mount = /blog=blog.py
manage-script-name = true
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromINI(ini)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"harakiri":             c.Harakiri == 20*time.Second,
		"max-requests":         c.MaxRequests == 1000 && c.MaxRequestsDelta == 10,
		"min-worker-lifetime":  c.MinWorkerLifetime == NoMinWorkerLifetime && c.minLifetime() == 0,
		"max-worker-lifetime":  c.MaxWorkerLifetime == time.Hour,
		"reload-on":            c.ReloadOnRSS == 512<<20 && c.ReloadOnAS == 1024<<20,
		"evil":                 c.EvilReloadOnRSS == 768<<20 && c.EvilReloadOnAS == 2048<<20,
		"limit-as":             c.LimitAS == 4096<<20,
		"memory-report":        c.MemoryReport,
		"touch-reload":         strings.Join(c.TouchReload, ",") == "/srv/app/reload,/srv/app/reload2",
		"touch-chain-reload":   strings.Join(c.TouchChainReload, ",") == "/srv/app/chain",
		"touch-workers-reload": strings.Join(c.TouchWorkersReload, ",") == "/srv/app/workers",
		"fs-reload":            strings.Join(c.FSReload, ",") == "/srv/app/conf",
		"py-autoreload":        c.PyAutoreload == 2*time.Second,
		"master-fifo":          strings.Join(c.MasterFIFO, ",") == "/tmp/fifo0,/tmp/fifo1",
		"cheaper":              c.Cheaper == 2 && c.CheaperInitial == 4 && c.CheaperStep == 2 && c.CheaperOverload == 5,
		"check-interval":       c.CheckInterval == 2*time.Second,
		"stats":                c.Stats == "127.0.0.1:9191" && c.StatsHTTP && c.StatsMinified && c.StatsNoCores,
		"pidfile2":             c.Pidfile2 == "/tmp/app2.pid",
		"import":               strings.Join(c.Imports, ",") == "app.signals,app.tasks",
		"limit-post":           c.LimitPost == 10<<20,
		"static-map2":          len(c.StaticMaps) == 1 && c.StaticMaps[0] == StaticMap{Mount: "/media", Dir: "/srv", Full: true},
		"static-index":         strings.Join(c.StaticIndex, ",") == "index.html",
		"log-format":           c.LogFormat == "%(addr) %(uri) %(status)",
		"mount":                len(c.Mounts) == 1 && c.Mounts[0] == Mount{Mountpoint: "/blog", App: "blog.py"} && c.ManageScriptName,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not read: %+v", name, c)
		}
	}
	if p := Pending(ini); len(p) != 0 {
		t.Errorf("pending: %v", p)
	}
	for _, w := range ini.Warnings {
		t.Errorf("a warning for an option the engine acts on: %v", w)
	}
	// Defaults: min-worker-lifetime 10 s unless set.
	ini, _ = uwsgiini.Parse("u.ini", []byte("[uwsgi]\nhttp-socket = :1\nwsgi-file = a.py\nmax-requests = 5\n"), "")
	if c, err := FromINI(ini); err != nil || c.minLifetime() != 10*time.Second {
		t.Errorf("default min-worker-lifetime: %v %v", c.minLifetime(), err)
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
		"processes = 2\ncheaper = 2\nwsgi-file = a.py\n":             "uwsgi.ini:3: cheaper: 2 must be lower than processes (2)",
		"limit-as = 8\nwsgi-file = a.py\n":                           "uwsgi.ini:2: limit-as: 8 MB is too small",
		"harakiri = -1\nwsgi-file = a.py\n":                          "uwsgi.ini:2: harakiri: -1: want 0 or more",
		"reload-on-rss = lots\nwsgi-file = a.py\n":                   "uwsgi.ini:2",
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

func TestFromINISmallOptions(t *testing.T) {
	ini, err := uwsgiini.Parse("u.ini", []byte(`[uwsgi]
http-socket = :1
wsgi-file = a.py
logto2 = /tmp/x.log
disable-logging = true
log-4xx = true
log-5xx = true
log-slow = 250
log-big = 1048576
log-x-forwarded-for = true
exit-on-reload = true
unenv = SECRET
pyargv = --foo bar
optimize = 2
check-static = /srv/www
static-skip-ext = .php
reload-mercy = 7
harakiri-verbose = true
log-date = %%H:%%M
log-reopen = true
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromINI(ini)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogTo != "/tmp/x.log" || !c.Log4xx || !c.Log5xx || c.LogSlow != 250*time.Millisecond || c.LogBig != 1<<20 ||
		!c.LogXForwardedFor || !c.ExitOnReload || strings.Join(c.Unenv, ",") != "SECRET" || c.PyArgv != "--foo bar" ||
		c.Optimize != 2 || len(c.StaticMaps) != 1 || c.StaticMaps[0] != (StaticMap{Mount: "/", Dir: "/srv/www", Full: true}) ||
		strings.Join(c.StaticSkipExt, ",") != ".php" || c.ReloadMercy != 7*time.Second ||
		!c.LogDate || c.LogDateFormat != "%H:%M" || !c.LogReopen {
		t.Errorf("read: %+v", c)
	}
	var keys []string
	for _, p := range Pending(ini) {
		keys = append(keys, p.Key)
	}
	if len(keys) != 0 || !c.HarakiriVerbose {
		t.Errorf("pending: %v", Pending(ini))
	}
	ini, _ = uwsgiini.Parse("u.ini", []byte("[uwsgi]\nhttp-socket = :1\nwsgi-file = a.py\noptimize = 3\n"), "")
	if _, err := FromINI(ini); err == nil || !strings.Contains(err.Error(), "u.ini:4") {
		t.Errorf("optimize = 3: %v", err)
	}
}
