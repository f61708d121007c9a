package proxy

import "testing"

// The "if is evil" examples of the nginx wiki: an if block that matches
// becomes the request's configuration, with what it inherits and what it
// does not.
func TestDiffIfInLocation(t *testing.T) {
	be := startBackend(t, "I")
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /only-one-if {
            set $true 1;
            if ($true) { add_header X-First 1; }
            if ($true) { add_header X-Second 2; }
            return 204;
        }
        location /if-try-files/ {
            try_files /nope @fallback;
            set $true 1;
            if ($true) { }
        }
        location /if-try-files-nomatch/ {
            try_files /nope @fallback;
            if ($arg_never) { }
        }
        location @fallback { return 200 "fallback $uri\n"; }
        location /if-proxy/ {
            if ($arg_p) { proxy_pass http://`+be.addr()+`; }
            return 200 "no proxy\n";
        }
        location /if-proxy2/ {
            if ($arg_p) { proxy_pass http://`+be.addr()+`; }
            alias {{ROOT}}/dir/;
        }
        location /if-root/ {
            alias {{ROOT}}/dir/;
            if ($arg_r) { root {{ROOT}}/list; }
        }
        location /if-header/ {
            add_header X-Outer outer;
            if ($arg_h) { add_header X-Inner inner; }
            if ($arg_e) { expires 1h; }
            return 200 "headers\n";
        }
        location /if-set/ {
            set $v outer;
            if ($arg_s) { set $v inner; }
            return 200 "v=$v\n";
        }
        location /if-break/ {
            if ($arg_b) { set $v first; break; }
            set $v second;
            return 200 "v=$v\n";
        }
        location /if-deny/ {
            if ($arg_d) { return 403; }
            deny all;
        }
        location /if-rewrite/ {
            if ($arg_x) { rewrite ^ /a.txt break; }
            return 200 "no rewrite\n";
        }
    }`)
	p.run([]dcase{
		{path: "/only-one-if", check: []string{"X-First", "X-Second"}},
		{path: "/if-try-files/x"},
		{path: "/if-try-files-nomatch/x"},
		{path: "/if-proxy/x?p=1"},
		{path: "/if-proxy/x"},
		{path: "/if-proxy2/page.html?p=1"},
		{path: "/if-proxy2/page.html"},
		{path: "/if-root/page.html"},
		{path: "/if-root/b.txt?r=1"},
		{path: "/if-root/if-root/b.txt?r=1"},
		{path: "/if-header/", check: []string{"X-Outer", "X-Inner", "Expires", "Cache-Control"}},
		{path: "/if-header/?h=1", check: []string{"X-Outer", "X-Inner", "Expires", "Cache-Control"}},
		{path: "/if-header/?e=1", check: []string{"X-Outer", "X-Inner", "Expires", "Cache-Control"}},
		{path: "/if-set/"},
		{path: "/if-set/?s=1"},
		{path: "/if-break/"},
		{path: "/if-break/?b=1"},
		{path: "/if-deny/"},
		{path: "/if-deny/?d=1"},
		{path: "/if-rewrite/?x=1"},
		{path: "/if-rewrite/"},
	})
}
