package uwsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// Tests against Debian's real uWSGI 2.0.21 with the python3 plugin.

func TestRealUWSGI(t *testing.T) {
	addr := peertest.FreeAddr(t)
	upstreamtest.StartUWSGI(t, "socket", addr, "echo.py")
	tr := &Transport{Addr: addr}

	t.Run("GetWithQuery", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://App.Example:8080/a%20b/c?q=1&r=%20", nil)
		r.Header.Set("Accept", "text/plain")
		r.Header.Set("X-Custom-Thing", "yes")
		resp, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %d %q, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp.ContentLength <= 0 {
			t.Errorf("ContentLength %d, want the app's Content-Length", resp.ContentLength)
		}
		upstreamtest.WantEnv(t, rep, "REQUEST_METHOD", "GET")
		upstreamtest.WantEnv(t, rep, "QUERY_STRING", "q=1&r=%20")
		upstreamtest.WantEnv(t, rep, "REQUEST_URI", "/a%20b/c?q=1&r=%20")
		upstreamtest.WantEnv(t, rep, "PATH_INFO", "/a b/c")
		upstreamtest.WantEnv(t, rep, "HTTP_HOST", "app.example") // Debian's HTTP_HOST $host
		upstreamtest.WantEnv(t, rep, "HTTP_ACCEPT", "text/plain")
		upstreamtest.WantEnv(t, rep, "HTTP_X_CUSTOM_THING", "yes")
		upstreamtest.WantEnv(t, rep, "CONTENT_LENGTH", "")
		if _, ok := rep.Environ["HTTPS"]; ok {
			t.Error("HTTPS is if_not_empty and empty, but was sent")
		}
	})

	t.Run("PostWithBody", func(t *testing.T) {
		body := "name=caf%C3%A9&x=1"
		r := httptest.NewRequest("POST", "http://app.example/form", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Content-Length", fmt.Sprint(len(body)))
		_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		upstreamtest.WantEnv(t, rep, "CONTENT_LENGTH", fmt.Sprint(len(body)))
		upstreamtest.WantEnv(t, rep, "CONTENT_TYPE", "application/x-www-form-urlencoded")
		upstreamtest.WantEnv(t, rep, "HTTP_CONTENT_LENGTH", fmt.Sprint(len(body)))
		upstreamtest.WantEnv(t, rep, "HTTP_CONTENT_TYPE", "application/x-www-form-urlencoded")
		if rep.Body != body {
			t.Errorf("app read body %q, want %q", rep.Body, body)
		}
	})

	t.Run("ChunkedBodyGetsItsLength", func(t *testing.T) {
		// A body of unknown length, larger than the in-memory buffer, so
		// it goes through the temporary file.
		body := strings.Repeat("0123456789abcdef", 10000)
		r := httptest.NewRequest("POST", "http://app.example/upload", io.MultiReader(strings.NewReader(body)))
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		tmp := t.TempDir()
		tr := &Transport{Addr: addr, BodyTempDir: tmp}
		_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		upstreamtest.WantEnv(t, rep, "CONTENT_LENGTH", fmt.Sprint(len(body)))
		if rep.Body != body {
			t.Errorf("app read %d bytes, want the %d sent", len(rep.Body), len(body))
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
			t.Errorf("temporary body files left behind: %v", left)
		}
	})

	t.Run("DuplicateCookies", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://app.example/", nil)
		r.Header.Add("Cookie", "a=1")
		r.Header.Add("Cookie", "b=2")
		_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		// nginx 1.22 sends two HTTP_COOKIE vars; uWSGI keeps the last.
		upstreamtest.WantEnv(t, rep, "HTTP_COOKIE", "b=2")
	})

	t.Run("MissingHost", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://ignored/", nil)
		r.Host = ""
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
		_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		upstreamtest.WantEnv(t, rep, "HTTP_HOST", "test.local") // $host falls back to server_name
		upstreamtest.WantEnv(t, rep, "SERVER_PROTOCOL", "HTTP/1.0")

		// Upstream nginx's own uwsgi_params has no HTTP_HOST param: then
		// there is no Host to pass and uWSGI gets none.
		r = r.WithContext(WithParams(context.Background(), Params{
			{Key: "REQUEST_METHOD", Value: "GET"}, {Key: "PATH_INFO", Value: "/"}, {Key: "SERVER_NAME", Value: "test.local"}, {Key: "SERVER_PORT", Value: "80"},
		}))
		_, rep = upstreamtest.FetchEcho(t, tr, r)
		if h, ok := rep.Environ["HTTP_HOST"]; ok {
			t.Errorf("HTTP_HOST = %q, want none", h)
		}
	})

	t.Run("HiddenAndReplacedHeaders", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://app.example/", nil)
		r.Header.Set("Proxy", "http://evil.example")
		r.Header.Set("X-Real-Ip", "10.0.0.1")
		r = withDebianParams(t, r, `uwsgi_param HTTP_PROXY "";`, `uwsgi_param HTTP_X_REAL_IP 192.0.2.9;`)
		_, rep := upstreamtest.FetchEcho(t, tr, r)
		if v, ok := rep.Environ["HTTP_PROXY"]; ok {
			t.Errorf("HTTP_PROXY = %q, want it hidden (httpoxy)", v)
		}
		upstreamtest.WantEnv(t, rep, "HTTP_X_REAL_IP", "192.0.2.9")
	})

	t.Run("AppRaisesBeforeStartResponse", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://app.example/raise", nil)
		_, err := tr.RoundTrip(withDebianParams(t, r))
		e := upstreamtest.WantUpstreamError(t, err, 502, "upstream prematurely closed connection while reading response header from upstream")
		if want := `, upstream: "uwsgi://` + addr + `"`; !strings.HasSuffix(e.Error(), want) {
			t.Errorf("Error() = %q, want it to end with %q", e.Error(), want)
		}
	})

	t.Run("SlowAppTimesOut", func(t *testing.T) {
		tr := &Transport{Addr: addr, ReadTimeout: 300 * time.Millisecond}
		r := httptest.NewRequest("GET", "http://app.example/sleep?3", nil)
		_, err := tr.RoundTrip(withDebianParams(t, r))
		e := upstreamtest.WantUpstreamError(t, err, 504, "upstream timed out (110: Connection timed out) while reading response header from upstream")
		if !e.Timeout() {
			t.Error("Timeout() is false for a 504")
		}
	})

	t.Run("CancelledRequest", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequestWithContext(ctx, "GET", "http://app.example/sleep?3", nil)
		r = withDebianParams(t, r)
		done := make(chan error, 1)
		go func() {
			_, err := tr.RoundTrip(r)
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})

	t.Run("LargeRequestHeader", func(t *testing.T) {
		// uWSGI's default buffer-size is 4096: it drops a bigger packet and
		// closes, which nginx reports as a premature close.
		r := httptest.NewRequest("GET", "http://app.example/", nil)
		r.Header.Set("X-Large", strings.Repeat("v", 6000))
		_, err := tr.RoundTrip(withDebianParams(t, r))
		var e *Error
		if !errors.As(err, &e) || e.Status != 502 || e.Phase != ReadingHeader {
			t.Fatalf("got %v, want a 502 while reading the header", err)
		}
	})

	t.Run("ResponseHeaderLargerThanBuffer", func(t *testing.T) {
		r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/big-header?6000", nil))
		_, err := tr.RoundTrip(r)
		upstreamtest.WantUpstreamError(t, err, 502, "upstream sent too big header while reading response header from upstream")

		big := &Transport{Addr: addr, BufferSize: 8192}
		resp, _ := upstreamtest.FetchEcho(t, big, withDebianParams(t, httptest.NewRequest("GET", "http://app.example/big-header?6000", nil)))
		if got := len(resp.Header.Get("X-Big")); got != 6000 {
			t.Errorf("X-Big has %d bytes, want 6000", got)
		}
	})
}

func TestRealUWSGIBigBufferAndUnixSocket(t *testing.T) {
	sock := "unix:" + filepath.Join(t.TempDir(), "app.sock")
	upstreamtest.StartUWSGI(t, "socket", sock, "echo.py", "buffer-size = 32768")
	tr := &Transport{Addr: sock}

	r := httptest.NewRequest("GET", "http://app.example/over-unix?x=1", nil)
	big := strings.Repeat("v", 20000)
	r.Header.Set("X-Large", big)
	_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
	upstreamtest.WantEnv(t, rep, "HTTP_X_LARGE", big)
	upstreamtest.WantEnv(t, rep, "PATH_INFO", "/over-unix")
}

func TestConnectFailures(t *testing.T) {
	closed := peertest.FreeAddr(t)
	r := httptest.NewRequest("GET", "http://app.example/", nil)

	_, err := (&Transport{Addr: closed}).RoundTrip(r)
	e := upstreamtest.WantUpstreamError(t, err, 502, "connect() failed (111: Connection refused) while connecting to upstream")
	if e.Phase != Connecting || e.Upstream != "uwsgi://"+closed {
		t.Errorf("phase %v upstream %q", e.Phase, e.Upstream)
	}

	missing := filepath.Join(t.TempDir(), "missing.sock")
	_, err = (&Transport{Addr: "unix:" + missing}).RoundTrip(r)
	e = upstreamtest.WantUpstreamError(t, err, 502, "connect() to unix:"+missing+" failed (2: No such file or directory) while connecting to upstream")
	if e.Upstream != "uwsgi://unix:"+missing+":" {
		t.Errorf("upstream %q", e.Upstream)
	}
}

func TestConnectTimeout(t *testing.T) {
	// A dialer that never completes stands in for an unreachable host.
	tr := &Transport{Addr: "192.0.2.1:3031", ConnectTimeout: 50 * time.Millisecond,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
	_, err := tr.RoundTrip(httptest.NewRequest("GET", "http://app.example/", nil))
	upstreamtest.WantUpstreamError(t, err, 504, "upstream timed out (110: Connection timed out) while connecting to upstream")
}

func TestRequestTooBig(t *testing.T) {
	tr := &Transport{Addr: "127.0.0.1:1", Dial: upstreamtest.RefuseDial(t)}
	_, err := tr.RoundTrip(upstreamtest.OversizedRequest())
	want := fmt.Sprintf("uwsgi request is too big: %d", 70000+4+3)
	upstreamtest.WantUpstreamError(t, err, 500, want)
}

// TestFlaskBehindReverseProxy plugs the transport under httputil.ReverseProxy
// the way the proxy does, in front of a Flask app on real uWSGI.
func TestFlaskBehindReverseProxy(t *testing.T) {
	addr := peertest.FreeAddr(t)
	upstreamtest.StartUWSGI(t, "socket", addr, "flaskapp.py")
	rp := &httputil.ReverseProxy{
		Transport: &Transport{Addr: addr},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.Host
			pr.Out = withDebianParams(t, pr.Out)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			var e *Error
			if errors.As(err, &e) {
				status = e.Status
			}
			w.WriteHeader(status)
		},
	}
	front := httptest.NewServer(rp)
	defer front.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	get := func(req *http.Request) (int, http.Header, string) {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(body)
	}

	req, _ := http.NewRequest("GET", front.URL+"/hello?name=uwsgi", nil)
	if code, _, body := get(req); code != 200 || body != "hello uwsgi" {
		t.Errorf("GET /hello: %d %q", code, body)
	}

	payload := strings.Repeat("binary\x00data", 3000)
	req, _ = http.NewRequest("POST", front.URL+"/echo", strings.NewReader(payload))
	if code, h, body := get(req); code != 201 || body != payload || h.Get("X-Seen-Length") != fmt.Sprint(len(payload)) {
		t.Errorf("POST /echo: %d, %d bytes back, X-Seen-Length %q", code, len(body), h.Get("X-Seen-Length"))
	}

	req, _ = http.NewRequest("GET", front.URL+"/cookies", nil)
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	if code, _, body := get(req); code != 200 || strings.TrimSpace(body) != `{"b":"2"}` {
		t.Errorf("GET /cookies: %d %q, want only the last Cookie line as nginx 1.22 + uWSGI give", code, body)
	}

	req, _ = http.NewRequest("GET", front.URL+"/go", nil)
	if code, h, _ := get(req); code != 302 || h.Get("Location") != "/hello?name=redirected" {
		t.Errorf("GET /go: %d Location %q", code, h.Get("Location"))
	}

	req, _ = http.NewRequest("GET", front.URL+"/missing", nil)
	if code, _, _ := get(req); code != 404 {
		t.Errorf("GET /missing: %d, want Flask's 404", code)
	}
}
