//go:build linux

package rawsock

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// peerEnd is what serveOnce saw of a connection.
type peerEnd struct {
	remote string
	end    error // how its read after its answer ended: io.EOF for a FIN
}

// serveOnce accepts one connection on ln, reads n bytes, answers them
// back and closes its side (a FIN, as an upstream that closes after its
// answer), then reads how the other side ends.
func serveOnce(t *testing.T, ln net.Listener, n int) <-chan peerEnd {
	t.Helper()
	ends := make(chan peerEnd, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			ends <- peerEnd{end: err}
			return
		}
		defer s.Close()
		s.SetDeadline(time.Now().Add(5 * time.Second))
		pe := peerEnd{remote: s.RemoteAddr().String()}
		buf := make([]byte, n)
		if _, pe.end = io.ReadFull(s, buf); pe.end == nil {
			s.Write(buf)
			s.(*net.TCPConn).CloseWrite()
			_, pe.end = s.Read(buf)
		}
		ends <- pe
	}()
	return ends
}

// exchange writes msg on c and reads its echo up to the peer's close.
func exchange(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if got := readToEOF(t, c, 64); string(got) != msg {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

// TestDissolveAndRedial runs three connections on one socket: each peer
// sees a new connection from a new port, and each ends with a FIN, as a
// close would end it.
func TestDissolveAndRedial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, f := dialed(t, "tcp", ln.Addr().String())
	c.OnReadWait = func() { f.SetReadDeadline(time.Now().Add(5 * time.Second)) }
	c.OnWriteWait = func() { f.SetWriteDeadline(time.Now().Add(5 * time.Second)) }
	ports := map[string]bool{}
	for i, msg := range []string{"one!", "two!", "six!"} {
		ends := serveOnce(t, ln, 4)
		if i > 0 {
			if _, err := c.Redial("tcp", ln.Addr().String()); err != nil {
				t.Fatalf("redial: %v", err)
			}
		}
		exchange(t, c, msg)
		if !c.PeerClosed() {
			t.Fatalf("connection %d: the peer's close is not seen", i+1)
		}
		if err := c.Dissolve(); err != nil {
			t.Fatalf("dissolve: %v", err)
		}
		pe := <-ends
		if pe.end != io.EOF {
			t.Errorf("connection %d ended with %v, want a FIN (EOF)", i+1, pe.end)
		}
		if ports[pe.remote] {
			t.Errorf("connection %d came from %s again", i+1, pe.remote)
		}
		ports[pe.remote] = true
	}
}

// TestPeerClosed: not while the peer keeps the connection open, nor with
// unread data; yes once it closed and all was read.
func TestPeerClosed(t *testing.T) {
	c, f, s := connected(t)
	c.OnReadWait = func() { f.SetReadDeadline(time.Now().Add(5 * time.Second)) }
	if c.PeerClosed() {
		t.Error("an open connection is closed")
	}
	// on loopback the data and the FIN are queued by the time Close
	// returns
	s.Write([]byte("data"))
	s.Close()
	if c.PeerClosed() {
		t.Error("closed with unread data")
	}
	buf := make([]byte, 16)
	if n, err := c.Read(buf); n != 4 || err != nil {
		t.Fatalf("read %d %v", n, err)
	}
	if !c.PeerClosed() {
		t.Error("not closed after the peer's close with everything read")
	}
}

// TestRedialUnsupported: another family, or a unix path, is left to a new
// socket.
func TestRedialUnsupported(t *testing.T) {
	c, _, s := connected(t)
	s.Close()
	if err := c.Dissolve(); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"tcp", "[::1]:80"}, {"unix", "/tmp/x.sock"}, {"tcp", "localhost:80"}} {
		if _, err := c.Redial(a[0], a[1]); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Redial(%q, %q): %v", a[0], a[1], err)
		}
	}
	// a refused connect fails as Dial's does
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = c.Redial("tcp", addr)
	if err == nil {
		_, err = c.Write([]byte("x"))
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("redial to a closed port: %v", err)
	}
}

// TestDissolveClosedFile: the operations on a closed file fail with the
// poller's error, not a system call on a descriptor that may be reused.
func TestDissolveClosedFile(t *testing.T) {
	c, f, _ := connected(t)
	f.Close()
	if err := c.Dissolve(); err == nil || errors.As(err, new(syscall.Errno)) {
		t.Errorf("dissolve of a closed file: %v", err)
	}
	if c.PeerClosed() {
		t.Error("PeerClosed on a closed file")
	}
	if _, err := c.Redial("tcp", "127.0.0.1:1"); err == nil || errors.As(err, new(syscall.Errno)) {
		t.Errorf("redial of a closed file: %v", err)
	}
}
