package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// testReqLimit builds a zone and a limit_req on it without a config.
func testReqLimit(rate, scale int64, size int64, burst, delay int64, nodelay bool) (*reqZone, *limitReq) {
	z := &reqZone{name: "z", key: literalValue("k"), size: size, rate: rate * 1000 / scale, state: newReqState(size)}
	l := &limitReq{zone: z, burst: burst * 1000, delay: delay * 1000}
	if nodelay {
		l.delay = math.MaxInt64
	}
	return z, l
}

// TestLimitReqBucket walks one key through nginx's leaky bucket, with
// the time given in milliseconds: the excess each request leaves, the
// rejections over the burst, and the delays over the delay threshold.
func TestLimitReqBucket(t *testing.T) {
	type step struct {
		at     int64 // ms
		rc     int
		excess int64
		delay  int64 // ms, for lrOK
	}
	cases := []struct {
		name                      string
		rate, scale, burst, delay int64
		nodelay                   bool
		steps                     []step
	}{
		{"no burst", 1, 1, 0, 0, false, []step{
			{at: 1000, rc: lrOK},
			// nothing leaked yet: one request too many
			{at: 1000, rc: lrBusy, excess: 1000},
			{at: 1500, rc: lrBusy, excess: 500},
			{at: 1999, rc: lrBusy, excess: 1},
			// a rejected request leaves nothing: at 1 s the bucket is empty
			{at: 2000, rc: lrOK},
		}},
		{"burst=2 nodelay", 1, 1, 2, 0, true, []step{
			{at: 1000, rc: lrOK},
			{at: 1000, rc: lrOK, excess: 1000},
			{at: 1000, rc: lrOK, excess: 2000},
			{at: 1000, rc: lrBusy, excess: 3000},
			{at: 1999, rc: lrBusy, excess: 2001},
			{at: 2000, rc: lrOK, excess: 2000},
		}},
		{"burst=5, delayed", 2, 1, 5, 0, false, []step{
			{at: 1000, rc: lrOK},
			// 2r/s: one request over the rate waits 500 ms
			{at: 1000, rc: lrOK, excess: 1000, delay: 500},
			{at: 1100, rc: lrOK, excess: 1800, delay: 900},
		}},
		{"burst=5 delay=2", 1, 1, 5, 2, false, []step{
			{at: 1000, rc: lrOK},
			{at: 1000, rc: lrOK, excess: 1000},
			{at: 1000, rc: lrOK, excess: 2000},
			// only what is over delay= waits
			{at: 1000, rc: lrOK, excess: 3000, delay: 1000},
			{at: 1000, rc: lrOK, excess: 4000, delay: 2000},
			{at: 1000, rc: lrOK, excess: 5000, delay: 3000},
			{at: 1000, rc: lrBusy, excess: 6000},
		}},
		{"1r/m leaks 16 per second", 1, 60, 1, 0, true, []step{
			{at: 1000, rc: lrOK},
			{at: 1000, rc: lrOK, excess: 1000},
			// rate 1000/60 = 16: in 10 s 160 thousandths have leaked
			{at: 11000, rc: lrBusy, excess: 1840},
			{at: 60000, rc: lrBusy, excess: 1056},
			{at: 63500, rc: lrOK, excess: 1000},
		}},
		{"clock going back", 1, 1, 1, 0, true, []step{
			{at: 100000, rc: lrOK},
			// a little back counts as no time
			{at: 99000, rc: lrOK, excess: 1000},
			{at: 98000, rc: lrBusy, excess: 2000},
			// more than a minute back counts as 1 ms
			{at: 1000, rc: lrBusy, excess: 1999},
		}},
	}
	for _, c := range cases {
		z, l := testReqLimit(c.rate, c.scale, 1<<20, c.burst, c.delay, c.nodelay)
		for i, s := range c.steps {
			rc, excess, _ := z.state.lookup(z, l, "k", s.at, true)
			if rc != s.rc || excess != s.excess {
				t.Errorf("%s, step %d at %d ms: rc %d excess %d, want rc %d excess %d", c.name, i, s.at, rc, excess, s.rc, s.excess)
				continue
			}
			if rc == lrOK {
				if d := l.delayFor(excess); d != s.delay {
					t.Errorf("%s, step %d: delay %d ms, want %d", c.name, i, d, s.delay)
				}
			}
		}
	}
}

// TestLimitReqHeldNodes: with several limit_req, a node is looked up
// without accounting (held), then accounted; a rejection by a later limit
// releases it without a count.
func TestLimitReqHeldNodes(t *testing.T) {
	z, l := testReqLimit(1, 1, 1<<20, 1, 0, false)
	rc, _, n := z.state.lookup(z, l, "k", 5000, false)
	if rc != lrAgain || n == nil || n.count != 1 {
		t.Fatalf("held lookup: rc %d node %v", rc, n)
	}
	// the new node's first accounting leaves no excess
	if e := z.state.account(z, l, n, 5000); e != 0 || n.count != 0 || n.last != 5000 {
		t.Fatalf("account: excess %d count %d last %d", e, n.count, n.last)
	}
	rc, e, n := z.state.lookup(z, l, "k", 5000, false)
	if rc != lrAgain || e != 1000 {
		t.Fatalf("second held lookup: rc %d excess %d", rc, e)
	}
	z.state.release(n)
	if n.count != 0 || n.excess != 0 {
		t.Fatalf("release: count %d excess %d (a released lookup must leave nothing)", n.count, n.excess)
	}
}

// TestLimitZoneBudget: a zone holds as many keys as its size allows;
// limit_req then evicts the least recently used key, limit_conn refuses
// a new key until one is released.
func TestLimitZoneBudget(t *testing.T) {
	if got := slabChunk(reqNodeOverhead + 4); got != 128 {
		t.Errorf("limit_req node for a 4-byte key: %d bytes, want 128", got)
	}
	if got := slabChunk(connNodeOverhead + 4); got != 64 {
		t.Errorf("limit_conn node for a 4-byte key: %d bytes, want 64", got)
	}
	if got := slabChunk(3000); got != 4096 {
		t.Errorf("3000-byte node: %d, want a page", got)
	}
	const size = 32 << 10
	z, l := testReqLimit(1, 1, size, 0, 0, false)
	keys := (size - zoneReserved) / 128
	for i := 0; i < keys; i++ {
		if rc, _, _ := z.state.lookup(z, l, fmt.Sprintf("k%03d", i), 1000, true); rc != lrOK {
			t.Fatalf("key %d of %d: rc %d", i, keys, rc)
		}
	}
	// the next key makes room by evicting the oldest, k000
	if rc, _, _ := z.state.lookup(z, l, "new1", 1000, true); rc != lrOK {
		t.Fatalf("key over the budget: rc %d, want the oldest evicted", rc)
	}
	if z.state.nodes["k000"] != nil || len(z.state.nodes) != keys {
		t.Errorf("after eviction: k000 kept %v, %d keys, want %d", z.state.nodes["k000"] != nil, len(z.state.nodes), keys)
	}
	// a key evicted starts afresh: k000 is allowed again at once
	if rc, _, _ := z.state.lookup(z, l, "k000", 1000, true); rc != lrOK {
		t.Errorf("evicted key: rc %d, want a fresh bucket", rc)
	}
	// when the oldest is held by a request in progress, nothing can go
	full, fl := testReqLimit(1, 1, size, 0, 0, false)
	var held *reqNode
	for i := 0; i < keys; i++ {
		_, _, n := full.state.lookup(full, fl, fmt.Sprintf("k%03d", i), 1000, i != 0)
		if i == 0 {
			held = n
		}
	}
	if rc, _, _ := full.state.lookup(full, fl, "new", 1000, true); rc != lrError {
		t.Errorf("full zone with its oldest key held: rc %d, want lrError", rc)
	}
	full.state.release(held)
	if rc, _, _ := full.state.lookup(full, fl, "new", 1000, true); rc != lrOK {
		t.Errorf("after the release: rc %d, want the oldest evicted", rc)
	}
	// idle keys whose excess has leaked are expired on the way
	idle, il := testReqLimit(1, 1, size, 0, 0, false)
	idle.state.lookup(idle, il, "a", 1000, true)
	idle.state.lookup(idle, il, "b", 1000, true)
	idle.state.lookup(idle, il, "c", 70000, true)
	if idle.state.nodes["a"] != nil || idle.state.nodes["b"] != nil || len(idle.state.nodes) != 1 {
		t.Errorf("idle keys kept: %d keys", len(idle.state.nodes))
	}

	cs := newConnState(size)
	ckeys := (size - zoneReserved) / 64
	var nodes []*connNode
	for i := 0; i < ckeys; i++ {
		n, res := cs.acquire(fmt.Sprintf("k%03d", i), 1)
		if res != connAcquired {
			t.Fatalf("limit_conn key %d of %d: %d", i, ckeys, res)
		}
		nodes = append(nodes, n)
	}
	if _, res := cs.acquire("new", 1); res != connZoneFull {
		t.Errorf("limit_conn key over the budget: %d, want connZoneFull", res)
	}
	if _, res := cs.acquire("k001", 1); res != connOverLimit {
		t.Errorf("limit_conn second request for a key: %d, want connOverLimit", res)
	}
	cs.release(nodes[0])
	if cs.nodes["k000"] != nil {
		t.Error("a key no request holds is kept")
	}
	if _, res := cs.acquire("new", 1); res != connAcquired {
		t.Errorf("limit_conn after a release: %d", res)
	}
}

// fakeClock is a clock near the real time that tests move by hand (the
// server also sets socket deadlines from it).
type fakeClock struct {
	base   time.Time
	offset atomic.Int64
}

func (c *fakeClock) now() time.Time { return c.base.Add(time.Duration(c.offset.Load())) }

func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// limitTestServer is a server started by limitServer.
type limitTestServer struct {
	srv      *Server
	addr     string
	mu       sync.Mutex
	lines    []string
	statuses []int
}

// logs returns the request lines of the server's error log.
func (s *limitTestServer) logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return requestErrors(s.lines)
}

// logged returns the $status of each request logged so far.
func (s *limitTestServer) logged() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses...)
}

// limitServer starts a server on http (the inside of the http block,
// {{LISTEN}} for its address) with clock (nil: the real one). The
// default root has /l/index.html.
func limitServer(t *testing.T, http string, clock *fakeClock) *limitTestServer {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "html/l"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "html/l/index.html"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &limitTestServer{addr: fmt.Sprintf("127.0.0.1:%d", freeBothPort(t))}
	cfg := compileText(t, dir, "events {}\nhttp {\n"+strings.ReplaceAll(http, "{{LISTEN}}", s.addr)+"\n}\n")
	opts := Options{
		Logf: func(f string, a ...any) {
			s.mu.Lock()
			s.lines = append(s.lines, fmt.Sprintf(f, a...))
			s.mu.Unlock()
		},
		OnRequest: func(rec RequestRecord) {
			s.mu.Lock()
			s.statuses = append(s.statuses, rec.Status)
			s.mu.Unlock()
		},
	}
	if clock != nil {
		opts.Now = clock.now
	}
	s.srv = startServer(t, cfg, opts)
	return s
}

// waitLog waits until the server's error log has want request lines
// containing sub.
func (s *limitTestServer) waitLog(t *testing.T, sub string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, l := range s.logs() {
			if strings.Contains(l, sub) {
				n++
			}
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines with %q in the error log: %q", n, want, sub, s.logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLogged waits until n requests have been logged and returns their
// statuses.
func (s *limitTestServer) waitLogged(t *testing.T, n int) []int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.logged()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return s.logged()
}

// status sends a GET and returns the status and the X-Limit header.
func limitGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := dialClient(t, addr)
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Limit")
}

// TestLimitReqInjectedClock runs the bucket through the server with the
// clock moved by hand: the millisecond accounting decides at the edge,
// and the log lines carry the excess.
func TestLimitReqInjectedClock(t *testing.T) {
	clock := &fakeClock{base: time.Now()}
	srv := limitServer(t, `
    limit_req_zone $binary_remote_addr zone=one:32k rate=1r/s;
    server {
        listen {{LISTEN}};
        location / { limit_req zone=one burst=2 nodelay; add_header X-Limit $limit_req_status always; return 200 ok; }
        location /l/ { limit_req zone=one burst=2 nodelay; add_header X-Limit $limit_req_status always; }
    }`, clock)
	type want struct {
		advance time.Duration
		status  int
		limit   string
	}
	steps := []want{
		{0, 200, "PASSED"}, {0, 200, "PASSED"}, {0, 200, "PASSED"},
		{0, 503, "REJECTED"},
		// 999 ms leak 999 thousandths: still one thousandth too many
		{999 * time.Millisecond, 503, "REJECTED"},
		{time.Millisecond, 200, "PASSED"},
	}
	for i, s := range steps {
		clock.advance(s.advance)
		status, limit := limitGet(t, srv.addr, "/l/")
		if status != s.status || limit != s.limit {
			t.Errorf("request %d: %d %q, want %d %q", i+1, status, limit, s.status, s.limit)
		}
	}
	// return runs in the rewrite phase, before limit_req: never limited
	if status, limit := limitGet(t, srv.addr, "/"); status != 200 || limit != "" {
		t.Errorf("return in a limited location: %d %q, want 200 and no limit status", status, limit)
	}
	got := srv.logs()
	wantLogs := []string{
		`[error] limiting requests, excess: 3.000 by zone "one", client: 127.0.0.1, server: , request: "GET /l/ HTTP/1.1", host: "localhost"`,
		`[error] limiting requests, excess: 2.001 by zone "one", client: 127.0.0.1, server: , request: "GET /l/ HTTP/1.1", host: "localhost"`,
	}
	if strings.Join(got, "\n") != strings.Join(wantLogs, "\n") {
		t.Errorf("error log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLogs, "\n"))
	}
}

// TestLimitReqDelayedClientGone: a client that closes the connection
// while its request is delayed ends it with 499, as nginx does, rather
// than after the whole delay.
func TestLimitReqDelayedClientGone(t *testing.T) {
	srv := limitServer(t, `
    limit_req_zone $binary_remote_addr zone=slow:32k rate=1r/m;
    error_log stderr info;
    server {
        listen {{LISTEN}};
        location / { limit_req zone=slow burst=5; return 200 ok; }
        location /l/ { limit_req zone=slow burst=5; }
    }`, nil)
	if status, _ := limitGet(t, srv.addr, "/l/"); status != 200 {
		t.Fatalf("first request: %d, want 200", status)
	}
	// the second waits a minute: close the client at once
	c := dialClient(t, srv.addr)
	fmt.Fprintf(c, "GET /l/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(srv.logs(), "\n"), "delaying request") {
		if time.Now().After(deadline) {
			t.Fatalf("no delay logged: %q", srv.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	c.Close()
	for !strings.Contains(strings.Join(srv.logs(), "\n"), "client prematurely closed connection") {
		if time.Now().After(deadline) {
			t.Fatalf("the closed client was not noticed: %q", srv.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("noticed after %v", took)
	}
	for len(srv.logged()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := srv.logged(); len(st) != 2 || st[1] != 499 {
		t.Errorf("logged statuses %v, want [200 499]", st)
	}
	got := srv.logs()
	want := `[warn] delaying request, excess: 1.000, by zone "slow", client: 127.0.0.1, server: , request: "GET /l/ HTTP/1.1", host: "localhost"`
	if len(got) < 2 || got[len(got)-2] != want {
		t.Errorf("error log %q, want the delay line %q", got, want)
	}
}

// delayedRequests are what a client sends for a request that limit_req
// delays: the head alone, or more that waits unread in our buffer or in
// the socket meanwhile.
var delayedRequests = map[string]string{
	"head alone": "GET /l/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
	"pipelined":  "GET /l/ HTTP/1.1\r\nHost: localhost\r\n\r\nGET /l/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
	"body":       "POST /l/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
	// more than the read buffer takes: the rest stays in the socket
	"big body": "POST /l/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 200000\r\n\r\n" + strings.Repeat("x", 100000),
}

// slowLimitServer is a server whose /l/ waits a minute for a request
// after the first, and whose first request has been answered.
func slowLimitServer(t *testing.T) *limitTestServer {
	t.Helper()
	srv := limitServer(t, `
    limit_req_zone $binary_remote_addr zone=slow:32k rate=1r/m;
    error_log stderr info;
    server {
        listen {{LISTEN}};
        location /l/ { limit_req zone=slow burst=5; }
    }`, nil)
	if status, _ := limitGet(t, srv.addr, "/l/"); status != 200 {
		t.Fatalf("first request: %d, want 200", status)
	}
	return srv
}

// sendDelayed sends raw on a new connection and waits until the server
// has logged its delay.
func (s *limitTestServer) sendDelayed(t *testing.T, raw string) *net.TCPConn {
	t.Helper()
	c := dialClient(t, s.addr).(*net.TCPConn)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "delaying request", 1)
	return c
}

// readsNothing checks that the server closes c without an answer.
func readsNothing(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if len(b) > 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("client read %q, %v; want the connection closed without an answer", b, err)
	}
}

// TestLimitReqDelayedClientGoneBuffered: a client that hangs up while
// its request is delayed is noticed at once even when it sent more than
// the head (a body, a pipelined request), which waits unread. nginx
// 1.22 does so (it sees the EPOLLRDHUP whatever is unread): it logs
// "client prematurely closed connection" at info, with the errno after
// a reset, and the request ends with 499; a half-close counts as a
// hang-up. TestDiffLimitReqClientGone checks the same against nginx.
func TestLimitReqDelayedClientGoneBuffered(t *testing.T) {
	cases := []struct {
		name, send, end string
	}{
		{"pipelined, closed", "pipelined", "close"},
		{"body, closed", "body", "close"},
		{"unread body in the socket, closed", "big body", "close"},
		{"pipelined, reset", "pipelined", "reset"},
		{"body, half-closed", "body", "half"},
		{"head alone, reset", "head alone", "reset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := slowLimitServer(t)
			c := srv.sendDelayed(t, delayedRequests[tc.send])
			want := `[info] client prematurely closed connection, client: 127.0.0.1`
			switch tc.end {
			case "close":
				c.Close()
			case "reset":
				c.SetLinger(0)
				c.Close()
				want = `[info] client prematurely closed connection (104: Connection reset by peer), client: 127.0.0.1`
			case "half":
				c.CloseWrite()
			}
			srv.waitLog(t, "client prematurely closed connection", 1)
			if st := srv.waitLogged(t, 2); len(st) != 2 || st[1] != 499 {
				t.Errorf("logged statuses %v, want [200 499]", st)
			}
			got := srv.logs()
			if !strings.HasPrefix(got[len(got)-1], want) {
				t.Errorf("last error log line %q, want it to begin %q", got[len(got)-1], want)
			}
			if tc.end == "half" {
				readsNothing(t, c)
			}
			// the pipelined request is not served
			if st := srv.logged(); len(st) != 2 {
				t.Errorf("logged statuses %v, want [200 499]", st)
			}
		})
	}
}

// TestLimitReqDelayEndsOnClose: Server.Close ends a request's delay at
// once, whatever the client sent: like an nginx worker on a fast
// shutdown (SIGTERM), the request ends with no answer and no log line.
// (nginx 1.22 exits at once, and its access log has no line for it.)
func TestLimitReqDelayEndsOnClose(t *testing.T) {
	for _, name := range []string{"head alone", "pipelined", "body", "big body"} {
		t.Run(name, func(t *testing.T) {
			srv := slowLimitServer(t)
			c := srv.sendDelayed(t, delayedRequests[name])
			done := make(chan struct{})
			go func() {
				srv.srv.Close()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				// the delay is a minute: Close waits for it
				t.Fatal("Close is blocked by the delayed request")
			}
			readsNothing(t, c)
			if st := srv.logged(); len(st) != 1 {
				t.Errorf("logged statuses %v, want [200]: the delayed request is not logged", st)
			}
			for _, l := range srv.logs() {
				if strings.Contains(l, "prematurely") {
					t.Errorf("the server's close taken for the client's: %q", l)
				}
			}
		})
	}
}

// TestLimitReqDelayShutdown: Shutdown lets a delayed request finish, as
// nginx's graceful shutdown (SIGQUIT) waits for it; when its ctx ends
// first, the request is ended at once without an answer and logged with
// status 000, as nginx's worker_shutdown_timeout ends it.
func TestLimitReqDelayShutdown(t *testing.T) {
	t.Run("waits", func(t *testing.T) {
		srv := limitServer(t, `
    limit_req_zone $binary_remote_addr zone=fast:32k rate=4r/s;
    error_log stderr info;
    server {
        listen {{LISTEN}};
        location /l/ { limit_req zone=fast burst=5; }
    }`, nil)
		if status, _ := limitGet(t, srv.addr, "/l/"); status != 200 {
			t.Fatalf("first request: %d", status)
		}
		// 4r/s: about 250 ms
		c := srv.sendDelayed(t, "GET /l/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("delayed request during Shutdown: %v %v, want 200", resp, err)
		}
		if st := srv.logged(); len(st) != 2 || st[1] != 200 {
			t.Errorf("logged statuses %v, want [200 200]", st)
		}
	})
	t.Run("ctx ends", func(t *testing.T) {
		srv := slowLimitServer(t)
		c := srv.sendDelayed(t, delayedRequests["pipelined"])
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- srv.srv.Shutdown(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v, want the ctx's error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Shutdown is blocked by the delayed request after its ctx ended")
		}
		readsNothing(t, c)
		if st := srv.logged(); len(st) != 2 || st[1] != 0 {
			t.Errorf("logged statuses %v, want [200 0]: the request ended is logged 000", st)
		}
	})
}

// TestLimitReqDelayDuration: a delay too long for a time.Duration waits
// the longest one instead of overflowing into no wait (or a negative one).
func TestLimitReqDelayDuration(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want time.Duration
	}{
		{0, 0},
		{1500, 1500 * time.Millisecond},
		{math.MaxInt64 / int64(time.Millisecond), time.Duration(math.MaxInt64/int64(time.Millisecond)) * time.Millisecond},
		{math.MaxInt64/int64(time.Millisecond) + 1, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64},
	} {
		if got := delayDuration(c.ms); got != c.want {
			t.Errorf("delayDuration(%d) = %v, want %v", c.ms, got, c.want)
		}
	}
	// the largest burst on the slowest rate: its delay is past what a
	// Duration holds, and still a wait
	z, l := testReqLimit(1, 60, 1<<20, maxLimitRequests, 0, false)
	ms := l.delayFor(l.burst)
	if ms <= math.MaxInt64/int64(time.Millisecond) {
		t.Fatalf("delay %d ms fits a Duration: the case tests nothing (rate %d)", ms, z.rate)
	}
	if d := delayDuration(ms); d <= 0 || d < 200*365*24*time.Hour {
		t.Errorf("delay of %d ms became %v", ms, d)
	}
}

// TestLimitConnHeldUntilFreed: a limit_conn count is held while the
// request is processed and given back when it ends, whatever ended it.
func TestLimitConnHeldUntilFreed(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 4)
	up := holdingUpstream(t, arrived, release)
	srv := limitServer(t, `
    limit_conn_zone $binary_remote_addr zone=addr:32k;
    limit_conn_zone $arg_k zone=byarg:32k;
    server {
        listen {{LISTEN}};
        limit_conn addr 1;
        location / { add_header X-Limit $limit_conn_status always; return 200 ok; }
        location /hold/ { add_header X-Limit $limit_conn_status always; proxy_pass http://`+up+`; }
        location /two/ { limit_conn byarg 1; limit_conn addr 1; add_header X-Limit $limit_conn_status always; proxy_pass http://`+up+`; }
    }`, nil)
	done := make(chan int)
	go func() {
		s, _ := limitGet(t, srv.addr, "/hold/")
		done <- s
	}()
	<-arrived
	if s, l := limitGet(t, srv.addr, "/hold/"); s != 503 || l != "REJECTED" {
		t.Errorf("second concurrent request: %d %q, want 503 REJECTED", s, l)
	}
	// a second limit that rejects gives back the count the first took
	if s, l := limitGet(t, srv.addr, "/two/?k=a"); s != 503 || l != "REJECTED" {
		t.Errorf("/two/ while held: %d %q, want 503 REJECTED", s, l)
	}
	release <- struct{}{}
	if s := <-done; s != 200 {
		t.Errorf("held request: %d", s)
	}
	go func() {
		s, _ := limitGet(t, srv.addr, "/two/?k=a")
		done <- s
	}()
	<-arrived
	release <- struct{}{}
	if s := <-done; s != 200 {
		t.Errorf("/two/ after the release: %d, want 200 (byarg's count was given back)", s)
	}
	// return runs before limit_conn: not counted, no status
	if s, l := limitGet(t, srv.addr, "/"); s != 200 || l != "" {
		t.Errorf("return: %d %q", s, l)
	}
	n := 0
	for _, l := range srv.logs() {
		if strings.Contains(l, `limiting connections by zone "addr"`) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d limiting lines, want 2: %q", n, srv.logs())
	}
}

// holdingUpstream is an HTTP upstream whose every request signals arrived
// and waits for release before answering 200.
func holdingUpstream(t *testing.T, arrived chan<- struct{}, release <-chan struct{}) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "held %s\n", r.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestLimitZonesSurviveReload: a reload that keeps a zone keeps its
// states; one that changes the zone's key starts it afresh.
func TestLimitZonesSurviveReload(t *testing.T) {
	dir := t.TempDir()
	port := freeBothPort(t)
	conf := func(key string) *Config {
		return compileText(t, dir, fmt.Sprintf(`events {}
http {
    limit_req_zone %s zone=one:32k rate=1r/m;
    server { listen 127.0.0.1:%d; location / { limit_req zone=one; return 204; } location /l/ { limit_req zone=one; } }
}
`, key, port))
	}
	s := startServer(t, conf("$binary_remote_addr"), Options{})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if st, _ := limitGet(t, addr, "/l/"); st != 404 {
		t.Fatalf("first: %d", st)
	}
	if err := s.Reload(conf("$binary_remote_addr")); err != nil {
		t.Fatal(err)
	}
	if st, _ := limitGet(t, addr, "/l/"); st != 503 {
		t.Errorf("after a reload keeping the zone: %d, want 503", st)
	}
	if err := s.Reload(conf("$remote_addr")); err != nil {
		t.Fatal(err)
	}
	if st, _ := limitGet(t, addr, "/l/"); st != 404 {
		t.Errorf("after a reload changing the key: %d, want 404 (a fresh zone)", st)
	}
}

// TestLimitBadConfigs: mistakes in the limit directives are refused with
// nginx -t's words and " in FILE:LINE".
func TestLimitBadConfigs(t *testing.T) {
	dir := t.TempDir()
	zones := "limit_req_zone $binary_remote_addr zone=one:32k rate=1r/s; limit_conn_zone $binary_remote_addr zone=addr:32k;\n    "
	cases := map[string]string{
		"req status low":       `limit_req_status 399;`,
		"conn status high":     `server { listen 127.0.0.1:1; limit_conn_status 600; }`,
		"req log level":        `limit_req_log_level crit;`,
		"conn dry run":         `limit_conn_dry_run maybe;`,
		"req duplicate":        `server { listen 127.0.0.1:1; limit_req zone=one; limit_req zone=one burst=2; }`,
		"conn duplicate":       `server { listen 127.0.0.1:1; limit_conn addr 1; limit_conn addr 2; }`,
		"req bad burst":        `server { listen 127.0.0.1:1; limit_req zone=one burst=x; }`,
		"req bad delay":        `server { listen 127.0.0.1:1; limit_req zone=one delay=0; }`,
		"req plus burst":       `server { listen 127.0.0.1:1; limit_req zone=one burst=+5; }`, // ngx_atoi takes no sign
		"req plus delay":       `server { listen 127.0.0.1:1; limit_req zone=one burst=5 delay=+2; }`,
		"req huge burst":       `server { listen 127.0.0.1:1; limit_req zone=one burst=99999999999999999999; }`,
		"conn plus":            `server { listen 127.0.0.1:1; limit_conn addr +3; }`,
		"req status plus":      `limit_req_status +429;`,
		"conn status plus":     `server { listen 127.0.0.1:1; limit_conn_status +429; }`,
		"zone plus rate":       `limit_req_zone $uri zone=r:32k rate=+1r/s;`,
		"req no zone":          `server { listen 127.0.0.1:1; limit_req burst=2; }`,
		"req unknown zone":     `server { listen 127.0.0.1:1; limit_req zone=nope; }`,
		"req on a conn zone":   `server { listen 127.0.0.1:1; limit_req zone=addr; }`,
		"conn too many":        `server { listen 127.0.0.1:1; limit_conn addr 65536; }`,
		"conn zero":            `server { listen 127.0.0.1:1; limit_conn addr 0; }`,
		"zone twice":           `limit_req_zone $uri zone=one:32k rate=1r/s;`,
		"zone too small":       `limit_conn_zone $uri zone=small:16k;`,
		"zone bad rate":        `limit_req_zone $uri zone=r:32k rate=2r/h;`,
		"zone bad parameter":   `limit_conn_zone $uri zone=c:32k rate=1r/s;`,
		"zone for another use": `limit_conn_zone $uri zone=one:32k;`,
	}
	for name, body := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		text := "events {}\nhttp {\n    " + zones + body + "\n}\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		if ok {
			t.Errorf("%s: nginx accepts it; the case is wrong", name)
			continue
		}
		_, _, err := Load(path, LoadOptions{Prefix: dir})
		if err == nil {
			t.Errorf("%s: we accept what nginx refuses:\n%s", name, out)
			continue
		}
		m := emergRE.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no [emerg] in nginx's output %q", name, out)
			continue
		}
		// nginx names no file for a zone without a size; ours points at
		// the directive
		if want := m[1]; err.Error() != want && !strings.HasPrefix(err.Error(), want+" in "+path+":") {
			t.Errorf("%s:\n nginx: %s\n ours:  %s", name, want, err)
		}
	}
}

// FuzzLimitDirectives feeds arbitrary arguments to limit_req_zone,
// limit_req and limit_conn as compile reads them (without nginxconf's
// check in front), then runs the bucket of each limit_req it accepted
// over arbitrary steps of time: errors name the place, nothing panics,
// and the excess stays within the rules.
func FuzzLimitDirectives(f *testing.F) {
	f.Add("$binary_remote_addr zone=one:10m rate=5r/s", "zone=one burst=5 nodelay", "c 10", []byte{0, 10, 200, 255})
	f.Add("$uri zone=one:32k rate=1r/m", "zone=one burst=2 delay=1", "c 1", []byte{1, 2, 3})
	f.Add("$uri zone=one:1k", "zone=", "one 65536", []byte{})
	f.Add("$uri zone=one:32k rate=9223372036854775807r/s", "zone=one burst=9223372036854775807 delay=9223372036854775807", "c 65535", []byte{255, 0, 0, 255})
	f.Fuzz(func(t *testing.T, zoneArgs, reqArgs, connArgs string, steps []byte) {
		src := "limit_req_zone " + zoneArgs + ";\nlimit_conn_zone $uri zone=c:32k;\nlimit_req " + reqArgs + ";\nlimit_conn " + connArgs + ";\n"
		file, err := nginxconf.Parse("fuzz.conf", []byte(src))
		if err != nil || file.Err != nil {
			return
		}
		cc := &compiler{cfg: &Config{vars: newVarTable(), reqZones: map[string]*reqZone{}, connZones: map[string]*connZone{}}}
		conf := defaultLocConf()
		for _, d := range file.Block.Expand() {
			switch d.Name {
			case "limit_req_zone", "limit_conn_zone":
				err = cc.limitZoneDir(d)
			default:
				_, err = cc.limitDirective(conf, d)
			}
			if err != nil && !strings.Contains(err.Error(), " in fuzz.conf:") {
				t.Fatalf("error without its place: %v", err)
			}
		}
		for _, lim := range conf.limits.reqs {
			if lim.zone.rate <= 0 || lim.burst < 0 || lim.delay < 0 {
				t.Fatalf("limit %+v, rate %d", lim, lim.zone.rate)
			}
			now := int64(1 << 40)
			for i, b := range steps {
				// forwards mostly, sometimes back
				now += int64(b)*int64(b)*3 - 4000
				rc, excess, _ := lim.zone.state.lookup(lim.zone, lim, strconv.Itoa(i%3), now, true)
				if excess < 0 || (rc == lrOK && excess > lim.burst) || (rc == lrBusy && excess <= lim.burst) {
					t.Fatalf("step %d: rc %d excess %d burst %d", i, rc, excess, lim.burst)
				}
				if d := lim.delayFor(excess); d < 0 {
					t.Fatalf("step %d: delay %d", i, d)
				}
			}
		}
	})
}
