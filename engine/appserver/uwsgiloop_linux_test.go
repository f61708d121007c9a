package appserver

import (
	"strings"
	"testing"
	"time"
)

// TestUWSGILoopIdleWait: each loop's epoll set is in Go's netpoller, so
// an idle loop parks there (waitIdle), and a request after a quiet spell,
// which wakes it from there, is served.
func TestUWSGILoopIdleWait(t *testing.T) {
	s, _, sock := startLoopServer(t, nil)
	if len(s.loops) == 0 {
		t.Fatal("no uwsgi loop started")
	}
	for _, lp := range s.loops {
		if lp.idleWait == nil {
			t.Fatalf("loop on %s: no netpoller wait (see the log)", lp.l.addr)
		}
	}
	for i := 0; i < 3; i++ {
		// Past rawWaitMax with no event: the loop is idle when this comes.
		time.Sleep(2 * rawWaitMax * time.Millisecond)
		if out := loopGet(t, "unix", sock, "/len", "", "abc"); !strings.HasSuffix(out, "3 abc abc") {
			t.Fatalf("request %d after a quiet spell: %q", i, out)
		}
	}
}
