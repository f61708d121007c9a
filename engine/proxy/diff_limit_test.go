package proxy

import (
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The limit_req and limit_conn modules against real nginx. The zones use
// rate=1r/m, which leaks 16 thousandths of a request per second, so that
// no answer depends on how fast the requests follow one another; the
// excess the error log shows does (by a few thousandths), so the logs are
// compared with a tolerance on it (compareLimitLogs).

// excessRE finds the excess in a limit_req log line.
var excessRE = regexp.MustCompile(`excess: (\d+\.\d{3})`)

// compareLimitLogs compares the request lines of the error logs both
// servers write to {{LOGDIR}}/error.log: the same lines in the same
// order, the excess values within tol requests of nginx's. It returns
// ours.
func (p *pair) compareLimitLogs(tol float64) []string {
	p.t.Helper()
	read := func(side string) []string {
		b, err := os.ReadFile(filepath.Join(p.logDir, side, "error.log"))
		if err != nil {
			p.t.Fatalf("%s error log: %v", side, err)
		}
		return requestErrors(strings.Split(strings.TrimSpace(string(b)), "\n"))
	}
	want, got := read("ngx-logs"), read("ours-logs")
	for i := range got {
		got[i] = strings.ReplaceAll(got[i], "127.0.0.2", "127.0.0.1")
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		wm, gm := excessRE.FindStringSubmatch(w), excessRE.FindStringSubmatch(g)
		if wm != nil && gm != nil {
			wv, _ := strconv.ParseFloat(wm[1], 64)
			gv, _ := strconv.ParseFloat(gm[1], 64)
			if math.Abs(wv-gv) <= tol {
				w = excessRE.ReplaceAllString(w, "excess: X")
				g = excessRE.ReplaceAllString(g, "excess: X")
			}
		}
		if w != g {
			p.t.Errorf("error log line %d:\nnginx %s\nours  %s", i+1, w, g)
		}
	}
	if len(want) == 0 {
		p.t.Error("nginx logged no request line; the test is wrong")
	}
	return got
}

// TestDiffLimitReq: rejections with and without burst, limit_req_status,
// error pages for a rejection, several limit_req in a location, empty
// keys, dry runs, the inheritance between levels, and the log lines.
func TestDiffLimitReq(t *testing.T) {
	var zones strings.Builder
	for _, z := range []string{"nb", "b2", "s429", "ep", "ep429", "twoa", "dry", "ret", "srv", "own"} {
		fmt.Fprintf(&zones, "    limit_req_zone $binary_remote_addr zone=%s:32k rate=1r/m;\n", z)
	}
	p := newPair(t, zones.String()+`
    limit_req_zone $uri zone=twob:32k rate=1r/m;
    limit_req_zone $http_x_key zone=hdr:32k rate=1r/m;
    error_log {{LOGDIR}}/error.log warn;
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        add_header X-LR $limit_req_status always;
        location /nb/ { limit_req zone=nb; alias {{ROOT}}/; }
        location /b2/ { limit_req zone=b2 burst=2 nodelay; alias {{ROOT}}/; }
        location /s429/ { limit_req zone=s429; limit_req_status 429; alias {{ROOT}}/; }
        # the error page is in the limited location: a request already
        # decided is not limited again
        location /ep/ { limit_req zone=ep; error_page 503 /ep/50x.html; alias {{ROOT}}/; }
        location /ep429/ { limit_req zone=ep429; limit_req_status 429; limit_req_log_level warn; error_page 429 @toomany; }
        location @toomany { return 200 "slow down\n"; }
        location /two/ { limit_req zone=twoa burst=1 nodelay; limit_req zone=twob; alias {{ROOT}}/; }
        location /hdr/ { limit_req zone=hdr; alias {{ROOT}}/; }
        location /dry/ { limit_req zone=dry; limit_req_dry_run on; alias {{ROOT}}/; }
        # return runs in the rewrite phase, before limit_req
        location /ret/ { limit_req zone=ret; return 200 "returned\n"; }
    }
    server {
        listen 127.0.0.1:{{PORT2}};
        server_name localhost;
        root {{ROOT}};
        add_header X-LR $limit_req_status always;
        limit_req zone=srv;
        limit_req_status 429;
        location /inherit/ { alias {{ROOT}}/; }
        location /own/ { limit_req zone=own burst=1 nodelay; alias {{ROOT}}/; }
    }`)
	lr := []string{"X-LR"}
	c := func(path string, headers ...string) dcase {
		return dcase{path: path, headers: headers, check: lr}
	}
	got := p.run([]dcase{
		c("/nb/a.txt"), c("/nb/a.txt"), c("/nb/noext"),
		c("/b2/a.txt"), c("/b2/a.txt"), c("/b2/a.txt"), c("/b2/a.txt"),
		c("/s429/a.txt"), c("/s429/a.txt"),
		c("/ep/a.txt"), c("/ep/a.txt"),
		c("/ep429/a.txt"), c("/ep429/a.txt"),
		// twob (per URI) rejects the second /two/a.txt; twoa (per client,
		// one request of burst) then does not count it, so /two/noext
		// passes and only the next request is over twoa's burst
		c("/two/a.txt"), c("/two/a.txt"), c("/two/noext"), c("/two/dir/page.html"),
		c("/hdr/a.txt"), c("/hdr/a.txt"), c("/hdr/a.txt", "X-Key: a"), c("/hdr/a.txt", "X-Key: a"), c("/hdr/a.txt", "X-Key: b"), c("/hdr/noext"),
		c("/dry/a.txt"), c("/dry/a.txt"), c("/dry/a.txt"),
		c("/ret/"), c("/ret/"),
	})
	wantStatus := []int{200, 503, 503, 200, 200, 200, 503, 200, 429, 200, 503, 404, 429,
		200, 503, 200, 503, 200, 200, 200, 503, 200, 200, 200, 200, 200, 200, 200}
	wantLR := []string{"PASSED", "REJECTED", "REJECTED", "PASSED", "PASSED", "PASSED", "REJECTED", "PASSED", "REJECTED", "PASSED", "REJECTED", "PASSED", "REJECTED",
		"PASSED", "REJECTED", "PASSED", "REJECTED", "", "", "PASSED", "REJECTED", "PASSED", "", "PASSED", "REJECTED_DRY_RUN", "REJECTED_DRY_RUN", "", ""}
	for i, r := range got {
		if i < len(wantStatus) && (r.status != wantStatus[i] || r.header.Get("X-LR") != wantLR[i]) {
			t.Errorf("request %d: %d %q, want %d %q", i+1, r.status, r.header.Get("X-LR"), wantStatus[i], wantLR[i])
		}
	}
	if body := string(got[10].body); !strings.Contains(body, "custom 50x") {
		t.Errorf("error_page for the rejection: %q", body)
	}
	// the server's limit_req applies where a location has none; a
	// location's own replaces it
	got = p.runOn(p.port2, []dcase{
		c("/inherit/a.txt"), c("/inherit/a.txt"),
		c("/own/a.txt"), c("/own/a.txt"), c("/own/a.txt"),
	})
	for i, want := range []int{200, 429, 200, 200, 429} {
		if got[i].status != want {
			t.Errorf("port2 request %d: %d, want %d", i+1, got[i].status, want)
		}
	}
	logs := p.compareLimitLogs(0.1)
	for _, want := range []string{
		`[error] limiting requests, excess: `,
		`[warn] limiting requests, excess: `,
		`[error] limiting requests, dry run, excess: `,
		`by zone "twob"`,
	} {
		if !strings.Contains(strings.Join(logs, "\n"), want) {
			t.Errorf("no %q line in our log:\n%s", want, strings.Join(logs, "\n"))
		}
	}
}

// TestDiffLimitReqDelay: a request over the rate within the burst waits
// until its excess has leaked (about 1/rate), for nginx and for ours;
// delay= lets that many requests through at once. Only a generous lower
// bound of the wait is checked.
func TestDiffLimitReqDelay(t *testing.T) {
	p := newPair(t, `
    limit_req_zone $binary_remote_addr zone=d:32k rate=2r/s;
    limit_req_zone $binary_remote_addr zone=dd:32k rate=2r/s;
    limit_req_zone $binary_remote_addr zone=ddry:32k rate=2r/s;
    error_log {{LOGDIR}}/error.log warn;
    server {
        listen {{LISTEN}};
        server_name localhost;
        add_header X-LR $limit_req_status always;
        location /d/ { limit_req zone=d burst=5; alias {{ROOT}}/; }
        location /dd/ { limit_req zone=dd burst=5 delay=1; alias {{ROOT}}/; }
        location /ddry/ { limit_req zone=ddry burst=5; limit_req_dry_run on; alias {{ROOT}}/; }
    }`)
	cases := []dcase{
		{path: "/d/a.txt"}, {path: "/d/a.txt"},
		{path: "/dd/a.txt"}, {path: "/dd/a.txt"}, {path: "/dd/a.txt"},
		{path: "/ddry/a.txt"}, {path: "/ddry/a.txt"},
	}
	for i := range cases {
		cases[i].check = []string{"X-LR"}
	}
	wantLR := []string{"PASSED", "DELAYED", "PASSED", "PASSED", "DELAYED", "PASSED", "DELAYED_DRY_RUN"}
	// each server gets the whole sequence at once: interleaved, one
	// server's delay would let the other's bucket leak
	type timed struct {
		r    reply
		took time.Duration
	}
	serve := func(host string) []timed {
		var out []timed
		for _, c := range cases {
			start := time.Now()
			r := send(t, fmt.Sprintf("%s:%d", host, p.port), c.request(), "GET")
			out = append(out, timed{r, time.Since(start)})
		}
		return out
	}
	want, got := serve("127.0.0.1"), serve("127.0.0.2")
	for i, c := range cases {
		p.compare(c, want[i].r, got[i].r)
		for side, r := range map[string]timed{"nginx": want[i], "ours": got[i]} {
			if r.r.status != 200 || r.r.header.Get("X-LR") != wantLR[i] {
				t.Errorf("%s request %d: %d %q, want 200 %q", side, i+1, r.r.status, r.r.header.Get("X-LR"), wantLR[i])
			}
			// 2r/s: about 500 ms less the time since the previous request
			if wantLR[i] == "DELAYED" && r.took < 250*time.Millisecond {
				t.Errorf("%s request %d answered after %v: not delayed", side, i+1, r.took)
			}
		}
	}
	// 2r/s leaks 2 thousandths a millisecond: a tolerance of 0.4 is 200 ms
	logs := p.compareLimitLogs(0.4)
	if n := strings.Count(strings.Join(logs, "\n"), "[warn] delaying request, excess: "); n != 2 {
		t.Errorf("%d delay lines at warn, want 2:\n%s", n, strings.Join(logs, "\n"))
	}
}

// TestDiffLimitConn: limit_conn counts the requests in progress: while a
// slow upstream holds one, a second request of the same client is
// rejected (with limit_conn_status), a dry run lets it through, and once
// the first has ended the count is back.
func TestDiffLimitConn(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	up := holdingUpstream(t, arrived, release)
	p := newPair(t, `
    limit_conn_zone $binary_remote_addr zone=addr:32k;
    limit_conn_zone $http_x_key zone=hdr:32k;
    error_log {{LOGDIR}}/error.log warn;
    server {
        listen {{LISTEN}};
        server_name localhost;
        add_header X-LC $limit_conn_status always;
        limit_conn addr 1;
        location /hold/ { proxy_pass http://`+up+`; }
        location /static/ { alias {{ROOT}}/; }
        location /c429/ { limit_conn addr 1; limit_conn_status 429; limit_conn_log_level warn; alias {{ROOT}}/; }
        location /cdry/ { limit_conn addr 1; limit_conn_dry_run on; alias {{ROOT}}/; }
        location /hdr/ { limit_conn hdr 1; alias {{ROOT}}/; }
        location /ret/ { return 200 "returned\n"; }
    }`)
	lc := []string{"X-LC"}
	during := []dcase{
		{path: "/hold/b", check: lc},
		{path: "/static/a.txt", check: lc},
		{path: "/c429/a.txt", check: lc},
		{path: "/cdry/a.txt", check: lc},
		// another zone, an empty key: not counted
		{path: "/hdr/a.txt", check: lc},
		{path: "/hdr/a.txt", headers: []string{"X-Key: k"}, check: lc},
		{path: "/ret/", check: lc},
	}
	after := []dcase{{path: "/static/a.txt", check: lc}, {path: "/hold/c", check: lc}}
	type result struct{ held, during, after []reply }
	exercise := func(host string) result {
		addr := fmt.Sprintf("%s:%d", host, p.port)
		var res result
		var wg sync.WaitGroup
		hold := func(c dcase) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res.held = append(res.held, send(t, addr, c.request(), "GET"))
			}()
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: the held request did not reach the upstream", host)
			}
		}
		hold(dcase{path: "/hold/a"})
		for _, c := range during {
			res.during = append(res.during, send(t, addr, c.request(), "GET"))
		}
		release <- struct{}{}
		wg.Wait()
		res.after = append(res.after, send(t, addr, after[0].request(), "GET"))
		// a held request again: its count was given back
		hold(after[1])
		release <- struct{}{}
		wg.Wait()
		res.after = append(res.after, res.held[1])
		return res
	}
	want, got := exercise("127.0.0.1"), exercise("127.0.0.2")
	p.compare(dcase{path: "/hold/a", check: lc}, want.held[0], got.held[0])
	for i, c := range during {
		p.compare(c, want.during[i], got.during[i])
	}
	for i, c := range after {
		p.compare(c, want.after[i], got.after[i])
	}
	wantDuring := []struct {
		status int
		lc     string
	}{{503, "REJECTED"}, {503, "REJECTED"}, {429, "REJECTED"}, {200, "REJECTED_DRY_RUN"}, {200, ""}, {200, "PASSED"}, {200, ""}}
	for i, w := range wantDuring {
		if r := got.during[i]; r.status != w.status || r.header.Get("X-LC") != w.lc {
			t.Errorf("%s while held: %d %q, want %d %q", during[i].path, r.status, r.header.Get("X-LC"), w.status, w.lc)
		}
	}
	for i, r := range []reply{got.held[0], got.after[0], got.after[1]} {
		if r.status != 200 || r.header.Get("X-LC") != "PASSED" {
			t.Errorf("held or later request %d: %d %q, want 200 PASSED", i+1, r.status, r.header.Get("X-LC"))
		}
	}
	logs := p.compareLimitLogs(0)
	for _, want := range []string{
		`[error] limiting connections by zone "addr", client: 127.0.0.1, server: localhost, request: "GET /hold/b HTTP/1.1", host: "localhost"`,
		`[warn] limiting connections by zone "addr", client: 127.0.0.1, server: localhost, request: "GET /c429/a.txt HTTP/1.1", host: "localhost"`,
		`[error] limiting connections, dry run, by zone "addr", client: 127.0.0.1, server: localhost, request: "GET /cdry/a.txt HTTP/1.1", host: "localhost"`,
	} {
		if !strings.Contains(strings.Join(logs, "\n"), want) {
			t.Errorf("no line %q in our log:\n%s", want, strings.Join(logs, "\n"))
		}
	}
}

// accessStatusRE picks the request and the status out of a combined
// access log line.
var accessStatusRE = regexp.MustCompile(`"([^"]*)" (\d{3}) `)

// TestDiffLimitReqClientGone: a client that hangs up while its request
// is delayed, after sending more than the head (a pipelined request, a
// body, more body than the first read takes) or by a reset or a
// half-close: nginx notices at once, logs "client prematurely closed
// connection" at info (with the errno after a reset) and logs the
// request with 499; the pipelined request is not served. Ours the same.
func TestDiffLimitReqClientGone(t *testing.T) {
	p := newPair(t, `
    limit_req_zone $arg_k zone=gone:32k rate=1r/m;
    error_log {{LOGDIR}}/error.log info;
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /g/ { limit_req zone=gone burst=5; alias {{ROOT}}/; }
    }`)
	head := func(method, k, extra string) string {
		return fmt.Sprintf("%s /g/a.txt?k=%s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", method, k, extra)
	}
	cases := []struct {
		k, send, end string
	}{
		{"pipe", head("GET", "pipe", "") + head("GET", "pipe", ""), "close"},
		{"body", head("POST", "body", "Content-Length: 5\r\n") + "hello", "close"},
		{"big", head("POST", "big", "Content-Length: 200000\r\n") + strings.Repeat("x", 100000), "close"},
		{"reset", head("GET", "reset", "") + head("GET", "reset", ""), "reset"},
		{"half", head("POST", "half", "Content-Length: 5\r\n") + "hello", "half"},
	}
	count := func(path, sub string) int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), sub)
	}
	waitFor := func(path, sub string, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for count(path, sub) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: fewer than %d lines with %q", path, n, sub)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	exercise := func(host, logs string) {
		errLog := filepath.Join(p.logDir, logs, "error.log")
		addr := fmt.Sprintf("%s:%d", host, p.port)
		for i, c := range cases {
			if r := send(t, addr, head("GET", c.k, "Connection: close\r\n"), "GET"); r.status != 200 {
				t.Fatalf("%s: first request %s: %d", host, c.k, r.status)
			}
			nc := dialClient(t, addr).(*net.TCPConn)
			if _, err := io.WriteString(nc, c.send); err != nil {
				t.Fatal(err)
			}
			waitFor(errLog, "delaying request", i+1)
			switch c.end {
			case "close":
				nc.Close()
			case "reset":
				nc.SetLinger(0)
				nc.Close()
			case "half":
				nc.CloseWrite()
			}
			waitFor(errLog, "client prematurely closed connection", i+1)
		}
	}
	exercise("127.0.0.1", "ngx-logs")
	exercise("127.0.0.2", "ours-logs")
	// the error logs, without the line nginx writes for a connection that
	// closes before a request (the harness's probe)
	read := func(side string) []string {
		b, err := os.ReadFile(filepath.Join(p.logDir, side, "error.log"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range requestErrors(strings.Split(strings.TrimSpace(string(b)), "\n")) {
			if !strings.Contains(l, "while waiting for request") {
				out = append(out, excessRE.ReplaceAllString(strings.ReplaceAll(l, "127.0.0.2", "127.0.0.1"), "excess: X"))
			}
		}
		return out
	}
	want, got := read("ngx-logs"), read("ours-logs")
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("error log:\nnginx:\n%s\nours:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if !strings.Contains(strings.Join(want, "\n"), "client prematurely closed connection (104: Connection reset by peer)") {
		t.Errorf("nginx logged no reset: the case is wrong:\n%s", strings.Join(want, "\n"))
	}
	statuses := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range accessStatusRE.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1]+" "+m[2])
		}
		return out
	}
	wantAcc, gotAcc := statuses(p.ngx.AccessLog), statuses(filepath.Join(p.ngx.Dir, "ours-access.log"))
	if strings.Join(wantAcc, "\n") != strings.Join(gotAcc, "\n") {
		t.Errorf("access log:\nnginx:\n%s\nours:\n%s", strings.Join(wantAcc, "\n"), strings.Join(gotAcc, "\n"))
	}
	if n := strings.Count(strings.Join(wantAcc, "\n"), " 499"); n != len(cases) {
		t.Errorf("nginx logged %d requests 499, want %d: the case is wrong:\n%s", n, len(cases), strings.Join(wantAcc, "\n"))
	}
}
