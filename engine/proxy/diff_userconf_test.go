package proxy

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDiffDeploymentGuides runs configs in the shape Django and Flask
// deployment guides and blog posts give them: try_files with "$uri/",
// alias (prefix and regex), charset, autoindex of awkward names, and
// rewrites of encoded URIs.
func TestDiffDeploymentGuides(t *testing.T) {
	be := startBackend(t, "be")
	p := newPair(t, `
    server {
        listen {{LISTEN}} default_server;
        server_name _;
        root {{ROOT}};
        charset utf-8;
        location / { try_files $uri $uri/ @app; }
        location @app { return 200 "app $uri $args\n"; }
        location /tfd/ { try_files $uri/ =404; }
        location /tfdir/ { try_files /dir/ =404; }
        location /tfa/ { alias {{ROOT}}/; try_files $uri $uri/ =404; }
        location ~ ^/tfre/(.*)$ { alias {{ROOT}}/$1; try_files "" $uri/ =404; }
        # single-page apps under alias: a literal name keeps the
        # location prefix (nginx's long-standing alias quirk)
        location /spa/ { alias {{ROOT}}/dir/; try_files $uri $uri/ /spa/index.html; }
        location /spa3/ { alias {{ROOT}}/dir/; try_files $uri /spa3/page.html =404; }
        location /r301 { return 301 /elsewhere; }
        location /r302 { return 302 /elsewhere; }
        location /r307 { return 307 /elsewhere; }
        location /ai/ { alias {{ROOT}}/weird/; autoindex on; }
        location /aj/ { alias {{ROOT}}/weird/; autoindex on; autoindex_format json; }
        location /ret/ { return 200 "ret uri=$uri args=$args\n"; }
        location /rwe/ { rewrite ^/rwe/(.*)$ /ret/$1 last; }
        location /rwru/ { rewrite ^ /ret$request_uri last; }
        location /rwa/ { rewrite ^/rwa/(.*)$ /ret/?v=$1 last; }
        location /rwr/ { rewrite ^/rwr/(.*)$ /ret/$1 redirect; }
        # nginx takes a named location given twice (the first counts),
        # and two handlers in a location (the last counts)
        location /twice/ { try_files $uri @twice; }
        location @twice { return 200 "first\n"; }
        location @twice { return 200 "second\n"; }
        location /handlers/ { uwsgi_pass 127.0.0.1:1; proxy_pass http://`+be.addr()+`; }
        location /handlers2/ { proxy_pass http://`+be.addr()+`; uwsgi_pass 127.0.0.1:1; }
    }`)
	for _, n := range []string{"a&b.txt", "plus+.txt", "semi;colon.txt", "ünï.txt", "tab\tx.txt", "sq'(1).txt", "lt<dir/x", "sub dir/x"} {
		path := filepath.Join(p.root, "weird", n)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("w\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// listings show times: make them fixed
	mt := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
	filepath.Walk(filepath.Join(p.root, "weird"), func(path string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Chtimes(path, mt, mt)
		}
		return nil
	})
	reps := p.run([]dcase{
		// "$uri/" finds the directory and makes "/dir" the URI: the
		// static module then redirects to "/dir/"
		{path: "/dir"},
		{path: "/dir?x=1", headers: []string{"Host: Example.COM:8080"}},
		{raw: "GET /dir HTTP/1.0\r\n\r\n"},
		{path: "/dir/"},
		{path: "/empty"},
		{path: "/list"},
		{path: "/space%20dir"},
		{path: "/a.txt"},
		{path: "/nothing?q=1"},
		{path: "/tfd/"},
		{path: "/tfdir/x"},
		{path: "/tfa/dir"},
		{path: "/tfa/dir/"},
		// a regex location's alias gets the try_files name appended
		{path: "/tfre/a.txt"},
		{path: "/tfre/dir/"},
		{path: "/spa/route/x"},
		{path: "/spa/page.html"},
		{path: "/spa3/x"},
		// no charset on a 301 or 302, as nginx (for old browsers)
		{path: "/r301"},
		{path: "/r302"},
		{path: "/r307"},
		{path: "/static"},
		// autoindex links are escaped as URI components, JSON names
		// with \t
		{path: "/ai/"},
		{path: "/aj/"},
		{path: "/ai/lt%3Cdir"},
		{path: "/ai/sub%20dir"},
		// a "?" a capture brings stays in the URI
		{path: "/rwe/%3F?x=1"},
		{path: "/rwe/%3Fa=b"},
		{path: "/rwru/a?x=1"},
		{path: "/rwa/%22%3C%3E%5C%5E%60%7B%7C%7D%27%21%2A%3B%26%2B%3D%24%2C%40%3A%C3%A9 x"},
		{path: "/rwr/%22%3C%3E%5C%5E%60%7B%7C%7D%3F x?q=1"},
		{path: "/twice/x"},
		{path: "/handlers/x"},
		{path: "/handlers2/x"},
		// a space in Host is refused
		{raw: "GET /a.txt HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"},
	})
	expect(t, reps[0], 301, "301 Moved Permanently")
	expect(t, reps[13], 200, "hello, world")
	expect(t, reps[17], 404, "404 Not Found")
	expect(t, reps[26], 200, "ret uri=/ret/? args=x=1")
	expect(t, reps[31], 200, "first")
	expect(t, reps[32], 200, "backend be")
	expect(t, reps[33], 502, "502 Bad Gateway")
}
