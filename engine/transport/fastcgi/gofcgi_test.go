package fastcgi

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"net/http/httptest"
	"net/http/httputil"
	"reflect"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// Tests against Go's own FastCGI responder, net/http/fcgi, on a real socket.

// goReport is what goResponder answers.
type goReport struct {
	Method, RawQuery, Path, Host, Body string
	Header                             http.Header
	Env                                map[string]string
	ContentLength                      int64
}

// goResponder serves the report, plus a few fixed answers, over FastCGI.
func goResponder(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/teapot":
			w.Header().Set("X-Kind", "teapot")
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short and stout")
			return
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "14")
			io.WriteString(w, `{"json": true}`)
			return
		case "/large":
			w.Header().Set("Content-Type", "application/octet-stream")
			for i := 0; i < 64; i++ {
				w.Write([]byte(strings.Repeat(fmt.Sprintf("%04d", i), 4096)))
			}
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(goReport{
			Method: r.Method, RawQuery: r.URL.RawQuery, Path: r.URL.Path, Host: r.Host,
			Body: string(body), Header: r.Header, Env: fcgi.ProcessEnv(r), ContentLength: r.ContentLength,
		})
	}))
	return l.Addr().String()
}

func goReportFor(t *testing.T, tr *Transport, r *http.Request) goReport {
	t.Helper()
	resp, body := upstreamtest.Fetch(t, tr, r)
	var rep goReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, body, err)
	}
	return rep
}

func TestGoFCGIResponder(t *testing.T) {
	tr := &Transport{Addr: goResponder(t)}

	t.Run("GetWithQueryAndHeaders", func(t *testing.T) {
		r := httptest.NewRequest("GET", "http://App.Example:8080/a/b?q=1&r=%20", nil)
		r.Header.Set("X-Custom", "yes")
		r.Header.Add("Cookie", "a=1")
		r.Header.Add("Cookie", "b=2")
		rep := goReportFor(t, tr, withDebianParams(t, r))
		if rep.Method != "GET" || rep.Path != "/a/b" || rep.RawQuery != "q=1&r=%20" || rep.Host != "app.example" {
			t.Errorf("got %s %s ?%s host %q", rep.Method, rep.Path, rep.RawQuery, rep.Host)
		}
		if got := rep.Header.Get("X-Custom"); got != "yes" {
			t.Errorf("X-Custom = %q", got)
		}
		if got := rep.Env["REDIRECT_STATUS"]; got != "200" {
			t.Errorf("REDIRECT_STATUS = %q, want Debian's 200", got)
		}
		if got := rep.Env["SERVER_SOFTWARE"]; got != "nginx/1.22.1" {
			t.Errorf("SERVER_SOFTWARE = %q", got)
		}
	})

	t.Run("PostBodies", func(t *testing.T) {
		for _, size := range []int{0, 11, 32 << 10, 100 << 10} {
			body := strings.Repeat("x", size)
			r := httptest.NewRequest("POST", "http://app.example/post", strings.NewReader(body))
			r.Header.Set("Content-Length", fmt.Sprint(size))
			r.Header.Set("Content-Type", "text/plain")
			rep := goReportFor(t, tr, withDebianParams(t, r))
			if rep.Body != body || rep.ContentLength != int64(size) {
				t.Errorf("size %d: responder read %d bytes, Content-Length %d", size, len(rep.Body), rep.ContentLength)
			}
		}
	})

	t.Run("ChunkedBody", func(t *testing.T) {
		body := strings.Repeat("chunk", 20000)
		r := httptest.NewRequest("POST", "http://app.example/post", io.MultiReader(strings.NewReader(body)))
		r.ContentLength = -1
		rep := goReportFor(t, tr, withDebianParams(t, r))
		if rep.Body != body || rep.ContentLength != int64(len(body)) {
			t.Errorf("responder read %d bytes with Content-Length %d, want %d", len(rep.Body), rep.ContentLength, len(body))
		}
	})

	t.Run("StatusAndHeaders", func(t *testing.T) {
		resp, body := upstreamtest.Fetch(t, tr, withDebianParams(t, httptest.NewRequest("GET", "http://app.example/teapot", nil)))
		if resp.StatusCode != 418 || resp.Status != "418 I'm a teapot" || resp.Header.Get("X-Kind") != "teapot" || string(body) != "short and stout" {
			t.Errorf("got %q %v %q", resp.Status, resp.Header, body)
		}
		resp, _ = upstreamtest.Fetch(t, tr, withDebianParams(t, httptest.NewRequest("GET", "http://app.example/redirect", nil)))
		if resp.StatusCode != 302 || resp.Header.Get("Location") != "/elsewhere" {
			t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("LargeResponse", func(t *testing.T) {
		_, body := upstreamtest.Fetch(t, tr, withDebianParams(t, httptest.NewRequest("GET", "http://app.example/large", nil)))
		if len(body) != 64*4*4096 || !strings.HasPrefix(string(body), "0000") || !strings.HasSuffix(string(body), "0063") {
			t.Errorf("got %d bytes", len(body))
		}
	})

	t.Run("Head", func(t *testing.T) {
		resp, body := upstreamtest.Fetch(t, tr, withDebianParams(t, httptest.NewRequest("HEAD", "http://app.example/teapot", nil)))
		if resp.StatusCode != 418 || len(body) != 0 {
			t.Errorf("HEAD: %d with %d body bytes", resp.StatusCode, len(body))
		}
		// With a Content-Length, the body the responder still sends is
		// read and dropped.
		resp, body = upstreamtest.Fetch(t, tr, withDebianParams(t, httptest.NewRequest("HEAD", "http://app.example/json", nil)))
		if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength <= 0 {
			t.Errorf("HEAD: %d with %d body bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
		}
	})
}

func TestRecordTooBig(t *testing.T) {
	tr := &Transport{Addr: "127.0.0.1:1", Dial: upstreamtest.RefuseDial(t)}
	_, err := tr.RoundTrip(upstreamtest.OversizedRequest())
	upstreamtest.WantUpstreamError(t, err, 500, fmt.Sprintf("fastcgi request record is too big: %d", 1+4+3+70000))
}

// TestLogfPerRequest checks that a request's own Logf, from its context,
// takes STDERR lines instead of the Transport's.
func TestLogfPerRequest(t *testing.T) {
	rec := startRecorder(t, map[string]string{"warn": stderr("careful\n") + okResponse("X-A: 1\r\n", "ok")})
	var shared, own logCollector
	tr := &Transport{Addr: rec.Addr, Logf: shared.logf}
	r := withDebianParams(t, httptest.NewRequest("GET", "http://app.example/resp/warn", nil))
	r = r.WithContext(WithLogf(r.Context(), func(format string, args ...any) {
		own.logf(format+", client: 192.0.2.1", args...)
	}))
	resp, body := upstreamtest.Fetch(t, tr, r)
	rec.Next(t)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	want := []string{`FastCGI sent in stderr: "careful" while reading response header from upstream, client: 192.0.2.1`}
	if !reflect.DeepEqual(own.lines, want) || len(shared.lines) != 0 {
		t.Errorf("request log %q, transport log %q; want %q only in the request's", own.lines, shared.lines, want)
	}
}

// TestBehindReverseProxy plugs the transport under httputil.ReverseProxy, the
// way the proxy does, with nginx's default hidden headers applied.
func TestBehindReverseProxy(t *testing.T) {
	rp := &httputil.ReverseProxy{
		Transport: &Transport{Addr: goResponder(t)},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.Host
			pr.Out = withDebianParams(t, pr.Out)
		},
		ModifyResponse: func(resp *http.Response) error {
			hideDefaults(resp.Header)
			return nil
		},
	}
	front := httptest.NewServer(rp)
	defer front.Close()

	resp, err := http.Get(front.URL + "/teapot")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 418 || string(body) != "short and stout" || resp.Header.Get("X-Kind") != "teapot" || resp.Header.Get("Status") != "" {
		t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}

	payload := strings.Repeat("payload", 10000)
	resp, err = http.Post(front.URL+"/echo?x=1", "text/plain", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	var rep goReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rep.Method != "POST" || rep.Body != payload || rep.RawQuery != "x=1" {
		t.Errorf("responder saw %s ?%s with %d bytes", rep.Method, rep.RawQuery, len(rep.Body))
	}
}
