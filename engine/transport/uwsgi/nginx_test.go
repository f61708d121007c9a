package uwsgi

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
	"strings"
	"testing"
	"time"
)

// Differential tests against real nginx 1.22: the same request through nginx
// and through the transport must reach the upstream as the same bytes, and
// the same upstream answer must give the same result.

// rawExchange sends a raw HTTP request to nginx and returns the client port
// it came from ($remote_port) and nginx's parsed response with its body.
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

// rawHeaderFields lists a raw request's header lines in order, as nginx
// keeps them.
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
// proxy would hand the transport: parsed by net/http, with the params
// evaluated as nginx evaluates them for that connection and the client
// headers in wire order.
func oracleRequest(t *testing.T, raw string, vars map[string]string, extra []string) *http.Request {
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
		"query_string":    r.URL.RawQuery,
		"request_method":  r.Method,
		"content_type":    r.Header.Get("Content-Type"),
		"content_length":  r.Header.Get("Content-Length"),
		"request_uri":     r.RequestURI,
		"document_uri":    r.URL.Path,
		"server_protocol": r.Proto,
		"scheme":          "http",
		"https":           "",
		"host":            strings.ToLower(host),
		"arg_maybe":       r.URL.Query().Get("maybe"),
	} {
		vars[k] = v
	}
	ctx := WithParams(r.Context(), evalParams(t, debianUwsgiParams, vars, extra...))
	ctx = WithClientHeaders(ctx, rawHeaderFields(raw))
	return r.WithContext(ctx)
}

// hideParams are extra params for the /hide/ location: one replaces a
// client header, one hides it, one is if_not_empty.
var hideParams = []string{
	"uwsgi_param HTTP_X_OVERRIDE fixed;",
	`uwsgi_param HTTP_X_SECRET "";`,
	"uwsgi_param HTTP_X_MAYBE $arg_maybe if_not_empty;",
	"uwsgi_param EXTRA_EMPTY $arg_maybe;",
}

func TestPacketMatchesNginx(t *testing.T) {
	rec := startRecorder(t, nil)
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        server_name oracle.test;
        root PREFIX/www;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass %[1]s;
        }
        location /hide/ {
            include /etc/nginx/uwsgi_params;
            %[2]s
            uwsgi_pass %[1]s;
        }
    }`, rec.addr, strings.Join(hideParams, "\n            ")))

	host := fmt.Sprintf("Host: oracle.test:%d\r\n", ngx.port)
	cases := []struct {
		name, raw string
		extra     []string
	}{
		{name: "GetWithDuplicateCookies", raw: "GET /path/to/page?q=1&r=%20 HTTP/1.1\r\n" + host +
			"User-Agent: wsgideck-test/1.0\r\nAccept: */*\r\nCookie: a=1\r\nx-lower-case: v\r\nCookie: b=2\r\nConnection: close\r\n\r\n"},
		{name: "PostWithLength", raw: "POST /submit HTTP/1.1\r\n" + host +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello=world"},
		{name: "ChunkedPost", raw: "POST /upload?x=1 HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
		{name: "ChunkedEmpty", raw: "POST /upload HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"},
		{name: "HiddenAndReplacedHeaders", extra: hideParams, raw: "GET /hide/x HTTP/1.1\r\n" + host +
			"X-Override: from-client\r\nX-Secret: s3cr3t\r\nX-Maybe: client\r\nX-Kept: k\r\nConnection: close\r\n\r\n"},
		{name: "HiddenWithIfNotEmptyPresent", extra: hideParams, raw: "GET /hide/x?maybe=param HTTP/1.1\r\n" + host +
			"X-Maybe: client\r\nConnection: close\r\n\r\n"},
		{name: "HTTP10WithoutHost", raw: "GET /old HTTP/1.0\r\nUser-Agent: old\r\n\r\n"},
		{name: "LargeHeader", raw: "GET / HTTP/1.1\r\n" + host + "X-Large: " + strings.Repeat("L", 7000) + "\r\nConnection: close\r\n\r\n"},
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
			r := oracleRequest(t, tc.raw, vars, tc.extra)
			ours, err := (&Transport{Addr: rec.addr}).RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(ours.Body)
			ours.Body.Close()
			if string(got) != "recorded" {
				t.Errorf("our response body %q", got)
			}
			fromUs := rec.next(t)
			if !bytes.Equal(fromUs, fromNginx) {
				t.Errorf("packets differ\nnginx sent:\n%s\nwe sent:\n%s", describePacket(fromNginx), describePacket(fromUs))
			}
		})
	}
}

// upstreamResponses are raw upstream answers, good and bad, that nginx and
// the transport must read alike.
var upstreamResponses = map[string]string{
	"plain":              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nab",
	"cgi-status":         "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
	"cgi-bare-status":    "Status: 418\r\n\r\nteapot",
	"cgi-spaced-status":  "Status:   503 Busy  \r\nX-A: 1\r\n\r\nbusy",
	"cgi-location":       "Location: http://example.com/x\r\n\r\n",
	"cgi-nothing":        "Content-Type: text/html\r\n\r\n<p>hi</p>",
	"no-headers":         "\r\nhello",
	"lf-only":            "HTTP/1.0 201 Created\nX-A: y\n\nbody",
	"short-length":       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef",
	"long-length":        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
	"bad-length":         "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nbody",
	"space-in-name":      "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\nbody",
	"no-colon":           "HTTP/1.1 200 OK\r\nNoColon\r\nX-A: 2\r\n\r\nbody",
	"no-space-value":     "HTTP/1.1 200 OK\r\nX-A:1\r\n\r\nbody",
	"status-and-header":  "HTTP/1.1 200 OK\r\nStatus: 500 Oops\r\n\r\nx",
	"iis-repeat":         "HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nX-A: 3\r\n\r\nok",
	"iis-dot":            "HTTP/1.1 403.1 Forbidden\r\n\r\ndenied",
	"no-reason":          "HTTP/1.1 200\r\nX-A: 5\r\n\r\nbody",
	"four-digit-status":  "HTTP/1.1 2000 OK\r\n\r\nbody",
	"http2-version":      "HTTP/2.0 200 OK\r\n\r\nbody",
	"lowercase-protocol": "http/1.1 200 OK\r\n\r\nbody",
	"bad-status":         "Status: abc\r\n\r\nx",
	"no-blank-line":      "HTTP/1.1 200 OK\r\nX-A: 1\r\n",
	"body-only":          "hello",
	"nothing":            "",
	"no-content":         "HTTP/1.1 204 No Content\r\nX-A: 4\r\n\r\nignored",
	"not-modified":       "HTTP/1.1 304 Not Modified\r\n\r\n",
	"too-big":            "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 5000) + "\r\n\r\n",
	"nul-in-value":       "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\nbody",
	"cr-in-value":        "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\nbody",
	"cr-then-text":       "HTTP/1.1 200 OK\r\nX-A: 1\r\n\rX\r\n\r\nbody",
	"colon-first":        "HTTP/1.1 200 OK\r\n: x\r\n\r\nbody",
	"tab-in-name":        "HTTP/1.1 200 OK\r\nX\tA: 1\r\n\r\nbody",
	"odd-name-bytes":     "HTTP/1.1 200 OK\r\nX.A!b: 1\r\nX_A: 2\r\n\r\nbody",
	"trailing-spaces":    "HTTP/1.1 200 OK\r\nX-A:   a b   \r\n\r\nbody",
	"bad-line-then-hang": "HTTP/1.1 200 OK\r\nBad Header",
	"cr-in-status-line":  "HTTP/1.1 200 O\rK\r\nX-A: 1\r\n\r\nbody",
	"status-099":         "HTTP/1.1 099 Odd\r\n\r\nbody",
	"two-lengths":        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\nbodybody",
	"two-status-headers": "Status: 201 A\r\nStatus: 202 B\r\n\r\nbody",
}

// deviations are answers where the transport knowingly differs from nginx.
var deviations = map[string]struct {
	status int
	why    string
}{
	"status-099": {502, "nginx relays a status below 100; net/http cannot send one, so it is an invalid status"},
}

// outcome is what a client of nginx sees, reduced to what must agree.
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

func TestResponsesMatchNginx(t *testing.T) {
	rec := startRecorder(t, upstreamResponses)
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        location / {
            include /etc/nginx/uwsgi_params;
            uwsgi_pass %s;
        }
    }`, rec.addr))
	for key := range upstreamResponses {
		t.Run(key, func(t *testing.T) {
			resp, body, bodyErr := getTolerant(t, ngx.port, "/resp/"+key)
			want := outcome{status: resp.StatusCode, body: string(body), bodyErr: bodyErr, headers: headerSummary(resp.Header)}
			rec.next(t)
			if strings.Contains(want.body, "<hr><center>nginx") {
				// nginx's own error page: only the status must agree.
				want.body, want.headers = "", ""
			}

			r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/resp/"+key, nil))
			var got outcome
			ours, err := (&Transport{Addr: rec.addr}).RoundTrip(r)
			var ue *Error
			switch {
			case errors.As(err, &ue):
				got.status = ue.Status
			case err != nil:
				t.Fatalf("RoundTrip: %v", err)
			default:
				body, err := io.ReadAll(ours.Body)
				ours.Body.Close()
				got = outcome{status: ours.StatusCode, body: string(body), bodyErr: err != nil, headers: headerSummary(ours.Header)}
			}
			rec.next(t)
			if dev, ok := deviations[key]; ok {
				want.status, want.body, want.headers = dev.status, "", ""
			}
			if got != want {
				t.Errorf("upstream answer %q:\n nginx gave %+v\n we gave    %+v\nnginx log:\n%s", upstreamResponses[key], want, got, lastLines(ngx.errorLog(), 3))
			}
		})
	}
}

// getTolerant GETs a path from nginx and reads the answer even when the
// status line carries an upstream's odd code ("403.1"), which net/http's
// client refuses.
func getTolerant(t *testing.T, port int, path string) (*http.Response, []byte, bool) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)
	raw, _ := io.ReadAll(c)
	line, rest, _ := bytes.Cut(raw, []byte("\r\n"))
	if len(line) < 12 {
		t.Fatalf("nginx answered %q", raw)
	}
	fixed := append([]byte("HTTP/1.1 "+string(line[9:12])+" X\r\n"), rest...)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(fixed)), nil)
	if err != nil {
		t.Fatalf("nginx answered %q: %v", raw, err)
	}
	body, err := io.ReadAll(resp.Body)
	return resp, body, err != nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// nginxLogLine matches an error log line: the message, then nginx's request
// context, with the upstream.
var nginxLogLine = regexp.MustCompile(`\[(?:error|crit|alert)\] \d+#\d+: \*\d+ (.*?), client: .*?upstream: "([^"]*)"`)

func TestErrorsMatchNginx(t *testing.T) {
	rec := startRecorder(t, upstreamResponses)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	ngx := startNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        include /etc/nginx/uwsgi_params;
        location / { uwsgi_pass %[1]s; uwsgi_read_timeout 300ms; }
        location /refused { uwsgi_pass %[2]s; }
        location /missing { uwsgi_pass unix:PREFIX/missing.sock; }
    }`, rec.addr, closedPort))

	cases := []struct {
		path string
		tr   *Transport
	}{
		{"/refused", &Transport{Addr: closedPort}},
		{"/missing", &Transport{Addr: "unix:" + ngx.dir + "/missing.sock"}},
		{"/close", &Transport{Addr: rec.addr}},
		{"/hang", &Transport{Addr: rec.addr, ReadTimeout: 300 * time.Millisecond}},
		{"/resp/too-big", &Transport{Addr: rec.addr}},
		{"/resp/space-in-name", &Transport{Addr: rec.addr}},
		{"/resp/bad-status", &Transport{Addr: rec.addr}},
		{"/resp/cr-in-value", &Transport{Addr: rec.addr}},
		{"/resp/cr-then-text", &Transport{Addr: rec.addr}},
		{"/resp/bad-line-then-hang", &Transport{Addr: rec.addr}},
		{"/resp/nothing", &Transport{Addr: rec.addr}},
		{"/resp/long-length", &Transport{Addr: rec.addr}}, // fails in the body
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
			m := nginxLogLine.FindStringSubmatch(ngx.errorLog()[before:])
			if m == nil {
				t.Fatalf("no error line in nginx's log:\n%s", ngx.errorLog()[before:])
			}

			ours, err := tc.tr.RoundTrip(withDebianParams(t, httptest.NewRequest("GET", "http://app.example"+tc.path, nil)))
			wantStatus := resp.StatusCode
			if err == nil {
				// nginx had sent the header already; the failure is in
				// the body, and what the client got is a cut response.
				_, err = io.ReadAll(ours.Body)
				ours.Body.Close()
				wantStatus = http.StatusBadGateway
			}
			if usesRecorder {
				rec.next(t)
			}
			var ue *Error
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want *Error", err)
			}
			if ue.Status != wantStatus || ue.Message() != m[1] || ue.Upstream != m[2] {
				t.Errorf("nginx: %d %q upstream %q\n   we: %d %q upstream %q", resp.StatusCode, m[1], m[2], ue.Status, ue.Message(), ue.Upstream)
			}
		})
	}
}

// TestRequestTooBigMatchesNginx builds a packet over 64 KiB from params and
// checks that nginx and the transport refuse it alike, before connecting.
func TestRequestTooBigMatchesNginx(t *testing.T) {
	var lines, names []string
	for i := 1; i <= 9; i++ {
		names = append(names, fmt.Sprintf("BIG%d", i))
		lines = append(lines, fmt.Sprintf("uwsgi_param BIG%d $request_uri;", i))
	}
	ngx := startNginx(t, `
    server {
        listen 127.0.0.1:LISTEN;
        location / {
            `+strings.Join(lines, "\n            ")+`
            uwsgi_pass 127.0.0.1:1;
        }
    }`)
	raw := "GET /big?" + strings.Repeat("q", 7900) + " HTTP/1.1\r\nHost: big.test\r\nConnection: close\r\n\r\n"
	_, resp, _ := rawExchange(t, ngx.port, raw)
	m := regexp.MustCompile(`\[alert\] \d+#\d+: \*\d+ (uwsgi request is too big: \d+),`).FindStringSubmatch(ngx.errorLog())
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
