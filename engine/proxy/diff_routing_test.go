package proxy

import "testing"

func TestDiffLocations(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location = / { return 200 "A exact root\n"; }
        location / { return 200 "B prefix root $uri\n"; }
        location /documents/ { return 200 "C documents $uri\n"; }
        location ^~ /images/ { return 200 "D images $uri\n"; }
        location ~* \.(gif|jpg|jpeg)$ { return 200 "E regex $uri\n"; }
        location =/glued { return 200 "F glued exact\n"; }
        location ^~/admin/ { return 200 "G glued noregex $uri\n"; }
        location ~\.php$ { return 200 "H glued regex\n"; }
        location ~ ^/cap/(?<first>[a-z]+)/(\d+)$ { return 200 "I $first $2 $1\n"; }
        location /outer/ {
            location /outer/inner/ { return 200 "J nested prefix $uri\n"; }
            location ~ \.txt$ { return 200 "K nested regex $uri\n"; }
            return 200 "L outer $uri\n";
        }
        location ~ ^/re/ {
            location ~ \.json$ { return 200 "M nested in regex\n"; }
            return 200 "N regex parent\n";
        }
        location /case { return 200 "O case $uri\n"; }
        location @named { return 200 "P named\n"; }
        location /internal-only { internal; return 200 "Q internal\n"; }
        location /to-named { try_files /nonexistent @named; }
    }`)
	p.run([]dcase{
		{path: "/"},
		{path: "/index.html"},
		{path: "/documents/document.html"},
		{path: "/images/1.gif"},
		{path: "/documents/1.jpg"},
		{path: "/DOCUMENTS/1.JPG"},
		{path: "/glued"},
		{path: "/glued/x"},
		{path: "/admin/x.php"},
		{path: "/x.php"},
		{path: "/x.PHP"},
		{path: "/cap/abc/42"},
		{path: "/outer/"},
		{path: "/outer/inner/a"},
		{path: "/outer/x.txt"},
		{path: "/outer/inner/x.txt"},
		{path: "/re/a.json"},
		{path: "/re/a"},
		{path: "/CASE"},
		{path: "/case"},
		{path: "/@named"},
		{path: "/internal-only"},
		{path: "/to-named"},
		{path: "/images/../documents/x.jpg"},
		{path: "/%69mages/1.gif"},
	})
}

func TestDiffServerSelection(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name first.test;
        return 200 "first $host $server_name\n";
    }
    server {
        listen {{LISTEN}} default_server;
        server_name default.test;
        return 200 "default $host $server_name\n";
    }
    server {
        listen {{LISTEN}};
        server_name exact.example.com *.example.com www.example.*;
        return 200 "multi $host $server_name\n";
    }
    server {
        listen {{LISTEN}};
        server_name *.deep.example.com;
        return 200 "deep $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name .dot.test;
        return 200 "dot $host\n";
    }
    server {
        listen {{LISTEN}};
        server_name ~^(?<sub>[a-z]+)\.regex\.test$ ~^num(\d+)\.test$;
        return 200 "regex $host sub=$sub one=$1\n";
    }
    server {
        listen {{LISTEN}};
        server_name "";
        return 200 "empty name $host\n";
    }`)
	p.run([]dcase{
		{path: "/", headers: []string{"Host: first.test"}},
		{path: "/", headers: []string{"Host: FIRST.test."}},
		{path: "/", headers: []string{"Host: first.test:8080"}},
		{path: "/", headers: []string{"Host: unknown.test"}},
		{path: "/", headers: []string{"Host: exact.example.com"}},
		{path: "/", headers: []string{"Host: a.example.com"}},
		{path: "/", headers: []string{"Host: a.b.example.com"}},
		{path: "/", headers: []string{"Host: x.deep.example.com"}},
		{path: "/", headers: []string{"Host: www.example.org"}},
		{path: "/", headers: []string{"Host: example.com"}},
		{path: "/", headers: []string{"Host: dot.test"}},
		{path: "/", headers: []string{"Host: a.dot.test"}},
		{path: "/", headers: []string{"Host: abc.regex.test"}},
		{path: "/", headers: []string{"Host: num42.test"}},
		{raw: "GET / HTTP/1.0\r\n\r\n"},
		{raw: "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"},
		{raw: "GET http://first.test/ HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n"},
		{path: "/", headers: []string{"Host: bad/host"}},
		{path: "/", headers: []string{"Host: a..b"}},
		{path: "/", headers: []string{"Host: first.test", "Host: again"}},
		{path: "/", headers: []string{"Host: [::1]:80"}},
	})
}

func TestDiffMalformed(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
    }`)
	long := make([]byte, 9000)
	for i := range long {
		long[i] = 'a'
	}
	p.run([]dcase{
		{name: "bad method", raw: "get / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "bad version", raw: "GET / HTTP/2.0\r\nHost: x\r\n\r\n"},
		{name: "garbage version", raw: "GET / HTXP/1.1\r\nHost: x\r\n\r\n"},
		{name: "space in uri", raw: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "control in uri", raw: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "long uri", raw: "GET /" + string(long) + " HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "long header", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + string(long) + "\r\nConnection: close\r\n\r\n"},
		{name: "header no colon", raw: "GET /a.txt HTTP/1.1\r\nHost: x\r\nJunk\r\nConnection: close\r\n\r\n"},
		{name: "header space name", raw: "GET /a.txt HTTP/1.1\r\nHost: x\r\n Folded: y\r\nConnection: close\r\n\r\n"},
		{name: "underscore header", raw: "GET /a.txt HTTP/1.1\r\nHost: x\r\nX_Under: y\r\nConnection: close\r\n\r\n"},
		{name: "bad content-length", raw: "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"},
		{name: "two content-length", raw: "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nxx"},
		{name: "te and cl", raw: "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "unknown te", raw: "POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{name: "te with 1.0", raw: "POST /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "http 0.9", raw: "GET /a.txt\r\n"},
		{name: "leading empty lines", raw: "\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "lf only", raw: "GET /a.txt HTTP/1.1\nHost: x\nConnection: close\n\n"},
		{name: "1.0 keepalive", raw: "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", check: []string{"Connection"}},
		{name: "1.1 version minor", raw: "GET /a.txt HTTP/1.12\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "absolute uri no path", raw: "GET http://localhost HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "absolute uri query", raw: "GET http://localhost?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "extra spaces", raw: "GET   /a.txt   HTTP/1.1  \r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "header value spaces", raw: "GET /a.txt HTTP/1.1\r\nHost:    x   \r\nConnection: close\r\n\r\n"},
	})
}
