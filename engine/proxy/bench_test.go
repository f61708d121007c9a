package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// benchServer serves a directory with a 1 KB file from an in-process
// Server and returns its address.
func benchServer(b *testing.B, extra string) string {
	b.Helper()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "1k.txt"), []byte(strings.Repeat("x", 1024)), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	text := fmt.Sprintf(`events {}
http {
    access_log off;
    include /etc/nginx/mime.types;
    keepalive_requests 1000000;
    server { listen %s; root %s; %s }
}
`, addr, dir, extra)
	nc, err := nginxconf.LoadSource(filepath.Join(dir, "nginx.conf"), []byte(text), &nginxconf.Options{Prefix: dir})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Compile(nc, LoadOptions{Prefix: dir})
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(Options{})
	if err := s.Start(cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return addr
}

// hammer sends b.N keep-alive requests over 16 connections.
func hammer(b *testing.B, addr, path string) {
	const conns = 16
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	var wg sync.WaitGroup
	per := b.N/conns + 1
	b.ResetTimer()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 8192)
			for j := 0; j < per; j++ {
				if _, err := c.Write(req); err != nil {
					b.Error(err)
					return
				}
				length := -1
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						b.Error(err)
						return
					}
					if len(line) == 2 {
						break
					}
					if len(line) > 16 && string(line[:16]) == "Content-Length: " {
						fmt.Sscanf(string(line[16:]), "%d", &length)
					}
				}
				io.CopyN(io.Discard, br, int64(length))
			}
		}()
	}
	wg.Wait()
}

// BenchmarkStatic1K is the static-file path: a 1 KB file over keep-alive.
func BenchmarkStatic1K(b *testing.B) {
	addr := benchServer(b, "")
	hammer(b, addr, "/1k.txt")
}

// BenchmarkReturn is the request path without file I/O.
func BenchmarkReturn(b *testing.B) {
	addr := benchServer(b, `location = /r { return 200 "ok"; }`)
	hammer(b, addr, "/r")
}

// BenchmarkUWSGIPass is uwsgi_pass to a real uWSGI running a minimal WSGI
// app (the benchmark therefore includes uWSGI's own time).
func BenchmarkUWSGIPass(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("def application(e, s):\n    s('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hello world\\n']\n"), 0o644)
	up := peertest.FreeAddr(b)
	ini := fmt.Sprintf("[uwsgi]\nplugins = python3\nsocket = %s\nwsgi-file = %s/app.py\nprocesses = 2\nmaster = true\ndisable-logging = true\n", up, dir)
	peertest.StartUWSGI(b, ini)
	addr := benchServer(b, `location /app/ { include /etc/nginx/uwsgi_params; uwsgi_pass `+up+`; }`)
	hammer(b, addr, "/app/x")
}
