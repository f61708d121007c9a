package proxy

import "testing"

// proxy_pass's URI rules: with and without a URI part, with variables,
// inside regex locations and after rewrites; the headers it sets; and
// proxy_redirect's default.
func TestDiffProxyPassURIRules(t *testing.T) {
	be := startBackend(t, "U")
	addr := be.addr()
	p := newPair(t, `
    upstream grp { server `+addr+`; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /nouri/ { proxy_pass http://`+addr+`; }
        location /slash/ { proxy_pass http://`+addr+`/; }
        location /sub/ { proxy_pass http://`+addr+`/base/; }
        location /subnoslash/ { proxy_pass http://`+addr+`/base; }
        location /noslashloc { proxy_pass http://`+addr+`/b/; }
        location = /exactp { proxy_pass http://`+addr+`/e/; }
        location /grp/ { proxy_pass http://grp/g/; }
        location /grpnouri/ { proxy_pass http://grp; }
        location ~ ^/re/(.*)$ { proxy_pass http://`+addr+`/captured/$1?$args; }
        location ~ ^/renouri/ { proxy_pass http://`+addr+`; }
        location ~ ^/revar/(?<rest>.*)$ { proxy_pass http://`+addr+`/v/$rest; }
        location /var/ {
            set $be `+addr+`;
            proxy_pass http://$be;
        }
        location /varuri/ {
            set $be `+addr+`;
            proxy_pass http://$be/fixed$request_uri;
        }
        location /vargrp/ {
            set $g grp;
            proxy_pass http://$g;
        }
        location /rwlast/ { rewrite ^/rwlast/(.*)$ /sub/$1 last; }
        location /rwbreak/ {
            rewrite ^/rwbreak/(.*)$ /changed/$1 break;
            proxy_pass http://`+addr+`/base/;
        }
        location /rwbreaknouri/ {
            rewrite ^/rwbreaknouri/(.*)$ /changed/$1?added=1 break;
            proxy_pass http://`+addr+`;
        }
        location /setargs/ {
            set $args "new=1";
            proxy_pass http://`+addr+`/s/;
        }
        location /hdrs/ {
            proxy_pass http://`+addr+`;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Request-Uri $request_uri;
        }
        location /hosthdr/ {
            proxy_pass http://`+addr+`;
            proxy_set_header Host $proxy_host;
        }
        location /grphost/ { proxy_pass http://grp; }
        location /redir/ { proxy_pass http://`+addr+`/; }
        location /redirgrp/ { proxy_pass http://grp/; }
        location /redirdefault/ { proxy_pass http://`+addr+`/; proxy_redirect default; }
        location /redirvar/ { set $x /; proxy_pass http://`+addr+`$x; }
        location /redirmap/ { proxy_pass http://`+addr+`/; proxy_redirect / /mapped/; }
        location /varrw/ {
            rewrite ^/varrw/(.*)$ /x/$1 break;
            set $be `+addr+`;
            proxy_pass http://$be;
        }
        location /tfnamed/ { try_files /nope @prox; }
        location /epnamed/ { error_page 404 = @prox; }
        location @prox { proxy_pass http://`+addr+`; }
        location /tfuri/ { try_files /nope /nouri/from-tf?$args; }
        location / { proxy_pass http://`+addr+`; }
    }`)
	p.run([]dcase{
		{path: "/nouri/a/b?x=1"},
		{path: "/nouri/a%20b%2fc"},
		{path: "/slash/a/b?x=1"},
		{path: "/slash/"},
		{path: "/sub/a%20b/c?x=1"},
		{path: "/sub/"},
		{path: "/sub"},
		{path: "/subnoslash/x"},
		{path: "/noslashloc"},
		{path: "/noslashloc/x"},
		{path: "/noslashlocx"},
		{path: "/exactp"},
		{path: "/exactp?q=1"},
		{path: "/grp/x?y=1"},
		{path: "/grpnouri/x?y=1"},
		{path: "/re/a/b?q=1"},
		{path: "/re/a%20b"},
		{path: "/renouri/x%20y?q=1"},
		{path: "/revar/p/q?z=1"},
		{path: "/var/a%20b?q=1"},
		{path: "/varuri/a?q=1"},
		{path: "/vargrp/a?q=1"},
		{path: "/rwlast/x?q=1"},
		{path: "/rwbreak/a%20b?k=v"},
		{path: "/rwbreaknouri/x?k=v"},
		{path: "/setargs/x?old=1"},
		{path: "/hdrs/x", headers: []string{"X-Forwarded-For: 10.1.1.1, 10.2.2.2"}},
		{path: "/hdrs/x"},
		{path: "/hdrs/x", headers: []string{"Host: Example.COM:99"}},
		{path: "/hosthdr/x"},
		{path: "/grphost/x"},
		{path: "/redir/redirect"},
		{path: "/redir/relredirect"},
		{path: "/redirgrp/redirect"},
		{path: "/redirdefault/redirect"},
		{path: "/redirvar/redirect"},
		{path: "/redirmap/relredirect"},
		{path: "/redirect"},
		{path: "/varrw/a%20b?q=1"},
		{path: "/tfnamed/a%2Fb//c?q=1"},
		{path: "/epnamed/a%2Fb//c?q=1"},
		{path: "/tfuri/a%2Fb?q=1"},
		{path: "/a%2Fb//c/./d?q=%41"},
		// the header filters on proxied answers
		{path: "/validators", check: []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}},
		{path: "/validators", headers: []string{"Range: bytes=2-4"}, check: []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}},
		{path: "/validators", headers: []string{"Range: bytes=2-4,6-7"}, check: []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}},
		{path: "/validators", headers: []string{"Range: bytes=20-"}, check: []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}},
		{path: "/validators", headers: []string{"If-Modified-Since: Wed, 06 Mar 2024 06:07:08 GMT"}, check: []string{"ETag", "Last-Modified"}},
		{path: "/validators", headers: []string{"If-None-Match: \"v1\""}, check: []string{"ETag", "Last-Modified"}},
		{path: "/validators", headers: []string{"If-Match: \"nope\""}, check: []string{"ETag", "Last-Modified"}},
		{path: "/plainlen", headers: []string{"Range: bytes=2-4"}, check: []string{"Accept-Ranges", "Content-Range"}},
		{method: "HEAD", path: "/validators", headers: []string{"Range: bytes=2-4"}, check: []string{"Accept-Ranges", "Content-Range"}},
	})
}
