package uwsgi

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// Differential tests against real nginx 1.22: the same request through nginx
// and through the transport must reach the upstream as the same bytes, and
// the same upstream answer must give the same result.

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
	ngx := upstreamtest.StartNginx(t, upstreamtest.PassServer("uwsgi", rec.Addr, fmt.Sprintf(`location /hide/ {
            include /etc/nginx/uwsgi_params;
            %s
            uwsgi_pass %s;
        }`, strings.Join(hideParams, "\n            "), rec.Addr)))

	host := fmt.Sprintf("Host: oracle.test:%d\r\n", ngx.Port)
	upstreamtest.RequestsMatchNginx(t, ngx, rec, &Transport{Addr: rec.Addr}, debianUwsgiParams, describePacket, []upstreamtest.RawCase{
		{Name: "GetWithDuplicateCookies", Raw: "GET /path/to/page?q=1&r=%20 HTTP/1.1\r\n" + host +
			"User-Agent: wsgideck-test/1.0\r\nAccept: */*\r\nCookie: a=1\r\nx-lower-case: v\r\nCookie: b=2\r\nConnection: close\r\n\r\n"},
		{Name: "PostWithLength", Raw: "POST /submit HTTP/1.1\r\n" + host +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello=world"},
		{Name: "ChunkedPost", Raw: "POST /upload?x=1 HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
		{Name: "ChunkedEmpty", Raw: "POST /upload HTTP/1.1\r\n" + host +
			"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"},
		{Name: "HiddenAndReplacedHeaders", Extra: hideParams, Raw: "GET /hide/x HTTP/1.1\r\n" + host +
			"X-Override: from-client\r\nX-Secret: s3cr3t\r\nX-Maybe: client\r\nX-Kept: k\r\nConnection: close\r\n\r\n"},
		{Name: "HiddenWithIfNotEmptyPresent", Extra: hideParams, Raw: "GET /hide/x?maybe=param HTTP/1.1\r\n" + host +
			"X-Maybe: client\r\nConnection: close\r\n\r\n"},
		{Name: "HTTP10WithoutHost", Raw: "GET /old HTTP/1.0\r\nUser-Agent: old\r\n\r\n"},
		{Name: "LargeHeader", Raw: "GET / HTTP/1.1\r\n" + host + "X-Large: " + strings.Repeat("L", 7000) + "\r\nConnection: close\r\n\r\n"},
	})
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

func TestResponsesMatchNginx(t *testing.T) {
	rec := startRecorder(t, upstreamResponses)
	ngx := upstreamtest.StartNginx(t, upstreamtest.PassServer("uwsgi", rec.Addr))
	for key := range upstreamResponses {
		t.Run(key, func(t *testing.T) {
			resp, body, bodyErr := upstreamtest.GetTolerant(t, ngx.Port, "/resp/"+key)
			want := upstreamtest.Outcome{Status: resp.StatusCode, Body: string(body), BodyErr: bodyErr, Headers: upstreamtest.HeaderSummary(resp.Header)}
			rec.Next(t)
			if strings.Contains(want.Body, "<hr><center>nginx") {
				// nginx's own error page: only the status must agree.
				want.Body, want.Headers = "", ""
			}

			r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/resp/"+key, nil))
			ours, err := (&Transport{Addr: rec.Addr}).RoundTrip(r)
			got, _ := upstreamtest.OutcomeOf(t, ours, err, nil)
			rec.Next(t)
			if dev, ok := deviations[key]; ok {
				want.Status, want.Body, want.Headers = dev.status, "", ""
			}
			if got != want {
				t.Errorf("upstream answer %q:\n nginx gave %+v\n we gave    %+v\nnginx log:\n%s", upstreamResponses[key], want, got, lastLines(ngx.Log(), 3))
			}
		})
	}
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
	ngx := upstreamtest.StartErrorServer(t, "uwsgi", rec.Addr)
	check := upstreamtest.ErrorsCheck{Nginx: ngx.Nginx, LogLine: nginxLogLine, WithParams: withDebianParams,
		Recorded: func(t testing.TB) { rec.Next(t) }, BodyFailures: true}
	check.Run(t, []upstreamtest.ErrorCase{
		{Path: "/refused", Transport: &Transport{Addr: ngx.Refused}},
		{Path: "/missing", Transport: &Transport{Addr: ngx.Missing}},
		{Path: "/close", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/hang", Transport: &Transport{Addr: rec.Addr, ReadTimeout: 300 * time.Millisecond}, Recorded: true},
		{Path: "/resp/too-big", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/space-in-name", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/bad-status", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/cr-in-value", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/cr-then-text", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/bad-line-then-hang", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/nothing", Transport: &Transport{Addr: rec.Addr}, Recorded: true},
		{Path: "/resp/long-length", Transport: &Transport{Addr: rec.Addr}, Recorded: true}, // fails in the body
	})
}

// TestRequestTooBigMatchesNginx builds a packet over 64 KiB from params and
// checks that nginx and the transport refuse it alike, before connecting.
func TestRequestTooBigMatchesNginx(t *testing.T) {
	upstreamtest.TooBigMatchesNginx(t, "uwsgi", "uwsgi request is too big", &Transport{Addr: "127.0.0.1:1"})
}
