package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawBackend is an HTTP server that answers with the request it received,
// byte for byte, so that what nginx and ours send upstream can be
// compared. Some paths ask for special answers.
type rawBackend struct {
	ln   net.Listener
	name string
}

func startBackend(t *testing.T, name string) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln, name: name}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return b
}

func (b *rawBackend) addr() string { return b.ln.Addr().String() }

func (b *rawBackend) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var head strings.Builder
		length := 0
		chunked := false
		keep := false
		first := ""
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if first == "" {
				first = line
			}
			head.WriteString(line)
			l := strings.ToLower(line)
			if strings.HasPrefix(l, "content-length:") {
				length, _ = strconv.Atoi(strings.TrimSpace(line[len("content-length:"):]))
			}
			if strings.HasPrefix(l, "transfer-encoding:") && strings.Contains(l, "chunked") {
				chunked = true
			}
			if strings.HasPrefix(l, "connection:") && strings.Contains(l, "keep-alive") {
				keep = true
			}
			if line == "\r\n" {
				break
			}
		}
		if strings.HasPrefix(first, "GET") || strings.HasPrefix(first, "HEAD") {
			keep = keep || strings.Contains(first, "HTTP/1.1") && !strings.Contains(strings.ToLower(head.String()), "connection: close")
		} else {
			keep = keep || strings.Contains(first, "HTTP/1.1") && !strings.Contains(strings.ToLower(head.String()), "connection: close")
		}
		body := make([]byte, length)
		io.ReadFull(br, body)
		_ = chunked
		path := strings.Fields(first)[1]
		echo := "backend " + b.name + "\n" + head.String() + string(body)
		conn := "close"
		if keep {
			conn = "keep-alive"
		}
		switch {
		case strings.HasPrefix(path, "/status/"):
			code := path[len("/status/"):]
			fmt.Fprintf(c, "HTTP/1.1 %s Custom Reason\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", code, len(echo), echo)
			return
		case path == "/redirect":
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: http://%s/target\r\nRefresh: 5; url=http://%s/r\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b.addr(), b.addr())
			return
		case path == "/relredirect":
			fmt.Fprintf(c, "HTTP/1.1 301 Moved\r\nLocation: /rel/target\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		case path == "/nolen":
			fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s", echo)
			return
		case path == "/chunked":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
			return
		case path == "/headers":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nServer: backend-server\r\nDate: Mon, 01 Jan 2001 00:00:00 GMT\r\nX-Pad: pad\r\nX-Accel-Buffering: no\r\nX-Custom: custom\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Type: text/html; charset=latin1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			return
		case strings.HasPrefix(path, "/validators"):
			// an answer with validators and ranges, for the filters
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nLast-Modified: Wed, 06 Mar 2024 06:07:08 GMT\r\nETag: \"v1\"\r\nAccept-Ranges: bytes\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789")
			return
		case strings.HasPrefix(path, "/plainlen"):
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789")
			return
		case path == "/close":
			return
		case path == "/slow":
			time.Sleep(1500 * time.Millisecond)
		case path == "/xaccel":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Accel-Redirect: /a.txt\r\nContent-Length: 7\r\nConnection: close\r\n\r\nignored")
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Backend: %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s", b.name, len(echo), conn, echo)
		if !keep {
			return
		}
	}
}

func TestDiffProxyPass(t *testing.T) {
	be := startBackend(t, "one")
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /plain/ { proxy_pass http://`+be.addr()+`; }
        location /uri/ { proxy_pass http://`+be.addr()+`/replaced/; }
        location /uri-noslash { proxy_pass http://`+be.addr()+`/x; }
        location /hdr/ {
            proxy_pass http://`+be.addr()+`;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Empty "";
            proxy_set_header User-Agent "";
        }
        location /v11/ {
            proxy_pass http://`+be.addr()+`;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /rw/ {
            rewrite ^/rw/(.*)$ /changed/$1 break;
            proxy_pass http://`+be.addr()+`/base/;
        }
        location /nohdr/ { proxy_pass http://`+be.addr()+`; proxy_pass_request_headers off; }
        location /dead/ { proxy_pass http://127.0.0.1:1; }
        location /slowp/ { proxy_pass http://`+be.addr()+`/slow; proxy_read_timeout 1s; }
        location /int/ {
            proxy_pass http://`+be.addr()+`/status/;
            proxy_intercept_errors on;
            error_page 404 /404.html;
        }
        location /redir-off/ { proxy_pass http://`+be.addr()+`/redirect; proxy_redirect off; }
        location /redir-explicit/ { proxy_pass http://`+be.addr()+`/redirect; proxy_redirect http://`+be.addr()+`/ /mapped/; }
        location / { proxy_pass http://`+be.addr()+`; }
        location ~ \.php$ { proxy_pass http://`+be.addr()+`; }
    }`)
	p.run([]dcase{
		{path: "/plain/a?x=1&y=%20", headers: []string{"X-Test: 1", "Cookie: a=1", "Cookie: b=2"}},
		{path: "/plain/a%2Fb//c/../d"},
		{path: "/plain"},
		{path: "/uri/sub/path?q=1"},
		{path: "/uri/a%20b"},
		{path: "/uri-noslash/more"},
		{path: "/hdr/x", headers: []string{"X-Forwarded-For: 10.0.0.1", "User-Agent: test-agent", "X-Empty: client"}},
		{path: "/v11/x"},
		{path: "/rw/a%20b?k=v"},
		{path: "/nohdr/x", headers: []string{"X-Test: 1"}},
		{path: "/plain/post", method: "POST", body: "hello=world"},
		{name: "chunked upload", raw: "POST /plain/chunk HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{path: "/plain/x", method: "HEAD"},
		{path: "/status/404"},
		{path: "/status/503"},
		{path: "/status/201"},
		{path: "/redirect", check: []string{"Refresh"}},
		{path: "/relredirect"},
		{path: "/redir-off/", check: []string{"Refresh"}},
		{path: "/redir-explicit/", check: []string{"Refresh"}},
		{path: "/nolen"},
		{raw: "GET /nolen HTTP/1.0\r\nHost: localhost\r\n\r\n"},
		{path: "/chunked"},
		{path: "/headers", check: []string{"Server", "X-Pad", "X-Accel-Buffering", "X-Custom", "Set-Cookie", "Date"}},
		{path: "/close"},
		{path: "/dead/"},
		{path: "/slowp/"},
		{path: "/int/404"},
		{path: "/int/500"},
		{path: "/xaccel"},
		{path: "/x.php?a=b"},
	})
}

func TestDiffUpstreamBalancing(t *testing.T) {
	a := startBackend(t, "A")
	b := startBackend(t, "B")
	c := startBackend(t, "C")
	p := newPair(t, `
    upstream weighted {
        server `+a.addr()+` weight=2;
        server `+b.addr()+`;
    }
    upstream withdead {
        server 127.0.0.1:1;
        server `+a.addr()+`;
    }
    upstream withbackup {
        server 127.0.0.1:1;
        server `+b.addr()+` backup;
    }
    upstream alldead {
        server 127.0.0.1:1;
        server 127.0.0.1:2;
    }
    upstream hashed {
        ip_hash;
        server `+a.addr()+`;
        server `+b.addr()+`;
        server `+c.addr()+`;
    }
    upstream least {
        least_conn;
        server `+a.addr()+`;
        server `+b.addr()+`;
    }
    upstream byuri {
        hash $request_uri;
        server `+a.addr()+`;
        server `+b.addr()+`;
        server `+c.addr()+`;
    }
    upstream ring {
        hash $request_uri consistent;
        server `+a.addr()+`;
        server `+b.addr()+` weight=2;
        server `+c.addr()+`;
    }
    upstream kept {
        server `+c.addr()+`;
        keepalive 4;
    }
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /w/ { proxy_pass http://weighted; }
        location /d/ { proxy_pass http://withdead; }
        location /b/ { proxy_pass http://withbackup; }
        location /x/ { proxy_pass http://alldead; }
        location /h/ { proxy_pass http://hashed; }
        location /l/ { proxy_pass http://least; }
        location /k/ { proxy_pass http://kept; proxy_http_version 1.1; proxy_set_header Connection ""; }
        location /xd/ { proxy_pass http://alldead; proxy_next_upstream off; }
        location /u/ { proxy_pass http://byuri; }
        location /c/ { proxy_pass http://ring; }
    }`)
	var cases []dcase
	for i := 0; i < 6; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("weighted %d", i), path: "/w/", check: []string{"X-Backend"}})
	}
	for i := 0; i < 3; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("withdead %d", i), path: "/d/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("backup %d", i), path: "/b/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("hash %d", i), path: "/h/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("least %d", i), path: "/l/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("kept %d", i), path: "/k/", check: []string{"X-Backend"}})
	}
	for i := 0; i < 8; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("hash by uri %d", i), path: fmt.Sprintf("/u/key%d", i), check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("consistent hash %d", i), path: fmt.Sprintf("/c/key%d", i), check: []string{"X-Backend"}})
	}
	cases = append(cases, dcase{name: "alldead 1", path: "/x/"}, dcase{name: "alldead 2", path: "/x/"}, dcase{name: "next off", path: "/xd/"})
	p.run(cases)
}
