package fastcgi

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// Tests against Debian's real uWSGI 2.0.21 serving a WSGI app on its
// --fastcgi-socket.

func TestRealUWSGIFastCGI(t *testing.T) {
	addr := peertest.FreeAddr(t)
	upstreamtest.StartUWSGI(t, "fastcgi-socket", addr, "echo.py")
	tr := &Transport{Addr: addr}

	t.Run("GetWithQuery", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://app.example/a%20b?q=1&r=%20", nil)
		r.Header.Set("X-Custom", "yes")
		resp, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for k, want := range map[string]string{
			"REQUEST_METHOD": "GET", "QUERY_STRING": "q=1&r=%20", "REQUEST_URI": "/a%20b?q=1&r=%20",
			"DOCUMENT_URI": "/a b", "HTTP_HOST": "app.example", "HTTP_X_CUSTOM": "yes", "GATEWAY_INTERFACE": "CGI/1.1",
		} {
			if got := rep.Environ[k]; got != want {
				t.Errorf("environ %s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("PostWithBody", func(t *testing.T) {
		for _, size := range []int{5, 40000, 70000} {
			body := strings.Repeat("p", size)
			r := httptest.NewRequest("POST", "http://app.example/post", strings.NewReader(body))
			r.Header.Set("Content-Length", fmt.Sprint(size))
			_, rep := upstreamtest.FetchEcho(t, tr, withDebianParams(t, r))
			if rep.Body != body || rep.Environ["CONTENT_LENGTH"] != fmt.Sprint(size) {
				t.Errorf("size %d: app read %d bytes, CONTENT_LENGTH %q", size, len(rep.Body), rep.Environ["CONTENT_LENGTH"])
			}
		}
	})

	t.Run("AppRaisesBeforeStartResponse", func(t *testing.T) {
		_, err := tr.RoundTrip(withDebianParams(t, httptest.NewRequest("GET", "http://app.example/raise", nil)))
		var ue *Error
		if !errors.As(err, &ue) || ue.Status != 502 || ue.Phase != ReadingHeader {
			t.Errorf("got %v, want a 502 while reading the header", err)
		}
	})

	t.Run("SlowAppTimesOut", func(t *testing.T) {
		tr := &Transport{Addr: addr, ReadTimeout: 300 * time.Millisecond}
		_, err := tr.RoundTrip(withDebianParams(t, httptest.NewRequest("GET", "http://app.example/sleep?3", nil)))
		upstreamtest.WantUpstreamError(t, err, 504, "upstream timed out (110: Connection timed out) while reading response header from upstream")
	})
}

func TestRealUWSGIFastCGIUnixSocket(t *testing.T) {
	sock := "unix:" + filepath.Join(t.TempDir(), "fcgi.sock")
	upstreamtest.StartUWSGI(t, "fastcgi-socket", sock, "echo.py")
	resp, err := (&Transport{Addr: sock}).RoundTrip(withDebianParams(t, httptest.NewRequest("GET", "http://app.example/unix", nil)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"DOCUMENT_URI": "/unix"`) {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}

	missing := filepath.Join(t.TempDir(), "missing.sock")
	_, err = (&Transport{Addr: "unix:" + missing}).RoundTrip(httptest.NewRequest("GET", "http://app.example/", nil))
	upstreamtest.WantUpstreamError(t, err, 502, "connect() to unix:"+missing+" failed (2: No such file or directory) while connecting to upstream")
}
