package upstreamtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// The differential checks both transports run against real nginx: the same
// request through nginx and through the transport must reach the upstream
// as the same bytes, and the same failure must give the same status and the
// same error-log words.

// RawCase is a raw client request for RequestsMatchNginx, with the param
// lines its location adds to the params file.
type RawCase struct {
	Name, Raw string
	Extra     []string
}

// RequestsMatchNginx sends each raw request to ngx, whose location passes it
// to rec with file's params (server_name oracle.test, root PREFIX/www), then
// hands the same request to rt as the proxy would: parsed, with the params
// evaluated for that connection and the client headers in wire order. rec
// must record the same bytes from both, and both must relay its
// "recorded" answer. describe decodes a recording for failure messages.
func RequestsMatchNginx[T any](t *testing.T, ngx *Nginx, rec *peertest.Recorder[T], rt http.RoundTripper, file string, describe func(peertest.Recording[T]) string, cases []RawCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			clientPort, resp, body := RawExchange(t, ngx.Port, tc.Raw)
			if resp.StatusCode != 200 || string(body) != "recorded" {
				t.Fatalf("nginx answered %d %q\n%s", resp.StatusCode, body, ngx.Log())
			}
			fromNginx := rec.Next(t)

			vars := map[string]string{
				"document_root": ngx.Prefix + "/www",
				"remote_addr":   "127.0.0.1",
				"remote_port":   fmt.Sprint(clientPort),
				"server_port":   fmt.Sprint(ngx.Port),
				"server_name":   "oracle.test",
			}
			ours, err := rt.RoundTrip(OracleRequest(t, tc.Raw, file, vars, tc.Extra...))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(ours.Body)
			ours.Body.Close()
			if string(got) != "recorded" {
				t.Errorf("our response body %q", got)
			}
			fromUs := rec.Next(t)
			if !bytes.Equal(fromUs.Raw, fromNginx.Raw) {
				t.Errorf("requests differ\nnginx sent:\n%s\nwe sent:\n%s", describe(fromNginx), describe(fromUs))
			}
		})
	}
}

// ErrorServer is nginx set up to fail the ways ErrorsCheck compares: with
// module's params, every path passed to the recorder with a 300 ms read
// timeout, except /refused, passed to Refused, where nothing listens, and
// /missing, passed to Missing, a unix socket that does not exist.
type ErrorServer struct {
	*Nginx
	Refused string // "127.0.0.1:port"
	Missing string // "unix:/path/missing.sock"
}

// StartErrorServer starts the ErrorServer for module ("uwsgi", "fastcgi")
// in front of the recorder at addr.
func StartErrorServer(t testing.TB, module, recorder string) *ErrorServer {
	t.Helper()
	refused := peertest.FreeAddr(t)
	ngx := StartNginx(t, fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        include /etc/nginx/%[1]s_params;
        location / { %[1]s_pass %[2]s; %[1]s_read_timeout 300ms; }
        location /refused { %[1]s_pass %[3]s; }
        location /missing { %[1]s_pass unix:PREFIX/missing.sock; }
    }`, module, recorder, refused))
	return &ErrorServer{Nginx: ngx, Refused: refused, Missing: "unix:" + ngx.Prefix + "/missing.sock"}
}

// ErrorCase is a path on the nginx server of an ErrorsCheck and the
// transport that must fail there as nginx does.
type ErrorCase struct {
	Path      string
	Transport http.RoundTripper
	// Recorded says both requests reach the test's recorder, whose
	// recordings the check then waits for.
	Recorded bool
}

// ErrorsCheck compares a transport's failures with nginx's.
type ErrorsCheck struct {
	Nginx *Nginx
	// LogLine matches nginx's error-log line for a failure, capturing the
	// message and the upstream's name.
	LogLine *regexp.Regexp
	// WithParams attaches the params nginx's location uses.
	WithParams func(testing.TB, *http.Request, ...string) *http.Request
	// Recorded waits for the recorder's recording of one request.
	Recorded func(testing.TB)
	// BodyFailures lets a transport return a response whose body then
	// fails. nginx had sent its header already, so the client got a cut
	// response; the failure must be a 502 whatever status nginx sent.
	BodyFailures bool
}

// Run GETs each case's path from nginx, takes the first error line nginx
// logs for it, and checks that the transport fails on the same path with
// an *upstream.Error carrying nginx's status, message and upstream name.
func (c *ErrorsCheck) Run(t *testing.T, cases []ErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.Path, "/"), func(t *testing.T) {
			before := len(c.Nginx.Log())
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", c.Nginx.Port, tc.Path))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.Recorded {
				c.Recorded(t)
			}
			m := c.LogLine.FindStringSubmatch(c.Nginx.Log()[before:])
			if m == nil {
				t.Fatalf("no error line in nginx's log:\n%s", c.Nginx.Log()[before:])
			}

			ours, err := tc.Transport.RoundTrip(c.WithParams(t, httptest.NewRequest("GET", "http://app.example"+tc.Path, nil)))
			wantStatus := resp.StatusCode
			if err == nil && c.BodyFailures {
				_, err = io.ReadAll(ours.Body)
				ours.Body.Close()
				wantStatus = http.StatusBadGateway
			}
			if tc.Recorded {
				c.Recorded(t)
			}
			var ue *upstream.Error
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want *Error", err)
			}
			if ue.Status != wantStatus || ue.Message() != m[1] || ue.Upstream != m[2] {
				t.Errorf("nginx: %d %q upstream %q\n   we: %d %q upstream %q", resp.StatusCode, m[1], m[2], ue.Status, ue.Message(), ue.Upstream)
			}
		})
	}
}

// TooBigMatchesNginx builds a request whose params pass 64 KiB, nine
// copies of a long $request_uri, and checks that nginx (module "uwsgi" or
// "fastcgi", passing to 127.0.0.1:1) and rt refuse it alike, with the same
// status and alert (nginx's message, "uwsgi request is too big"), before
// connecting.
func TooBigMatchesNginx(t *testing.T, module, alert string, rt http.RoundTripper) {
	t.Helper()
	var lines, names []string
	for i := 1; i <= 9; i++ {
		names = append(names, fmt.Sprintf("BIG%d", i))
		lines = append(lines, fmt.Sprintf("%s_param BIG%d $request_uri;", module, i))
	}
	ngx := StartNginx(t, `
    server {
        listen 127.0.0.1:LISTEN;
        location / {
            `+strings.Join(lines, "\n            ")+`
            `+module+`_pass 127.0.0.1:1;
        }
    }`)
	raw := "GET /big?" + strings.Repeat("q", 7900) + " HTTP/1.1\r\nHost: big.test\r\nConnection: close\r\n\r\n"
	_, resp, _ := RawExchange(t, ngx.Port, raw)
	m := regexp.MustCompile(`\[alert\] \d+#\d+: \*\d+ (` + regexp.QuoteMeta(alert) + `: \d+),`).FindStringSubmatch(ngx.Log())
	if m == nil {
		t.Fatalf("nginx answered %d and logged no alert:\n%s", resp.StatusCode, ngx.Log())
	}

	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var params upstream.Params
	for _, name := range names {
		params = append(params, upstream.Param{Key: name, Value: r.RequestURI})
	}
	r = r.WithContext(upstream.WithClientHeaders(upstream.WithParams(r.Context(), params), RawHeaderFields(raw)))
	_, err = rt.RoundTrip(r)
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want *Error", err)
	}
	if ue.Status != resp.StatusCode || ue.Message() != m[1] {
		t.Errorf("nginx: %d %q\n   we: %d %q", resp.StatusCode, m[1], ue.Status, ue.Message())
	}
}

// RefuseDial is a dialer for requests that must fail before any connection:
// dialling fails the test.
func RefuseDial(t testing.TB) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		t.Error("dialled for a request that cannot be encoded")
		return nil, errors.New("no")
	}
}

// OversizedRequest is a request without a Host whose one param, BIG, has a
// 70000-byte value: more than a uwsgi packet or a FastCGI record can hold.
func OversizedRequest() *http.Request {
	r := httptest.NewRequest("GET", "http://app.example/", nil)
	r.Host = ""
	return r.WithContext(upstream.WithParams(r.Context(), upstream.Params{{Key: "BIG", Value: strings.Repeat("x", 70000)}}))
}
