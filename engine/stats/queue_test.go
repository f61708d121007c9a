package stats

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestListenQueue fills a listener's accept queue with connections nobody
// accepts and watches ListenQueue count them.
func TestListenQueue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	q, size, ok := ListenQueue(ln)
	if !ok || q != 0 {
		t.Fatalf("empty queue: %d/%d ok=%v", q, size, ok)
	}
	somaxconn, _ := os.ReadFile("/proc/sys/net/core/somaxconn")
	if want, _ := strconv.Atoi(strings.TrimSpace(string(somaxconn))); size != want {
		t.Errorf("queue size %d, want net.core.somaxconn %d (Go's backlog)", size, want)
	}
	for i := range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The handshake completes in the kernel; wait for it to queue.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if q, _, _ = ListenQueue(ln); q == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %d connections the queue reads %d", i+1, q)
			}
			time.Sleep(time.Millisecond)
		}
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if q, _, _ := ListenQueue(ln); q != 2 {
		t.Errorf("after one accept the queue reads %d, want 2", q)
	}

	unixLn, err := net.Listen("unix", t.TempDir()+"/s.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer unixLn.Close()
	if _, _, ok := ListenQueue(unixLn); ok {
		t.Error("ListenQueue claims to read a unix socket's queue")
	}
}
