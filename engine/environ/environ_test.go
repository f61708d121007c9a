package environ

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// envMap is the dict the worker builds: later pairs win.
func envMap(e *Env) map[string]string {
	m := map[string]string{}
	for _, kv := range Parse(e.Bytes()) {
		m[kv[0]] = kv[1]
	}
	return m
}

func readHTTP(t *testing.T, raw string) (*HTTPRequest, *bufio.Reader, error) {
	t.Helper()
	br := bufio.NewReaderSize(strings.NewReader(raw), 16)
	var r HTTPRequest
	err := r.ReadHTTP(br, 4096)
	return &r, br, err
}

var conn = &ConnInfo{ServerName: "host", ServerPort: "8080", RemoteAddr: "127.0.0.1", RemotePort: "5555"}

func TestHTTPEnviron(t *testing.T) {
	raw := "\r\nGET /caf%C3%A9/a%20b?x=%20&y HTTP/1.1\r\n" +
		"Host: example.com:8080\r\n" +
		"Cookie: a=1\r\n" +
		"X-Forwarded-Proto: https\r\n" +
		"cookie: b=2\r\n" +
		"X_Evil: spoof\r\n" +
		"Content-Type: text/plain\r\n" +
		"Accept:   */*  \r\n" +
		"X-Latin: caf\xe9\r\n\r\nrest"
	r, br, err := readHTTP(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !r.KeepAlive || r.ContentLength != -1 || r.Chunked {
		t.Fatalf("%+v", r)
	}
	var e Env
	info := r.Environ(&e, conn, -1)
	m := envMap(&e)
	want := map[string]string{
		"REQUEST_METHOD":         "GET",
		"REQUEST_URI":            "/caf%C3%A9/a%20b?x=%20&y",
		"PATH_INFO":              "/caf\xc3\xa9/a b",
		"QUERY_STRING":           "x=%20&y",
		"SERVER_PROTOCOL":        "HTTP/1.1",
		"SCRIPT_NAME":            "",
		"SERVER_NAME":            "host",
		"SERVER_PORT":            "8080",
		"REMOTE_ADDR":            "127.0.0.1",
		"REMOTE_PORT":            "5555",
		"HTTP_HOST":              "example.com:8080",
		"HTTP_COOKIE":            "a=1; b=2",
		"CONTENT_TYPE":           "text/plain",
		"HTTP_ACCEPT":            "*/*",
		"HTTP_X_LATIN":           "caf\xe9",
		"wsgi.url_scheme":        "https",
		"HTTP_X_FORWARDED_PROTO": "https",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, ok := m["HTTP_X_EVIL"]; ok {
		t.Error("a header with an underscore was passed")
	}
	if info.Method != "GET" || info.URI != "/caf%C3%A9/a%20b?x=%20&y" || info.PathInfo != "/caf\xc3\xa9/a b" || info.Proto != "HTTP/1.1" {
		t.Errorf("info %+v", info)
	}
	if info.Vars != 2*e.Pairs() || info.VarsBytes != e.VarsSize() {
		t.Errorf("vars %d/%d", info.Vars, info.VarsBytes)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "rest" {
		t.Errorf("left in the reader: %q", rest)
	}
}

func TestRemoveDotSegments(t *testing.T) {
	// What uWSGI 2.0.21's http-socket gave for these (except "/..", where
	// uWSGI gives "" and RFC 3986 "/").
	cases := map[string]string{
		"/a//b/":          "/a//b/",
		"/a/./b":          "/a/b",
		"/a/b/..":         "/a/",
		"/a/b/../../../c": "/c",
		"/a%2e%2e/b":      "/a%2e%2e/b",
		"/x/%2e%2e/y":     "/x/%2e%2e/y",
		"/a/b/.":          "/a/b/",
		"/..":             "/",
		"/a..b/c.":        "/a..b/c.",
		"/.hidden/x":      "/.hidden/x",
		"/":               "/",
	}
	for in, want := range cases {
		if got := string(RemoveDotSegments([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestHTTPKeepAliveRules(t *testing.T) {
	cases := []struct {
		raw  string
		keep bool
	}{
		{"GET / HTTP/1.1\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
		{"GET / HTTP/1.0\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", false},
	}
	for _, c := range cases {
		r, _, err := readHTTP(t, c.raw)
		if err != nil {
			t.Fatalf("%q: %v", c.raw, err)
		}
		if r.KeepAlive != c.keep {
			t.Errorf("%q: keep-alive %v, want %v", c.raw, r.KeepAlive, c.keep)
		}
	}
}

func TestHTTPBadRequests(t *testing.T) {
	cases := map[string]int{
		"GET /\r\n\r\n":                         400,
		"GET / HTTP/2.0\r\n\r\n":                505,
		"G@T / HTTP/1.1\r\n\r\n":                400,
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n": 400,
		"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n":  400,
		"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n": 400,
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n":                     400,
		"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n":                501,
		"GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n":          414,
		"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n":   431,
		"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n":                              400,
	}
	for raw, status := range cases {
		_, _, err := readHTTP(t, raw)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != status {
			t.Errorf("%.40q: got %v, want HTTP %d", raw, err, status)
		}
	}
	if _, _, err := readHTTP(t, ""); err != io.EOF {
		t.Errorf("empty connection: %v, want io.EOF", err)
	}
	if _, _, err := readHTTP(t, "GET / HTTP/1.1\r\nHost: x"); err == nil || err == io.EOF {
		t.Errorf("truncated head: %v", err)
	}
}

func TestChunkedBody(t *testing.T) {
	raw := "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"3;ext=1\r\nabc\r\n" + "A\r\n0123456789\r\n" + "0\r\nTrailer: x\r\n\r\n" +
		"GET /next HTTP/1.1\r\n\r\n"
	r, br, err := readHTTP(t, raw)
	if err != nil || !r.Chunked || r.ContentLength != -1 {
		t.Fatalf("%+v %v", r, err)
	}
	body, err := io.ReadAll(NewChunkedReader(br))
	if err != nil || string(body) != "abc0123456789" {
		t.Fatalf("body %q err %v", body, err)
	}
	var e Env
	info := r.Environ(&e, conn, int64(len(body)))
	m := envMap(&e)
	if m["CONTENT_LENGTH"] != "13" || info.ContentLength != 13 {
		t.Errorf("CONTENT_LENGTH %q, info %d", m["CONTENT_LENGTH"], info.ContentLength)
	}
	if _, ok := m["HTTP_TRANSFER_ENCODING"]; ok {
		t.Error("Transfer-Encoding passed for a de-chunked body")
	}
	var next HTTPRequest
	if err := next.ReadHTTP(br, 4096); err != nil || string(next.Target) != "/next" {
		t.Fatalf("pipelined request after the body: %v %q", err, next.Target)
	}
	for _, bad := range []string{"zz\r\n", "3\r\nabcX", "3\r\nab", "1\r\na\r\n"} {
		if _, err := io.ReadAll(NewChunkedReader(bufio.NewReader(strings.NewReader(bad)))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFromVarsDuplicatesAndScheme(t *testing.T) {
	vars := pairs("REQUEST_METHOD", "POST", "REQUEST_URI", "/x?a=1", "PATH_INFO", "/x", "CONTENT_LENGTH", "12abc", "HTTP_COOKIE", "a=1", "HTTP_COOKIE", "b=2", "HTTPS", "on", "SERVER_PROTOCOL", "HTTP/1.1", "REMOTE_ADDR", "10.0.0.1", "HTTP_TRANSFER_ENCODING", "chunked", "BAD", "nul\x00byte")
	var e Env
	info := FromVars(&e, vars, 321)
	m := envMap(&e)
	if m["HTTP_COOKIE"] != "b=2" || m["wsgi.url_scheme"] != "https" {
		t.Errorf("env %v", m)
	}
	if _, ok := m["BAD"]; ok || e.Dropped() != 1 {
		t.Error("a value with NUL was passed")
	}
	if info.ContentLength != 12 || info.Method != "POST" || info.URI != "/x?a=1" || info.Vars != 22 || info.VarsBytes != 321 || info.RemoteAddr != "10.0.0.1" {
		t.Errorf("info %+v", info)
	}
	e.Reset()
	FromVars(&e, pairs("HTTPS", "on", "UWSGI_SCHEME", "ftp"), 0)
	if got := envMap(&e)["wsgi.url_scheme"]; got != "ftp" {
		t.Errorf("UWSGI_SCHEME: %q", got)
	}
	for https, want := range map[string]string{"on": "https", "ON": "https", "1": "https", "off": "http", "": "http"} {
		if got := Scheme("", https); got != want {
			t.Errorf("HTTPS=%q: %q, want %q", https, got, want)
		}
	}
}

func TestFromParamsFixesStockFastCGIParams(t *testing.T) {
	var e Env
	info := FromParams(&e, pairs("SCRIPT_NAME", "/hello/x", "DOCUMENT_URI", "/hello/x", "REQUEST_URI", "/hello/x?q"))
	m := envMap(&e)
	if m["PATH_INFO"] != "/hello/x" || m["SCRIPT_NAME"] != "" || info.PathInfo != "/hello/x" {
		t.Errorf("env %v info %+v", m, info)
	}
	e.Reset()
	FromParams(&e, pairs("SCRIPT_NAME", "/app", "PATH_INFO", "/x"))
	m = envMap(&e)
	if m["PATH_INFO"] != "/x" || m["SCRIPT_NAME"] != "/app" {
		t.Errorf("explicit PATH_INFO was changed: %v", m)
	}
}

// FuzzReadHTTP feeds arbitrary bytes to the HTTP head parser, the de-chunker
// and the environ builder: no panics, and an accepted head gives an environ
// whose pairs survive the wire encoding.
func FuzzReadHTTP(f *testing.F) {
	f.Add([]byte("GET /a%20b?x HTTP/1.1\r\nHost: h\r\nCookie: a\r\nCookie: b\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var r HTTPRequest
		for i := 0; i < 3; i++ {
			if err := r.ReadHTTP(br, 1024); err != nil {
				return
			}
			length := int64(-1)
			if r.Chunked {
				b, err := io.ReadAll(NewChunkedReader(br))
				if err != nil {
					return
				}
				length = int64(len(b))
			} else if r.ContentLength > 0 {
				br.Discard(int(min(r.ContentLength, 1<<20)))
			}
			var e Env
			info := r.Environ(&e, conn, length)
			if p := RemoveDotSegments(r.Target); hasDotSegment(p) {
				t.Fatalf("dot segments left in %q", p)
			}
			pairs := Parse(e.Bytes())
			if len(pairs) != e.Pairs()+1 {
				t.Fatalf("%d pairs on the wire, %d added (+ url_scheme)", len(pairs), e.Pairs())
			}
			if info.Method != string(r.Method) {
				t.Fatalf("method %q vs %q", info.Method, r.Method)
			}
		}
	})
}

// FuzzFromVars checks that any vars block that parses gives an environ whose
// wire form splits back into the same pairs (NUL-holding ones dropped).
func FuzzFromVars(f *testing.F) {
	seed, _ := uwsgiproto.AppendRequest(nil, 0, 0, pairs("REQUEST_METHOD", "GET", "CONTENT_LENGTH", "5"))
	f.Add(seed[uwsgiproto.HeaderSize:])
	f.Fuzz(func(t *testing.T, block []byte) {
		vars, err := uwsgiproto.ParseVars(block)
		if err != nil {
			return
		}
		var e Env
		FromVars(&e, vars, len(block))
		pairs := Parse(e.Bytes())
		if len(pairs) != len(vars)-e.Dropped()+1 {
			t.Fatalf("%d pairs for %d vars (%d dropped)", len(pairs), len(vars), e.Dropped())
		}
		j := 0
		for _, v := range vars {
			if strings.IndexByte(v.Key, 0) >= 0 || strings.IndexByte(v.Value, 0) >= 0 {
				continue
			}
			if pairs[j] != [2]string{v.Key, v.Value} {
				t.Fatalf("pair %d: %q, want %q", j, pairs[j], v)
			}
			j++
		}
	})
}

// pairs builds uwsgi vars from alternating keys and values.
func pairs(kv ...string) uwsgiproto.Vars {
	v := make(uwsgiproto.Vars, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v = append(v, uwsgiproto.Var{Key: kv[i], Value: kv[i+1]})
	}
	return v
}

// TestHTTPFragmentNotInPath: "#..." ends the path (uWSGI's http-socket and
// nginx drop it from PATH_INFO) but stays in QUERY_STRING and REQUEST_URI,
// as on uWSGI.
func TestHTTPFragmentNotInPath(t *testing.T) {
	for target, want := range map[string][2]string{
		"/env#frag":        {"/env", ""},
		"/a%20b#f?x":       {"/a b", "x"},
		"/env?a=1#frag":    {"/env", "a=1#frag"},
		"/x/..#/y/../../z": {"/", ""},
	} {
		r, _, err := readHTTP(t, "GET "+target+" HTTP/1.0\r\n\r\n")
		if err != nil {
			t.Fatal(err)
		}
		var e Env
		r.Environ(&e, conn, -1)
		m := envMap(&e)
		if m["PATH_INFO"] != want[0] || m["QUERY_STRING"] != want[1] || m["REQUEST_URI"] != target {
			t.Errorf("%s: PATH_INFO %q, QUERY_STRING %q, REQUEST_URI %q; want %q, %q", target, m["PATH_INFO"], m["QUERY_STRING"], m["REQUEST_URI"], want[0], want[1])
		}
	}
}
