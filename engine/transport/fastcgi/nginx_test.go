package fastcgi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// Differential tests against real nginx 1.22: the same request through nginx
// and through the transport must reach the responder as the same bytes, and
// the same records back must give the same result and the same log lines.

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
	ngx := upstreamtest.StartNginx(t, upstreamtest.PassServer("fastcgi", rec.Addr))

	host := fmt.Sprintf("Host: oracle.test:%d\r\n", ngx.Port)
	big := strings.Repeat("0123456789", 7000) // 70000 bytes: a temp file in nginx, three STDIN records
	upstreamtest.RequestsMatchNginx(t, ngx, rec, &Transport{Addr: rec.Addr}, debianFastcgiParams, describe, []upstreamtest.RawCase{
		{Name: "GetWithDuplicateCookies", Raw: "GET /index.php?q=1&r=%20 HTTP/1.1\r\n" + host +
			"User-Agent: wsgideck-test/1.0\r\nAccept: */*\r\nCookie: a=1\r\nx-lower-case: v\r\nCookie: b=2\r\nConnection: close\r\n\r\n"},
		{Name: "PostWithLength", Raw: "POST /submit HTTP/1.1\r\n" + host +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello=world"},
		{Name: "PostLargeBody", Raw: "POST /upload HTTP/1.1\r\n" + host +
			fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n", len(big)) + big},
		{Name: "ChunkedPost", Raw: "POST /upload?x=1 HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + chunked("hello world", 5)},
		{Name: "ChunkedLarge", Raw: "POST /upload HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked(big, 10000)},
		{Name: "LongHeaderValue", Raw: "GET / HTTP/1.1\r\n" + host + "X-Long: " + strings.Repeat("L", 300) + "\r\nConnection: close\r\n\r\n"},
		{Name: "HTTP10WithoutHost", Raw: "GET /old HTTP/1.0\r\nUser-Agent: old\r\n\r\n"},
	})
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
	ngx := upstreamtest.StartNginx(t, upstreamtest.PassServer("fastcgi", rec.Addr))
	keys := make([]string, 0, len(upstreamResponses))
	for k := range upstreamResponses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			before := len(ngx.Log())
			resp, err := noRedirects.Get(fmt.Sprintf("http://127.0.0.1:%d/resp/%s", ngx.Port, key))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := upstreamtest.Outcome{Status: resp.StatusCode, Body: string(body), BodyErr: err != nil, Headers: upstreamtest.HeaderSummary(resp.Header)}
			rec.Next(t)
			if strings.Contains(want.Body, "<hr><center>nginx") {
				want.Body, want.Headers = "", ""
			}
			wantLog := nginxMessages(ngx.Log()[before:])

			var logs logCollector
			r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/resp/"+key, nil))
			ours, err := (&Transport{Addr: rec.Addr, Logf: logs.logf}).RoundTrip(r)
			// After the header, a failure only shows in the log.
			got, ue := upstreamtest.OutcomeOf(t, ours, err, hideDefaults)
			rec.Next(t)
			gotLog := append([]string(nil), logs.lines...)
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
	ngx := upstreamtest.StartErrorServer(t, "fastcgi", rec.Addr)
	check := upstreamtest.ErrorsCheck{Nginx: ngx.Nginx, LogLine: nginxMessage, WithParams: withDebianParams,
		Recorded: func(t testing.TB) { rec.Next(t) }}
	check.Run(t, []upstreamtest.ErrorCase{
		{Path: "/refused", Transport: &Transport{Addr: ngx.Refused}},
		{Path: "/missing", Transport: &Transport{Addr: ngx.Missing}},
		{Path: "/close", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/hang", Transport: &Transport{Addr: rec.Addr, ReadTimeout: 300 * time.Millisecond}, Recorded: true},
	})
}

// TestRecordTooBigMatchesNginx builds a PARAMS record over 64 KiB and checks
// that nginx and the transport refuse it alike, before connecting.
func TestRecordTooBigMatchesNginx(t *testing.T) {
	upstreamtest.TooBigMatchesNginx(t, "fastcgi", "fastcgi request record is too big", &Transport{Addr: "127.0.0.1:1"})
}
