package proxy

import "testing"

func TestDiffRewriteReturn(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        rewrite ^/srv-old/(.*)$ /dir/$1 last;
        if ($arg_srvblock) { return 403; }
        location /ret/ {
            location /ret/200 { return 200; }
            location /ret/204 { return 204; }
            location /ret/text { return 200 "text $uri $args\n"; }
            location /ret/html.html { return 200 "<b>typed</b>"; }
            location /ret/404 { return 404; }
            location /ret/404text { return 404 "not here\n"; }
            location /ret/301 { return 301 /elsewhere; }
            location /ret/301abs { return 301 http://example.com/x; }
            location /ret/302 { return 302 "/with space?q=1"; }
            location /ret/307 { return 307 elsewhere; }
            location /ret/308 { return 308 $scheme://$host/perm; }
            location /ret/url { return http://example.com/url; }
            location /ret/444 { return 444; }
            location /ret/500 { return 500; }
            location /ret/503 { return 503; }
            location /ret/418 { return 418; }
            location /ret/304 { return 304; }
            location /ret/vars { return 200 "$request_method $request_uri $uri $args $is_args $query_string $arg_a $arg_B $http_x_test $content_length $server_port $scheme $document_root $host ${uri}x\n"; }
        }
        location /rw/ {
            rewrite ^/rw/last/(.*)$ /dir/$1 last;
            rewrite ^/rw/break/(.*)$ /dir/$1 break;
            rewrite ^/rw/redir/(.*)$ /dir/$1 redirect;
            rewrite ^/rw/perm/(.*)$ /dir/$1 permanent;
            rewrite ^/rw/url/(.*)$ http://example.com/$1;
            rewrite ^/rw/args/(.*)$ /ret/text?new=$1 last;
            rewrite ^/rw/noargs/(.*)$ /ret/text? last;
            rewrite ^/rw/chain/(.*)$ /rw/chained/$1;
            rewrite ^/rw/chained/(.*)$ /ret/text last;
            rewrite ^/rw/loop /rw/loop last;
            rewrite ^/rw/esc/(.*)$ /ret/text?v=$1 last;
            rewrite ^/rw/redirargs/(.*)$ /dir/$1?n=1 redirect;
            return 200 "fell through $uri\n";
        }
        location /set/ {
            set $a "one";
            set $b "$a-two";
            set $args "replaced=1";
            return 200 "$a $b $args\n";
        }
        location /if/ {
            if ($arg_x = yes) { return 200 "x is yes\n"; }
            if ($arg_x != no) { set $m "not-no"; }
            if ($http_user_agent ~* "(bot|spider)") { return 200 "bot $1\n"; }
            if ($uri ~ ^/if/cap/(\d+)) { return 200 "cap $1\n"; }
            if (-f {{ROOT}}/a.txt) { set $f "file"; }
            if (!-d {{ROOT}}/a.txt) { set $d "notdir"; }
            if (-e {{ROOT}}/dir) { set $e "exists"; }
            if ($arg_empty) { return 200 "truthy\n"; }
            return 200 "m=$m f=$f d=$d e=$e\n";
        }
        location /brk/ {
            set $v 1;
            break;
            set $v 2;
            return 200 "never\n";
        }
        location = /brk/x { set $v 1; break; return 200 "no"; }
        location /rwbreak/ {
            rewrite ^/rwbreak/(.*)$ /$1 break;
        }
    }`)
	p.run([]dcase{
		{path: "/srv-old/page.html"},
		{path: "/a.txt?srvblock=1"},
		{path: "/ret/200"},
		{path: "/ret/204"},
		{path: "/ret/text?a=1"},
		{path: "/ret/html.html"},
		{path: "/ret/404"},
		{path: "/ret/404text"},
		{path: "/ret/301"},
		{path: "/ret/301?q=1"},
		{path: "/ret/301abs"},
		{path: "/ret/302"},
		{path: "/ret/307"},
		{path: "/ret/308"},
		{path: "/ret/url"},
		{path: "/ret/444"},
		{path: "/ret/500"},
		{path: "/ret/503"},
		{path: "/ret/418"},
		{path: "/ret/304"},
		{method: "HEAD", path: "/ret/text"},
		{path: "/ret/vars?a=1&b=2&B=3", headers: []string{"X-Test: hdr"}},
		{path: "/ret/vars", method: "POST", body: "abc"},
		{raw: "GET /ret/301 HTTP/1.0\r\n\r\n"},
		{path: "/rw/last/page.html"},
		{path: "/rw/break/page.html"},
		{path: "/rw/redir/page.html?x=1"},
		{path: "/rw/perm/page.html"},
		{path: "/rw/url/abc?q=2"},
		{path: "/rw/args/val?orig=1"},
		{path: "/rw/args/val"},
		{path: "/rw/noargs/val?orig=1"},
		{path: "/rw/chain/x"},
		{path: "/rw/loop"},
		{path: "/rw/esc/a%20b"},
		{path: "/rw/esc/a+b"},
		{path: "/rw/redirargs/x?o=2"},
		{path: "/rw/other"},
		{path: "/set/?orig=1"},
		{path: "/if/?x=yes"},
		{path: "/if/?x=no"},
		{path: "/if/?x=maybe"},
		{path: "/if/", headers: []string{"User-Agent: Googlebot/2.1"}},
		{path: "/if/cap/77"},
		{path: "/if/?empty=1"},
		{path: "/if/?empty=0"},
		{path: "/brk/"},
		{path: "/brk/x"},
		{path: "/rwbreak/a.txt"},
	})
}

func TestDiffFilesErrors(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        error_page 404 /404.html;
        error_page 500 502 503 504 /50x.html;
        location /tf/ {
            try_files $uri $uri/ /fallback.html;
        }
        location /tf-code/ {
            try_files $uri =418;
        }
        location /tf-args/ {
            try_files $uri /ret/args?from=tf;
        }
        location /tf-named/ {
            try_files $uri @fallback;
        }
        location @fallback { return 200 "named fallback $uri\n"; }
        location /ret/args { return 200 "args=$args\n"; }
        location /tf2/ { try_files $uri /ret/args; }
        location /ix2/ { index /ret/args; }
        location /ep2/ { error_page 404 /ret/args; }
        location /ep-code/ { error_page 404 =200 /fallback.html; }
        location /ep-eq/ { error_page 404 = /ret/args; }
        location /ep-named/ { error_page 404 @fallback; }
        location /ep-url/ { error_page 404 http://example.com/notfound; }
        location /ep-url301/ { error_page 404 =301 http://example.com/moved; }
        location /ep-none/ { error_page 418 /fallback.html; }
        location /ep-500 { return 500; }
        location /ep-missing/ { error_page 404 /nonexistent.html; }
        location /ep-recursive/ { recursive_error_pages on; error_page 404 /nonexistent2.html; }
        location /ep-post/ { error_page 405 /fallback.html; }
        location /idx/ {
            alias {{ROOT}}/dir/;
            index missing.html page.html;
        }
        location /idx-abs/ { index /fallback.html; }
        location /list/ { autoindex on; }
        location /list-exact/ { alias {{ROOT}}/list/; autoindex on; autoindex_exact_size on; }
        location /list-json/ { alias {{ROOT}}/list/; autoindex on; autoindex_format json; }
        location /al/ { alias {{ROOT}}/alias-target/; }
        location ~ ^/alre/(.*)$ { alias {{ROOT}}/alias-target/$1; }
        location /dt/ { default_type text/x-test; }
        location /types/ { types { text/x-custom txt; } }
    }`)
	p.run([]dcase{
		{path: "/missing"},
		{path: "/ep-500"},
		{method: "POST", path: "/missing", body: "x"},
		{method: "HEAD", path: "/missing"},
		{path: "/tf/"},
		{path: "/tf/nothing"},
		{path: "/tf-code/x"},
		{path: "/tf-args/x?orig=1"},
		{path: "/tf-named/x"},
		{path: "/tf2/x?orig=1"},
		{path: "/ix2/?orig=2"},
		{path: "/ep2/x?orig=3"},
		{path: "/ep-code/x"},
		{path: "/ep-eq/x?q=1"},
		{path: "/ep-named/x"},
		{path: "/ep-url/x"},
		{path: "/ep-url301/x"},
		{path: "/ep-none/x"},
		{path: "/ep-missing/x"},
		{path: "/ep-recursive/x"},
		{method: "POST", path: "/ep-post/../a.txt", body: "x"},
		{path: "/idx/"},
		{path: "/idx"},
		{path: "/idx-abs/"},
		{path: "/list/"},
		{path: "/list/sub/"},
		{method: "HEAD", path: "/list/"},
		{path: "/list-exact/"},
		{path: "/list-json/"},
		{path: "/al/t.txt"},
		{path: "/al/"},
		{path: "/alre/t.txt"},
		{path: "/dt/x"},
		{path: "/a.txt"},
	})
}
