package appserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// superviseApp is the app of the supervision tests.
const superviseApp = `
import os, sys, time
VERSION = b"v1"
hoard = []
def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        time.sleep(float(environ.get("QUERY_STRING") or "0.5"))
    elif path == "/die":
        os._exit(3)
    elif path == "/grow":
        # Kept: the worker's RSS stays up (written, so resident).
        hoard.append(b"x" * (int(environ.get("QUERY_STRING") or "64") << 20))
    elif path == "/shut-other":
        # Shuts down the channel of the other core (idle in the master's
        # pool): the master's next write to it fails with EPIPE.
        import socket, threading
        fd = 4 if threading.current_thread() is threading.main_thread() else 3
        socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
    elif path == "/hog":
        b"x" * (int(environ.get("QUERY_STRING") or "300") << 20)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [VERSION + b" pid=%d" % os.getpid()]
`

// superviseServer starts superviseApp over HTTP with mod applied.
func superviseServer(t *testing.T, mod func(*Config)) (*Server, *syncBuffer, string) {
	t.Helper()
	return superviseServerSetup(t, mod, nil)
}

// superviseServerSetup is superviseServer with setup run on the Server
// before Start (to set its hooks).
func superviseServerSetup(t *testing.T, mod func(*Config), setup func(*Server)) (*Server, *syncBuffer, string) {
	t.Helper()
	dir := writeApp(t, map[string]string{"app.py": superviseApp})
	cfg := Config{Sockets: []Socket{{Proto: ProtoHTTP}}, Chdir: dir, WSGIFile: "app.py", Python: testPython}
	if mod != nil {
		mod(&cfg)
	}
	for i := range cfg.Sockets {
		if cfg.Sockets[i].Addr == "" {
			cfg.Sockets[i].Addr = "127.0.0.1:0"
		}
		if cfg.Sockets[i].Option == "" {
			cfg.Sockets[i].Option = map[Protocol]string{ProtoHTTP: "http-socket", ProtoUWSGI: "socket", ProtoFastCGI: "fastcgi-socket"}[cfg.Sockets[i].Proto]
		}
	}
	log := &syncBuffer{}
	s := &Server{Config: cfg, Log: log}
	if setup != nil {
		setup(s)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v\nlog:\n%s", err, log.String())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() || os.Getenv("WSGIDECK_TEST_LOG") != "" {
			t.Logf("server log:\n%s", log.String())
		}
	})
	n := max(cfg.Processes, 1)
	if cfg.Cheaper > 0 {
		n = max(cfg.CheaperInitial, cfg.Cheaper)
	}
	waitAccepting(t, s, n)
	return s, log, "http://" + s.Addrs()[0]
}

// rereads counts ReloadConfig calls and returns s's configuration.
func rereads(s *Server, n *atomic.Int32) func() (*Config, error) {
	return func() (*Config, error) {
		n.Add(1)
		c := s.Config
		return &c, nil
	}
}

// waitAccepting waits until n worker slots take requests.
func waitAccepting(t *testing.T, s *Server, n int) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("%d workers accepting", n), func() bool {
		got := 0
		for _, w := range s.Snapshot().Workers {
			if w.Accepting {
				got++
			}
		}
		return got >= n
	})
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eventLog records a server's events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	cancel func()
}

func recordEvents(t *testing.T, s *Server, kinds ...EventKind) *eventLog {
	l := &eventLog{}
	l.cancel = s.Subscribe(func(e Event) {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	}, kinds...)
	t.Cleanup(l.cancel)
	return l
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// wait returns the first event of kind for which match holds (nil
// matches any), waiting for it.
func (l *eventLog) wait(t *testing.T, kind EventKind, match func(Event) bool) Event {
	t.Helper()
	var found Event
	eventually(t, 20*time.Second, "event "+kind.String(), func() bool {
		for _, e := range l.all() {
			if e.Kind == kind && (match == nil || match(e)) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func (l *eventLog) count(kind EventKind) int {
	n := 0
	for _, e := range l.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// countAtLeast waits until at least n events of kind were delivered and
// returns how many there are then. Delivery runs on the subscriber's own
// goroutine, so a count read right after the state changed can lag it.
func (l *eventLog) countAtLeast(t *testing.T, kind EventKind, n int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.count(kind) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return l.count(kind)
}

// wrkResult is what the tests read from wrk's report.
type wrkResult struct {
	Requests     int
	Non2xx       int
	SocketErrors int
	RPS          float64
	Output       string
}

var (
	wrkRequestsRe = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xxRe   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocketRe   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkRPSRe      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
)

// runWrk runs /usr/bin/wrk against url for d with conns connections.
func runWrk(ctx context.Context, url string, d time.Duration, conns int) (wrkResult, error) {
	cmd := exec.CommandContext(ctx, "/usr/bin/wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d/time.Second))+"s", "--timeout", "10s", url)
	out, err := cmd.CombinedOutput()
	r := wrkResult{Output: string(out)}
	if err != nil {
		return r, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return r, parseWrk(&r)
}

func parseWrk(r *wrkResult) error {
	m := wrkRequestsRe.FindStringSubmatch(r.Output)
	if m == nil {
		return fmt.Errorf("wrk printed no request count:\n%s", r.Output)
	}
	r.Requests, _ = strconv.Atoi(m[1])
	if m := wrkNon2xxRe.FindStringSubmatch(r.Output); m != nil {
		r.Non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkSocketRe.FindStringSubmatch(r.Output); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.Atoi(v)
			r.SocketErrors += n
		}
	}
	if m := wrkRPSRe.FindStringSubmatch(r.Output); m != nil {
		r.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	return nil
}

// startWrk runs wrk in the background; the result arrives on the channel.
func startWrk(t *testing.T, url string, d time.Duration, conns int) <-chan wrkResult {
	t.Helper()
	if _, err := exec.LookPath("/usr/bin/wrk"); err != nil {
		t.Fatalf("wrk is needed: %v", err)
	}
	ch := make(chan wrkResult, 1)
	go func() {
		r, err := runWrk(context.Background(), url, d, conns)
		if err != nil {
			r.Output += "\n" + err.Error()
			r.Requests = -1
		}
		ch <- r
	}()
	return ch
}

// pidOf reads "pid=N" from a superviseApp response body.
func pidOf(body string) int {
	m := regexp.MustCompile(`pid=(\d+)`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
