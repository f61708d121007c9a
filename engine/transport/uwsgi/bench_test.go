package uwsgi

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// BenchmarkRoundTrip measures the transport's own cost per request against
// a minimal in-process uwsgi server, with Debian's params and a few headers.
func BenchmarkRoundTrip(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
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
	tr := &Transport{Addr: l.Addr().String()}
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
