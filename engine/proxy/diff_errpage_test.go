package proxy

import (
	"net"
	"sync"
	"testing"
)

// startHang listens and accepts connections that never get an answer,
// for upstream read timeouts; they are closed when the test ends.
func startHang(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// error_page forms against real nginx: "=code", a bare "=", named
// targets, upstream errors with and without *_intercept_errors, and
// recursive_error_pages.
func TestDiffErrorPageForms(t *testing.T) {
	be := startBackend(t, "E")
	hang := startHang(t)
	p := newPair(t, `
    upstream deadgroup { server 127.0.0.1:1; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /show/ { return 200 "show $uri $args $request_method\n"; }
        location @named { return 200 "named $uri $args $request_method\n"; }
        location @named404 { return 404 "named says 404\n"; }
        location @proxied { proxy_pass http://`+be.addr()+`; }
        location /code/ { error_page 404 =200 /show/code; }
        location /code-other/ { error_page 404 =410 /show/x; }
        location /bare/ { error_page 404 = /status-page/; }
        location /status-page/ { return 201 "from target\n"; }
        location /bare-named/ { error_page 404 = @named404; }
        location /named/ { error_page 404 @named; }
        location /named-code/ { error_page 404 =202 @named; }
        location /named-proxied/ { error_page 404 = @proxied; }
        location /ret403/ { error_page 403 /show/was403; return 403; }
        location /ret403-code/ { error_page 403 =404 /show/was403; return 403; }
        location /post/ { error_page 404 /show/; }
        location /named-post/ { error_page 404 @named; }
        location /up502/ { proxy_pass http://127.0.0.1:1; error_page 502 /50x.html; }
        location /up502-named/ { proxy_pass http://deadgroup; error_page 502 = @named; }
        location /up504/ { proxy_pass http://`+be.addr()+`/slow; proxy_read_timeout 300ms; error_page 504 =200 /show/timeout; }
        location /up-nointercept/ { proxy_pass http://`+be.addr()+`/status/; error_page 404 500 /show/intercepted; }
        location /up-intercept/ { proxy_pass http://`+be.addr()+`/status/; proxy_intercept_errors on; error_page 404 500 /show/intercepted; }
        location /up-intercept-none/ { proxy_pass http://`+be.addr()+`/status/; proxy_intercept_errors on; error_page 418 /show/x; }
        location /up-intercept-code/ { proxy_pass http://`+be.addr()+`/status/; proxy_intercept_errors on; error_page 500 =503 /show/changed; }
        location /up-intercept-bare/ { proxy_pass http://`+be.addr()+`/status/; proxy_intercept_errors on; error_page 404 = /status-page/; }
        location /rec-off/ { error_page 404 /rec-off-target/; }
        location /rec-off-target/ { error_page 404 /show/second; return 404; }
        location /rec-on/ { recursive_error_pages on; error_page 404 /rec-on-target/; }
        location /rec-on-target/ { recursive_error_pages on; error_page 404 /show/second; return 404; }
        location /rec-loop/ { recursive_error_pages on; error_page 404 /rec-loop/; }
        location /uw502/ { uwsgi_pass 127.0.0.1:1; error_page 502 = @named; }
        location /uw502code/ { uwsgi_pass 127.0.0.1:1; uwsgi_intercept_errors on; error_page 502 =503 /show/uw; }
        location /uw504/ { uwsgi_pass `+hang+`; uwsgi_read_timeout 300ms; error_page 504 /show/uwtimeout; }
        location /fc504/ { fastcgi_pass `+hang+`; fastcgi_read_timeout 300ms; error_page 504 = @named; }
        location /px504/ { proxy_pass http://`+hang+`; proxy_read_timeout 300ms; error_page 504 =200 @named; }
        location /px504none/ { proxy_pass http://`+hang+`; proxy_read_timeout 300ms; }
        location /inherit/ {
            error_page 404 /show/outer;
            location /inherit/inner/ { }
            location /inherit/own/ { error_page 403 /show/own; }
        }
        location /ep-vars/ { error_page 404 /show/$uri?from=$args; }
        location /ep-url-args/ { error_page 404 http://example.com/nf?$args; }
        location /ep-303/ { error_page 404 =303 /show/seeother; }
    }`)
	p.run([]dcase{
		{path: "/code/x"},
		{path: "/code-other/x"},
		{path: "/bare/x"},
		{path: "/bare-named/x"},
		{path: "/named/x?q=1"},
		{path: "/named-code/x"},
		{path: "/named-proxied/x"},
		{path: "/ret403/"},
		{path: "/ret403-code/"},
		{method: "POST", path: "/post/x", body: "b=1"},
		{method: "POST", path: "/named-post/x", body: "b=1"},
		{method: "HEAD", path: "/post/x"},
		{method: "DELETE", path: "/code/x"},
		{path: "/up502/"},
		{path: "/up502-named/x"},
		{path: "/up504/"},
		{path: "/up-nointercept/404"},
		{path: "/up-intercept/404"},
		{path: "/up-intercept/500"},
		{path: "/up-intercept/200"},
		{path: "/up-intercept-none/404"},
		{path: "/up-intercept-code/500"},
		{path: "/up-intercept-bare/404"},
		{path: "/rec-off/x"},
		{path: "/rec-on/x"},
		{path: "/rec-loop/x"},
		{path: "/uw502/x?a=1"},
		{path: "/uw502code/x"},
		{path: "/uw504/x"},
		{path: "/fc504/x"},
		{path: "/px504/x"},
		{path: "/px504none/x"},
		{method: "POST", path: "/uw504/x", body: "data"},
		{path: "/inherit/inner/x"},
		{path: "/inherit/own/x"},
		{path: "/ep-vars/x?y=1"},
		{path: "/ep-url-args/x?y=1"},
		{path: "/ep-303/x"},
	})
}
