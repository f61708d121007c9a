package proxy

import "testing"

// The Location of redirects: relative and absolute targets, the Host
// header's port, absolute_redirect, server_name_in_redirect and
// port_in_redirect, for return, rewrite and the directory 301.
func TestDiffRedirectLocations(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name canonical.test other.test;
        root {{ROOT}};
        location /r/rel { return 301 elsewhere; }
        location /r/abs { return 302 /abs?x=$arg_x; }
        location /r/full { return 307 https://example.com/full; }
        location /r/proto { return 302 //cdn.example.com/x; }
        location /rw/ { rewrite ^/rw/(.*)$ /dest/$1 permanent; }
        location /sni/ { server_name_in_redirect on; return 302 /sni-target; }
        location /noabs/ { absolute_redirect off; return 302 /noabs-target; }
        location /noabsdir/ { absolute_redirect off; alias {{ROOT}}/; }
        location /noport/ { port_in_redirect off; return 302 /noport-target; }
        location /noportdir/ { port_in_redirect off; alias {{ROOT}}/; }
        location /snidir/ { server_name_in_redirect on; alias {{ROOT}}/; }
        location ~ ^/cap/(\d+)/(\w+)$ {
            rewrite ^/cap/(\d+)/(\w+)$ /show/$2/$1;
            rewrite ^/show/(\w+)/(\d+)$ /final/$1-$2 last;
        }
        location /final/ { return 200 "final $uri\n"; }
        location /srvrw/ { return 200 "not reached\n"; }
        if ($request_uri ~ ^/srvif/(.*)$) { set $srvcap $1; rewrite ^ /final/srv-$srvcap last; }
    }`)
	p.run([]dcase{
		{path: "/r/rel"},
		{path: "/r/rel", headers: []string{"Host: other.test:8080"}},
		{path: "/r/abs?x=1"},
		{path: "/r/abs", headers: []string{"Host: other.test:8080"}},
		{path: "/r/full"},
		{path: "/r/proto"},
		{path: "/rw/a%20b?q=1"},
		{path: "/sni/", headers: []string{"Host: other.test"}},
		{path: "/sni/", headers: []string{"Host: other.test:99"}},
		{path: "/noabs/"},
		{path: "/noabsdir/dir"},
		{path: "/noabsdir/dir?q=1"},
		{path: "/noport/", headers: []string{"Host: other.test:99"}},
		{path: "/noportdir/dir", headers: []string{"Host: other.test:99"}},
		{path: "/snidir/dir", headers: []string{"Host: other.test:99"}},
		{path: "/dir", headers: []string{"Host: other.test:99"}},
		{raw: "GET /dir HTTP/1.0\r\n\r\n"},
		{raw: "GET /r/abs HTTP/1.0\r\n\r\n"},
		{path: "/cap/12/abc"},
		{path: "/srvif/xyz"},
	})
}
