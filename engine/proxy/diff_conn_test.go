package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDiffTimeouts checks that both servers close the connection, without
// an answer, when the client stalls in the header, between keep-alive
// requests and in a body; and that the Keep-Alive header agrees.
func TestDiffTimeouts(t *testing.T) {
	be := startBackend(t, "t")
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        client_header_timeout 1s;
        client_body_timeout 1s;
        keepalive_timeout 1s 7;
        location /up/ { proxy_pass http://`+be.addr()+`; }
    }`)
	p.run([]dcase{
		{raw: "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", check: []string{"Keep-Alive", "Connection"}},
	})
	type stall struct {
		name string
		// first is sent, then the client goes quiet
		first string
		// answers is how many complete answers come before the close
		answers int
	}
	stalls := []stall{
		{"header", "GET /a.txt HTTP/1.1\r\nHost: x\r\n", 0},
		{"request line", "GET /a.t", 0},
		{"keep-alive", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"body", "POST /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 0},
	}
	var wg sync.WaitGroup
	for _, s := range stalls {
		for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", p.port), fmt.Sprintf("127.0.0.2:%d", p.port)} {
			wg.Add(1)
			go func(s stall, addr string) {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				start := time.Now()
				c.SetDeadline(start.Add(8 * time.Second))
				io.WriteString(c, s.first)
				br := bufio.NewReader(c)
				n := 0
				for {
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						break
					}
					io.Copy(io.Discard, resp.Body)
					n++
				}
				took := time.Since(start)
				if n != s.answers {
					t.Errorf("%s on %s: %d answers before the close, want %d", s.name, addr, n, s.answers)
				}
				if took < 900*time.Millisecond || took > 5*time.Second {
					t.Errorf("%s on %s: closed after %v, want about 1s", s.name, addr, took)
				}
			}(s, addr)
		}
	}
	wg.Wait()
}

// TestDiffKeepAliveConnection sends several requests on one connection,
// some pipelined, and checks the answers and the Connection headers agree.
func TestDiffKeepAliveConnection(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        keepalive_requests 3;
        location /body/ { return 200 "got $content_length\n"; }
    }`)
	raw := "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	want := normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.1:%d", p.port), raw))
	got := normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.2:%d", p.port), raw))
	if want != got {
		t.Errorf("pipelined answers differ:\nnginx:\n%s\nours:\n%s", want, got)
	}
	if strings.Count(want, "HTTP/1.1 ") != 3 {
		t.Errorf("keepalive_requests 3 should end the connection after 3 answers:\n%s", want)
	}
	raw = "POST /body/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"GET /a.txt HTTP/1.0\r\n\r\n"
	want = normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.1:%d", p.port), raw))
	got = normaliseDates(sendAll(t, fmt.Sprintf("127.0.0.2:%d", p.port), raw))
	if want != got {
		t.Errorf("chunked then 1.0 answers differ:\nnginx:\n%s\nours:\n%s", want, got)
	}
}

func normaliseDates(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		if strings.HasPrefix(l, "Date: ") {
			l = "Date: X"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}
