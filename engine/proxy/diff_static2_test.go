package proxy

import (
	"fmt"
	"testing"
)

// Static serving beyond TestDiffStatic: index lists, autoindex off,
// expires, ranges on bigger files, HEAD, default_type and types{}.
func TestDiffStaticMore(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /dir/ { index nothere.html alsonot.htm page.html index.html; }
        location /noidx/ { alias {{ROOT}}/list/; index nothere.html; }
        location /aioff/ { alias {{ROOT}}/list/; autoindex off; }
        location /idxvar/ { alias {{ROOT}}/dir/; index $arg_i index.html; }
        location /idxdir/ { alias {{ROOT}}/; index dir; }
        location /exp/ { alias {{ROOT}}/; expires 1h; }
        location /expneg/ { alias {{ROOT}}/; expires -1; }
        location /expepoch/ { alias {{ROOT}}/; expires epoch; }
        location /expmax/ { alias {{ROOT}}/; expires max; }
        location /expoff/ { alias {{ROOT}}/; expires off; }
        location /expmod/ { alias {{ROOT}}/; expires modified +1d; }
        location /expat/ { alias {{ROOT}}/; expires @15h30m; }
        location /exp404/ { alias {{ROOT}}/; expires 1h; }
        location /dt/ { alias {{ROOT}}/; default_type text/x-default; types { } }
        location /types/ { alias {{ROOT}}/; types { text/x-txt txt; image/x-gif gif GIF; application/x-gz gz; } }
        location /charset/ { alias {{ROOT}}/; charset utf-8; }
        location /charsettypes/ { alias {{ROOT}}/; charset utf-8; charset_types text/plain; }
        location /noetag/ { alias {{ROOT}}/; etag off; }
        location /ims/ { alias {{ROOT}}/; if_modified_since exact; }
        location /imsoff/ { alias {{ROOT}}/; if_modified_since off; }
        location /maxranges/ { alias {{ROOT}}/; max_ranges 1; }
        location /noranges/ { alias {{ROOT}}/; max_ranges 0; }
    }`)
	lm := "Wed, 06 Mar 2024 06:07:08 GMT"
	before := "Tue, 05 Mar 2024 06:07:08 GMT"
	hdrs := []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Range", "Expires", "Cache-Control"}
	p.run([]dcase{
		{path: "/dir/"},
		{path: "/dir/?x=1"},
		{path: "/dir"},
		{path: "/noidx/"},
		{path: "/aioff/"},
		{path: "/aioff/sub/"},
		{path: "/aioff/sub"},
		{path: "/aioff/b.txt"},
		{path: "/idxvar/?i=page.html"},
		// "/idxvar/" with no i: see TestIndexEmptyName
		{path: "/idxdir/"},
		{path: "/exp/a.txt", check: hdrs},
		{path: "/exp/", check: hdrs},
		{path: "/expneg/a.txt", check: hdrs},
		{path: "/expepoch/a.txt", check: hdrs},
		{path: "/expmax/a.txt", check: hdrs},
		{path: "/expoff/a.txt", check: hdrs},
		{path: "/exp404/missing", check: hdrs},
		{path: "/exp/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: hdrs},
		{path: "/dt/a.txt"},
		{path: "/dt/noext"},
		{path: "/types/a.txt"},
		{path: "/types/images/1.gif"},
		{path: "/types/dot.dir/file.tar.gz"},
		{path: "/types/index.html"},
		{path: "/charset/a.txt"},
		{path: "/charset/index.html"},
		{path: "/charset/static/app.js"},
		{path: "/charsettypes/a.txt"},
		{path: "/charsettypes/index.html"},
		{path: "/noetag/a.txt", check: hdrs},
		{path: "/noetag/a.txt", headers: []string{"If-None-Match: \"65e6b6b4-d\""}, check: hdrs},
		{path: "/ims/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: hdrs},
		{path: "/ims/a.txt", headers: []string{"If-Modified-Since: Thu, 07 Mar 2024 06:07:08 GMT"}, check: hdrs},
		{path: "/a.txt", headers: []string{"If-Modified-Since: " + before}, check: hdrs},
		{path: "/imsoff/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: hdrs},
		{method: "HEAD", path: "/a.txt", headers: []string{"If-Modified-Since: " + lm}, check: hdrs},
		{method: "HEAD", path: "/dir/", check: hdrs},
		{method: "HEAD", path: "/dir", check: hdrs},
		{method: "HEAD", path: "/aioff/", check: hdrs},
		// ranges on a bigger file
		{path: "/big.txt", headers: []string{"Range: bytes=0-0,-1"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=100-199,300-399,8000-"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=8192-"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=8191-"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=-0"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=0-"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=0-0,0-0"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=9000-9100,10-20"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=9000-9100,9200-"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes= 1-2"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=1-2,"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=,1-2"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: Bytes=1-2"}, check: hdrs},
		{path: "/big.txt", headers: []string{"Range: bytes=1-2", "If-Modified-Since: " + lm}, check: hdrs},
		{method: "HEAD", path: "/big.txt", headers: []string{"Range: bytes=1-2,5-6"}, check: hdrs},
		{method: "POST", path: "/big.txt", headers: []string{"Range: bytes=1-2"}, body: "x", check: hdrs},
		{path: "/maxranges/big.txt", headers: []string{"Range: bytes=1-2,5-6"}, check: hdrs},
		{path: "/maxranges/big.txt", headers: []string{"Range: bytes=1-2"}, check: hdrs},
		{path: "/noranges/big.txt", headers: []string{"Range: bytes=1-2"}, check: hdrs},
		{path: "/exp/big.txt", headers: []string{"Range: bytes=99999-"}, check: hdrs},
	})
}

// Server selection beyond TestDiffServerSelection: wildcard precedence,
// regex captures, hosts with ports and IPs, and default_server on a
// second address.
func TestDiffServerNames(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name first.test;
        return 200 "first $host $server_name\n";
    }
    server {
        listen {{LISTEN}};
        server_name *.example.com;
        return 200 "star-front $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name *.sub.example.com;
        return 200 "longer star-front $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name www.example.*;
        return 200 "star-back $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name www.example.com.*;
        return 200 "longer star-back $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name ~^www\d+\.example\.(?<tld>net|org)$;
        return 200 "regex1 $host tld=$tld\n";
    }
    server {
        listen {{LISTEN}};
        server_name ~^(.+)\.example\.net$;
        return 200 "regex2 $host one=$1\n";
    }
    server {
        listen {{LISTEN}};
        server_name ~^(?<user>[^.]+)\.users\.test$;
        root {{ROOT}};
        location / { return 200 "user=$user uri=$uri\n"; }
        location ~ ^/(?<user>x)/ { return 200 "location capture wins user=$user\n"; }
    }
    server {
        listen {{LISTEN}};
        server_name 127.0.0.1;
        return 200 "ip name $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name _;
        return 200 "underscore $host\n";
    }
    server {
        listen 127.0.0.1:{{PORT2}};
        server_name a.test;
        return 200 "port2 first $host $server_port\n";
    }
    server {
        listen 127.0.0.1:{{PORT2}} default_server;
        server_name b.test;
        return 200 "port2 default $host\n";
    }`)
	cases := []dcase{
		{path: "/", headers: []string{"Host: x.example.com"}},
		{path: "/", headers: []string{"Host: x.sub.example.com"}},
		{path: "/", headers: []string{"Host: sub.example.com"}},
		{path: "/", headers: []string{"Host: www.example.com"}},
		{path: "/", headers: []string{"Host: www.example.com.au"}},
		{path: "/", headers: []string{"Host: www.example.org"}},
		{path: "/", headers: []string{"Host: www7.example.org"}},
		{path: "/", headers: []string{"Host: www7.example.net"}},
		{path: "/", headers: []string{"Host: abc.example.net"}},
		{path: "/", headers: []string{"Host: a.b.example.net"}},
		{path: "/y/z", headers: []string{"Host: bob.users.test"}},
		{path: "/x/z", headers: []string{"Host: bob.users.test"}},
		{path: "/", headers: []string{"Host: 127.0.0.1"}},
		{path: "/", headers: []string{"Host: 127.0.0.1:8080"}},
		{path: "/", headers: []string{"Host: _"}},
		{path: "/", headers: []string{"Host: FIRST.TEST:1234"}},
		{path: "/", headers: []string{"Host: first.test:"}},
		{path: "/", headers: []string{"Host: first.test:abc"}},
		{path: "/", headers: []string{"Host: first.test."}},
		{path: "/", headers: []string{"Host: .first.test"}},
		{path: "/", headers: []string{"Host: [::1]"}},
		{path: "/", headers: []string{"Host: "}},
		{path: "/", headers: []string{"Host: 10.0.0.1"}},
		{raw: "GET / HTTP/1.0\r\n\r\n"},
		{raw: "GET http://x.example.com:99/ HTTP/1.1\r\nHost: first.test\r\nConnection: close\r\n\r\n"},
	}
	p.run(cases)
	p.runOn(p.port2, []dcase{
		{path: "/", headers: []string{"Host: a.test"}},
		{path: "/", headers: []string{"Host: c.test"}},
		{raw: "GET / HTTP/1.0\r\n\r\n"},
		{raw: "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"},
	})
}

// An index name that evaluates to "" is skipped. nginx opens the
// directory itself as the index, redirects to the same URI and ends in
// a 500 "rewrite or internal redirection cycle" (see doc.go).
func TestIndexEmptyName(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /idxvar/ { alias {{ROOT}}/dir/; index $arg_i index.html; }
    }`)
	p.logsCompared = true // nginx logs the cycle, ours nothing
	raw := dcase{path: "/idxvar/"}.request()
	expect(t, send(t, fmt.Sprintf("127.0.0.1:%d", p.port), raw, "GET"), 500, "500 Internal Server Error")
	expect(t, send(t, fmt.Sprintf("127.0.0.2:%d", p.port), raw, "GET"), 200, "dir index")
}
