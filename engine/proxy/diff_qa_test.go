package proxy

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Differential QA of what Django and Flask deployments put in their
// nginx.conf: static and media locations, favicon and robots, caching
// headers, canned answers, redirects to the canonical name, body limits.

// Static files as a Django or Flask deployment serves them: alias with
// regex captures, try_files with =404 and named locations, quiet favicon.
func TestDiffQAStatic(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location = /favicon.ico { access_log off; log_not_found off; }
        location = /robots.txt { access_log off; log_not_found off; return 200 "User-agent: *\nDisallow: /\n"; }
        location ~ ^/media/(.+\.txt)$ { alias {{ROOT}}/alias-target/$1; }
        location ~ ^/assets/(?<rest>.*)$ { alias {{ROOT}}/static/$rest; }
        location ~ ^/docs/(.*)$ { alias {{ROOT}}/documents/$1; try_files $uri =404; }
        location /static/ { alias {{ROOT}}/static/; try_files $uri $uri/ =404; }
        location /app/ { try_files $uri $uri/ @backend; }
        location @backend { return 200 "backend $uri $args\n"; }
        location /tf404/ { try_files $uri =404; }
        location /tfcode/ { try_files $uri =418; }
        location /tfidx/ { try_files $uri $uri/index.html /fallback.html; }
        location /multi/ { alias {{ROOT}}/dir/; index none.html page.html; }
        location /dt/ { alias {{ROOT}}/; default_type text/x-qa; }
        location /ty/ { alias {{ROOT}}/; types { application/x-qa txt; } }
        location /cs/ { alias {{ROOT}}/; charset utf-8; }
        location /cs2/ { alias {{ROOT}}/; charset koi8-r; source_charset koi8-r; }
        location /cs3/ { alias {{ROOT}}/; charset utf-8; charset_types text/plain text/css; }
        location /int/ { internal; }
    }`)
	et := []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range"}
	p.run([]dcase{
		{path: "/favicon.ico"},
		{method: "HEAD", path: "/favicon.ico"},
		{path: "/robots.txt"},
		{method: "HEAD", path: "/robots.txt"},
		{path: "/media/t.txt", check: et},
		{path: "/media/none.txt"},
		{path: "/media/x.gif"},
		{path: "/assets/app.js", check: et},
		{path: "/assets/"},
		{path: "/assets/nope.js"},
		{path: "/docs/doc.html"},
		{path: "/docs/none.html"},
		{path: "/docs/"},
		{path: "/static/app.js", check: et},
		{path: "/static/"},
		{path: "/static/none.js"},
		{path: "/static"},
		{path: "/app/x?a=1"},
		{path: "/app/"},
		{method: "POST", path: "/app/x", body: "k=v"},
		{path: "/tf404/x"},
		{path: "/tfcode/x"},
		{path: "/tfidx/x"},
		{path: "/multi/"},
		{path: "/multi"},
		{path: "/dt/noext"},
		{path: "/dt/a.txt"},
		{path: "/ty/a.txt"},
		{path: "/ty/index.html"},
		{path: "/cs/a.txt"},
		{path: "/cs/index.html"},
		{path: "/cs/static/app.js"},
		{path: "/cs2/a.txt"},
		{path: "/cs2/index.html"},
		{path: "/cs3/a.txt"},
		{path: "/cs3/index.html"},
		{path: "/cs3/style.CSS"},
		{path: "/int/"},
		{path: "/int/a.txt"},
		// encoded paths on a static location
		{path: "/static%2Fapp.js"},
		{path: "/static/%2e%2e/a.txt"},
		{path: "/static/..%2Fa.txt"},
		{path: "/static/app.js%00"},
		{path: "/static/%2e%2e%2f%2e%2e%2fetc/passwd"},
		{path: "/media/..%2f404.txt"},
		{path: "/assets/..%2Fa.txt"},
		{path: "/assets/%2E%2E/a.txt"},
		{path: "/dir/%2e/page.html"},
		{path: "/dir%2F..%2Fa.txt"},
		// HEAD, conditionals and ranges on static files in an alias
		{method: "HEAD", path: "/static/app.js", check: et},
		{path: "/static/app.js", headers: []string{"If-Modified-Since: Tue, 05 Mar 2024 06:07:08 GMT"}, check: et},
		{path: "/static/app.js", headers: []string{"If-None-Match: \"65e6b6b4-f\""}, check: et},
		{path: "/static/app.js", headers: []string{"If-None-Match: \"65e6b6b4-f\"", "Range: bytes=0-1"}, check: et},
		{path: "/static/app.js", headers: []string{"Range: bytes=0-1,-2"}, check: et},
		{path: "/static/app.js", headers: []string{"Range: bytes=20-30"}, check: et},
		{path: "/static/app.js", headers: []string{"Range: bytes=0-0,2-2,4-4"}, check: et},
		{method: "HEAD", path: "/static/app.js", headers: []string{"Range: bytes=20-"}, check: et},
		{path: "/static/app.js", headers: []string{"Range: bytes=0-1", "If-Range: \"65e6b6b4-f\""}, check: et},
		{path: "/cs/a.txt", headers: []string{"Range: bytes=0-1"}, check: et},
	})
}

// Caching headers: expires and add_header, and how they inherit.
func TestDiffQAHeaders(t *testing.T) {
	p := newPair(t, `
    add_header X-Http http always;
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        add_header X-Srv srv;
        add_header X-Srv-Always srv always;
        location /epoch/ { alias {{ROOT}}/; expires epoch; }
        location /max/ { alias {{ROOT}}/; expires max; }
        location /off/ { alias {{ROOT}}/; expires off; }
        location /neg/ { alias {{ROOT}}/; expires -1; }
        location /mod/ { alias {{ROOT}}/; expires modified 1h; }
        location /at/ { alias {{ROOT}}/; expires @15h30m; }
        location /zero/ { alias {{ROOT}}/; expires 0; }
        location /own/ { alias {{ROOT}}/; add_header X-Loc loc; add_header Cache-Control "public"; }
        location /ownal/ { alias {{ROOT}}/; add_header X-Loc loc always; }
        location /inh/ { alias {{ROOT}}/; }
        location /ret/ { add_header X-Ret ret; return 404 "gone\n"; }
        location /reta/ { add_header X-Ret ret always; return 404 "gone\n"; }
        location /r204/ { add_header X-Ret ret; return 204; }
        location /r301/ { add_header X-Ret ret; return 301 /a.txt; }
        location /r302/ { add_header X-Ret ret; return 302 http://example.com/$uri?$args; }
        location /var/ { return 200 "m=$request_method u=$uri a=$arg_a h=$host ru=$request_uri\n"; }
        location /ct/ { default_type application/json; return 200 '{"ok":true}'; }
        location /rcode/ { return 403; }
        location /r499/ { return 444; }
        location /rtext/ { return 503 "down for maintenance"; }
        location /rurl { return https://example.com; }
    }`)
	h := []string{"X-Http", "X-Srv", "X-Srv-Always", "X-Loc", "X-Ret", "Cache-Control", "Last-Modified", "ETag"}
	exp := append([]string{"Expires"}, h...)
	p.run([]dcase{
		{path: "/a.txt", check: h},
		{path: "/missing", check: h},
		{path: "/epoch/a.txt", check: exp},
		{path: "/max/a.txt", check: exp},
		{path: "/off/a.txt", check: exp},
		{path: "/neg/a.txt", check: h},
		{path: "/mod/a.txt", check: exp},
		{path: "/mod/missing", check: exp},
		{path: "/zero/a.txt", check: h},
		{path: "/epoch/missing", check: exp},
		{path: "/max/a.txt", headers: []string{"If-Modified-Since: Tue, 05 Mar 2024 06:07:08 GMT"}, check: exp},
		{path: "/own/a.txt", check: h},
		{path: "/own/missing", check: h},
		{path: "/ownal/missing", check: h},
		{path: "/ownal/a.txt", headers: []string{"If-Modified-Since: Tue, 05 Mar 2024 06:07:08 GMT"}, check: h},
		{path: "/inh/a.txt", headers: []string{"If-Modified-Since: Tue, 05 Mar 2024 06:07:08 GMT"}, check: h},
		{path: "/inh/a.txt", headers: []string{"Range: bytes=0-1"}, check: h},
		{path: "/inh/a.txt", headers: []string{"Range: bytes=100-"}, check: h},
		{path: "/inh/dir", check: h},
		{path: "/ret/", check: h},
		{method: "HEAD", path: "/ret/", check: h},
		{path: "/reta/", check: h},
		{path: "/r204/", check: h},
		{path: "/r301/", check: h},
		{method: "HEAD", path: "/r301/", check: h},
		{path: "/r302/x?a=1&b=2", check: h},
		{path: "/var/p%20q?a=1&a=2", check: h},
		{method: "HEAD", path: "/var/x", check: h},
		{method: "POST", path: "/var/x", body: "z", check: h},
		{path: "/ct/", check: h},
		{path: "/rcode/", check: h},
		{path: "/r499/", check: h},
		{path: "/rtext/", check: h},
		{path: "/rurl", check: h},
	})
}

// Redirects and rewrites: server-level rewrite with last, index lists,
// directories without a trailing slash under the redirect switches.
func TestDiffQARedirects(t *testing.T) {
	p := newPair(t, `
    map $http_host $hostkind {
        hostnames;
        default other;
        example.com main;
        *.example.com sub;
        www.example.* wwwany;
    }
    map $uri $mapped {
        default none;
        ~^/old/(?<slug>[a-z]+)$ /new/$slug;
        ~*\.PDF$ pdf;
        /exact exact;
    }
    server {
        listen {{LISTEN}};
        server_name localhost www.qa.test;
        root {{ROOT}};
        rewrite ^/legacy/(.*)$ /dir/$1 last;
        rewrite ^/perm/(.*)$ /dir/$1 permanent;
        rewrite ^/tmp/(.*)$ /dir/$1?from=tmp redirect;
        rewrite ^/brk/(.*)$ /a.txt break;
        rewrite ^/q/(.*)$ /show/$1? last;
        index none.html index.html;
        location /show/ { return 200 "show $uri $args\n"; }
        location /hk/ { return 200 "$hostkind $mapped\n"; }
        location /old/ { if ($mapped != none) { return 301 $mapped; } return 404; }
        location /post/ {
            if ($request_method = POST) { return 405 "no post\n"; }
            return 200 "ok $request_method\n";
        }
        location /ms/ { alias {{ROOT}}/; }
    }
    server {
        listen {{LISTEN}};
        server_name noabs.test;
        root {{ROOT}};
        absolute_redirect off;
        location /r/ { return 302 /a.txt; }
    }
    server {
        listen {{LISTEN}};
        server_name noport.test;
        root {{ROOT}};
        port_in_redirect off;
        location /r/ { return 302 /a.txt; }
    }
    server {
        listen {{LISTEN}};
        server_name canon.test alias.test;
        root {{ROOT}};
        server_name_in_redirect on;
        location /r/ { return 302 /a.txt; }
    }
    server {
        listen {{LISTEN}};
        server_name slashes.test;
        root {{ROOT}};
        merge_slashes off;
        location /dir/ { }
        location = /dir//page.html { return 200 "double\n"; }
    }`)
	p.run([]dcase{
		{path: "/legacy/page.html"},
		{path: "/legacy/"},
		{path: "/perm/page.html?x=1"},
		{path: "/tmp/page.html?x=1"},
		{path: "/brk/anything"},
		{path: "/q/abc?drop=1"},
		{path: "/dir"},
		{path: "/dir?a=b"},
		{path: "/dir", headers: []string{"Host: www.qa.test"}},
		{path: "/dir", headers: []string{"Host: www.qa.test:8080"}},
		{method: "HEAD", path: "/dir"},
		{path: "/"},
		{path: "/hk/x", headers: []string{"Host: example.com"}},
		{path: "/hk/x", headers: []string{"Host: a.example.com"}},
		{path: "/hk/x", headers: []string{"Host: www.example.org"}},
		{path: "/hk/x", headers: []string{"Host: EXAMPLE.COM."}},
		{path: "/hk/f.pdf"},
		{path: "/old/page"},
		{path: "/old/Page"},
		{path: "/post/", method: "POST", body: "a=1"},
		{path: "/post/"},
		{path: "/post/", method: "HEAD"},
		{path: "/ms/dir"},
		{path: "/dir", headers: []string{"Host: noabs.test"}},
		{path: "/r/", headers: []string{"Host: noabs.test"}},
		{path: "/dir", headers: []string{"Host: noport.test"}},
		{path: "/r/", headers: []string{"Host: noport.test"}},
		{path: "/dir", headers: []string{"Host: alias.test"}},
		{path: "/r/", headers: []string{"Host: alias.test"}},
		{path: "/dir/", headers: []string{"Host: alias.test"}},
		{path: "/dir//page.html", headers: []string{"Host: slashes.test"}},
		{path: "//dir/page.html", headers: []string{"Host: slashes.test"}},
		{path: "/dir//index.html", headers: []string{"Host: slashes.test"}},
		{path: "/dir//page.html"},
	})
}

// error_page with =, with a named location, recursive_error_pages,
// internal, and body limits.
func TestDiffQAErrorPages(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        error_page 404 /404.html;
        error_page 500 502 503 504 /50x.html;
        location = /404.html { internal; }
        location = /50x.html { }
        location /eq/ { error_page 404 = /fallback.html; }
        location /eq2/ { error_page 404 =200 /fallback.html; }
        location /eq3/ { error_page 404 =302 /fallback.html; }
        location /eqx/ { error_page 404 =410 /none.html; }
        location /named/ { error_page 404 = @app; }
        location /named2/ { error_page 404 418 = @app; return 418; }
        location @app { return 200 "app $uri $status\n"; }
        location /url/ { error_page 404 http://example.com/nf?u=$uri; }
        location /url2/ { error_page 404 =301 http://example.com/nf; }
        location /rec/ { recursive_error_pages on; error_page 404 /rec/next; }
        location /recoff/ { error_page 404 /recoff/next; }
        location /rec2/ { recursive_error_pages on; error_page 404 = @r2; }
        location @r2 { error_page 403 = /fallback.html; return 403; }
        location /err/ { return 503; }
        location /err2/ { error_page 503 = @app; return 503 "text"; }
        location /lim/ { client_max_body_size 4; return 200 "ok\n"; }
        location /lim0/ { client_max_body_size 0; return 200 "ok\n"; }
        location /limtf/ { client_max_body_size 4; try_files $uri @app; }
        location /ret404/ { return 404; }
        location /ret404t/ { return 404 "own text\n"; }
    }`)
	p.run([]dcase{
		{path: "/missing"},
		{path: "/404.html"},
		{method: "HEAD", path: "/missing"},
		{path: "/eq/x"},
		{path: "/eq2/x"},
		{path: "/eq3/x"},
		{path: "/eqx/x"},
		{path: "/named/x?a=1"},
		{method: "POST", path: "/named/x", body: "k"},
		{path: "/named2/x"},
		{path: "/url/x"},
		{path: "/url2/x"},
		{path: "/rec/x"},
		{path: "/recoff/x"},
		{path: "/rec2/x"},
		{path: "/err/"},
		{path: "/err2/"},
		{method: "POST", path: "/lim/", body: "12345"},
		{method: "POST", path: "/lim/", body: "1234"},
		{method: "POST", path: "/lim0/", body: "1234567890"},
		{method: "POST", path: "/limtf/x", body: "12345"},
		{path: "/ret404/"},
		{path: "/ret404t/"},
	})
}

// Less common static settings: etag, if_modified_since, max_ranges,
// types {}, charset on generated answers, alias without a slash, SPA
// fallbacks and file tests.
func TestDiffQAStaticMore(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        charset utf-8;
        location /noetag/ { alias {{ROOT}}/; etag off; }
        location /imsbefore/ { alias {{ROOT}}/; if_modified_since before; }
        location /imsoff/ { alias {{ROOT}}/; if_modified_since off; }
        location /mr1/ { alias {{ROOT}}/; max_ranges 1; }
        location /mr0/ { alias {{ROOT}}/; max_ranges 0; }
        location /notypes/ { alias {{ROOT}}/; types { } default_type text/x-none; }
        location /ret/ { return 200 "text\n"; }
        location /retj/ { default_type application/json; return 200 "{}"; }
        location /static { alias {{ROOT}}/static; }
        location ^~ /images/ { expires 1d; }
        location ~* \.(gif|jpg|png)$ { add_header X-Img 1; }
        location /spa/ { try_files $uri $uri/ /index.html; }
        location /spa2/ { try_files $uri /spa2/index.html =404; }
        location /legacy/ {
            if (!-e $request_filename) { rewrite ^/legacy/(.*)$ /show/$1 last; }
        }
        location /show/ { return 200 "show $uri\n"; }
        location /fn/ { alias {{ROOT}}/dir/; return 200 "$request_filename|$document_root|$realpath_root\n"; }
        location /loop/ { rewrite ^/loop/(.*)$ /loop/$1 last; }
        location /idxabs/ { alias {{ROOT}}/dir/; index /fallback.html; }
        location /setv/ { set $who "v-$arg_n"; add_header X-Who $who; return 200 "$who\n"; }
        location /addvar/ { alias {{ROOT}}/; add_header X-Uri $uri; add_header X-Empty ""; }
    }`)
	et := []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range", "Cache-Control", "X-Img", "X-Who", "X-Uri", "X-Empty"}
	lm := "Tue, 05 Mar 2024 06:07:08 GMT"
	p.run([]dcase{
		{path: "/a.txt", check: et},
		{path: "/missing", check: et},
		{path: "/dir", check: et},
		{path: "/noetag/a.txt", check: et},
		{path: "/noetag/a.txt", headers: []string{"If-None-Match: \"65e6b68c-d\""}, check: et},
		{path: "/noetag/a.txt", headers: []string{"Range: bytes=0-1", "If-Range: \"65e6b68c-d\""}, check: et},
		{path: "/imsbefore/a.txt", headers: []string{"If-Modified-Since: Wed, 06 Mar 2024 06:07:08 GMT"}, check: et},
		{path: "/imsbefore/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: et},
		{path: "/a.txt", headers: []string{"If-Modified-Since: Wed, 06 Mar 2024 06:07:08 GMT"}, check: et},
		{path: "/imsoff/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: et},
		{path: "/imsoff/a.txt", headers: []string{"If-None-Match: *"}, check: et},
		{path: "/mr1/a.txt", headers: []string{"Range: bytes=0-1,3-4"}, check: et},
		{path: "/mr1/a.txt", headers: []string{"Range: bytes=0-1"}, check: et},
		{path: "/mr0/a.txt", headers: []string{"Range: bytes=0-1"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=0-1,100-200"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=100-200,300-400"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=0-1,2-3"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=0-"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=-0"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes= 0-1"}, check: et},
		{path: "/a.txt", headers: []string{"Range: bytes=0-1,"}, check: et},
		{path: "/a.txt", headers: []string{"Range: BYTES=0-1"}, check: et},
		{path: "/index.html", headers: []string{"Range: bytes=0-1,3-4"}, check: et},
		{path: "/notypes/a.txt", check: et},
		{path: "/notypes/index.html", check: et},
		{path: "/ret/", check: et},
		{path: "/retj/", check: et},
		{path: "/static/app.js", check: et},
		{path: "/staticx"},
		{path: "/static"},
		{path: "/images/1.gif", check: et},
		{path: "/documents/1.jpg", check: et},
		{path: "/spa/route/x", check: et},
		{path: "/spa/", check: et},
		{path: "/spa2/x", check: et},
		{path: "/legacy/x?y=1", check: et},
		{path: "/fn/a%20b", check: et},
		{path: "/loop/x", check: et},
		{path: "/idxabs/", check: et},
		{path: "/setv/?n=7", check: et},
		{path: "/addvar/a.txt", check: et},
		{path: "/addvar/none", check: et},
		{method: "HEAD", path: "/ret/", check: et},
		{method: "OPTIONS", path: "/ret/", check: et},
	})
}

// Generated answers: server_tokens, msie_padding, return codes and
// bodies, guards with if, dotfile hiding.
func TestDiffQAGenerated(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        server_tokens off;
        location ~ /\. { deny all; access_log off; log_not_found off; }
        location /m/ {
            if ($request_method !~ ^(GET|HEAD|POST)$) { return 405; }
            if ($http_user_agent ~* (bot|crawl)) { return 403 "bots\n"; }
            if ($args ~ "debug=1") { return 200 "debug $arg_debug\n"; }
            return 200 "m ok\n";
        }
        location /c307/ { return 307 /a.txt; }
        location /c308/ { return 308 $scheme://$host$request_uri; }
        location /c303/ { return 303 "/a.txt"; }
        location /c200url/ { return 200 /a.txt; }
        location /c201/ { return 201; }
        location /c410/ { return 410; }
        location /c429/ { return 429; }
        location /c500/ { return 500; }
        location /c599/ { return 599; }
        location /c400/ { return 400; }
        location /c301e/ { return 301; }
        location /idxv/ { alias {{ROOT}}/dir/; index $arg_i.html; }
        location /ep/ { error_page 404 =200 /a.txt; }
        location /ep304/ { error_page 404 /a.txt; }
    }`)
	ua := "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"
	p.run([]dcase{
		{path: "/missing"},
		{path: "/missing", headers: []string{ua}},
		{path: "/dir", headers: []string{ua}},
		{path: "/c307/", headers: []string{ua}},
		{path: "/.git/config"},
		{path: "/.env"},
		{path: "/dot.dir/file.tar.gz"},
		{path: "/m/"},
		{method: "PUT", path: "/m/", body: "x"},
		{method: "DELETE", path: "/m/"},
		{path: "/m/", headers: []string{"User-Agent: Googlebot/2.1"}},
		{path: "/m/?debug=1"},
		{method: "HEAD", path: "/m/?debug=1"},
		{path: "/c307/"},
		{path: "/c308/x?y=1"},
		{path: "/c303/"},
		{path: "/c200url/"},
		{path: "/c201/"},
		{path: "/c410/"},
		{path: "/c429/"},
		{path: "/c500/"},
		{path: "/c599/"},
		{path: "/c400/"},
		{path: "/c301e/"},
		{method: "HEAD", path: "/c410/"},
		{path: "/idxv/?i=page"},
		{path: "/idxv/?i=none"},
		{path: "/idxv/"},
		{path: "/ep/x"},
		{method: "HEAD", path: "/ep/x"},
		{method: "POST", path: "/ep/x", body: "a"},
		{path: "/ep304/x", headers: []string{"If-Modified-Since: Tue, 05 Mar 2024 06:07:08 GMT"}},
		{path: "/ep/x", headers: []string{"Range: bytes=0-1"}},
	})
}

// Encoded paths through captures, rewrites, redirects and try_files.
func TestDiffQAEncoded(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location ~ ^/m2/(.*)$ { alias {{ROOT}}/$1; }
        location ~ ^/m3/(.*)$ { alias {{ROOT}}/$1; autoindex on; }
        location /rw/ { rewrite ^/rw/(.*)$ /show/$1 last; }
        location /rwr/ { rewrite ^/rwr/(.*)$ /show/$1 redirect; }
        location /rwl/ { rewrite ^ /show/x%41y%2F%20%25%zz%4g%7E%3f%41?k=%41 redirect; }
        location /rwl2/ { rewrite ^ /show/a%3Fb%41 redirect; }
        location /rwl3/ { rewrite ^ /show/a%4 redirect; }
        location /rwx/ { rewrite ^/rwx/(.*)$ http://example.com/$1 permanent; }
        location /rwa/ { rewrite ^/rwa/(.*)$ /show/?p=$1 last; }
        location /rwar/ { rewrite ^/rwar/(.*)$ /show/?p=$1 redirect; }
        location /show/ { return 200 "uri=$uri args=$args ru=$request_uri\n"; }
        location /ret/ { return 301 https://$host$request_uri; }
        location /retu/ { return 302 /show$uri; }
        location /tfh/ { try_files $uri $uri.html $uri/index.html =404; }
        location /tfs/ { try_files /dir$uri @n; }
        location @n { return 200 "named $uri\n"; }
    }`)
	p.run([]dcase{
		{path: "/m2/dir"},
		{path: "/m2/dir/"},
		{path: "/m2/space%20dir/f.txt"},
		{path: "/m2/space%20dir"},
		{path: "/m2/a%00.txt"},
		{path: "/m2/%2e%2e/%2e%2e/etc/passwd"},
		{path: "/m2/dir%2Fpage.html"},
		{path: "/m2/utf/%C3%A9t%C3%A9.txt"},
		{path: "/m3/list/"},
		{path: "/m3/list"},
		{path: "/rw/a%20b?x=1"},
		{path: "/rw/a%3Fb"},
		{path: "/rw/a%2Fb"},
		{path: "/rw/%C3%A9"},
		{path: "/rwr/a%20b?x=1"},
		{path: "/rwr/a%3Fb"},
		{path: "/rwr/a%26b"},
		{path: "/rwr/%C3%A9"},
		{path: "/rwr/a%23b%25c%2B"},
		{path: "/rwr/a+b%7e"},
		{path: "/rwl/?q=1"},
		{path: "/rwl2/?q=1"},
		{path: "/rwl3/"},
		{path: "/rwx/a%20b"},
		{path: "/rwx/a\"b"},
		{path: "/rwa/a%20b"},
		{path: "/rwa/a%26b?x=1"},
		{path: "/rwar/a%20b"},
		{path: "/rwar/a%26b%3D?x=1"},
		{path: "/ret/a%20b?c=d%20e"},
		{path: "/retu/a%20b"},
		{path: "/retu/a%0Db"},
		{path: "/tfh/x"},
		{path: "/tfs/page.html"},
		{path: "/tfs/none"},
		{path: "/tfs/../a.txt"},
		{path: "/tfs/%2e%2e/a.txt"},
	})
}

// How locations hand requests to each other: index into another
// location, exact root, error pages with their own headers.
func TestDiffQALocations(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        add_header X-Srv srv;
        location = / { index index.html; add_header X-Root root; }
        location = /index.html { add_header X-Idx idx; expires 1h; }
        location /dir/ { index page.html; }
        location ~ \.html$ { add_header X-Html html; }
        location /e/ { error_page 404 /404.html; add_header X-E e always; }
        location = /404.html { add_header X-404 404 always; }
        location /nf/ { log_not_found off; try_files $uri =404; }
        location /iftf/ { if ($arg_x) { set $y 1; } try_files $uri /fallback.html; }
        location /ifret/ { if ($arg_x = 1) { add_header X-If if; } alias {{ROOT}}/; }
    }`)
	h := []string{"X-Srv", "X-Root", "X-Idx", "X-Html", "X-E", "X-404", "X-If", "Cache-Control"}
	p.run([]dcase{
		{path: "/", check: h},
		{path: "/?a=1", check: h},
		{path: "/index.html", check: h},
		{path: "/dir/", check: h},
		{path: "/dir/page.html", check: h},
		{path: "/e/x", check: h},
		{path: "/e/x.html", check: h},
		{path: "/nf/x", check: h},
		{path: "/iftf/x?x=1", check: h},
		{path: "/iftf/x", check: h},
		{path: "/ifret/a.txt?x=1", check: h},
		{path: "/ifret/a.txt", check: h},
		{path: "/ifret/none?x=1", check: h},
	})
}

// Bodies: client_max_body_size against chunked bodies, Expect and static
// files, as upload forms meet them.
func TestDiffQABodies(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        client_max_body_size 8;
        location /ret/ { return 200 "ok $content_length\n"; }
        location /big/ { client_max_body_size 0; return 200 "big\n"; }
        location /st/ { alias {{ROOT}}/; }
        location /ep/ { error_page 413 = @too; return 200 "x\n"; }
        location @too { return 200 "too big\n"; }
    }`)
	chunk := func(path, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
	}
	p.run([]dcase{
		{method: "POST", path: "/ret/", body: "123456789"},
		{method: "POST", path: "/ret/", body: "12345678"},
		{raw: chunk("/ret/", "5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n")},
		{raw: chunk("/ret/", "4\r\n1234\r\n0\r\n\r\n")},
		{raw: chunk("/big/", "10\r\n0123456789abcdef\r\n0\r\n\r\n")},
		{raw: "POST /ret/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"},
		{method: "POST", path: "/st/a.txt", body: "123456789"},
		{method: "POST", path: "/st/a.txt", body: "1"},
		{method: "POST", path: "/st/missing", body: "123456789"},
		{method: "POST", path: "/ep/", body: "123456789"},
		{method: "PUT", path: "/big/", body: "123456789"},
		{method: "GET", path: "/ret/", body: "123456789"},
	})
}

// Names: map hostnames with leading-dot names, regex map values with
// captures, server_name captures, types blocks replacing mime.types.
func TestDiffQANames(t *testing.T) {
	p := newPair(t, `
    map $host $site {
        hostnames;
        default "";
        .example.com dot;
        www.example.com www;
        *.b.example.com starb;
        ~^(?<pre>[a-z]+)\.re\.test$ re-$pre;
    }
    map $request_uri $target {
        ~^/go/(\d+)$ /id/$1;
        ~*^/GO/(?<n>\w+) /name/$n;
        default "";
    }
    map $http_accept $fmt { default html; ~json json; "~*^text/plain" text; }
    server {
        listen {{LISTEN}};
        server_name localhost *.example.com .example.com ~^(?<sub>[a-z]+)\.re\.test$;
        root {{ROOT}};
        types { text/x-html html; }
        location /s/ { return 200 "site=$site sub=$sub target=$target fmt=$fmt sn=$server_name\n"; }
        location /go/ { if ($target) { return 301 $target; } return 404; }
        location /GO/ { if ($target) { return 301 $target; } return 404; }
    }
    server {
        listen {{LISTEN}};
        server_name ~^www\.(?<domain>.+)$;
        location / { return 301 $scheme://$domain$request_uri; }
    }`)
	p.run([]dcase{
		{path: "/s/", headers: []string{"Host: example.com"}},
		{path: "/s/", headers: []string{"Host: www.example.com"}},
		{path: "/s/", headers: []string{"Host: a.www.example.com"}},
		{path: "/s/", headers: []string{"Host: x.b.example.com"}},
		{path: "/s/", headers: []string{"Host: b.example.com"}},
		{path: "/s/", headers: []string{"Host: abc.re.test"}},
		{path: "/s/", headers: []string{"Host: ABC.RE.TEST:80"}},
		{path: "/s/", headers: []string{"Host: localhost", "Accept: application/json"}},
		{path: "/s/", headers: []string{"Host: localhost", "Accept: TEXT/PLAIN"}},
		{path: "/go/42"},
		{path: "/go/x"},
		{path: "/GO/abc"},
		{path: "/Go/abc"},
		{path: "/a.txt"},
		{path: "/index.html"},
		{path: "/x?y=1", headers: []string{"Host: www.shop.test"}},
		{path: "/x", headers: []string{"Host: www.shop.test:8080"}},
	})
}

// alias corners: a location without a trailing slash, alias with index
// in a regex location, try_files with alias, named error pages without
// "=".
func TestDiffQAAlias(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /img { alias {{ROOT}}/images/; }
        location ~ ^/m4/(.*)$ { alias {{ROOT}}/$1; index index.html; }
        location ~ ^/m5/(.*)$ { alias {{ROOT}}/$1; try_files $uri $uri/ =404; }
        location /m6/ { alias {{ROOT}}/dir/; try_files $uri $uri/ /m6/page.html; }
        location /m7/ { alias {{ROOT}}/dir/; try_files $uri/ =404; }
        location /np/ { error_page 404 @np; }
        location @np { return 200 "np $status\n"; }
        location /np2/ { error_page 404 @np2; }
        location @np2 { root {{ROOT}}/dir; }
        location /np3/ { error_page 404 @np3; }
        location @np3 { try_files /a.txt =404; }
    }`)
	p.run([]dcase{
		{path: "/img/1.gif"},
		{path: "/img1.gif"},
		{path: "/img../a.txt"},
		{path: "/img"},
		{path: "/img/"},
		{path: "/m4/dir/"},
		{path: "/m4/dir"},
		{path: "/m4/"},
		{path: "/m5/a.txt"},
		{path: "/m5/dir/"},
		{path: "/m5/none"},
		{path: "/m6/x"},
		{path: "/m6/page.html"},
		{path: "/m6/"},
		{path: "/m7/"},
		{path: "/m7/x"},
		{path: "/np/x"},
		{method: "HEAD", path: "/np/x"},
		{path: "/np2/x"},
		{path: "/np3/x"},
	})
}

// Configs from deployments that nginx -t refuses are refused by Load too.
func TestDiffQABadConfigs(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"alias in named location":    `server { listen 127.0.0.1:1; location @n { alias /tmp/; } }`,
		"source_charset no map":      `server { listen 127.0.0.1:1; charset utf-8; source_charset koi8-r; }`,
		"expires bad":                `server { listen 127.0.0.1:1; expires soon; }`,
		"add_header one arg":         `server { listen 127.0.0.1:1; add_header X-A; }`,
		"add_header bad flag":        `server { listen 127.0.0.1:1; add_header X-A b never; }`,
		"return three args":          `server { listen 127.0.0.1:1; return 200 a b; }`,
		"try_files in if":            `server { listen 127.0.0.1:1; location / { if ($uri) { try_files $uri =404; } } }`,
		"internal in server":         `server { listen 127.0.0.1:1; internal; }`,
		"client_max_body_size bad":   `server { listen 127.0.0.1:1; client_max_body_size 10X; }`,
		"index empty":                `server { listen 127.0.0.1:1; index ""; }`,
		"error_page equals bad":      `server { listen 127.0.0.1:1; error_page 404 =abc /x; }`,
		"source_charset in location": `server { listen 127.0.0.1:1; charset utf-8; location / { source_charset windows-1251; } }`,
		"charset_types empty":        `server { listen 127.0.0.1:1; charset_types; }`,
		"alias with try_files root":  `server { listen 127.0.0.1:1; location / { alias /tmp/; root /tmp; } }`,
	}
	for name, http := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		if err := os.WriteFile(path, []byte("events {}\nhttp {\n    "+http+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		if ok {
			t.Errorf("%s: nginx accepts it; the case is wrong", name)
			continue
		}
		if _, _, err := Load(path, LoadOptions{Prefix: dir}); err == nil {
			t.Errorf("%s: we accept what nginx refuses:\n%s", name, out)
		}
	}
}

// A source_charset with a charset_map is accepted, as by nginx, with a
// warning that wsgideck sends the body without recoding it; one equal to
// the charset, in another case, needs no map.
func TestDiffQACharsetMapAccepted(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"with map":   `include /etc/nginx/koi-utf; server { listen 127.0.0.1:1; charset utf-8; source_charset koi8-r; }`,
		"same":       `server { listen 127.0.0.1:1; charset UTF-8; source_charset utf-8; }`,
		"off":        `server { listen 127.0.0.1:1; charset utf-8; location / { source_charset koi8-r; charset off; } location /x/ { source_charset UTF-8; } }`,
		"http level": `charset utf-8; source_charset koi8-r;`,
	}
	for name, http := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		if err := os.WriteFile(path, []byte("events {}\nhttp {\n    "+http+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, ok := nginxT(t, path); !ok {
			t.Errorf("%s: nginx refuses it; the case is wrong:\n%s", name, out)
			continue
		}
		cfg, _, err := Load(path, LoadOptions{Prefix: dir})
		if err != nil {
			t.Errorf("%s: we refuse what nginx accepts: %v", name, err)
			continue
		}
		warned := false
		for _, w := range cfg.Warnings {
			warned = warned || strings.Contains(w, "does not recode")
		}
		if warned != (name == "with map") {
			t.Errorf("%s: recoding warning %v, warnings %q", name, warned, cfg.Warnings)
		}
	}
}

// expires with a time from now: Expires minus Date must be what nginx
// makes it (the two may be a second apart between the servers, the
// difference may not).
func TestDiffQAExpiresFromNow(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /h/ { alias {{ROOT}}/; expires 1h; }
        location /neg/ { alias {{ROOT}}/; expires -1; }
        location /zero/ { alias {{ROOT}}/; expires 0; }
        location /d30/ { alias {{ROOT}}/; expires 30d; }
        location /ret/ { expires 1h; return 200 "x\n"; }
        location /retadd/ { expires 1h; add_header Cache-Control private; return 200 "x\n"; }
    }`)
	for _, path := range []string{"/h/a.txt", "/neg/a.txt", "/zero/a.txt", "/d30/a.txt", "/h/missing", "/ret/", "/retadd/"} {
		c := dcase{path: path, check: []string{"Cache-Control"}}
		want := send(t, fmt.Sprintf("127.0.0.1:%d", p.port), c.request(), "GET")
		got := send(t, fmt.Sprintf("127.0.0.2:%d", p.port), c.request(), "GET")
		p.compare(c, want, got)
		if w, g := expiresAhead(t, want), expiresAhead(t, got); w != g {
			t.Errorf("%s: Expires is %v ahead of Date with nginx, %v with ours", path, w, g)
		}
	}
}

// expiresAhead is Expires minus Date, or -1ns when there is no Expires.
func expiresAhead(t *testing.T, r reply) time.Duration {
	t.Helper()
	e := r.header.Get("Expires")
	if e == "" {
		return -1
	}
	et, err := http.ParseTime(e)
	if err != nil {
		t.Errorf("bad Expires %q", e)
		return -1
	}
	dt, err := http.ParseTime(r.header.Get("Date"))
	if err != nil {
		t.Errorf("bad Date %q", r.header.Get("Date"))
		return -1
	}
	return et.Sub(dt)
}

// Directory answers with the redirect switches together, index lists
// that end in an absolute fallback, and 403 pages.
func TestDiffQADirectories(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost canon.test;
        root {{ROOT}};
        index none.html index.htm /fallback.html;
        error_page 403 /404.html;
        location /list/ { index none.html; }
        location /list2/ { alias {{ROOT}}/list/; index none.html; error_page 403 = @f; }
        location @f { return 200 "forbidden turned $status\n"; }
        location /nr/ { alias {{ROOT}}/; absolute_redirect off; server_name_in_redirect on; }
        location /snr/ { alias {{ROOT}}/; server_name_in_redirect on; port_in_redirect off; }
        location /gz/ { gzip on; gzip_min_length 1; gzip_types text/plain; charset utf-8; }
    }`)
	p.run([]dcase{
		{path: "/"},
		{path: "/dir/"},
		{path: "/list/"},
		{path: "/list2/"},
		{path: "/nr/dir"},
		{path: "/nr/dir?a=1"},
		{path: "/snr/dir", headers: []string{"Host: other.test:9999"}},
		{path: "/snr/dir", headers: []string{"Host: canon.test"}},
		{raw: "GET /snr/dir HTTP/1.0\r\n\r\n"},
		{raw: "GET /dir HTTP/1.0\r\n\r\n"},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip"}, gzip: true},
		{method: "HEAD", path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip", "Range: bytes=0-10"}, gzip: true},
	})
}
