package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/a%20b//x/../c%2Fd?q=%20", "/%2e%2e/x", "/..", "/a/.", "/a/..?x#y", "/%", "/%00", "/a%3Fb?c", "/x#y?z", "//a//./b/", "/a/%2E%2E%2Fb"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, merge bool) {
		if !strings.HasPrefix(raw, "/") {
			raw = "/" + raw
		}
		u, args, _, err := normalizeURI(nil, raw, merge)
		if err != nil {
			return
		}
		s := string(u)
		if !strings.HasPrefix(s, "/") {
			t.Fatalf("%q normalised to %q: no leading slash", raw, s)
		}
		segs := strings.Split(s, "/")
		for i, seg := range segs {
			// a decoded "%2E" that was followed by something else is a
			// plain dot character; only whole "." and ".." segments are
			// resolved, and those may not survive
			if (seg == "." || seg == "..") && i > 0 {
				if !strings.ContainsAny(raw, "%") {
					t.Fatalf("%q normalised to %q: a %q segment is left", raw, s, seg)
				}
			}
		}
		if merge && strings.Contains(s, "//") && !strings.Contains(raw, "%") {
			t.Fatalf("%q normalised to %q: slashes not merged", raw, s)
		}
		if strings.ContainsRune(args, '#') {
			t.Fatalf("%q: args %q keep a fragment", raw, args)
		}
		if !strings.ContainsAny(s, "%?#") {
			again, _, _, err := normalizeURI(nil, s, merge)
			if err != nil || string(again) != s {
				t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, s, again, err)
			}
		}
	})
}

func FuzzParseRequestLine(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1", "GET http://h:8/x?y HTTP/1.0", "GET /", "POST  /a  HTTP/1.1 ", "get / HTTP/1.1", "GET / HTTP/2.0", "GET http://[::1]:80/ HTTP/1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rl, code := parseRequestLine(line)
		if code != parseOK {
			return
		}
		for _, c := range []byte(rl.method) {
			if !isMethodChar(c) {
				t.Fatalf("%q: method %q accepted", line, rl.method)
			}
		}
		for _, c := range []byte(rl.target) {
			if c <= 0x20 || c == 0x7f {
				t.Fatalf("%q: target %q has a space or control byte", line, rl.target)
			}
		}
		if !rl.http09 && (rl.major != 1) {
			t.Fatalf("%q: version %d.%d accepted", line, rl.major, rl.minor)
		}
	})
}

func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"0-4", "-3", "5-", "0-1,4-5", "x", "3-1", " 1 - 2 , 3-", "9999999999999999999999-"} {
		f.Add(s, int64(13))
	}
	f.Fuzz(func(t *testing.T, spec string, length int64) {
		if length < 0 {
			length = -length
		}
		ranges, res := parseRanges(spec, length, 1<<30)
		if res != rangeOK {
			return
		}
		var total int64
		for _, rg := range ranges {
			if rg.start < 0 || rg.start >= rg.end || rg.end > length {
				t.Fatalf("%q on %d: bad range %+v", spec, length, rg)
			}
			total += rg.end - rg.start
		}
		if total > length {
			t.Fatalf("%q on %d: %d bytes of ranges", spec, length, total)
		}
	})
}

// fuzzRequest is a request with enough state for variables to be read.
func fuzzRequest(t *testing.T, vt *varTable) *request {
	s := NewServer(Options{})
	c := &conn{srv: s, localIP: "127.0.0.1", localPort: "80", remoteIP: "127.0.0.1", remotePort: "5555"}
	srv := &vserver{name: "localhost", conf: defaultLocConf()}
	r := &request{c: c, cfg: &Config{vars: vt, Prefix: "/p/"}, srv: srv, conf: srv.conf,
		method: "GET", uri: "/a/b.txt", args: "x=1&y=2", rawTarget: "/a/b.txt?x=1&y=2", proto: "HTTP/1.1",
		contentLength: -1, line: "GET /a/b.txt?x=1&y=2 HTTP/1.1", start: time.Now()}
	c.req = *r
	r.c = c
	r.headers = []header{{name: "Host", lower: "host", value: "localhost"}, {name: "Cookie", lower: "cookie", value: "a=1; b=2"}}
	r.known[hHost] = 1
	r.resp.reset()
	return r
}

func FuzzCompileValue(f *testing.F) {
	for _, s := range []string{"plain", "$uri", "${uri}x", "$arg_x-$cookie_b", "$1$2", "${", "$", "a$b c", "$http_host$request_uri", "$status $body_bytes_sent"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vt := newVarTable()
		cv, err := compileValue(s, vt)
		if err != nil {
			return
		}
		for i := range vt.defined {
			vt.defined[i] = true
		}
		r := fuzzRequest(t, vt)
		v := cv.eval(r)
		if !strings.Contains(s, "$") && v != s {
			t.Fatalf("literal %q evaluated to %q", s, v)
		}
	})
}

func FuzzLogFormat(f *testing.F) {
	for _, s := range []string{combinedFormat, `{"u":"$uri"}`, "$time_local $msec", "$upstream_status $request_time", "\"$http_user_agent\""} {
		f.Add(s, "default")
		f.Add(s, "json")
	}
	f.Fuzz(func(t *testing.T, s, escape string) {
		vt := newVarTable()
		lf, err := compileLogFormat("f", escape, s, vt)
		if err != nil {
			return
		}
		for i := range vt.defined {
			vt.defined[i] = true
		}
		r := fuzzRequest(t, vt)
		line := lf.format(r, nil)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			t.Fatalf("%q: line %q does not end in a newline", s, line)
		}
		if lf.escape == escapeDefault && bytes.IndexByte(line[:len(line)-1], '\n') >= 0 && !strings.Contains(s, "\n") {
			t.Fatalf("%q: a variable put a raw newline in %q", s, line)
		}
	})
}

func FuzzRewrite(f *testing.F) {
	f.Add("^/old/(.*)$", "/new/$1?x=$1", "/old/a%20b")
	f.Add("(?<n>\\d+)", "/n/$n", "/123")
	f.Add("^", "http://h/$request_uri", "/")
	f.Add("^(a)(b)?$", "/$1$2$3", "ab")
	f.Fuzz(func(t *testing.T, pattern, replacement, uri string) {
		re, err := compileRegex(pattern)
		if err != nil {
			return
		}
		vt := newVarTable()
		vt.defineCaptures(re)
		repl, err := compileValue(replacement, vt)
		if err != nil {
			return
		}
		for i := range vt.defined {
			vt.defined[i] = true
		}
		r := fuzzRequest(t, vt)
		r.quotedURI = true
		op := &scriptOp{kind: opRewrite, re: re, repl: repl, addArgs: true, flag: flagLast}
		if !r.matchRegex(re, uri) {
			return
		}
		res, stop := r.doRewrite(op)
		if !stop {
			t.Fatalf("last did not stop")
		}
		if res.kind == scriptContinue && r.uri == "" {
			t.Fatalf("empty URI accepted")
		}
	})
}

// FuzzCompile feeds arbitrary config text through the parser, the checker
// and compile: errors are fine, panics are not.
func FuzzCompile(f *testing.F) {
	f.Add("events {}\nhttp { server { listen 127.0.0.1:1; location / { return 200 x; } } }\n")
	f.Add("http { upstream u { server 127.0.0.1:1 weight=2; ip_hash; } server { listen 1; location ~ ^/(a)$ { proxy_pass http://u/$1; } } }")
	f.Add("http { map $uri $x { default 1; ~a 2; } server { listen 1; if ($x) { set $y 1; } error_page 404 =200 @n; location @n { return 204; } } }")
	f.Add("http { server { listen unix:/tmp/x.sock; location / { try_files $uri $uri/ =404; alias /x/; } location = / { uwsgi_pass 127.0.0.1:1; uwsgi_param A $a if_not_empty; } } }")
	f.Add("http { limit_req_zone $binary_remote_addr zone=r:10m rate=5r/m; limit_conn_zone $uri zone=c:32k; limit_req_status 429; server { listen 1; limit_conn c 2; location / { limit_req zone=r burst=3 delay=1; limit_req_dry_run on; } } }")
	dir := f.TempDir()
	noDNS := func(string) ([]string, error) { return nil, errors.New("no DNS in fuzzing") }
	noFiles := func(string) ([]byte, error) { return nil, os.ErrNotExist }
	// a fuzzed include pattern must not walk the real file system
	noGlob := func(string) ([]string, error) { return nil, nil }
	f.Fuzz(func(t *testing.T, text string) {
		nc, err := nginxconf.LoadSource(dir+"/nginx.conf", []byte(text), &nginxconf.Options{Prefix: dir, ReadFile: noFiles, Glob: noGlob})
		if err != nil || nc == nil {
			return
		}
		Compile(nc, LoadOptions{Prefix: dir, LookupHost: noDNS})
	})
}

// FuzzRequestHead feeds arbitrary bytes to the request reader and the
// handler: whatever the client sends, the server answers or closes.
func FuzzRequestHead(f *testing.F) {
	f.Add("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	f.Add("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	f.Add("GET http://h/%2e%2e/ HTTP/1.0\r\nRange: bytes=0-1,2-\r\nIf-None-Match: *\r\n\r\n")
	f.Add("\r\nGET /\r\n")
	cfg := fuzzConfig(f)
	f.Fuzz(func(t *testing.T, raw string) {
		s := NewServer(Options{})
		s.cfg.Store(cfg)
		client, server := net.Pipe()
		c := newConn(s, server, 1)
		c.unix = false
		c.localIP, c.localPort = "127.0.0.1", "1"
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		done := make(chan struct{})
		go func() {
			c.serve()
			close(done)
		}()
		go func() {
			client.SetDeadline(time.Now().Add(2 * time.Second))
			client.Write([]byte(raw))
			client.Close()
		}()
		go io.Copy(io.Discard, bufio.NewReader(client))
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the connection did not end for %q", raw)
		}
	})
}

func fuzzConfig(f *testing.F) *Config {
	dir := f.TempDir()
	text := `events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:1;
        root ` + dir + `;
        client_header_timeout 1s;
        client_body_timeout 1s;
        keepalive_timeout 1s;
        location / { try_files $uri $uri/ @n; }
        location @n { return 200 "$uri $args $http_host\n"; }
        location ~ \.x$ { rewrite ^/(.*)\.x$ /$1?q=$1 last; }
    }
}
`
	nc, err := nginxconf.LoadSource(dir+"/nginx.conf", []byte(text), &nginxconf.Options{Prefix: dir})
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := Compile(nc, LoadOptions{Prefix: dir})
	if err != nil {
		f.Fatal(err)
	}
	return cfg
}
