package stats

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// topReport is what testdata/uwsgitop_reader.py prints.
type topReport struct {
	Polls []struct {
		Lines   []string `json:"lines"`
		Workers int      `json:"workers"`
	} `json:"polls"`
	Errors []string `json:"errors"`
}

// runTop reads address the way uwsgitop does, polls times, and returns
// the screens it rendered.
func runTop(t *testing.T, address string, polls int) topReport {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("the uwsgitop-like reader needs %s: %v", python, err)
	}
	cmd := exec.Command(python, "testdata/uwsgitop_reader.py", "--polls", strconv.Itoa(polls), address)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var rep topReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("reader on %s: %v (%v)\nstdout: %s\nstderr: %s", address, err, jerr, out, stderr.String())
	}
	if err != nil || len(rep.Errors) > 0 {
		t.Fatalf("reader on %s: %v: %q\nstderr: %s", address, err, rep.Errors, stderr.String())
	}
	if len(rep.Polls) != polls {
		t.Fatalf("reader on %s rendered %d screens, want %d", address, len(rep.Polls), polls)
	}
	return rep
}

// liveSnapshot is a master whose counters move between polls: each call
// is one more request on worker 1.
func liveSnapshot(calls *atomic.Uint64) func() Snapshot {
	return func() Snapshot {
		s := sampleSnapshot()
		s.ListenQueue = 5
		n := calls.Add(1)
		s.Workers[0].Requests = 10 + n
		s.Workers[0].Cores[0].Requests = 10 + n
		s.Workers[1].Requests = 4
		s.Workers[1].TX = 2048
		return s
	}
}

var summaryLine = regexp.MustCompile(`^uwsgi-2\.0\.21-wsgideck - \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - req: (\d+) - RPS: (\d+) - lq: (\d+) - tx: (\S+)$`)

// TestUwsgitopReadsOurServer runs the uwsgitop-like reader against our
// server on every transport uwsgitop knows.
func TestUwsgitopReadsOurServer(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, addr string
		http       bool
	}{
		{"tcp", "127.0.0.1:0", false},
		{"unix", filepath.Join(dir, "stats.sock"), false},
		{"abstract", fmt.Sprintf("@wsgideck-top-%d", os.Getpid()), false},
		{"http", "127.0.0.1:0", true},
		{"tcp-minified", "127.0.0.1:0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Uint64
			srv := &Server{Addr: tc.addr, HTTP: tc.http, Snapshot: liveSnapshot(&calls),
				Format: Format{Minified: strings.HasSuffix(tc.name, "minified")}}
			ln := listen(t, tc.addr)
			serve(t, srv, ln)
			address := ln.Addr().String()
			if tc.http {
				address = "http://" + address + "/"
			}

			rep := runTop(t, address, 2)
			last := rep.Polls[1].Lines
			t.Logf("uwsgitop screen:\n%s", strings.Join(last, "\n"))
			m := summaryLine.FindStringSubmatch(last[0])
			if m == nil {
				t.Fatalf("summary line %q", last[0])
			}
			// Worker 1 served 10+n requests on poll n, worker 2 four:
			// the second poll sees 12+4, one more than the first.
			if m[1] != "16" || m[3] != "5" || m[4] != "3.0K" {
				t.Errorf("summary %q: want req 16, lq 5, tx 3.0K", last[0])
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("%d snapshots for 2 polls", n)
			}
			wantNode := "node: 127.0.0.1 - cwd: /home/ann/app - uid: 1000 - gid: 1000 - masterpid: 100"
			if tc.name == "unix" || tc.name == "abstract" {
				host, _ := os.Hostname()
				wantNode = strings.Replace(wantNode, "127.0.0.1", host, 1)
			}
			if last[1] != wantNode {
				t.Errorf("node line %q, want %q", last[1], wantNode)
			}
			if !strings.HasPrefix(last[2], " WID") {
				t.Errorf("header line %q", last[2])
			}
			// Worker 1 (most requests first): busy, 20 MB RSS, 200 MB VSZ;
			// then its cores; then worker 2, cheap.
			w1 := strings.Fields(last[3])
			if len(w1) != 16 || w1[0] != "1" || w1[2] != "101" || w1[3] != "12" || w1[7] != "busy" ||
				w1[8] != "0ms" || w1[9] != "20.0M" || w1[10] != "200.0M" || w1[12] != "2" || w1[14] != "1.5" {
				t.Errorf("worker 1 row %q", last[3])
			}
			spawn := time.Unix(1795310821, 0).Format("15:04:05")
			if w1[15] != spawn {
				t.Errorf("worker 1 last spawn %q, want %q", w1[15], spawn)
			}
			// uwsgitop lists a worker's cores by requests, fewest first.
			if c1 := strings.Fields(last[4]); len(c1) < 8 || c1[0] != ":1" || c1[3] != "3" || c1[7] != "idle" {
				t.Errorf("idle core row %q", last[4])
			}
			if c0 := strings.Fields(last[5]); len(c0) < 8 || c0[0] != ":0" || c0[2] != "-" || c0[3] != "12" || c0[7] != "busy" {
				t.Errorf("busy core row %q", last[5])
			}
			w2 := strings.Fields(last[6])
			if len(w2) != 16 || w2[0] != "2" || w2[7] != "cheap" || w2[15] != "--:--:--" {
				t.Errorf("worker 2 row %q", last[6])
			}
		})
	}
}

// TestUwsgitopSeesBadBytes checks the reason for our escaping: vars with
// control characters, quotes and invalid UTF-8, split by the reader's
// 4096-byte recv()s anywhere, still give a document json.loads accepts.
func TestUwsgitopSeesBadBytes(t *testing.T) {
	s := sampleSnapshot()
	var vars []string
	for i := range 200 {
		vars = append(vars, fmt.Sprintf("HTTP_X_%d=\"é\xff\x01\\%s", i, strings.Repeat("😀", i%7)))
	}
	s.Workers[0].Cores[0].Vars = vars
	srv := &Server{Snapshot: func() Snapshot { return s }}
	ln := listen(t, "127.0.0.1:0")
	serve(t, srv, ln)
	runTop(t, ln.Addr().String(), 1)
}
