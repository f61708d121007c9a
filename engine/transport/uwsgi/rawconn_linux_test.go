package uwsgi

import (
	"net"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// fullListener returns the address of a listening socket that never
// accepts and whose accept queue is already full: the kernel drops the
// next connect's SYN, so that connect stays pending, as with a host that
// does not answer.
func fullListener(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// a backlog of 0 holds one connection
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return addr
}

// TestRawConnectTimeout: the raw socket's connect is settled by its first
// write; one that stays pending fails with nginx's connect timeout.
func TestRawConnectTimeout(t *testing.T) {
	tr := &Transport{Addr: fullListener(t), ConnectTimeout: 100 * time.Millisecond}
	_, err := tr.RoundTrip(httptest.NewRequest("GET", "http://app.example/", nil))
	// the kernel's own give-up, minutes later, would read "connect()
	// failed (110: Connection timed out)"
	e := upstreamtest.WantUpstreamError(t, err, 504, "upstream timed out (110: Connection timed out) while connecting to upstream")
	if e.Phase != Connecting {
		t.Errorf("phase %v", e.Phase)
	}
}
