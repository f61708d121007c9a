package proxy

import "testing"

// Location matching beyond the documentation's example: captures used by
// alias, rewrite and return, "^~" against regexes, "=" against nested
// prefixes, "~*", named locations and "if" inside locations.
func TestDiffLocationMatching(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location = /exact { return 200 "exact\n"; }
        location /exact { return 200 "prefix of exact $uri\n"; }
        location /exact/ { return 200 "prefix slash $uri\n"; }
        location ^~ /static/ { return 200 "noregex static $uri\n"; }
        location ~ \.js$ { return 200 "regex js $uri\n"; }
        location ~* \.PNG$ { return 200 "icase png $uri\n"; }
        location ~ \.png$ { return 200 "case png (never first) $uri\n"; }
        location ~ ^/cap/(\w+)/(\w+)$ { return 200 "cap $1 $2 $uri\n"; }
        location ~ ^/al/(.+)$ { alias {{ROOT}}/alias-target/$1; }
        location ~ ^/rwcap/(?<name>\w+)/(\d+) { rewrite ^ /ret/$name-$2 last; }
        location /ret/ { return 200 "ret $uri $args\n"; }
        location /lvl1/ {
            location /lvl1/lvl2/ {
                location /lvl1/lvl2/lvl3/ { return 200 "three $uri\n"; }
                location ~ \.gif$ { return 200 "two regex $uri\n"; }
                return 200 "two $uri\n";
            }
            location ~ \.gif$ { return 200 "one regex $uri\n"; }
            location = /lvl1/eq { return 200 "nested exact\n"; }
            return 200 "one $uri\n";
        }
        location ^~ /noregex/ {
            location ~ \.js$ { return 200 "nested regex under ^~ $uri\n"; }
            return 200 "noregex parent $uri\n";
        }
        location ~ ^/reouter/ {
            location ~ inner { return 200 "regex in regex $uri\n"; }
            return 200 "regex outer $uri\n";
        }
        location /iftest/ {
            if ($arg_go) { return 200 "if-ret $arg_go\n"; }
            if ($uri ~ /iftest/(\d+)) { rewrite ^ /ret/if-$1 last; }
            if ($arg_set) { set $tag "tagged"; }
            return 200 "after if [$tag]\n";
        }
        location /named/ { try_files /nope @n; }
        location /named-ep/ { error_page 404 = @n; }
        location @n { return 200 "named $uri $args\n"; }
        location /Mixed/ { return 200 "mixed case prefix\n"; }
    }`)
	p.run([]dcase{
		{path: "/exact"},
		{path: "/exact?x=1"},
		{path: "/exactly"},
		{path: "/exact/"},
		{path: "/exact/x"},
		{path: "/static/app.js"},
		{path: "/other/app.js"},
		{path: "/a.PNG"},
		{path: "/a.png"},
		{path: "/a.pNg"},
		{path: "/cap/one/two"},
		{path: "/cap/one/two/three"},
		{path: "/al/t.txt"},
		{path: "/al/missing.txt"},
		{path: "/al/t.txt?q=1"},
		{path: "/rwcap/abc/12?x=y"},
		{path: "/lvl1/"},
		{path: "/lvl1/x.gif"},
		{path: "/lvl1/lvl2/"},
		{path: "/lvl1/lvl2/x.gif"},
		{path: "/lvl1/lvl2/lvl3/"},
		{path: "/lvl1/lvl2/lvl3/x.gif"},
		{path: "/lvl1/eq"},
		{path: "/lvl1/eq.gif"},
		{path: "/noregex/a.js"},
		{path: "/noregex/a.txt"},
		{path: "/reouter/a"},
		{path: "/reouter/inner"},
		{path: "/iftest/?go=1"},
		{path: "/iftest/42"},
		{path: "/iftest/x?set=1"},
		{path: "/iftest/x"},
		{path: "/named/x?a=1"},
		{path: "/named-ep/x?a=2"},
		{path: "/mixed/"},
		{path: "/Mixed/"},
	})
}

// Rewrite flags, loops and returns with the request's variables.
func TestDiffRewriteFlags(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /show/ { return 200 "show uri=$uri args=$args request_uri=$request_uri is_args=$is_args\n"; }
        location /last/ {
            rewrite ^/last/(.*)$ /show/$1 last;
            return 200 "not reached\n";
        }
        location /brk/ {
            rewrite ^/brk/(.*)$ /show/$1 break;
            return 200 "after break $uri $args\n";
        }
        location /brk-static/ {
            rewrite ^/brk-static/(.*)$ /$1 break;
        }
        location /noflag/ {
            rewrite ^/noflag/(.*)$ /show/$1;
            rewrite ^/show/(.*)$ /show/again-$1;
        }
        location /redir/ { rewrite ^/redir/(.*)$ /show/$1 redirect; }
        location /perm/ { rewrite ^/perm/(.*)$ /show/$1 permanent; }
        location /redirq/ { rewrite ^/redirq/(.*)$ /show/$1? redirect; }
        location /absredir/ { rewrite ^ http://other.example/x permanent; }
        location /qkeep/ { rewrite ^/qkeep/(.*)$ /show/$1?added=1 last; }
        location /qdrop/ { rewrite ^/qdrop/(.*)$ /show/$1? last; }
        location /qdropadd/ { rewrite ^/qdropadd/(.*)$ /show/$1?only=1? last; }
        location /loop/ { rewrite ^/loop/(.*)$ /loop/$1 last; }
        location /loop2/ { rewrite ^ /loop3/ last; }
        location /loop3/ { rewrite ^ /loop2/ last; }
        location /loopep/ { error_page 404 /loopep/; return 404; }
        location /nomatch/ { rewrite ^/zzz /show/ last; return 200 "no match $uri\n"; }
        location /retcode/ {
            location /retcode/201 { return 201 "created $request_uri\n"; }
            location /retcode/400 { return 400; }
            location /retcode/403t { return 403 "forbidden $args"; }
            location /retcode/410 { return 410; }
            location /retcode/301v { return 301 $request_uri/x; }
            location /retcode/302u { return 302 $uri; }
            location /retcode/303 { return 303 /show/?$args; }
            location /retcode/399 { return 399 "odd\n"; }
            location /retcode/599 { return 599; }
            location /retcode/999 { return 999 "nines"; }
            location /retcode/200e { return 200; }
            location /retcode/302text { return 302 "some text"; }
        }
        location /vars/ { return 200 "uri=$uri request_uri=$request_uri args=$args document_uri=$document_uri arg_a=$arg_a\n"; }
    }`)
	p.run([]dcase{
		{path: "/last/a?x=1"},
		{path: "/brk/a?x=1"},
		{path: "/brk-static/a.txt"},
		{path: "/brk-static/dir/"},
		{path: "/noflag/a?q=1"},
		{path: "/redir/a?x=1"},
		{path: "/perm/a?x=1"},
		{path: "/redirq/a?x=1"},
		{path: "/absredir/?y=2"},
		{path: "/qkeep/a?orig=1"},
		{path: "/qkeep/a"},
		{path: "/qdrop/a?orig=1"},
		{path: "/qdropadd/a?orig=1"},
		{path: "/loop/x"},
		{path: "/loop2/"},
		{path: "/loopep/"},
		{path: "/nomatch/x"},
		{path: "/retcode/201?a=b"},
		{path: "/retcode/400"},
		{path: "/retcode/403t?z=1"},
		{path: "/retcode/410"},
		{path: "/retcode/301v?k=v"},
		{path: "/retcode/302u?k=v"},
		{path: "/retcode/303?k=v"},
		{path: "/retcode/399"},
		{path: "/retcode/599"},
		{path: "/retcode/999"},
		{path: "/retcode/200e"},
		{path: "/retcode/302text"},
		{method: "HEAD", path: "/retcode/201"},
		{path: "/vars/a%20b/../c?a=1&a=2"},
		{path: "/vars/%41?a=%20x"},
		{path: "/vars/"},
		{path: "/vars/?"},
	})
}
