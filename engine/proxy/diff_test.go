package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// The differential harness: one config served by real nginx on
// 127.0.0.1:PORT and by this package on 127.0.0.2:PORT (same port, so
// redirects built from the Host header are identical), and a table of raw
// requests sent to both. Status, the status line, the headers that carry
// meaning and the body must match, and at the end of the test the error
// log lines about requests (see compareErrorLogs).

// pair is nginx and our server running one config.
type pair struct {
	t    *testing.T
	ngx  *peertest.Nginx
	srv  *Server
	port int
	// port2 is a second port for configs with two addresses ({{PORT2}}).
	port2 int
	root  string
	// oursConf is the config file ours runs.
	oursConf string
	logs     []string
	// logDir holds ngx-logs/ and ours-logs/ for {{LOGDIR}}.
	logDir string
	// logsCompared is set once the error logs were compared.
	logsCompared bool
}

// freeBothPort finds a port free on 127.0.0.1 and 127.0.0.2.
func freeBothPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := peertest.FreePort(t)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return 0
}

// fixtures writes the document root the tests serve.
func fixtures(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"index.html":      "<html>index</html>\n",
		"a.txt":           "hello, world\n",
		"big.txt":         strings.Repeat("0123456789abcdef", 512),
		"style.CSS":       "body{}\n",
		"noext":           "no extension\n",
		"dir/index.html":  "<p>dir index</p>\n",
		"dir/page.html":   "<p>page</p>\n",
		"empty/.keep":     "",
		"list/b.txt":      "b\n",
		"list/a file.txt": "a file\n",
		"list/sub/x":      "x\n",
		"list/" + strings.Repeat("long", 15) + ".txt": "long\n",
		"404.html":            "<h1>custom not found</h1>\n",
		"50x.html":            "<h1>custom 50x</h1>\n",
		"static/app.js":       "console.log(1)\n",
		"static/logo.png":     "\x89PNG fake\n",
		"alias-target/t.txt":  "from alias\n",
		"php/index.php":       "<?php ?>\n",
		"images/1.gif":        "GIF89a\n",
		"documents/1.jpg":     "jpg\n",
		"documents/doc.html":  "doc\n",
		"fallback.html":       "fallback\n",
		"space dir/f.txt":     "space\n",
		"gz/page.html":        strings.Repeat("<p>compress me please</p>\n", 40),
		"gz/tiny.html":        "<p>x</p>",
		"gz/data.json":        strings.Repeat(`{"k":"v"},`, 50),
		"maint/on":            "1\n",
		"utf/été.txt":         "ete\n",
		"dot.dir/file.tar.gz": "tgz\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// fixed times, so that listings and Last-Modified agree to the second
	mt := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			os.Chtimes(p, mt, mt)
		}
		return nil
	})
	return root
}

// newPair starts nginx and ours on httpBody (the inside of the http
// block). In httpBody, {{LISTEN}} is the listen address and {{ROOT}} the
// fixture directory; {{PORT}} is the bare port.
func newPair(t *testing.T, httpBody string) *pair {
	t.Helper()
	port := freeBothPort(t)
	port2 := freeBothPort(t)
	root := fixtures(t)
	body := strings.NewReplacer(
		"{{LISTEN}}", fmt.Sprintf("127.0.0.1:%d", port),
		"{{PORT}}", strconv.Itoa(port),
		"{{PORT2}}", strconv.Itoa(port2),
		"{{ROOT}}", root,
	).Replace(httpBody)
	logDir := t.TempDir()
	os.MkdirAll(filepath.Join(logDir, "ngx-logs"), 0o755)
	os.MkdirAll(filepath.Join(logDir, "ours-logs"), 0o755)
	ngx := peertest.StartNginx(t, strings.ReplaceAll(body, "{{LOGDIR}}", logDir+"/ngx-logs"))
	src, err := os.ReadFile(filepath.Join(ngx.Dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	ours := strings.ReplaceAll(string(src), fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.2:%d", port))
	ours = strings.ReplaceAll(ours, fmt.Sprintf("127.0.0.1:%d", port2), fmt.Sprintf("127.0.0.2:%d", port2))
	ours = strings.ReplaceAll(ours, ngx.Dir+"/access.log", ngx.Dir+"/ours-access.log")
	ours = strings.ReplaceAll(ours, logDir+"/ngx-logs", logDir+"/ours-logs")
	oursConf := filepath.Join(ngx.Dir, "ours.conf")
	if err := os.WriteFile(oursConf, []byte(ours), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &pair{t: t, ngx: ngx, port: port, port2: port2, root: root, oursConf: oursConf, logDir: logDir}
	cfg, _, err := Load(oursConf, LoadOptions{Prefix: ngx.Dir})
	if err != nil {
		t.Fatalf("our Load: %v", err)
	}
	p.srv = NewServer(Options{Identity: "nginx/1.22.1", Logf: func(f string, a ...any) {
		p.logs = append(p.logs, fmt.Sprintf(f, a...))
	}})
	if err := p.srv.Start(cfg); err != nil {
		t.Fatalf("our Start: %v", err)
	}
	t.Cleanup(func() {
		p.srv.Close()
		if t.Failed() && len(p.logs) > 0 {
			t.Logf("our error log:\n%s", strings.Join(p.logs, "\n"))
		}
	})
	// the error log is compared too: the lines about requests must be
	// nginx's, in nginx's order
	t.Cleanup(p.compareErrorLogs)
	return p
}

// reply is one parsed response.
type reply struct {
	status     int
	statusLine string
	header     http.Header
	body       []byte
	raw        string
	closed     bool // the server closed without an answer
}

// send writes raw to addr and reads one response.
func send(t *testing.T, addr, raw, method string) reply {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("write %s: %v", addr, err)
	}
	var buf bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &buf))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return reply{closed: true, raw: buf.String()}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	line := strings.SplitN(buf.String(), "\r\n", 2)[0]
	return reply{status: resp.StatusCode, statusLine: line, header: resp.Header, body: body, raw: buf.String()}
}

// dcase is one request of a table.
type dcase struct {
	name string
	// raw is the full request; when empty, one is built from method,
	// path and headers (Host: localhost and Connection: close added).
	raw     string
	method  string
	path    string
	headers []string
	body    string
	// check names extra headers to compare.
	check []string
	// gzip compares bodies after decompressing.
	gzip bool
}

func (c dcase) request() string {
	if c.raw != "" {
		return c.raw
	}
	m := c.method
	if m == "" {
		m = "GET"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", m, c.path)
	hasHost := false
	for _, h := range c.headers {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			hasHost = true
		}
	}
	if !hasHost {
		b.WriteString("Host: localhost\r\n")
	}
	for _, h := range c.headers {
		b.WriteString(h + "\r\n")
	}
	if c.body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(c.body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(c.body)
	return b.String()
}

func (c dcase) meth() string {
	if c.raw != "" {
		return strings.SplitN(c.raw, " ", 2)[0]
	}
	if c.method == "" {
		return "GET"
	}
	return c.method
}

// always compared.
var baseHeaders = []string{"Location", "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"}

var boundaryRE = regexp.MustCompile(`\d{20}`)

// run sends every case to both servers and compares. It returns our
// replies, for checks that the answers are the expected ones and not just
// equal.
func (p *pair) run(cases []dcase) []reply {
	p.t.Helper()
	return p.runOn(p.port, cases)
}

// runOn is run against another port of the pair.
func (p *pair) runOn(port int, cases []dcase) []reply {
	p.t.Helper()
	var out []reply
	for _, c := range cases {
		raw := c.request()
		want := send(p.t, fmt.Sprintf("127.0.0.1:%d", port), raw, c.meth())
		got := send(p.t, fmt.Sprintf("127.0.0.2:%d", port), raw, c.meth())
		p.compare(c, want, got)
		out = append(out, got)
	}
	return out
}

// expect checks that a reply has the status and contains the text.
func expect(t *testing.T, r reply, status int, text string) {
	t.Helper()
	if r.status != status || !strings.Contains(string(r.body), text) {
		t.Errorf("want %d with %q, got %d:\n%s", status, text, r.status, clip(r.raw))
	}
}

func (p *pair) compare(c dcase, want, got reply) {
	t := p.t
	t.Helper()
	name := c.name
	if name == "" {
		name = strings.SplitN(c.request(), "\r\n", 2)[0]
	}
	if want.closed != got.closed {
		t.Errorf("%s: nginx closed=%v, ours closed=%v\nnginx:\n%s\nours:\n%s", name, want.closed, got.closed, want.raw, got.raw)
		return
	}
	if want.closed {
		// no parseable answer (HTTP/0.9, or a closed connection): the
		// bytes must still agree
		if want.raw != got.raw {
			t.Errorf("%s: raw answers differ\nnginx:\n%q\nours:\n%q", name, want.raw, got.raw)
		}
		return
	}
	var diffs []string
	if want.status != got.status || want.statusLine != got.statusLine {
		diffs = append(diffs, fmt.Sprintf("status: nginx %q, ours %q", want.statusLine, got.statusLine))
	}
	for _, h := range append(append([]string(nil), baseHeaders...), c.check...) {
		wv := strings.Join(want.header.Values(h), "|")
		// ours listens on 127.0.0.2: a redirect built from the local
		// address (no Host) names it
		gv := strings.ReplaceAll(strings.Join(got.header.Values(h), "|"), "127.0.0.2", "127.0.0.1")
		if h == "Content-Type" || h == "Content-Length" {
			wv = boundaryRE.ReplaceAllString(wv, "B")
			gv = boundaryRE.ReplaceAllString(gv, "B")
		}
		if wv != gv {
			diffs = append(diffs, fmt.Sprintf("%s: nginx %q, ours %q", h, wv, gv))
		}
	}
	wb, gb := want.body, got.body
	if c.gzip && want.header.Get("Content-Encoding") == "gzip" {
		wb, gb = gunzip(wb), gunzip(gb)
	}
	wb = boundaryRE.ReplaceAll(wb, []byte("B"))
	gb = boundaryRE.ReplaceAll(gb, []byte("B"))
	// $server_addr and the like name the address each one listens on
	gb = bytes.ReplaceAll(gb, []byte("127.0.0.2"), []byte("127.0.0.1"))
	if !bytes.Equal(wb, gb) {
		diffs = append(diffs, fmt.Sprintf("body:\nnginx %q\nours  %q", wb, gb))
	}
	if len(diffs) > 0 {
		t.Errorf("%s:\n  %s\nnginx raw:\n%s\nours raw:\n%s", name, strings.Join(diffs, "\n  "), clip(want.raw), clip(got.raw))
	}
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "..."
	}
	return s
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return append([]byte("<not gzip>"), b...)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return append([]byte("<bad gzip>"), b...)
	}
	return out
}

func TestDiffStatic(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /nolog/ { log_not_found off; }
    }`)
	lm := "Wed, 06 Mar 2024 06:07:08 GMT"
	fileETag := "\"65e6b6b4-d\""
	etagHeaders := []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}
	p.run([]dcase{
		{path: "/", check: etagHeaders},
		{path: "/a.txt", check: etagHeaders},
		{path: "/a.txt?x=1", check: etagHeaders},
		{path: "/big.txt", check: etagHeaders},
		{path: "/style.CSS"},
		{path: "/noext"},
		{path: "/missing"},
		{path: "/nolog/missing"},
		{path: "/dir"},
		{path: "/dir?q=1"},
		{path: "/dir/"},
		{path: "/dir/page.html"},
		{path: "/empty/"},
		{path: "/nowhere/"},
		{path: "/a.txt/"},
		{path: "/a.txt/x"},
		{path: "/space%20dir"},
		{path: "/space%20dir/f.txt"},
		{path: "/utf/%C3%A9t%C3%A9.txt"},
		{path: "/dot.dir/file.tar.gz"},
		{method: "HEAD", path: "/a.txt", check: etagHeaders},
		{method: "HEAD", path: "/missing"},
		{method: "POST", path: "/a.txt", body: "x=1"},
		{method: "POST", path: "/", body: "x=1"},
		{method: "PUT", path: "/a.txt", body: "x"},
		{method: "DELETE", path: "/"},
		{method: "OPTIONS", path: "/a.txt"},
		{method: "TRACE", path: "/a.txt"},
		{method: "FOO", path: "/a.txt"},
		// conditional requests
		{path: "/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Modified-Since: Thu, 07 Mar 2024 06:07:08 GMT"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Modified-Since: garbage"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-None-Match: " + fileETag}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-None-Match: W/" + fileETag}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-None-Match: \"x\", " + fileETag}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-None-Match: *"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-None-Match: \"nope\"", "If-Modified-Since: " + lm}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Match: \"nope\""}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Match: " + fileETag}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Unmodified-Since: Thu, 01 Jan 2004 00:00:00 GMT"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"If-Unmodified-Since: " + lm}, check: etagHeaders},
		// ranges
		{path: "/a.txt", headers: []string{"Range: bytes=0-4"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=7-"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=-3"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=-100"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=5-100"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=100-"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-1,4-5"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-1, 3-"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-20,1-2"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=x"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: items=0-1"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=3-1"}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-0", "If-Range: " + fileETag}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-0", "If-Range: \"other\""}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-0", "If-Range: " + lm}, check: etagHeaders},
		{path: "/a.txt", headers: []string{"Range: bytes=0-0", "If-Range: Thu, 07 Mar 2024 06:07:08 GMT"}, check: etagHeaders},
		{method: "HEAD", path: "/a.txt", headers: []string{"Range: bytes=0-4"}, check: etagHeaders},
		// URI normalisation
		{path: "/dir/../a.txt"},
		{path: "/dir/./page.html"},
		{path: "//dir///page.html"},
		{path: "/%64ir/page.html"},
		{path: "/dir%2Fpage.html"},
		{path: "/../a.txt"},
		{path: "/dir/../../a.txt"},
		{path: "/a%2"},
		{path: "/a%zz"},
		{path: "/a%00b"},
		{path: "/a.txt#frag"},
	})
}

// sendAll writes raw and returns everything the server sends until it
// closes the connection.
func sendAll(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("write %s: %v", addr, err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}
