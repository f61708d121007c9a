package appserver

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// uwsgitopReader is the uwsgitop-style client of engine/stats.
var uwsgitopReader = filepath.Join("..", "stats", "testdata", "uwsgitop_reader.py")

// readStats reads one stats document the way uwsgitop does: connect, read
// to EOF, decode.
func readStats(t *testing.T, network, addr string) map[string]any {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("stats document: %v\n%s", err, b)
	}
	return doc
}

func statsWorkers(doc map[string]any) []map[string]any {
	var out []map[string]any
	for _, w := range doc["workers"].([]any) {
		out = append(out, w.(map[string]any))
	}
	return out
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// The stats server (TCP, unix, HTTP) writes uWSGI's document; a
// uwsgitop-style reader renders it, and its counters match the requests
// sent. rss and vsz are filled; a request in progress shows in its core.
func TestStatsServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unixStats := filepath.Join(dir, "stats.sock")
	s, log, base := superviseServer(t, func(c *Config) {
		c.Processes = 2
		c.Threads = 2
		c.Stats = "127.0.0.1:0"
	})
	waitLog(t, log, "*** Stats server enabled on 127.0.0.1:")
	const sent = 7
	for i := 0; i < sent; i++ {
		if resp, _ := get(t, base+"/?n="+strconv.Itoa(i)); resp.StatusCode != 200 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	}
	addr := s.StatsAddr()
	doc := readStats(t, "tcp", addr)
	if doc["version"] != Version || num(doc["pid"]) != int64(os.Getpid()) {
		t.Errorf("stats header: version %v pid %v", doc["version"], doc["pid"])
	}
	var requests, coreRequests int64
	for _, w := range statsWorkers(doc) {
		requests += num(w["requests"])
		if num(w["rss"]) <= 0 || num(w["vsz"]) <= num(w["rss"]) {
			t.Errorf("worker %v: rss %v vsz %v", w["id"], w["rss"], w["vsz"])
		}
		if num(w["respawn_count"]) != 1 || num(w["last_spawn"]) == 0 || w["status"] != "idle" || num(w["accepting"]) != 1 {
			t.Errorf("worker %v: %v", w["id"], w)
		}
		cores := w["cores"].([]any)
		if len(cores) != 2 {
			t.Errorf("worker %v has %d cores", w["id"], len(cores))
		}
		for _, c := range cores {
			coreRequests += num(c.(map[string]any)["requests"])
		}
	}
	if requests != sent || coreRequests != sent {
		t.Errorf("stats count %d requests (cores: %d), %d were sent", requests, coreRequests, sent)
	}
	sockets := doc["sockets"].([]any)
	if len(sockets) != 1 || sockets[0].(map[string]any)["proto"] != "http" || num(sockets[0].(map[string]any)["max_queue"]) != 100 {
		t.Errorf("sockets: %v", sockets)
	}

	// The uwsgitop-style reader renders it, counting the same requests.
	out, err := exec.Command("/usr/bin/python3", uwsgitopReader, "--polls", "2", addr).CombinedOutput()
	if err != nil {
		t.Fatalf("uwsgitop reader: %v\n%s", err, out)
	}
	var report struct {
		Polls []struct {
			Lines   []string
			Workers int
		}
		Errors []string
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("reader output: %v\n%s", err, out)
	}
	if len(report.Errors) > 0 || len(report.Polls) != 2 || report.Polls[1].Workers != 2 {
		t.Fatalf("reader: %s", out)
	}
	if head := report.Polls[1].Lines[0]; !strings.HasPrefix(head, "uwsgi-"+Version+" - ") || !strings.Contains(head, " - req: "+strconv.Itoa(sent)+" - ") {
		t.Errorf("reader header: %q", head)
	}
	t.Logf("uwsgitop screen:\n%s", strings.Join(report.Polls[1].Lines, "\n"))

	// A request in progress: its core is in_request, with its vars.
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(base + "/sleep?1")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitBusy(t, s)
	doc = readStats(t, "tcp", addr)
	found := false
	for _, w := range statsWorkers(doc) {
		for _, c := range w["cores"].([]any) {
			core := c.(map[string]any)
			if num(core["in_request"]) != 1 {
				continue
			}
			found = true
			vars := core["vars"].([]any)
			joined := ""
			for _, v := range vars {
				joined += v.(string) + "\n"
			}
			if !strings.Contains(joined, "REQUEST_METHOD=GET\n") || !strings.Contains(joined, "PATH_INFO=/sleep\n") || !strings.Contains(joined, "QUERY_STRING=1\n") || vars[len(vars)-1] != "" {
				t.Errorf("vars of the request in progress: %q", vars)
			}
			if num(core["req_info"].(map[string]any)["request_start"]) == 0 {
				t.Errorf("req_info: %v", core["req_info"])
			}
			if w["status"] != "busy" {
				t.Errorf("the worker serving it is %v", w["status"])
			}
		}
	}
	if !found {
		t.Errorf("no core in_request while /sleep runs: %v", doc["workers"])
	}
	<-done

	// A unix socket, stats-http and stats-minified.
	s2, _, _ := superviseServer(t, func(c *Config) {
		c.Stats = unixStats
		c.StatsMinified = true
	})
	_ = s2
	b, err := exec.Command("/usr/bin/python3", uwsgitopReader, "--polls", "1", unixStats).CombinedOutput()
	if err != nil {
		t.Errorf("reader on a unix socket: %v\n%s", err, b)
	}
	c, err := net.Dial("unix", unixStats)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(c)
	c.Close()
	if strings.ContainsAny(string(raw), "\n\t") {
		t.Errorf("stats-minified still has whitespace: %.200s", raw)
	}
	s3, _, _ := superviseServer(t, func(c *Config) {
		c.Stats = "127.0.0.1:0"
		c.StatsHTTP = true
	})
	resp, err := http.Get("http://" + s3.StatsAddr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/json" || !json.Valid(body) {
		t.Errorf("stats-http: %v %.200s", resp.Header, body)
	}
	b, err = exec.Command("/usr/bin/python3", uwsgitopReader, "--polls", "1", "http://"+s3.StatsAddr()+"/").CombinedOutput()
	if err != nil {
		t.Errorf("reader over HTTP: %v\n%s", err, b)
	}
}

// With cheaper, idle workers are stopped down to cheaper and come back
// under load; stats show them as "cheap".
func TestCheaper(t *testing.T) {
	t.Parallel()
	s, log, base := superviseServer(t, func(c *Config) {
		c.Processes = 3
		c.Cheaper = 1
		c.CheaperOverload = 1
		c.CheckInterval = 200 * time.Millisecond
		c.Stats = "127.0.0.1:0"
	})
	ev := recordEvents(t, s, EventCheaped, EventSpawned)
	snap := s.Snapshot()
	if snap.Workers[0].Status != WorkerIdle || snap.Workers[1].Status != WorkerCheap || snap.Workers[2].Status != WorkerCheap {
		t.Fatalf("at start: %v %v %v", snap.Workers[0].Status, snap.Workers[1].Status, snap.Workers[2].Status)
	}
	doc := readStats(t, "tcp", s.StatsAddr())
	ws := statsWorkers(doc)
	if ws[1]["status"] != "cheap" || num(ws[1]["pid"]) != 0 || ws[0]["status"] != "idle" {
		t.Errorf("stats of cheap workers: %v", ws)
	}
	// Load: every running worker busy for a few cycles brings the others.
	load := startWrk(t, base+"/sleep?0.1", 3*time.Second, 6)
	eventually(t, 10*time.Second, "three workers running", func() bool {
		n := 0
		for _, w := range s.Snapshot().Workers {
			if w.Status != WorkerCheap {
				n++
			}
		}
		return n == 3
	})
	r := <-load
	if r.Requests <= 0 || r.Non2xx != 0 || r.SocketErrors != 0 {
		t.Errorf("wrk under cheaper:\n%s", r.Output)
	}
	// Idle again: back down to one.
	eventually(t, 15*time.Second, "back to one worker", func() bool {
		n := 0
		for _, w := range s.Snapshot().Workers {
			if w.Status != WorkerCheap {
				n++
			}
		}
		return n == 1
	})
	if c, sp := ev.countAtLeast(t, EventCheaped, 2), ev.countAtLeast(t, EventSpawned, 2); c < 2 || sp < 2 {
		t.Errorf("events: %d cheaped, %d spawned", c, sp)
	}
	waitLog(t, log, "cheaped.")
	if resp, _ := get(t, base+"/"); resp.StatusCode != 200 {
		t.Errorf("GET after cheaping: %d", resp.StatusCode)
	}
}
