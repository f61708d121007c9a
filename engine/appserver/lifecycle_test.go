package appserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const sleepyApp = `
import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(environ.get("QUERY_STRING") or "0.5"))
    if environ["PATH_INFO"] == "/die":
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid=%d" % os.getpid()]
`

func sleepyServer(t *testing.T, mod func(*Config)) (*Server, *syncBuffer, string) {
	t.Helper()
	dir := writeApp(t, map[string]string{"app.py": sleepyApp})
	cfg := Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py"}
	if mod != nil {
		mod(&cfg)
	}
	s, log := startServer(t, cfg)
	waitReady(t, s)
	return s, log, "http://" + s.Addrs()[0]
}

func TestMissingModule(t *testing.T) {
	dir := t.TempDir()
	// Without need-app: the server runs, requests get uWSGI's 500.
	s, log := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, Module: "nosuchmodule"})
	waitReady(t, s)
	resp, body := get(t, "http://"+s.Addrs()[0]+"/")
	if resp.StatusCode != 500 || body != "Internal Server Error" {
		t.Errorf("no app: %d %q", resp.StatusCode, body)
	}
	waitLog(t, log, "--- no python application found, check your startup logs for errors ---")
	waitLog(t, log, "unable to load app 0 (mountpoint='') (callable not found or import error)")
	waitLog(t, log, "*** no app loaded. going in full dynamic mode ***")
	waitLog(t, log, "*** the app did not load: cannot load module 'nosuchmodule' (in "+dir)
	waitLog(t, log, "ModuleNotFoundError: No module named 'nosuchmodule' ***")
	waitLog(t, log, "[pid: ")
	if !strings.Contains(log.String(), "|app: -1|req: -1/1]") {
		t.Errorf("request line for no app:\n%s", log)
	}

	// A module without the callable.
	dir2 := writeApp(t, map[string]string{"noapp.py": "x = 1\n"})
	s2, log2 := startServer(t, Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir2, Module: "noapp"})
	waitReady(t, s2)
	waitLog(t, log2, "module 'noapp' has no callable 'application'")

	// With need-app: Start fails with ErrNoApp and nothing is left running.
	log3 := &syncBuffer{}
	s3 := &Server{Config: Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, Chdir: dir, Module: "nosuchmodule", NeedApp: true, Python: testPython, Processes: 2}, Log: log3}
	err := s3.Start()
	if !errors.Is(err, ErrNoApp) || !strings.Contains(err.Error(), "No module named 'nosuchmodule'") {
		t.Fatalf("need-app: %v", err)
	}
	if !strings.Contains(log3.String(), "*** no app loaded. GAME OVER ***") {
		t.Errorf("need-app log:\n%s", log3)
	}
	select {
	case <-s3.Done():
	default:
		t.Error("a server that failed to start is still running")
	}
}

func TestBindErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	dir := writeApp(t, map[string]string{"app.py": sleepyApp})
	s := &Server{Config: Config{
		Sockets: []Socket{{Proto: ProtoHTTP, Addr: addr, Option: "http-socket", Where: "app.ini:3"}},
		Chdir:   dir, WSGIFile: "app.py", Python: testPython,
	}, Log: io.Discard}
	err = s.Start()
	if err == nil {
		s.Stop()
		t.Fatal("bound a port already in use")
	}
	for _, want := range []string{"http-socket " + addr, "app.ini:3", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	s = &Server{Config: Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, WSGIFile: "app.py", Python: testPython, Listen: 1 << 30}, Log: io.Discard}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "somaxconn") {
		t.Errorf("listen over somaxconn: %v", err)
	}
	s = &Server{Config: Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, WSGIFile: "app.py", Python: "/no/such/python"}, Log: io.Discard}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "/no/such/python") {
		t.Errorf("missing interpreter: %v", err)
	}
	if err := (&Server{Config: Config{WSGIFile: "app.py"}, Log: io.Discard}).Start(); err == nil || !strings.Contains(err.Error(), "no socket configured") {
		t.Errorf("no socket: %v", err)
	}
}

func TestWorkerDeathRespawn(t *testing.T) {
	s, log, base := sleepyServer(t, nil)
	_, body := get(t, base+"/")
	before := s.Workers()[0].PID
	if body != fmt.Sprintf("pid=%d", before) {
		t.Fatalf("body %q, worker %d", body, before)
	}
	syscall.Kill(before, syscall.SIGKILL)
	waitLog(t, log, fmt.Sprintf("DAMN ! worker 1 (pid: %d) died, killed by signal 9 :( trying respawn ...", before))
	waitLog(t, log, "Respawned uWSGI worker 1 (new pid: ")
	waitReady(t, s)
	_, body = get(t, base+"/")
	if body == fmt.Sprintf("pid=%d", before) || !strings.HasPrefix(body, "pid=") {
		t.Errorf("after respawn: %q", body)
	}
	w := s.Workers()[0]
	if w.Respawns != 1 || w.SlotReqs != 2 {
		t.Errorf("counters after respawn: %+v", w)
	}
	// A worker dying in the middle of a request: the client gets a 502.
	resp, _ := get(t, base+"/die")
	if resp.StatusCode != 502 {
		t.Errorf("worker died mid-request: %d", resp.StatusCode)
	}
	waitLog(t, log, "died :( trying respawn ...")
}

func TestGracefulStopFinishesRequests(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	pidfile := filepath.Join(dir, "app.pid")
	s, log, base := sleepyServer(t, func(c *Config) {
		c.Sockets = append(c.Sockets, Socket{Proto: ProtoUWSGI, Addr: sock, Option: "socket"})
		c.Vacuum = true
		c.Pidfile = pidfile
	})
	if b, err := os.ReadFile(pidfile); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("pidfile: %q %v", b, err)
	}
	// An idle keep-alive connection, and a request in flight.
	idle, err := net.Dial("tcp", s.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _ := idle.Read(buf); !strings.Contains(string(buf[:n]), "pid=") {
		t.Fatalf("keep-alive request: %q", buf[:n])
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var inflight *http.Response
	var inflightBody string
	var inflightErr error
	go func() {
		defer wg.Done()
		resp, err := http.Get(base + "/sleep?1")
		if err != nil {
			inflightErr = err
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight, inflightBody, inflightErr = resp, string(b), err
	}()
	waitBusy(t, s)
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	waitLog(t, log, "graceful shutdown triggered...")
	// The idle connection is closed at once.
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle.Read(buf); err == nil {
		t.Errorf("the idle connection stayed open: %q", buf[:n])
	}
	// New connections are refused.
	if c, err := net.DialTimeout("tcp", s.Addrs()[0], time.Second); err == nil {
		c.Close()
		t.Error("still accepting after Stop")
	}
	wg.Wait()
	if inflightErr != nil || inflight.StatusCode != 200 || !strings.HasPrefix(inflightBody, "pid=") {
		t.Errorf("in-flight request: %v %v %q", inflightErr, inflight, inflightBody)
	}
	<-stopped
	for _, want := range []string{"worker 1 buried after", "goodbye to uWSGI.", "VACUUM: pidfile removed.", "VACUUM: unix socket " + sock + " removed."} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("unix socket left behind: %v", err)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
}

// waitBusy waits until some core is serving a request.
func waitBusy(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, w := range s.Workers() {
			for _, c := range w.Cores {
				if !c.BusySince.IsZero() {
					return
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no core ever became busy")
}

func TestReloadReplacesWorkers(t *testing.T) {
	s, log, base := sleepyServer(t, func(c *Config) { c.Processes = 2 })
	old := map[int]bool{}
	for _, w := range s.Workers() {
		old[w.PID] = true
	}
	// A request in flight survives the reload.
	done := make(chan string)
	go func() {
		resp, err := http.Get(base + "/sleep?0.7")
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	waitBusy(t, s)
	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, "...gracefully killing workers...")
	if got := <-done; !strings.HasPrefix(got, "200 pid=") {
		t.Errorf("in-flight request during reload: %q", got)
	}
	waitLog(t, log, "worker 1 buried after")
	waitLog(t, log, "worker 2 buried after")
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws := s.Workers()
		fresh := 0
		for _, w := range ws {
			if !old[w.PID] && !w.Retiring {
				fresh++
			}
		}
		if fresh == 2 && len(ws) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers after reload: %+v", ws)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, body := get(t, base+"/")
	var pid int
	fmt.Sscanf(body, "pid=%d", &pid)
	if old[pid] || pid == 0 {
		t.Errorf("served by %q after reload", body)
	}
	// A reload with a new config: more processes.
	cfg := s.Config
	cfg.Processes = 3
	cfg.Python = testPython
	cfg.Sockets = s.cfg().Sockets
	if err := s.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	deadline = time.Now().Add(10 * time.Second)
	for len(s.Workers()) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("workers after reload to 3 processes: %+v", s.Workers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogToAndDisableLogging(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "uwsgi.log")
	dir := writeApp(t, map[string]string{"app.py": sleepyApp})
	s := &Server{Config: Config{
		Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}},
		Chdir:   dir, WSGIFile: "app.py", Python: testPython, LogTo: logfile, DisableLogging: true,
	}}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	get(t, "http://"+s.Addrs()[0]+"/")
	s.Stop()
	b, err := os.ReadFile(logfile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{"*** Starting uWSGI", "WSGI app 0 (mountpoint='') ready", "goodbye to uWSGI."} {
		if !strings.Contains(log, want) {
			t.Errorf("logto file lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "[pid: ") {
		t.Errorf("disable-logging still logged requests:\n%s", log)
	}
}

func TestOnRequestHook(t *testing.T) {
	events := make(chan RequestEvent, 4)
	dir := writeApp(t, map[string]string{"app.py": sleepyApp})
	log := &syncBuffer{}
	s := &Server{Config: Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, Chdir: dir, WSGIFile: "app.py", Python: testPython},
		Log: log, OnRequest: func(e RequestEvent) { events <- e }}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	get(t, "http://"+s.Addrs()[0]+"/x?y=1")
	e := <-events
	if e.Worker != 1 || e.PID != s.Workers()[0].PID || e.Method != "GET" || e.URI != "/x?y=1" || e.Status != 200 || e.Outcome != "ok" || e.BodyBytes == 0 || e.Start.IsZero() {
		t.Errorf("event %+v", e)
	}
}

func TestUWSGISocketTimeoutAndStop(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	s, log, _ := sleepyServer(t, func(c *Config) {
		c.Sockets = []Socket{{Proto: ProtoUWSGI, Addr: sock, Option: "socket"}}
		c.SocketTimeout = time.Second
	})
	// A client that sends half a header is cut after socket-timeout.
	slow, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte{0, 10})
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := slow.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a stalled client was not cut: %v", err)
	}
	waitLog(t, log, "no complete request within socket-timeout")

	// A request in flight on the uwsgi socket finishes during a graceful stop.
	got := make(chan string, 1)
	go func() {
		got <- rawExchange(t, "unix", sock, uwsgiPacket(t, pairs("REQUEST_METHOD", "GET", "PATH_INFO", "/sleep", "QUERY_STRING", "0.5", "SERVER_PROTOCOL", "HTTP/1.1"), ""))
	}()
	waitBusy(t, s)
	s.Stop()
	if out := <-got; !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("in-flight uwsgi request during stop: %q", out)
	}
	if _, err := net.Dial("unix", sock); err == nil {
		t.Error("the uwsgi socket still accepts after Stop")
	}
}

func TestKill(t *testing.T) {
	s, log, base := sleepyServer(t, nil)
	done := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/sleep?5")
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	waitBusy(t, s)
	start := time.Now()
	s.Kill()
	if time.Since(start) > 4*time.Second {
		t.Errorf("Kill waited for the request")
	}
	// The worker is killed under the request: the client gets the server's
	// 500 (or a cut connection), never the app's answer.
	if got := <-done; strings.HasPrefix(got, "200") {
		t.Errorf("the request survived Kill: %q", got)
	}
	waitLog(t, log, "SIGINT/SIGTERM received...killing workers...")
}

func TestRecycleAndSignalWorker(t *testing.T) {
	s, log, base := sleepyServer(t, func(c *Config) { c.Processes = 2 })
	first := s.Workers()
	if err := s.RecycleWorker(2); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, "Respawned uWSGI worker 2 (new pid: ")
	waitLog(t, log, fmt.Sprintf("worker 2 killed successfully (pid: %d)", first[1].PID))
	ws := s.Workers()
	if len(ws) != 2 || ws[0].PID != first[0].PID || ws[1].PID == first[1].PID || ws[1].Respawns != 1 {
		t.Errorf("after recycling worker 2: %+v (before %+v)", ws, first)
	}
	if err := s.RecycleWorker(3); err == nil {
		t.Error("recycled a worker that does not exist")
	}
	if err := s.SignalWorker(1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, fmt.Sprintf("DAMN ! worker 1 (pid: %d) died, killed by signal 9", first[0].PID))
	waitReady(t, s)
	if _, body := get(t, base+"/"); !strings.HasPrefix(body, "pid=") {
		t.Errorf("after signal: %q", body)
	}
}
