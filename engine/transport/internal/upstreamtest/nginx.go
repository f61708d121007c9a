package upstreamtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// Nginx is real nginx serving a test's server blocks.
type Nginx struct {
	Port   int    // the port LISTEN stood for
	Prefix string // the directory PREFIX stood for; it has an empty www/
	log    string
}

// StartNginx runs nginx through peertest.StartNginx with httpBody inside
// http{}, after replacing LISTEN with a free port and PREFIX with a private
// directory. Request errors go to a log of their own at level warn, so that
// nginx's warnings can be compared as well as its errors.
func StartNginx(t testing.TB, httpBody string) *Nginx {
	t.Helper()
	n := &Nginx{Port: peertest.FreePort(t), Prefix: t.TempDir()}
	if err := os.Mkdir(filepath.Join(n.Prefix, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.log = filepath.Join(n.Prefix, "error.log")
	body := strings.NewReplacer("LISTEN", fmt.Sprint(n.Port), "PREFIX", n.Prefix).Replace(httpBody)
	peertest.StartNginx(t, fmt.Sprintf("    error_log %s warn;\n%s", n.log, body))
	return n
}

// PassServer is a server block for StartNginx: server_name oracle.test,
// root PREFIX/www, and every request passed to addr by module ("uwsgi",
// "fastcgi") with Debian's params for it. more are further directives,
// locations for instance, inside the server block.
func PassServer(module, addr string, more ...string) string {
	return fmt.Sprintf(`
    server {
        listen 127.0.0.1:LISTEN;
        server_name oracle.test;
        root PREFIX/www;
        location / {
            include /etc/nginx/%[1]s_params;
            %[1]s_pass %[2]s;
        }
        %[3]s
    }`, module, addr, strings.Join(more, "\n        "))
}

// Log returns nginx's request error log so far.
func (n *Nginx) Log() string {
	data, _ := os.ReadFile(n.log)
	return string(data)
}

// dial connects to nginx on port, with a deadline for the whole exchange.
func dial(t testing.TB, port int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// RawExchange sends a raw HTTP request to nginx on port and returns the
// client port it came from ($remote_port), nginx's parsed response and its
// body (with a "<read error: ...>" note if reading it failed).
func RawExchange(t testing.TB, port int, raw string) (int, *http.Response, []byte) {
	t.Helper()
	c := dial(t, port)
	defer c.Close()
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

// GetTolerant GETs a path from nginx on port and reads the answer even when
// the status line carries an upstream's odd code ("403.1"), which net/http's
// client refuses. It reports whether reading the body failed.
func GetTolerant(t testing.TB, port int, path string) (*http.Response, []byte, bool) {
	t.Helper()
	c := dial(t, port)
	defer c.Close()
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

// RawHeaderFields lists a raw request's header lines in order, as nginx
// keeps them.
func RawHeaderFields(raw string) []upstream.HeaderField {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")[1:]
	fields := make([]upstream.HeaderField, 0, len(lines))
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		fields = append(fields, upstream.HeaderField{Name: name, Value: strings.Trim(value, " ")})
	}
	return fields
}

// Outcome is what a client of nginx sees of one answer, reduced to what
// nginx and a transport must agree on.
type Outcome struct {
	Status  int
	Body    string
	BodyErr bool
	Headers string // HeaderSummary
}

// OutcomeOf is what a client would see of a transport's answer: the status
// of the *upstream.Error RoundTrip failed with, or else the response with
// its body read and closed, summarized after hide (if not nil) removed the
// headers the proxy would. It also returns the *upstream.Error of RoundTrip
// or of the body, if there was one; any other RoundTrip error fails the
// test.
func OutcomeOf(t testing.TB, resp *http.Response, err error, hide func(http.Header)) (Outcome, *upstream.Error) {
	t.Helper()
	var ue *upstream.Error
	switch {
	case errors.As(err, &ue):
		return Outcome{Status: ue.Status}, ue
	case err != nil:
		t.Fatalf("RoundTrip: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if hide != nil {
		hide(resp.Header)
	}
	errors.As(err, &ue)
	return Outcome{Status: resp.StatusCode, Body: string(body), BodyErr: err != nil, Headers: HeaderSummary(resp.Header)}, ue
}

// HeaderSummary lists the headers the response comparisons look at.
func HeaderSummary(h http.Header) string {
	var parts []string
	for _, k := range []string{"X-A", "Status", "Location", "Content-Type"} {
		if v, ok := h[k]; ok {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	return strings.Join(parts, " ")
}
