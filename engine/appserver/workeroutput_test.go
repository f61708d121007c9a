package appserver

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineRecorder is one WorkerOutput writer: it keeps each Write.
type lineRecorder struct {
	id, pid int
	mu      sync.Mutex
	writes  []string
}

func (r *lineRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.writes = append(r.writes, string(p))
	r.mu.Unlock()
	return len(p), nil
}

func (r *lineRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

func TestWorkerOutputTagsLinesWithTheWorker(t *testing.T) {
	dir := writeApp(t, map[string]string{"app.py": `
import os, sys
def application(env, start_response):
    # A line written in pieces, flushed between them: it must still
    # arrive whole, and from this worker.
    sys.stderr.write("line from ")
    sys.stderr.flush()
    sys.stderr.write("pid %d\n" % os.getpid())
    sys.stderr.flush()
    print("stdout from pid %d" % os.getpid(), flush=True)
    if env["PATH_INFO"] == "/boom":
        raise RuntimeError("boom in pid %d" % os.getpid())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
`})
	var mu sync.Mutex
	recorders := map[int]*lineRecorder{} // by pid
	log := &syncBuffer{}
	s := &Server{
		Config: Config{Python: testPython, Chdir: dir, WSGIFile: "app.py", Processes: 2,
			Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}},
		Log: log,
	}
	s.WorkerOutput = func(id, pid int) (w io.Writer) {
		r := &lineRecorder{id: id, pid: pid}
		mu.Lock()
		recorders[pid] = r
		mu.Unlock()
		return r
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v\nlog:\n%s", err, log.String())
	}
	defer s.Stop()
	waitReady(t, s)
	base := "http://" + s.Addrs()[0]
	_, body := get(t, base+"/")
	pid := atoiTest(t, body)
	resp, _ := get(t, base+"/boom")
	if resp.StatusCode != 500 {
		t.Fatalf("/boom: %d", resp.StatusCode)
	}

	mu.Lock()
	r := recorders[pid]
	mu.Unlock()
	if r == nil {
		t.Fatalf("WorkerOutput was not called for pid %d (called for %v)", pid, recorders)
	}
	snap := s.Snapshot()
	var wantID int
	for _, w := range snap.Workers {
		if w.PID == pid {
			wantID = w.ID
		}
	}
	if wantID == 0 || r.id != wantID {
		t.Fatalf("pid %d: WorkerOutput got id %d, the snapshot says worker %d", pid, r.id, wantID)
	}
	want := []string{fmt.Sprintf("line from pid %d\n", pid), fmt.Sprintf("stdout from pid %d\n", pid)}
	for _, line := range want {
		waitFor(t, func() bool { return contains(r.all(), line) }, "line %q from worker %d; got %q", line, r.id, r.all())
	}
	// The app's exception is logged by the worker: its traceback reaches
	// the writer of the worker that raised it, line by line.
	boom := fmt.Sprintf("RuntimeError: boom in pid %d\n", pid)
	waitFor(t, func() bool { return contains(r.all(), boom) }, "traceback ending %q; got %q", boom, r.all())
	if !contains(r.all(), "Traceback (most recent call last):\n") {
		t.Errorf("no traceback head in %q", r.all())
	}
	mu.Lock()
	defer mu.Unlock()
	for p, rec := range recorders {
		for _, w := range rec.all() {
			if !strings.HasSuffix(w, "\n") || strings.Count(w, "\n") != 1 {
				t.Errorf("worker %d: a write that is not one whole line: %q", rec.id, w)
			}
			if strings.Contains(w, "from pid") && !strings.Contains(w, fmt.Sprintf("from pid %d\n", p)) {
				t.Errorf("worker %d (pid %d) got another process's line %q", rec.id, p, w)
			}
		}
	}
	if strings.Contains(log.String(), "line from pid") {
		t.Errorf("worker output reached Log too:\n%s", log.String())
	}
}

func TestWorkerOutputSplitsLines(t *testing.T) {
	r := &lineRecorder{}
	o := newWorkerOutput()
	o.setDst(r)
	o.Write([]byte("a"))
	o.Write([]byte("b\nc\nd"))
	o.Write([]byte(strings.Repeat("x", maxOutputLine+3)))
	o.flush()
	got := r.all()
	want := []string{"ab\n", "c\n", "d" + strings.Repeat("x", maxOutputLine-1), "xxxx"}
	if len(got) != len(want) {
		t.Fatalf("got %d writes %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("write %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, ok func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for "+format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func atoiTest(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
