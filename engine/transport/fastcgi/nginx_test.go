package fastcgi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Differential tests against real nginx 1.22: the same request through nginx
// and through the transport must reach the responder as the same bytes, and
// the same records back must give the same result and the same log lines.

// rawExchange sends a raw HTTP request to nginx and returns the client port
// it came from ($remote_port), nginx's response and its body.
func rawExchange(t *testing.T, port int, raw string) (int, *http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading nginx's response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		body = append(body, "<read error: "+err.Error()+">"...)
	}
	return c.LocalAddr().(*net.TCPAddr).Port, resp, body
}

// rawHeaderFields lists a raw request's header lines in order.
func rawHeaderFields(raw string) []HeaderField {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")[1:]
	fields := make([]HeaderField, 0, len(lines))
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		fields = append(fields, HeaderField{Name: name, Value: strings.Trim(value, " ")})
	}
	return fields
}

// oracleRequest turns the raw request nginx received into the request the
// proxy would hand the transport, with Debian's fastcgi_params evaluated as
// nginx evaluates them for that connection.
func oracleRequest(t *testing.T, raw string, vars map[string]string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parsing the test's own request: %v", err)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = vars["server_name"]
	}
	for k, v := range map[string]string{
		"query_string":        r.URL.RawQuery,
		"request_method":      r.Method,
		"content_type":        r.Header.Get("Content-Type"),
		"content_length":      r.Header.Get("Content-Length"),
		"fastcgi_script_name": r.URL.Path,
		"request_uri":         r.RequestURI,
		"document_uri":        r.URL.Path,
		"server_protocol":     r.Proto,
		"scheme":              "http",
		"https":               "",
		"nginx_version":       "1.22.1",
		"remote_user":         "",
		"server_addr":         "127.0.0.1",
		"host":                strings.ToLower(host),
	} {
		vars[k] = v
	}
	ctx := WithParams(r.Context(), evalParams(t, debianFastcgiParams, vars))
	ctx = WithClientHeaders(ctx, rawHeaderFields(raw))
	return r.WithContext(ctx)
}

func chunked(body string, size int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	return b.String() + "0\r\n\r\n"
}

func TestRecordsMatchNginx(t *testing.T) {
	rec := startRecorder(t, nil)
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        server_name oracle.test;
        root PREFIX/www;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_pass %s;
        }
    }`, rec.addr))

	host := fmt.Sprintf("Host: oracle.test:%d\r\n", ngx.port)
	big := strings.Repeat("0123456789", 7000) // 70000 bytes: a temp file in nginx, three STDIN records
	cases := []struct{ name, raw string }{
		{"GetWithDuplicateCookies", "GET /index.php?q=1&r=%20 HTTP/1.1\r\n" + host +
			"User-Agent: wsgideck-test/1.0\r\nAccept: */*\r\nCookie: a=1\r\nx-lower-case: v\r\nCookie: b=2\r\nConnection: close\r\n\r\n"},
		{"PostWithLength", "POST /submit HTTP/1.1\r\n" + host +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello=world"},
		{"PostLargeBody", "POST /upload HTTP/1.1\r\n" + host +
			fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n", len(big)) + big},
		{"ChunkedPost", "POST /upload?x=1 HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + chunked("hello world", 5)},
		{"ChunkedLarge", "POST /upload HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked(big, 10000)},
		{"LongHeaderValue", "GET / HTTP/1.1\r\n" + host + "X-Long: " + strings.Repeat("L", 300) + "\r\nConnection: close\r\n\r\n"},
		{"HTTP10WithoutHost", "GET /old HTTP/1.0\r\nUser-Agent: old\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clientPort, resp, body := rawExchange(t, ngx.port, tc.raw)
			if resp.StatusCode != 200 || string(body) != "recorded" {
				t.Fatalf("nginx answered %d %q\n%s", resp.StatusCode, body, ngx.errorLog())
			}
			fromNginx := rec.next(t)

			vars := map[string]string{
				"document_root": ngx.dir + "/www",
				"remote_addr":   "127.0.0.1",
				"remote_port":   fmt.Sprint(clientPort),
				"server_port":   fmt.Sprint(ngx.port),
				"server_name":   "oracle.test",
			}
			ours, err := (&Transport{Addr: rec.addr}).RoundTrip(oracleRequest(t, tc.raw, vars))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(ours.Body)
			ours.Body.Close()
			if string(got) != "recorded" {
				t.Errorf("our response body %q", got)
			}
			fromUs := rec.next(t)
			if !bytes.Equal(fromUs.raw, fromNginx.raw) {
				t.Errorf("requests differ\nnginx sent:\n%s\nwe sent:\n%s", fromNginx.describe(), fromUs.describe())
			}
		})
	}
}

// upstreamResponses are raw record sequences, good and bad, that nginx and
// the transport must read alike.
var upstreamResponses = map[string]string{
	"plain":             okResponse("Content-Type: text/plain\r\nX-A: 1\r\n", "hello"),
	"status":            okResponse("Status: 404 Not Found\r\nContent-Type: text/plain\r\n", "nope"),
	"bare-status":       okResponse("Status: 418\r\n", "teapot"),
	"location":          okResponse("Location: http://example.com/x\r\n", ""),
	"nothing-but-blank": okResponse("", "just a body"),
	"status-line":       okResponse("HTTP/1.1 500 Oops\r\nX-A: 1\r\n", "body"),
	"no-content":        okResponse("Status: 204 No Content\r\nX-A: 2\r\n", "ignored"),
	"split-header": stdout("Content-Ty") + stdout("pe: text/plain\r\nX-") + stdout("A: 2\r\n\r") +
		stdout("\nbo") + stdout("dy") + stdout("") + endRequest(),
	"odd-padding":        rawRecord(1, typeStdout, 1, "X-A: 3\r\n\r\npadded", 5) + rawRecord(1, typeStdout, 1, "", 3) + endRequest(),
	"stderr-first":       stderr("PHP Warning:  something odd in /srv/x.php on line 3\n") + okResponse("X-A: 4\r\n", "after warning"),
	"stderr-in-body":     stdout("X-A: 5\r\n\r\nfirst ") + stderr("late notice.\r\n") + stdout("second") + stdout("") + endRequest(),
	"stderr-trimming":    stderr("dots... \n\n") + stderr(".") + okResponse("X-A: 6\r\n", "x"),
	"no-end":             stdout("X-A: 7\r\n\r\nno end record"),
	"end-only":           stdout("X-A: 8\r\n\r\nends without empty stdout") + endRequest(),
	"length-short":       okResponse("Content-Length: 3\r\n", "abcdef"),
	"length-short-later": stdout("Content-Length: 3\r\nX-A: 9\r\n\r\n") + stdout("abcdef") + stdout("") + endRequest(),
	"length-long":        okResponse("Content-Length: 10\r\n", "abc"),
	"length-exact":       stdout("Content-Length: 3\r\n\r\nabc") + stderr("after the body\n") + stdout("") + endRequest(),
	"end-before-head":    endRequest(),
	"empty-stdout":       stdout(""),
	"bad-version":        rawRecord(2, typeStdout, 1, "X-A: 1\r\n\r\n", 0),
	"bad-type":           rawRecord(1, 9, 1, "", 0),
	"bad-id-low":         rawRecord(1, typeStdout, 2, "X-A: 1\r\n\r\n", 0),
	"bad-id-high":        rawRecord(1, typeStdout, 257, "X-A: 1\r\n\r\n", 0),
	"invalid-header":     okResponse("Bad Header: x\r\n", "body"),
	"invalid-status":     okResponse("Status: abc\r\n", "body"),
	"too-big":            okResponse("X-Big: "+strings.Repeat("b", 5000)+"\r\n", "body"),
	"big-in-records":     stdout("X-Big: "+strings.Repeat("b", 2000)) + stdout(strings.Repeat("b", 2000)+"\r\n\r\nbody") + stdout("") + endRequest(),
	"stderr-only":        stderr("fatal: cannot start\n"),
	"nothing":            "",
	"truncated":          stdout("X-A: 1\r\n\r\nbody")[:12],
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type outcome struct {
	status  int
	body    string
	bodyErr bool
	headers string
}

func headerSummary(h http.Header) string {
	var parts []string
	for _, k := range []string{"X-A", "Status", "Location", "Content-Type"} {
		if v, ok := h[k]; ok {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	return strings.Join(parts, " ")
}

// logCollector gathers Logf lines.
type logCollector struct {
	mu    sync.Mutex
	lines []string
}

func (c *logCollector) logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
}

// nginxMessages extracts the messages of nginx's error log lines.
var nginxMessage = regexp.MustCompile(`\[(?:error|crit|alert|warn)\] \d+#\d+: \*\d+ (.*?), client: .*?upstream: "([^"]*)"`)

func nginxMessages(log string) []string {
	var out []string
	for _, m := range nginxMessage.FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestResponsesMatchNginx(t *testing.T) {
	rec := startRecorder(t, upstreamResponses)
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_pass %s;
        }
    }`, rec.addr))
	keys := make([]string, 0, len(upstreamResponses))
	for k := range upstreamResponses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			before := len(ngx.errorLog())
			resp, err := noRedirects.Get(fmt.Sprintf("http://127.0.0.1:%d/resp/%s", ngx.port, key))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := outcome{status: resp.StatusCode, body: string(body), bodyErr: err != nil, headers: headerSummary(resp.Header)}
			rec.next(t)
			if strings.Contains(want.body, "<hr><center>nginx") {
				want.body, want.headers = "", ""
			}
			wantLog := nginxMessages(ngx.errorLog()[before:])

			var logs logCollector
			r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/resp/"+key, nil))
			var got outcome
			var gotLog []string
			ours, err := (&Transport{Addr: rec.addr, Logf: logs.logf}).RoundTrip(r)
			var ue *Error
			switch {
			case errors.As(err, &ue):
				got.status = ue.Status
			case err != nil:
				t.Fatalf("RoundTrip: %v", err)
			default:
				body, err := io.ReadAll(ours.Body)
				ours.Body.Close()
				hideDefaults(ours.Header)
				got = outcome{status: ours.StatusCode, body: string(body), bodyErr: err != nil, headers: headerSummary(ours.Header)}
				if errors.As(err, &ue) {
					ue.Status = 0 // the header went out; only the log line matters
				}
			}
			rec.next(t)
			gotLog = append(gotLog, logs.lines...)
			if ue != nil {
				gotLog = append(gotLog, ue.Message())
			}
			if got != want {
				t.Errorf("upstream answer %q:\n nginx gave %+v\n we gave    %+v", upstreamResponses[key], want, got)
			}
			if strings.Join(gotLog, "\n") != strings.Join(wantLog, "\n") {
				t.Errorf("log lines differ\nnginx: %q\n   we: %q", wantLog, gotLog)
			}
		})
	}
}

// hideDefaults does what the proxy does with fastcgi_hide_header's defaults.
func hideDefaults(h http.Header) {
	for _, name := range HiddenResponseHeaders {
		h.Del(name)
	}
}

func TestErrorsMatchNginx(t *testing.T) {
	rec := startRecorder(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        include /etc/nginx/fastcgi_params;
        location / { fastcgi_pass %[1]s; fastcgi_read_timeout 300ms; }
        location /refused { fastcgi_pass %[2]s; }
        location /missing { fastcgi_pass unix:PREFIX/missing.sock; }
    }`, rec.addr, closedPort))
	cases := []struct {
		path string
		tr   *Transport
	}{
		{"/refused", &Transport{Addr: closedPort}},
		{"/missing", &Transport{Addr: "unix:" + ngx.dir + "/missing.sock"}},
		{"/close", &Transport{Addr: rec.addr}},
		{"/hang", &Transport{Addr: rec.addr, ReadTimeout: 300 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			before := len(ngx.errorLog())
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", ngx.port, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			usesRecorder := tc.tr.Addr == rec.addr
			if usesRecorder {
				rec.next(t)
			}
			m := nginxMessage.FindStringSubmatch(ngx.errorLog()[before:])
			if m == nil {
				t.Fatalf("no error line in nginx's log:\n%s", ngx.errorLog()[before:])
			}
			_, err = tc.tr.RoundTrip(withDebianParams(t, httptest.NewRequest("GET", "http://app.example"+tc.path, nil)))
			if usesRecorder {
				rec.next(t)
			}
			var ue *Error
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want *Error", err)
			}
			if ue.Status != resp.StatusCode || ue.Message() != m[1] || ue.Upstream != m[2] {
				t.Errorf("nginx: %d %q upstream %q\n   we: %d %q upstream %q", resp.StatusCode, m[1], m[2], ue.Status, ue.Message(), ue.Upstream)
			}
		})
	}
}

// TestRecordTooBigMatchesNginx builds a PARAMS record over 64 KiB and checks
// that nginx and the transport refuse it alike, before connecting.
func TestRecordTooBigMatchesNginx(t *testing.T) {
	var lines, names []string
	for i := 1; i <= 9; i++ {
		names = append(names, fmt.Sprintf("BIG%d", i))
		lines = append(lines, fmt.Sprintf("fastcgi_param BIG%d $request_uri;", i))
	}
	ngx := startNginx(t, `
    server {
        listen 127.0.0.1:LISTEN;
        location / {
            `+strings.Join(lines, "\n            ")+`
            fastcgi_pass 127.0.0.1:1;
        }
    }`)
	raw := "GET /big?" + strings.Repeat("q", 7900) + " HTTP/1.1\r\nHost: big.test\r\nConnection: close\r\n\r\n"
	_, resp, _ := rawExchange(t, ngx.port, raw)
	m := regexp.MustCompile(`\[alert\] \d+#\d+: \*\d+ (fastcgi request record is too big: \d+),`).FindStringSubmatch(ngx.errorLog())
	if m == nil {
		t.Fatalf("nginx answered %d and logged no alert:\n%s", resp.StatusCode, ngx.errorLog())
	}

	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var params Params
	for _, name := range names {
		params = append(params, Param{Key: name, Value: r.RequestURI})
	}
	r = r.WithContext(WithClientHeaders(WithParams(r.Context(), params), rawHeaderFields(raw)))
	_, err = (&Transport{Addr: "127.0.0.1:1"}).RoundTrip(r)
	var ue *Error
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want *Error", err)
	}
	if ue.Status != resp.StatusCode || ue.Message() != m[1] {
		t.Errorf("nginx: %d %q\n   we: %d %q", resp.StatusCode, m[1], ue.Status, ue.Message())
	}
}
