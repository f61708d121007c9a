package stats

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// blockingApp answers /block only once the file named by the X-Release
// header exists, so a test can look at a request in progress without
// guessing how long it takes.
const blockingApp = `import os, time
def application(env, start_response):
    if env['PATH_INFO'] == '/block':
        while not os.path.exists(env['HTTP_X_RELEASE']):
            time.sleep(0.01)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'hello']
`

type uwsgiPeer struct {
	statsAddr, httpAddr string
	u                   *peertest.UWSGI
}

// logText returns uWSGI's log so far.
func (p *uwsgiPeer) logText() string { return p.u.LogText() }

// startUWSGI runs Debian's uWSGI with the app above, an HTTP socket and a
// stats socket, plus extra ini lines, and stops it when the test ends.
func startUWSGI(t *testing.T, extra ...string) *uwsgiPeer {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(blockingApp), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &uwsgiPeer{httpAddr: peertest.FreeAddr(t), statsAddr: peertest.FreeAddr(t)}
	ini := []string{"[uwsgi]", "plugins = python3", "http-socket = " + p.httpAddr, "wsgi-file = app.py",
		"stats = " + p.statsAddr, "memory-report = true"}
	ini = append(ini, extra...)
	path := filepath.Join(dir, "uwsgi.ini")
	if err := os.WriteFile(path, []byte(strings.Join(ini, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.u = peertest.StartUWSGIFile(t, path)
	// One request first: memory-report fills rss and vsz after a request.
	resp, err := http.Get("http://" + p.httpAddr + "/hello")
	if err != nil {
		t.Fatalf("uWSGI does not serve: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The stats server comes up after the sockets, once the workers run
	// (and uWSGI without a master has been seen to crash when its stats
	// socket is dialled before the app is loaded).
	peertest.WaitAddr(t, p.statsAddr, peertest.StartTimeout, p.u.Exited())
	return p
}

// fetchRaw reads one stats answer, sending req first if not nil.
func fetchRaw(t *testing.T, addr string, req []byte) []byte {
	t.Helper()
	return readAll(t, "tcp", addr, req)
}

// holdRequest starts a /block request and waits until uWSGI's stats show
// a core in it; the returned func releases it and waits for the answer.
func holdRequest(t *testing.T, p *uwsgiPeer, statsReq []byte) (release func()) {
	t.Helper()
	flag := filepath.Join(t.TempDir(), "release")
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+p.httpAddr+"/block?q=1", nil)
		req.Header.Set("X-Release", flag)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := fetchRaw(t, p.statsAddr, statsReq)
		if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 && statsReq != nil {
			raw = raw[i+4:]
		}
		var doc struct {
			Workers []struct {
				Cores []struct {
					InRequest int `json:"in_request"`
				} `json:"cores"`
			} `json:"workers"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("uWSGI's stats: %v\n%s", err, raw)
		}
		for _, w := range doc.Workers {
			for _, c := range w.Cores {
				if c.InRequest == 1 {
					return func() {
						os.WriteFile(flag, nil, 0o644)
						if err := <-done; err != nil {
							t.Errorf("/block: %v", err)
						}
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no core of uWSGI ever showed the request in progress:\n%s", raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// topScreen is the reader's last screen of two polls, its clock masked.
func topScreen(t *testing.T, addr string) []string {
	t.Helper()
	lines := runTop(t, addr, 2).Polls[1].Lines
	lines[0] = regexp.MustCompile(` - \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - `).ReplaceAllString(lines[0], " - TIME - ")
	return lines
}

var startupLine = regexp.MustCompile(`(?m)^\*\*\* Stats server enabled on (\S+) fd: \d+ \*\*\*$`)

// TestMatchesRealUWSGI starts the real uWSGI as the issue describes, takes
// its stats document while a request is in progress, and checks that our
// encoder, given the same values, writes the same bytes: same keys, same
// order, same types, same layout. Then the same through our Server, and
// the uwsgitop-like reader renders the same screen from both.
func TestMatchesRealUWSGI(t *testing.T) {
	p := startUWSGI(t)
	release := holdRequest(t, p, nil)
	defer release()

	// uWSGI updates some counters after the client has its answer, so take
	// a document that stays the same while the reader renders it.
	var theirs []byte
	var theirScreen []string
	for try := 0; ; try++ {
		theirs = fetchRaw(t, p.statsAddr, nil)
		theirScreen = topScreen(t, p.statsAddr)
		if bytes.Equal(fetchRaw(t, p.statsAddr, nil), theirs) {
			break
		}
		if try == 5 {
			t.Fatal("uWSGI's stats never settled")
		}
	}
	s := snapshotFromUWSGI(t, theirs)
	if got := AppendJSON(nil, &s, Format{}); !bytes.Equal(got, theirs) {
		t.Fatalf("our encoding differs from uWSGI's at byte %d:\n%s", firstDiff(got, theirs), diffContext(got, theirs))
	}
	if s.Workers[0].RSS == 0 || s.Workers[0].VSZ == 0 || len(s.Workers[0].Cores[0].Vars) == 0 {
		t.Fatalf("the comparison did not cover rss/vsz and vars: %+v", s.Workers[0])
	}
	if m := startupLine.FindStringSubmatch(p.logText()); m == nil || m[1] != p.statsAddr {
		t.Errorf("uWSGI's startup line does not have the shape ours has (%q):\n%s", m, p.logText())
	}

	var log logBuf
	srv := &Server{Addr: "127.0.0.1:0", Logf: log.logf, Snapshot: func() Snapshot { return s }}
	ln := listen(t, srv.Addr)
	serve(t, srv, ln)
	if ours := fetchRaw(t, ln.Addr().String(), nil); !bytes.Equal(ours, theirs) {
		t.Fatalf("our server's answer differs at byte %d:\n%s", firstDiff(ours, theirs), diffContext(ours, theirs))
	}
	if !startupLine.MatchString(log.String()) {
		t.Errorf("our startup line: %q", log.String())
	}

	// The reader renders both alike (the clock in the summary aside).
	ourScreen := topScreen(t, ln.Addr().String())
	if strings.Join(theirScreen, "\n") != strings.Join(ourScreen, "\n") {
		t.Errorf("uwsgitop screens differ:\nuWSGI:\n%s\nours:\n%s", strings.Join(theirScreen, "\n"), strings.Join(ourScreen, "\n"))
	}
	t.Logf("uwsgitop screen of both:\n%s", strings.Join(ourScreen, "\n"))
}

// TestMatchesRealUWSGIHTTPMinified does the same with several workers and
// threads, stats-http and stats-minified, comparing whole HTTP answers.
func TestMatchesRealUWSGIHTTPMinified(t *testing.T) {
	p := startUWSGI(t, "master = true", "processes = 2", "threads = 2", "stats-http = true", "stats-minified = true")
	req := []byte("GET / HTTP/1.0\r\n\r\n")
	release := holdRequest(t, p, req)
	defer release()

	theirs := fetchRaw(t, p.statsAddr, req)
	head, doc, ok := bytes.Cut(theirs, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("uWSGI's stats-http answer has no head: %q", theirs)
	}
	if want := strings.TrimSuffix(httpHead, "\r\n\r\n"); string(head) != want {
		t.Errorf("uWSGI's head %q, ours %q", head, want)
	}
	s := snapshotFromUWSGI(t, doc)
	if len(s.Workers) != 2 || len(s.Workers[0].Cores) != 2 {
		t.Fatalf("want 2 workers of 2 cores: %s", doc)
	}
	srv := &Server{HTTP: true, Format: Format{Minified: true}, Snapshot: func() Snapshot { return s }}
	ln := listen(t, "127.0.0.1:0")
	serve(t, srv, ln)
	if ours := fetchRaw(t, ln.Addr().String(), req); !bytes.Equal(ours, theirs) {
		t.Fatalf("our stats-http answer differs at byte %d:\n%s", firstDiff(ours, theirs), diffContext(ours, theirs))
	}
	runTop(t, "http://"+p.statsAddr+"/", 2)
}

// TestRealUWSGINoCores checks stats-no-cores against the real thing.
func TestRealUWSGINoCores(t *testing.T) {
	p := startUWSGI(t, "stats-no-cores = true")
	theirs := fetchRaw(t, p.statsAddr, nil)
	s := snapshotFromUWSGI(t, theirs)
	if got := AppendJSON(nil, &s, Format{NoCores: true}); !bytes.Equal(got, theirs) {
		t.Fatalf("differs at byte %d:\n%s", firstDiff(got, theirs), diffContext(got, theirs))
	}
}
