package proxy

import "testing"

func TestDiffHeadersGzip(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        add_header X-Server-Level yes;
        location /ah/ {
            alias {{ROOT}}/;
            add_header X-One 1;
            add_header X-Always a always;
            add_header X-Var "$uri";
            add_header X-Empty "";
        }
        location /ah-inherit/ { alias {{ROOT}}/; }
        location /ah-404/ { add_header X-Not-On-404 1; add_header X-On-404 1 always; }
        location /exp/ { alias {{ROOT}}/; expires 1h; }
        location /exp-max/ { alias {{ROOT}}/; expires max; }
        location /exp-epoch/ { alias {{ROOT}}/; expires epoch; }
        location /exp-neg/ { alias {{ROOT}}/; expires -1; }
        location /exp-off/ { alias {{ROOT}}/; expires off; }
        location /gz/ {
            gzip on;
            gzip_types application/json;
            gzip_min_length 100;
            gzip_vary on;
        }
        location /gz-off/ { alias {{ROOT}}/gz/; }
        location /cs/ { alias {{ROOT}}/; charset utf-8; }
        location /etag-off/ { alias {{ROOT}}/; etag off; }
        location /ims-before/ { alias {{ROOT}}/; if_modified_since before; }
        location /ims-off/ { alias {{ROOT}}/; if_modified_since off; }
        location /maxr/ { alias {{ROOT}}/; max_ranges 1; }
        location /tokens/ { server_tokens off; return 404; }
        location /nochunk/ { alias {{ROOT}}/list/; autoindex on; chunked_transfer_encoding off; }
        location /redir-abs-off/ { absolute_redirect off; return 301 /x; }
        location /redir-name/ { server_name_in_redirect on; return 301 /x; }
        location /redir-port/ { port_in_redirect off; return 301 /x; }
    }`)
	ae := []string{"Accept-Encoding: gzip"}
	p.run([]dcase{
		{path: "/a.txt", check: []string{"X-Server-Level"}},
		{path: "/ah/a.txt", check: []string{"X-Server-Level", "X-One", "X-Always", "X-Var", "X-Empty"}},
		{path: "/ah/missing", check: []string{"X-One", "X-Always"}},
		{path: "/ah/dir", check: []string{"X-One", "X-Always"}},
		{path: "/ah-inherit/a.txt", check: []string{"X-Server-Level"}},
		{path: "/ah-404/x", check: []string{"X-Server-Level", "X-Not-On-404", "X-On-404"}},
		{path: "/exp/a.txt", check: []string{"Cache-Control"}},
		{path: "/exp-max/a.txt", check: []string{"Cache-Control", "Expires"}},
		{path: "/exp-epoch/a.txt", check: []string{"Cache-Control", "Expires"}},
		{path: "/exp-neg/a.txt", check: []string{"Cache-Control"}},
		{path: "/exp-off/a.txt", check: []string{"Cache-Control", "Expires"}},
		{path: "/exp/missing", check: []string{"Cache-Control", "Expires"}},
		{path: "/gz/page.html", headers: ae, gzip: true, check: []string{"Vary", "ETag", "Accept-Ranges"}},
		{path: "/gz/page.html", gzip: true, check: []string{"Vary", "ETag"}},
		{path: "/gz/tiny.html", headers: ae, gzip: true, check: []string{"Vary"}},
		{path: "/gz/data.json", headers: ae, gzip: true, check: []string{"Vary"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip;q=0"}, gzip: true, check: []string{"Vary"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: deflate, gzip"}, gzip: true, check: []string{"Vary"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: xgzip"}, gzip: true, check: []string{"Vary"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip", "Via: 1.1 proxy"}, gzip: true, check: []string{"Vary"}},
		{raw: "GET /gz/page.html HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", gzip: true, check: []string{"Vary"}},
		{path: "/gz/missing", headers: ae, gzip: true, check: []string{"Vary"}},
		{method: "HEAD", path: "/gz/page.html", headers: ae, check: []string{"Vary"}},
		{path: "/gz/page.html", headers: []string{"Accept-Encoding: gzip", "Range: bytes=0-3"}, gzip: true, check: []string{"Vary", "Content-Range"}},
		{path: "/gz-off/page.html", headers: ae},
		{path: "/cs/a.txt"},
		{path: "/cs/index.html"},
		{path: "/cs/static/logo.png"},
		{path: "/cs/missing"},
		{path: "/etag-off/a.txt", check: []string{"ETag"}},
		{path: "/ims-before/a.txt", headers: []string{"If-Modified-Since: Thu, 07 Mar 2024 06:07:08 GMT"}},
		{path: "/ims-before/a.txt", headers: []string{"If-Modified-Since: Thu, 01 Feb 2024 06:07:08 GMT"}},
		{path: "/ims-off/a.txt", headers: []string{"If-Modified-Since: Wed, 06 Mar 2024 06:07:08 GMT"}},
		{path: "/maxr/a.txt", headers: []string{"Range: bytes=0-1,3-4"}, check: []string{"Content-Range", "Accept-Ranges"}},
		{path: "/maxr/a.txt", headers: []string{"Range: bytes=0-1"}, check: []string{"Content-Range"}},
		{path: "/tokens/", check: []string{"Server"}},
		{raw: "GET /nochunk/ HTTP/1.1\r\nHost: x\r\n\r\n", check: []string{"Connection"}},
		{path: "/a.txt", check: []string{"Server"}},
		{path: "/redir-abs-off/"},
		{path: "/redir-name/"},
		{path: "/redir-port/"},
		{path: "/a.txt", headers: []string{"User-Agent: Mozilla/5.0 (X11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}},
		{path: "/missing", headers: []string{"User-Agent: Mozilla/5.0 (X11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}},
		{path: "/missing", headers: []string{"User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"}},
	})
}

func TestDiffLimitsAccess(t *testing.T) {
	p := newPair(t, `
    map $http_x_key $mapped {
        default "dflt";
        alpha "A";
        ~^b(?<rest>.*)$ "B-$rest";
        ~*^CI "ci";
    }
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        client_max_body_size 10;
        location /big/ { client_max_body_size 1k; return 200 "ok $content_length\n"; }
        location /nolimit/ { client_max_body_size 0; return 200 "ok\n"; }
        location /deny/ { deny all; }
        location /allow/ { allow 127.0.0.1; deny all; return 200 "allowed\n"; }
        location /cidr/ { deny 127.0.0.0/8; allow all; return 200 "no\n"; }
        location /le/ {
            limit_except GET { deny all; }
            return 200 "le $request_method\n";
        }
        location /map/ { return 200 "mapped=$mapped\n"; }
    }`)
	p.run([]dcase{
		{path: "/a.txt", method: "POST", body: "0123456789"},
		{path: "/a.txt", method: "POST", body: "0123456789a"},
		{path: "/big/", method: "POST", body: "0123456789abcdef"},
		{path: "/nolimit/", method: "POST", body: "0123456789abcdef"},
		{name: "chunked too big", raw: "POST /big/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{path: "/deny/"},
		{path: "/allow/"},
		{path: "/cidr/"},
		{path: "/le/"},
		{path: "/le/", method: "HEAD"},
		{path: "/le/", method: "POST", body: "x"},
		{path: "/map/"},
		{path: "/map/", headers: []string{"X-Key: alpha"}},
		{path: "/map/", headers: []string{"X-Key: ALPHA"}},
		{path: "/map/", headers: []string{"X-Key: beta"}},
		{path: "/map/", headers: []string{"X-Key: cI-thing"}},
	})
}
