//go:build linux

package upstream

import (
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// answerServer accepts connections on ln: each reads a line's worth,
// answers "ok" and closes, then signals closed, unless hold is set, when
// it keeps the connection open after answering.
func answerServer(t *testing.T, ln net.Listener, hold bool) (closed <-chan struct{}) {
	t.Helper()
	done := make(chan struct{}, 100)
	go func() {
		for {
			s, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 64)
				s.Read(buf)
				s.Write([]byte("ok"))
				if hold {
					s.Read(buf) // until the client goes
				}
				s.Close()
				done <- struct{}{}
			}()
		}
	}()
	return done
}

// request runs one exchange on c; readAll reads up to the upstream's
// close, else only the answer's two bytes. before, when set, runs before
// the Close.
func request(t *testing.T, c *Conn, network, addr string, readAll bool, before ...<-chan struct{}) {
	t.Helper()
	if err := c.dial(nil, nil, network, addr, time.Second); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatalf("write: %v", err)
	}
	var got []byte
	if readAll {
		got, _ = io.ReadAll(c)
	} else {
		got = make([]byte, 2)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	if string(got) != "ok" {
		t.Fatalf("answer %q", got)
	}
	for _, ch := range before {
		<-ch
	}
	c.Close()
}

func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestKeepSocket: with KeepSocket, a TCP connection that the upstream
// closed after its answer leaves its socket to the next dial; one that
// did not end cleanly, a unix socket, or a Conn without KeepSocket, do
// not.
func TestKeepSocket(t *testing.T) {
	closing := listen(t, "tcp", "127.0.0.1:0")
	closed := answerServer(t, closing, false)
	c := &Conn{KeepSocket: true, ReadTimeout: 5 * time.Second}
	defer c.Discard()
	request(t, c, "tcp", closing.Addr().String(), true, closed)
	kept := c.file
	if kept == nil || c.Open() {
		t.Fatalf("no socket kept (file %v, open %v)", kept, c.Open())
	}
	request(t, c, "tcp", closing.Addr().String(), true, closed)
	if c.file != kept {
		t.Fatal("the second connection did not reuse the kept socket")
	}
	// the answer's end read by its length, not by the close: the close is
	// seen when the connection is released
	request(t, c, "tcp", closing.Addr().String(), false, closed)
	if c.file != kept {
		t.Error("a connection the upstream closed was not kept when its end was not read")
	}

	// an upstream that keeps the connection open: closed for real
	holding := listen(t, "tcp", "127.0.0.1:0")
	answerServer(t, holding, true)
	request(t, c, "tcp", holding.Addr().String(), false)
	if c.file != nil {
		t.Error("a connection the upstream kept open was kept")
	}

	// a failed connection: closed for real
	dead := listen(t, "tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	if err := c.dial(nil, nil, "tcp", deadAddr, time.Second); err == nil {
		if _, err := c.Write([]byte("hi")); err == nil {
			t.Fatal("a write to a closed port succeeded")
		}
	}
	c.Close()
	if c.file != nil {
		t.Error("a refused connection's socket was kept")
	}

	// unix sockets cannot be connected again
	ux := listen(t, "unix", filepath.Join(t.TempDir(), "up.sock"))
	answerServer(t, ux, false)
	request(t, c, "unix", ux.Addr().String(), true)
	if c.file != nil {
		t.Error("a unix socket was kept")
	}

	// a kept TCP socket, then a unix upstream: the kept one is closed and
	// a new socket opened
	request(t, c, "tcp", closing.Addr().String(), true, closed)
	if c.file == nil {
		t.Fatal("no socket kept")
	}
	request(t, c, "unix", ux.Addr().String(), true)
	if c.file != nil {
		t.Error("a unix socket was kept")
	}

	// without KeepSocket
	plain := &Conn{ReadTimeout: 5 * time.Second}
	request(t, plain, "tcp", closing.Addr().String(), true)
	if plain.file != nil {
		t.Error("a socket was kept without KeepSocket")
	}
}
