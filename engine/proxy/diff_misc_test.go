package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffInheritance covers how settings flow between levels: directives
// after a location still apply to it, nested locations inherit, try_files
// is not inherited, if blocks keep the location's handler, and the
// automatic 301 of prefix locations handled by proxy_pass.
func TestDiffInheritance(t *testing.T) {
	be := startBackend(t, "inh")
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        try_files $uri /fallback.html;
        location /nest/ {
            location /nest/deep/ { return 200 "deep $document_root\n"; }
            location ~ \.txt$ { return 200 "txt $document_root\n"; }
        }
        location /after/ { add_header X-Later yes; }
        location /app/ { proxy_pass http://`+be.addr()+`; }
        location = /exact/ { proxy_pass http://`+be.addr()+`; }
        location /ifp/ {
            proxy_pass http://`+be.addr()+`;
            if ($arg_x) { add_header X-If 1; }
        }
        location /ifs/ {
            if ($arg_x) { return 200 "if-return\n"; }
            add_header X-Outer 1;
            return 200 "outer\n";
        }
        location /tfalias/ {
            alias {{ROOT}}/dir/;
            try_files $uri $uri/ =404;
        }
        location /expm/ { alias {{ROOT}}/; expires modified +1h; }
        location /expd/ { alias {{ROOT}}/; expires @23h; }
        root {{ROOT}};
    }`)
	p.run([]dcase{
		{path: "/nest/deep/x"},
		{path: "/nest/a.txt"},
		{path: "/nest/page.html"},
		{path: "/a.txt"},
		{path: "/none"},
		{path: "/after/../a.txt"},
		{path: "/app"},
		{path: "/app?q=1"},
		{path: "/app/x"},
		{path: "/exact"},
		{path: "/ifp/a?x=1", check: []string{"X-If"}},
		{path: "/ifp/a", check: []string{"X-If"}},
		{path: "/ifs/?x=1", check: []string{"X-Outer"}},
		{path: "/ifs/", check: []string{"X-Outer"}},
		{path: "/tfalias/page.html"},
		{path: "/tfalias/"},
		{path: "/tfalias/nope"},
		{path: "/expm/a.txt", check: []string{"Cache-Control", "Expires"}},
		{path: "/expd/a.txt", check: []string{"Expires"}},
	})
}

// TestDiffBigFiles: files larger than the write buffer go out with
// sendfile; whole, ranged and gzipped answers must still agree.
func TestDiffBigFiles(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /gz/ { alias {{ROOT}}/; gzip on; gzip_types text/plain; }
    }`)
	big := strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 30000)
	if err := os.WriteFile(filepath.Join(p.root, "huge.txt"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	p.run([]dcase{
		{path: "/huge.txt", check: []string{"ETag", "Accept-Ranges"}},
		{path: "/huge.txt", headers: []string{"Range: bytes=100000-200000"}, check: []string{"Content-Range"}},
		{path: "/huge.txt", headers: []string{"Range: bytes=0-10,1000000-1000010,-5"}, check: []string{"Content-Range"}},
		{path: "/gz/huge.txt", headers: []string{"Accept-Encoding: gzip"}, gzip: true},
		{raw: "GET /huge.txt HTTP/1.0\r\n\r\n"},
	})
}

// TestDiffErrorPagesForEarlyErrors: error_page also applies to 413 and to
// the status of a request rejected by the server level.
func TestDiffErrorPagesForEarlyErrors(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        client_max_body_size 4;
        error_page 413 /50x.html;
        error_page 405 =200 /fallback.html;
        location /x/ { }
    }`)
	p.run([]dcase{
		{path: "/x/", method: "POST", body: "too long"},
		{path: "/a.txt", method: "PUT", body: "1"},
		{path: "/a.txt", method: "POST", body: "12"},
	})
}
