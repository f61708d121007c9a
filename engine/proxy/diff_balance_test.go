package proxy

import (
	"fmt"
	"testing"
)

// More of the upstream module against real nginx: weights over three
// servers, backup servers taking over after failures, max_fails and
// fail_timeout, down, proxy_next_upstream on answers and on refused
// connections, and groups whose servers are all down.
func TestDiffUpstreamFailover(t *testing.T) {
	a := startBackend(t, "A")
	b := startBackend(t, "B")
	c := startBackend(t, "C")
	p := newPair(t, `
    upstream w3 {
        server `+a.addr()+` weight=3;
        server `+b.addr()+` weight=2;
        server `+c.addr()+`;
    }
    upstream deadfirst {
        server 127.0.0.1:1 max_fails=1 fail_timeout=30s;
        server `+a.addr()+`;
        server `+b.addr()+`;
    }
    upstream nomaxfails {
        server 127.0.0.1:1 max_fails=0;
        server `+a.addr()+`;
    }
    upstream backups {
        server 127.0.0.1:1;
        server 127.0.0.1:2;
        server `+b.addr()+` backup;
        server `+c.addr()+` backup;
    }
    upstream primaryup {
        server `+a.addr()+`;
        server `+b.addr()+` backup;
    }
    upstream withdown {
        server `+a.addr()+` down;
        server `+b.addr()+`;
        server `+c.addr()+`;
    }
    upstream dead3 {
        server 127.0.0.1:1;
        server 127.0.0.1:2;
        server 127.0.0.1:3;
    }
    upstream onedead { server 127.0.0.1:1; }
    upstream status500 {
        server `+a.addr()+`;
        server `+b.addr()+`;
    }
    upstream downand500 {
        server `+a.addr()+` down;
        server `+c.addr()+`;
    }
    upstream heavydead {
        server 127.0.0.1:1 weight=5 max_fails=3;
        server `+a.addr()+` weight=2;
        server `+b.addr()+`;
    }
    upstream alldown {
        server `+a.addr()+` down;
        server `+b.addr()+` down;
    }
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /w3/ { proxy_pass http://w3; }
        location /df/ { proxy_pass http://deadfirst; }
        location /nm/ { proxy_pass http://nomaxfails; }
        location /bk/ { proxy_pass http://backups; }
        location /pu/ { proxy_pass http://primaryup; }
        location /wd/ { proxy_pass http://withdown; }
        location /d3/ { proxy_pass http://dead3; }
        location /d3tries/ { proxy_pass http://dead3; proxy_next_upstream_tries 2; }
        location /od/ { proxy_pass http://onedead; }
        location /s500/ { proxy_pass http://status500/status/; proxy_next_upstream error timeout http_500; }
        location /s500off/ { proxy_pass http://status500/status/; proxy_next_upstream off; }
        location /s404/ { proxy_pass http://status500/status/; proxy_next_upstream http_404; }
        location /s503/ { proxy_pass http://status500/status/; proxy_next_upstream http_503; proxy_intercept_errors on; error_page 503 =200 /ok; }
        location /ok { return 200 "intercepted $upstream_status\n"; }
        location /vars/ { proxy_pass http://dead3; error_page 502 = /upvars; }
        location = /upvars { return 200 "status=$upstream_status addr=$upstream_addr\n"; }
        location /dn500/ { proxy_pass http://downand500/status/; proxy_next_upstream error http_500; }
        location /alldown/ { proxy_pass http://alldown; }
        location /hd/ { proxy_pass http://heavydead; }
        location /post/ { proxy_pass http://deadfirst; }
    }`)
	var cases []dcase
	for i := 0; i < 12; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("w3 %d", i), path: "/w3/", check: []string{"X-Backend"}})
	}
	for i := 0; i < 5; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("deadfirst %d", i), path: "/df/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("nomaxfails %d", i), path: "/nm/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("backups %d", i), path: "/bk/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("primary up %d", i), path: "/pu/", check: []string{"X-Backend"}})
		cases = append(cases, dcase{name: fmt.Sprintf("with down %d", i), path: "/wd/", check: []string{"X-Backend"}})
	}
	for i := 0; i < 14; i++ {
		cases = append(cases, dcase{name: fmt.Sprintf("heavy dead %d", i), path: "/hd/", check: []string{"X-Backend"}})
	}
	for i := 0; i < 3; i++ {
		cases = append(cases,
			dcase{name: fmt.Sprintf("dead3 %d", i), path: "/d3/"},
			dcase{name: fmt.Sprintf("dead3 tries %d", i), path: "/d3tries/"},
			dcase{name: fmt.Sprintf("onedead %d", i), path: "/od/"},
		)
	}
	for i := 0; i < 3; i++ {
		cases = append(cases,
			dcase{name: fmt.Sprintf("500 next %d", i), path: "/s500/500", check: []string{"X-Backend"}},
			dcase{name: fmt.Sprintf("500 off %d", i), path: "/s500off/500", check: []string{"X-Backend"}},
			dcase{name: fmt.Sprintf("404 next %d", i), path: "/s404/404", check: []string{"X-Backend"}},
			dcase{name: fmt.Sprintf("503 next intercept %d", i), path: "/s503/503", check: []string{"X-Backend"}},
		)
	}
	cases = append(cases,
		dcase{name: "down and 500", path: "/dn500/500", check: []string{"X-Backend"}},
		dcase{name: "all down", path: "/alldown/"},
		dcase{name: "post to deadfirst", method: "POST", path: "/post/", body: "x=1", check: []string{"X-Backend"}},
	)
	p.run(cases)
}
