package uwsgi

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// benchUpstream starts a minimal in-process uwsgi server that answers
// every packet with a fixed response, and returns its address.
func benchUpstream(b testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	response := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, _, err := uwsgiproto.ReadRequest(c, uwsgiproto.MaxVarsSize); err == nil {
					c.Write(response)
				}
			}()
		}
	}()
	return l.Addr().String()
}

// BenchmarkRoundTrip measures the transport's own cost per request against
// a minimal in-process uwsgi server, with Debian's params and a few headers,
// through net/http's types.
func BenchmarkRoundTrip(b *testing.B) {
	tr := &Transport{Addr: benchUpstream(b)}
	r := httptest.NewRequest("GET", "http://app.example/hello?name=bench", nil)
	r.Header.Set("User-Agent", "wrk")
	r.Header.Set("Accept", "*/*")
	r = withDebianParams(b, r)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := tr.RoundTrip(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkCall is the same exchange through a reused Call, as the proxy
// runs it.
func BenchmarkCall(b *testing.B) {
	tr := &Transport{Addr: benchUpstream(b)}
	r := httptest.NewRequest("GET", "http://app.example/hello?name=bench", nil)
	r.Header.Set("User-Agent", "wrk")
	r.Header.Set("Accept", "*/*")
	r = withDebianParams(b, r)
	c := &Call{Request: Request{Method: "GET", Params: ParamsFromContext(r.Context()), Header: upstream.ClientHeaders(r)}}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := tr.Start(c); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Close()
	}
}
