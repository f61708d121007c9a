//go:build linux

package rawsock

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// dialed opens a raw socket to ln's address and binds a Conn to it.
func dialed(t *testing.T, network, addr string) (*Conn, *os.File) {
	t.Helper()
	f, _, err := Dial(network, addr)
	if err != nil {
		t.Fatalf("Dial %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { f.Close() })
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	c := new(Conn)
	if !c.Bind(rc) || !c.Bound() {
		t.Fatal("not bound")
	}
	return c, f
}

func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	ln.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(5 * time.Second))
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readToEOF reads c in reads of at most chunk bytes until the peer's
// close.
func readToEOF(t *testing.T, c *Conn, chunk int) []byte {
	t.Helper()
	var all []byte
	buf := make([]byte, chunk)
	for {
		n, err := c.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
}

// connected returns a raw socket connected to a TCP peer on loopback.
func connected(t *testing.T) (*Conn, *os.File, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, f := dialed(t, "tcp", ln.Addr().String())
	return c, f, accept(t, ln)
}

// TestExchange writes a request and reads the answer over TCP and a unix
// socket, then sees the peer's close as io.EOF.
func TestExchange(t *testing.T) {
	unixPath := filepath.Join(t.TempDir(), "s.sock")
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"tcp", "[::1]:0"}, {"unix", unixPath}} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			ln, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				if tc.addr == "[::1]:0" {
					t.Skip("no IPv6 loopback here")
				}
				t.Fatal(err)
			}
			defer ln.Close()
			c, _ := dialed(t, tc.network, ln.Addr().String())
			// the connect may still be in progress: the write settles it
			if n, err := c.Write([]byte("ping")); n != 4 || err != nil {
				t.Fatalf("write: %d %v", n, err)
			}
			s := accept(t, ln)
			got := make([]byte, 4)
			if _, err := io.ReadFull(s, got); err != nil || string(got) != "ping" {
				t.Fatalf("peer read %q %v", got, err)
			}
			s.Write([]byte("pong"))
			s.Close()
			if all := readToEOF(t, c, 2); string(all) != "pong" {
				t.Fatalf("read %q", all)
			}
			if n, err := c.Read(nil); n != 0 || err != nil {
				t.Fatalf("empty read: %d %v", n, err)
			}
		})
	}
}

// TestReadWaits: a read with nothing to read calls OnReadWait and waits
// for the data; the deadline OnReadWait sets ends a wait that gets none.
func TestReadWaits(t *testing.T) {
	c, f, s := connected(t)
	waits := 0
	deadline := 20 * time.Millisecond
	c.OnReadWait = func() {
		waits++
		f.SetReadDeadline(time.Now().Add(deadline))
	}
	buf := make([]byte, 16)
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || waits != 1 {
		t.Fatalf("read with nothing sent: %v after %d waits", err, waits)
	}
	// an expired deadline fails every call until the caller clears it
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || waits != 1 {
		t.Fatalf("read past the deadline: %v after %d waits", err, waits)
	}
	f.SetReadDeadline(time.Time{})
	deadline = 5 * time.Second
	go func() {
		time.Sleep(10 * time.Millisecond)
		s.Write([]byte("late"))
	}()
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "late" || waits != 2 {
		t.Fatalf("read %q %v after %d waits", buf[:n], err, waits)
	}
	// data already there: no wait
	s.Write([]byte("now"))
	time.Sleep(10 * time.Millisecond)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "now" || waits != 2 {
		t.Fatalf("read %q %v after %d waits", buf[:n], err, waits)
	}
}

// TestWriteWaits: a write larger than the socket buffers waits for the
// peer (OnWriteWait) and sends everything in order; with a peer that
// reads nothing, the deadline OnWriteWait sets ends it with what was
// sent.
func TestWriteWaits(t *testing.T) {
	c, f, s := connected(t)
	waits := 0
	c.OnWriteWait = func() {
		waits++
		f.SetWriteDeadline(time.Now().Add(5 * time.Second))
	}
	msg := make([]byte, 16<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(s, int64(len(msg))))
		got <- b
	}()
	if n, err := c.Write(msg); n != len(msg) || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("the peer got %d bytes, not what was sent", len(b))
	}
	if waits == 0 {
		t.Error("16 MB went through without a wait")
	}

	c.OnWriteWait = func() { f.SetWriteDeadline(time.Now().Add(20 * time.Millisecond)) }
	n, err := c.Write(msg)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= len(msg) {
		t.Fatalf("write to a peer that reads nothing: %d %v", n, err)
	}
}

// TestFailures: a refused connect fails at Dial or at the first write
// with ECONNREFUSED; a missing unix socket fails at Dial; a write to a
// closed peer is EPIPE or ECONNRESET, without a signal.
func TestFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f, _, err := Dial("tcp", addr)
	if err == nil {
		defer f.Close()
		rc, _ := f.SyscallConn()
		var c Conn
		c.Bind(rc)
		c.OnWriteWait = func() { f.SetWriteDeadline(time.Now().Add(5 * time.Second)) }
		_, err = c.Write([]byte("x"))
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect to a closed port: %v", err)
	}
	if _, _, err := Dial("unix", filepath.Join(t.TempDir(), "none.sock")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing unix socket: %v", err)
	}

	c, f, s := connected(t)
	c.OnWriteWait = func() { f.SetWriteDeadline(time.Now().Add(5 * time.Second)) }
	s.(*net.TCPConn).SetLinger(0) // a reset, so that writes fail at once
	s.Close()
	buf := make([]byte, 64<<10)
	err = nil
	for i := 0; i < 100 && err == nil; i++ {
		_, err = c.Write(buf)
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("write to a closed peer: %v", err)
	}
	// the poller's own errors come through: a closed file
	f.Close()
	if _, err := c.Read(buf); err == nil || errors.As(err, new(syscall.Errno)) {
		t.Errorf("read of a closed file: %v", err)
	}
}

// TestDialUnsupported: the addresses Dial leaves to the net package.
func TestDialUnsupported(t *testing.T) {
	for _, a := range [][2]string{
		{"tcp", "localhost:80"}, {"tcp", "[fe80::1%lo]:80"}, {"udp", "127.0.0.1:53"},
		{"unix", "@abstract"}, {"unix", ""}, {"unix", "/" + string(bytes.Repeat([]byte("x"), 200))},
		{"tcp4", "[::1]:80"}, {"tcp6", "127.0.0.1:80"},
	} {
		if f, _, err := Dial(a[0], a[1]); !errors.Is(err, errors.ErrUnsupported) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Dial(%q, %q): %v, want errors.ErrUnsupported", a[0], a[1], err)
		}
	}
}

// TestAcceptedConn drives the server side of a net.Conn, as the proxy
// does with its clients.
func TestAcceptedConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	s := accept(t, ln)
	rc, err := s.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var c Conn
	c.Bind(rc)
	cl.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	if _, err := c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	cl.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ = cl.Read(buf)
	if string(buf[:n]) != "HTTP/1.1 204 No Content\r\n\r\n" {
		t.Fatalf("client read %q", buf[:n])
	}
	c.Bind(nil)
	if c.Bound() {
		t.Error("still bound")
	}
}
