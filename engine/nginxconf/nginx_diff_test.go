package nginxconf

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nginxResult is what nginx -t said about a config: its first [emerg]
// message (empty when the test passed) and its [warn] messages.
type nginxResult struct {
	emerg string
	warns []string
	out   string
}

var nginxLogLine = regexp.MustCompile(`\[(emerg|warn|alert|crit|error)\] (?:\d+#\d+: )?(.*)$`)

// runNginxTest runs the real nginx -t on dir/nginx.conf with dir as prefix.
func runNginxTest(t *testing.T, dir string) nginxResult {
	t.Helper()
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Fatalf("the differential tests need %s (.ci/deps installs it): %v", nginxBinary, err)
	}
	cmd := exec.Command(nginxBinary, "-t", "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"),
		"-g", "error_log stderr;")
	out, _ := cmd.CombinedOutput()
	res := nginxResult{out: string(out)}
	for _, line := range strings.Split(string(out), "\n") {
		m := nginxLogLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch m[1] {
		case "warn":
			res.warns = append(res.warns, m[2])
		default:
			if res.emerg == "" {
				res.emerg = m[2]
			}
		}
	}
	if res.emerg == "" && !strings.Contains(res.out, "test is successful") {
		t.Fatalf("nginx -t neither failed with a message nor succeeded:\n%s", out)
	}
	return res
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "PREFIX", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareWithNginx loads dir/nginx.conf with our parser and checks that the
// first error and the warnings are what nginx said. It returns whether
// nginx accepted the config.
func compareWithNginx(t *testing.T, dir string) bool {
	t.Helper()
	return compareWithNginxAt(t, dir, 0)
}

// nginxWhere is the " in FILE:LINE" end of an nginx -t message.
var nginxWhere = regexp.MustCompile(` in \S+:\d+$`)

// compareWithNginxAt is compareWithNginx for an error that ours reports
// at line of nginx.conf where nginx names no place, or a less useful one
// (line 0: the same place as nginx).
func compareWithNginxAt(t *testing.T, dir string, line int) bool {
	t.Helper()
	want := runNginxTest(t, dir)
	if line != 0 && want.emerg != "" {
		want.emerg = nginxWhere.ReplaceAllString(want.emerg, "") + fmt.Sprintf(" in %s:%d", filepath.Join(dir, "nginx.conf"), line)
	}
	cfg, err := Load(filepath.Join(dir, "nginx.conf"), nil)
	got := ""
	if err != nil {
		got = err.Error()
	}
	if got != want.emerg {
		t.Errorf("first error differs\n  nginx: %s\n  ours:  %s", want.emerg, got)
		if cfg != nil {
			for _, d := range cfg.Diagnostics {
				t.Logf("  diagnostic: [%s] %s", d.Severity, d.Error())
			}
		}
		return want.emerg == ""
	}
	if cfg == nil || want.emerg != "" {
		return want.emerg == ""
	}
	ours := map[string]bool{}
	for _, d := range cfg.Diagnostics.Warnings() {
		ours[d.Error()] = true
	}
	theirs := map[string]bool{}
	for _, w := range want.warns {
		theirs[w] = true
		if !ours[w] {
			t.Errorf("nginx warned %q, we did not", w)
		}
	}
	// Our warnings in nginx's words must be nginx's too (the ones naming
	// wsgideck are our own).
	for w := range ours {
		if !theirs[w] && !strings.Contains(w, "wsgideck") {
			t.Errorf("we warned %q, nginx did not", w)
		}
	}
	return true
}

func ev(s string) string { return "events {}\n" + s }
func h(s string) string  { return ev("http {\n" + s + "\n}\n") }
func s(s string) string  { return h("server {\n  listen 127.0.0.1:8080;\n" + s + "\n}") }

// diffCases are configs whose nginx -t verdict we must reproduce exactly:
// the first error's message, file and line, or success.
var diffCases = []struct {
	name  string
	ok    bool // nginx -t accepts it
	conf  string
	files map[string]string
	// line, when set, is the line of nginx.conf ours names where nginx
	// names none or a less useful one (see the package doc)
	line int
}{
	// Statement structure (ngx_conf_read_token, ngx_conf_parse).
	{name: "ok minimal", ok: true, conf: ev("")},
	{name: "unexpected semicolon", conf: ev(";")},
	{name: "unexpected open brace", conf: ev("\n{")},
	{name: "unexpected close brace", conf: ev("}")},
	{name: "close brace after words", conf: h("gzip on }")},
	{name: "eof in block", conf: h("server {\n")},
	{name: "eof after words", conf: ev("http {\n gzip on")},
	{name: "eof in quotes", conf: ev("http {\n gzip \"on;\n}\n")},
	{name: "eof after escape", conf: ev(`http { gzip on\`)},
	{name: "brace glued to word", conf: "events { worker_connections 10}"},
	{name: "quoted then word", conf: s(`location / { return 200 "a"b; }`)},
	{name: "quoted then quote", conf: s(`location / { return 200 "a""b"; }`)},
	{name: "quoted then close", conf: s(`location / { return 200 "a"}`)},
	{name: "quoted then paren ok", ok: true, conf: s(`if ($host = "x") { return 404; }`)},
	{name: "quoted paren no space", ok: true, conf: s(`if ($host = "x"){ return 404; }`)},
	{name: "variable braces", ok: true, conf: s(`location / { return 200 ${host}x; }`)},
	{name: "hash mid word", ok: true, conf: s(`location / { return 200 a#b; }`)},
	{name: "brace mid word", ok: true, conf: s(`location / { return 200 a}; }`)},
	{name: "escaped braces in regex", ok: true, conf: s(`location ~ ^/a\{2\}$ { return 204; }`)},
	{name: "single quotes and escapes", ok: true, conf: s(`location / { return 200 'it\'s "x"\n'; }`)},
	{name: "quoted directive name", ok: true, conf: ev(`"http" { 'server' { listen 127.0.0.1:8080; } }`)},
	{name: "multi-line directive reports terminator line", conf: h("server_name\n  a\n  b\n  c {\n  }")},
	{name: "crlf", conf: "events {}\r\nhttp {\r\n  foo;\r\n}\r\n"},
	{name: "comment at eof", ok: true, conf: ev("# the end")},
	{name: "word at eof", conf: ev("http")},
	{name: "long word ok", ok: true, conf: s("location / { return 200 " + strings.Repeat("a", 4095) + "; }")},
	{name: "long word too long", conf: s("location / { return 200 " + strings.Repeat("a", 4096) + "; }")},
	{name: "long word then space", conf: s("location / { return 200 " + strings.Repeat("a", 4095) + " ; }")},
	{name: "long quoted ok", ok: true, conf: s("location / { return 200 \"" + strings.Repeat("a", 4094) + "\"; }")},
	{name: "long quoted too long", conf: s("location / { return 200 \"" + strings.Repeat("a", 4095) + "\"; }")},
	{name: "long quoted then space", conf: s("location / { return 200 \"" + strings.Repeat("a", 4094) + "\" ; }")},
	{name: "long single quoted", conf: s("\n\nlocation / { return 200 '" + strings.Repeat("b", 5000) + "'; }")},
	{name: "long comment", conf: ev("#" + strings.Repeat("c", 4200) + "\nhttp {}")},
	{name: "long comment ok", ok: true, conf: ev("#" + strings.Repeat("c", 4094) + "\nhttp {}")},
	{name: "unterminated quote runs to the end", conf: s("location / { return 200 \"abc; }\n" + strings.Repeat("# filler\n", 600))},

	// ngx_conf_handler.
	{name: "unknown directive", conf: h("foo bar;")},
	{name: "unknown block directive", conf: h("foo {}")},
	{name: "location in http", conf: h("location / {}")},
	{name: "if in if", conf: s("if ($a) { if ($b) { } }")},
	{name: "location in if", conf: s("location / { if ($a) { location /x {} } }")},
	{name: "worker_connections in http", conf: h("worker_connections 10;")},
	{name: "listen in location", conf: s("location / { listen 80; }")},
	{name: "server_name in main", conf: ev("server_name x;")},
	{name: "http in http", conf: h("http {}")},
	{name: "events directive in main", conf: ev("worker_connections 10;")},
	{name: "not terminated", conf: s("listen 80 {}")},
	{name: "no opening brace", conf: h("server;")},
	{name: "no opening brace location", conf: s("location /;")},
	{name: "too few args", conf: h("gzip;")},
	{name: "too many args", conf: "events { worker_connections 1 2; }"},
	{name: "location no args", conf: s("location {}")},
	{name: "location three args", conf: s("location = / x {}")},
	{name: "more than seven args", conf: s("location / { return 1 2 3 4 5 6 7 8; }")},
	{name: "1more none", conf: s("server_name;")},
	{name: "2more one", conf: s("error_page 404;")},
	{name: "flag bad", conf: h("gzip maybe;")},
	{name: "flag case", ok: true, conf: h("gzip ON;")},
	{name: "flag duplicate", conf: h("gzip on;\ngzip off;")},
	{name: "flag duplicate different levels ok", ok: true, conf: h("gzip on;\nserver { gzip off; location / { gzip on; } }")},
	{name: "size bad", conf: h("client_max_body_size 10MB;")},
	{name: "size ok", ok: true, conf: h("client_max_body_size 10M; client_body_buffer_size 16k;")},
	{name: "offset g", ok: true, conf: h("client_max_body_size 1g;")},
	{name: "size g is bad", conf: h("client_body_buffer_size 1g;")},
	{name: "msec bad", conf: h("client_body_timeout 10x;")},
	{name: "msec ok", ok: true, conf: h(`client_body_timeout "1m 30s"; send_timeout 500ms; client_header_timeout 1h;`)},
	{name: "time trailing number", ok: true, conf: h(`client_body_timeout "1s 1"; open_file_cache_valid "1h30m";`)},
	{name: "time unit after space", conf: h(`client_body_timeout "1 1s";`)},
	{name: "msec years bad", conf: h("client_body_timeout 1y;")},
	{name: "sec ms bad", conf: h("open_file_cache_valid 500ms;")},
	{name: "number bad", conf: h("types_hash_max_size 2k;")},
	{name: "enum bad", conf: h("server_tokens maybe;")},
	{name: "enum case", ok: true, conf: h("server_tokens OFF;")},
	{name: "bitmask bad", conf: h("gzip_proxied any bogus;")},
	{name: "bitmask duplicate warns", ok: true, conf: h("gzip_proxied any any;")},
	{name: "bufs bad", conf: h("gzip_buffers 0 4k;")},
	{name: "string duplicate", conf: h("default_type a/b;\ndefault_type c/d;")},
	{name: "mime type duplicate warns", ok: true, conf: h("gzip_types text/html text/css text/css;")},
	{name: "charset_types starts from text/html only", ok: true, conf: h("charset_types text/plain text/css text/html;")},
	{name: "keepalive_timeout bad", conf: h("keepalive_timeout 5 x;")},
	{name: "keepalive_timeout duplicate", conf: h("keepalive_timeout 5; keepalive_timeout 6;")},
	{name: "worker_processes bad", conf: ev("worker_processes x;")},
	{name: "worker_processes duplicate", conf: ev("worker_processes 1;\nworker_processes auto;")},
	{name: "worker_connections bad", conf: "events { worker_connections x; }"},
	{name: "events duplicate", conf: ev("events {}")},
	{name: "http duplicate", conf: h("") + "http {}"},

	// Handlers of the directives we implement.
	{name: "root duplicate", conf: s("location / { root /a; root /b; }")},
	{name: "alias after root", conf: s("location / { root /a; alias /b; }")},
	{name: "alias duplicate", conf: s("location /b { alias /x; alias /y; }")},
	{name: "alias in named location", conf: s("location @a { alias /x; }")},
	{name: "root in if ok", ok: true, conf: s("location / { root /a; if ($uri) { root /b; } }")},
	{name: "try_files duplicate", conf: s("location / { try_files a b; try_files c d; }")},
	{name: "uwsgi_pass duplicate", conf: s("location / { uwsgi_pass 127.0.0.1:9; uwsgi_pass unix:/tmp/x.sock; }")},
	{name: "proxy_pass duplicate", conf: s("location / { proxy_pass http://127.0.0.1:9; proxy_pass http://127.0.0.1:10; }")},
	{name: "proxy_pass bad prefix", conf: s("location / { proxy_pass 127.0.0.1:9; }")},
	{name: "proxy_pass uri in regex location", conf: s("location ~ /a { proxy_pass http://127.0.0.1:9/b; }")},
	{name: "proxy_pass uri in named location", conf: s("location @a { proxy_pass http://127.0.0.1:9/; }")},
	{name: "proxy_pass uri in if", conf: s("location / { if ($a) { proxy_pass http://127.0.0.1:9/x; } }")},
	{name: "proxy_pass no uri in regex ok", ok: true, conf: s("location ~ /a { proxy_pass http://127.0.0.1:9; }")},
	{name: "proxy_pass variables ok", ok: true, conf: s("location ~ /a { proxy_pass http://127.0.0.1:9/$uri; }")},
	{name: "return bad code", conf: s("return /x;")},
	{name: "return too big", conf: s("return 1000;")},
	{name: "return url", ok: true, conf: s("return https://example.com/;")},
	{name: "return code and text", ok: true, conf: s(`return 200 "hello";`)},
	{name: "rewrite bad flag", conf: s("rewrite ^ /x bogus;")},
	{name: "rewrite empty replacement", conf: s(`rewrite ^ "";`)},
	{name: "set bad variable", conf: s("set a b;")},
	{name: "if no parens", conf: s("if $a { }")},
	{name: "if no closing paren", conf: s("if ($a { }")},
	{name: "if bad operator", conf: s("if ($a == b) { }")},
	{name: "if file ops", ok: true, conf: s("location / { if (-f $request_filename) { } if (!-d $uri) { } if (!-x $uri) {} }")},
	{name: "if bad file op", conf: s("if (-z $a) { }")},
	{name: "if too many words", conf: s("if ($a = b c) { }")},
	{name: "if spaced parens", ok: true, conf: s(`if ( $request_method = POST ) { return 405; }`)},
	{name: "if regex", ok: true, conf: s(`if ($http_cookie ~* "id=([^;]+)(?:;|$)") { set $id $1; }`)},
	{name: "error_page low code", conf: s("error_page 200 /x;")},
	{name: "error_page bare equals", conf: s("error_page = /x;")},
	{name: "error_page bad override", conf: s("error_page 404 =abc /x;")},
	{name: "error_page bad code", conf: s("error_page abc /x;")},
	{name: "error_page 499", conf: s("error_page 499 /x;")},
	{name: "error_page ok", ok: true, conf: s("error_page 404 = @fallback; error_page 500 502 503 504 =200 /50x.html; location @fallback { return 404; }")},
	{name: "add_header bad flag", conf: s("add_header a b never;")},
	{name: "log_format duplicate", conf: h("log_format a x; log_format a y;")},
	{name: "log_format combined", conf: h("log_format combined x;")},
	{name: "access_log unknown format", conf: h("access_log /dev/null bogus;")},
	{name: "access_log format case", ok: true, conf: h("log_format Main x; access_log /dev/null main;")},
	{name: "access_log before log_format", conf: h("access_log /dev/null main; log_format main x;")},
	{name: "access_log off extra", conf: h("access_log off x;")},

	// Locations.
	{name: "location bad modifier", conf: s("location =~ /x {}")},
	{name: "location glued modifiers", ok: true, conf: s("location ^~/admin/ { return 403; } location =/ { return 200; } location ~\\.php$ { return 404; } location ~*\\.JPG$ {}")},
	{name: "location in exact", conf: s("location = /a { location /a/b {} }")},
	{name: "location in named", conf: s("location @x { location /y {} }")},
	{name: "named nested", conf: s("location / { location @y {} }")},
	{name: "location outside", conf: s("location /a { location /b {} }")},
	{name: "regex nested ok", ok: true, conf: s("location /a { location ~ \\.php$ {} }")},
	{name: "duplicate location", conf: s("location / {}\nlocation / {}")},
	{name: "duplicate exact", conf: s("location = /x {}\nlocation = /x {}")},
	{name: "exact and prefix ok", ok: true, conf: s("location = /x {}\nlocation /x {}")},
	{name: "noregex and prefix", conf: s("location ^~ /x {}\nlocation /x {}")},
	{name: "duplicate after exact", conf: s("location /x {}\nlocation = /x {}\nlocation /x {}")},
	{name: "duplicate nested reported first", conf: s("location /b {}\nlocation /b {}\nlocation /a { location /a/x {} location /a/x {} }")},
	{name: "duplicate sorted order", conf: s("location /z {}\nlocation /z {}\nlocation /a {}\nlocation /a {}")},
	{name: "duplicate regex ok", ok: true, conf: s("location ~ x {}\nlocation ~ x {}")},
	{name: "duplicate named ok", ok: true, conf: s("location @x {}\nlocation @x {}")},
	{name: "duplicate before later error", conf: s("location / {}\nlocation / {}") + "foo;"},
	{name: "error before duplicate", conf: s("location / {}\nlocation / {}\nfoo;")},
	{name: "duplicate in second server", conf: h("server { location /a {} }\nserver { location /b {} location /b {} }")},
	{name: "limit_except duplicate", conf: s("location / { limit_except GET { } limit_except POST { } }")},
	{name: "limit_except bad method", conf: s("location / { limit_except FOO { } }")},
	{name: "limit_except ok", ok: true, conf: s("location / { limit_except GET post { deny all; } }")},

	// map, types, upstream.
	{name: "map nested block", conf: h("map $a $b { a { } }")},
	{name: "map three words", conf: h("map $a $b { a b c; }")},
	{name: "map default duplicate", conf: h("map $a $b { default 1; default 2; }")},
	{name: "map conflicting", conf: h("map $a $b { Foo 1; foo 2; }")},
	{name: "map hostnames conflicting", conf: h("map $a $b { hostnames; a.example 1; A.example 2; }")},
	{name: "map escaped key", ok: true, conf: h(`map $uri $b { \default 1; default 2; }`)},
	{name: "map bad variable", conf: h("map $a b { }")},
	{name: "map ok", ok: true, conf: h("map $http_upgrade $connection_upgrade { default upgrade; '' close; ~^x 1; volatile; }")},
	{name: "types include arity", conf: h("types { include; }")},
	{name: "types nested block", conf: h("types { text/html { } }")},
	{name: "types duplicate extension warns", ok: true, conf: h("types { text/html html; text/plain HTML; }")},
	{name: "types entry without extensions", ok: true, conf: h("types { text/html; }")},
	{name: "upstream server bad param", conf: h("upstream u { server 127.0.0.1 bogus; }")},
	{name: "upstream weight zero", conf: h("upstream u { server 127.0.0.1 weight=0; }")},
	{name: "upstream fail_timeout bad", conf: h("upstream u { server 127.0.0.1 fail_timeout=x; }")},
	{name: "upstream params ok", ok: true, conf: h("upstream u { least_conn; server 127.0.0.1:1 weight=2 max_fails=3 fail_timeout=30s max_conns=5; server 127.0.0.1:2 backup; server 127.0.0.1:3 down; keepalive 8; }")},
	{name: "upstream backup with ip_hash", conf: h("upstream u { ip_hash; server 127.0.0.1:2 backup; }")},
	{name: "upstream balancer redefined", ok: true, conf: h("upstream u { ip_hash; least_conn; server 127.0.0.1; }")},
	{name: "upstream no servers", conf: h("upstream u {\n  keepalive 2;\n}\n")},
	{name: "upstream duplicate", conf: h("upstream u { server 127.0.0.1; }\nupstream U { server 127.0.0.1; }")},
	{name: "upstream keepalive bad", conf: h("upstream u { server 127.0.0.1; keepalive 0; }")},
	{name: "upstream keepalive duplicate", conf: h("upstream u { server 127.0.0.1; keepalive 1; keepalive 2; }")},

	// Includes.
	{name: "include missing", conf: h("include nonexist.conf;")},
	{name: "include glob no match", ok: true, conf: h("include nonexist/*.conf;")},
	{name: "include in location context", conf: s("location / { include snippets/x.conf; }"),
		files: map[string]string{"snippets/x.conf": "# a snippet\nreturn 200;\nlisten 80;\n"}},
	{name: "include glob order", conf: h("include conf.d/*.conf;"),
		files: map[string]string{"conf.d/b.conf": "gzip on;\n", "conf.d/a.conf": "gzip off;\n", "conf.d/.hidden.conf": "bogus;\n"}},
	{name: "include glob bytewise order", conf: h("include conf.d/*;"),
		files: map[string]string{"conf.d/a.b": "gzip on;\n", "conf.d/a_b": "\n\nfoo;\n", "conf.d/B": "gzip_vary on;\n"}},
	{name: "include relative to prefix", conf: h("include conf.d/a.conf;"),
		files: map[string]string{"conf.d/a.conf": "include snippets/b.conf;\n", "snippets/b.conf": "\nbogus_b;\n"}},
	{name: "include syntax error", conf: h("include inc.conf;\nfoo;"),
		files: map[string]string{"inc.conf": "gzip on;\n}\n"}},
	{name: "include eof in block is ok at file end", ok: true, conf: h("server { include inc.conf; }"),
		files: map[string]string{"inc.conf": "listen 127.0.0.1:8080;"}},
	{name: "include unterminated", conf: h("include inc.conf;"),
		files: map[string]string{"inc.conf": "gzip on"}},
	{name: "include directory", conf: h("include dir;"), files: map[string]string{"dir/": ""}},
	{name: "include absolute", conf: h("include PREFIX/abs.conf;"), files: map[string]string{"abs.conf": "gzip maybe;"}},
	{name: "include in map", conf: h("map $a $b { include m.conf; }"), files: map[string]string{"m.conf": "a 1;\nb 2 3;\n"}},
	{name: "include in types", conf: h("types { include t.conf; }"), files: map[string]string{"t.conf": "text/html html;\nimage/png {\n}\n"}},
	{name: "include twice", ok: true, conf: s("location /a { include p.conf; }\nlocation /b { include p.conf; }"),
		files: map[string]string{"p.conf": "uwsgi_pass 127.0.0.1:9;\n"}},
	{name: "include args", conf: h("include a b;")},

	// Accepted without effect.
	{name: "no-effect directives", ok: true, conf: "user root;\nworker_rlimit_nofile 1024;\nevents { multi_accept on; }\n" +
		"http {\n sendfile on; tcp_nopush on; tcp_nodelay on; types_hash_max_size 2048;\n" +
		" server_names_hash_bucket_size 64; gzip_vary on; gzip_proxied any; gzip_comp_level 6;\n" +
		" ssl_protocols TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on; open_file_cache max=1000 inactive=20s;\n" +
		" limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n" +
		" server { listen 127.0.0.1:8080 http2; location / { limit_req zone=one; add_trailer X y; } }\n}\n"},
	{name: "http2 directive is nginx 1.25", conf: s("http2 on;")},

	// Shared memory zones (ngx_shared_memory_add and its users).
	{name: "limit_req unknown zone", conf: s("location / {\n limit_req zone=nope;\n}"), line: 6},
	{name: "limit_conn unknown zone", conf: s("location / {\n limit_conn nope 10;\n}"), line: 6},
	{name: "first unknown zone", conf: s("limit_req zone=b;\nlocation / { limit_conn a 1; limit_req zone=a2; }"), line: 5},
	{name: "upstream zone without size", conf: h("upstream u {\n zone uz;\n server 127.0.0.1:1;\n}"), line: 4},
	{name: "upstream zone sized elsewhere", ok: true, conf: h("upstream u { zone uz 64k; server 127.0.0.1:1; }\nupstream v { zone uz; server 127.0.0.1:2; }")},
	{name: "upstream zone too small", conf: h("upstream u { zone uz 1k; server 127.0.0.1:1; }")},
	{name: "zone declared after use", ok: true, conf: h("server { listen 127.0.0.1:8080; limit_req zone=one burst=5 nodelay; }\nlimit_req_zone $binary_remote_addr zone=one:10m rate=10r/m;")},
	{name: "limit_req on a limit_conn zone", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nserver { listen 127.0.0.1:8080;\n limit_req zone=c;\n}")},
	{name: "limit_req_zone on a limit_conn zone", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nlimit_req_zone $binary_remote_addr zone=c:10m rate=1r/s;")},
	{name: "upstream zone on a limit_req zone", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nupstream u { zone one 64k; server 127.0.0.1:1; }")},
	{name: "zone sizes conflict", conf: h("upstream u { zone uz 64k; server 127.0.0.1:1; }\nupstream v { zone uz 128k; server 127.0.0.1:2; }")},
	{name: "limit_req_zone no size", conf: h("limit_req_zone $binary_remote_addr zone=one rate=1r/s;")},
	{name: "limit_req_zone bad size", conf: h("limit_req_zone $binary_remote_addr zone=one:abc rate=1r/s;")},
	{name: "limit_req_zone too small", conf: h("limit_req_zone $binary_remote_addr zone=one:1k rate=1r/s;")},
	{name: "limit_req_zone empty name", conf: h("limit_req_zone $binary_remote_addr zone=:10m rate=1r/s;")},
	{name: "limit_req_zone bad rate", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/x;")},
	{name: "limit_req_zone zero rate", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=0r/s;")},
	{name: "limit_req_zone per minute", ok: true, conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=30r/m;")},
	{name: "limit_req_zone bad parameter", conf: h("limit_req_zone $binary_remote_addr zone=one:10m foo=1;")},
	{name: "limit_req_zone twice", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nlimit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;")},
	{name: "limit_conn_zone no size", conf: h("limit_conn_zone $binary_remote_addr zone=c;")},
	{name: "limit_conn_zone bad parameter", conf: h("limit_conn_zone $binary_remote_addr foo;")},
	{name: "limit_conn_zone twice", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nlimit_conn_zone $remote_addr zone=c:10m;")},
	{name: "limit_req bad burst", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one burst=x; }")},
	{name: "limit_req zero burst", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one burst=0; }")},
	{name: "limit_req bad delay", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one delay=-1; }")},
	{name: "limit_req bad parameter", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one foo; }")},
	{name: "limit_req without zone", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req burst=5; }")},
	{name: "limit_req same zone twice", conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one; limit_req zone=one burst=2; }")},
	{name: "limit_req two zones", ok: true, conf: h("limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\nlimit_req_zone $server_name zone=two:10m rate=1r/s;\nserver { listen 127.0.0.1:8080; limit_req zone=one; limit_req zone=two nodelay;\n location / { limit_req zone=one delay=3 burst=5; } }")},
	{name: "limit_conn zero", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nserver { listen 127.0.0.1:8080; limit_conn c 0; }")},
	{name: "limit_conn too many", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nserver { listen 127.0.0.1:8080; limit_conn c 65536; }")},
	{name: "limit_conn same zone twice", conf: h("limit_conn_zone $binary_remote_addr zone=c:10m;\nserver { listen 127.0.0.1:8080; limit_conn c 1; limit_conn c 2; }")},
	{name: "proxy_cache unknown zone", conf: s("location / {\n proxy_cache nope;\n}"), line: 6},
	{name: "uwsgi_cache unknown zone", conf: s("uwsgi_cache nope;"), line: 5},
	{name: "proxy_cache off and variables", ok: true, conf: s("location /a { proxy_cache off; }\nlocation /b { proxy_cache $host; }")},
	{name: "proxy_cache twice", conf: h("proxy_cache_path PREFIX/c keys_zone=pc:1m;\nserver { listen 127.0.0.1:8080; proxy_cache off; proxy_cache pc; }")},
	{name: "proxy_cache declared", ok: true, conf: h("proxy_cache_path PREFIX/c levels=1:2 keys_zone=pc:1m max_size=10m inactive=60m use_temp_path=off;\nserver { listen 127.0.0.1:8080; location / { proxy_cache pc; } }")},
	{name: "uwsgi_cache on a proxy cache zone", conf: h("proxy_cache_path PREFIX/c keys_zone=pc:1m;\nserver { listen 127.0.0.1:8080;\n uwsgi_cache pc;\n}")},
	{name: "cache path without keys_zone", conf: h("proxy_cache_path PREFIX/c levels=1:2;")},
	{name: "cache path bad keys_zone", conf: h("proxy_cache_path PREFIX/c keys_zone=pc;")},
	{name: "cache path small keys_zone", conf: h("proxy_cache_path PREFIX/c keys_zone=pc:4k;")},
	{name: "cache path bad parameter", conf: h("proxy_cache_path PREFIX/c keys_zone=pc:1m bogus=1;")},
	{name: "cache zone twice", conf: h("proxy_cache_path PREFIX/c keys_zone=pc:1m;\nproxy_cache_path PREFIX/d keys_zone=pc:1m;")},
	{name: "zone errors after other errors", conf: s("limit_req zone=nope;\nbogus_directive;")},
}

func TestErrorsMatchNginx(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"nginx.conf": tc.conf}
			for k, v := range tc.files {
				files[k] = v
			}
			writeTree(t, dir, files)
			if nginxOK := compareWithNginxAt(t, dir, tc.line); nginxOK != tc.ok {
				t.Errorf("nginx -t accepted it: %v, the table says %v", nginxOK, tc.ok)
			}
		})
	}
}

// TestDebianConfigMatchesNginx copies Debian's /etc/nginx into a temporary
// prefix (absolute paths rewritten) and checks both sides accept it, then
// breaks it in a few ways and checks both sides reject it alike.
func TestDebianConfigMatchesNginx(t *testing.T) {
	breakages := []struct {
		name, file, old, new string
		ok                   bool
	}{
		{"intact", "", "", "", true},
		{"bad mime.types", "mime.types", "text/html  ", "text/html {  ", false},
		{"unknown in site", "sites-enabled/default", "server_name _;", "server_nam _;", false},
		{"location in http", "nginx.conf", "gzip on;", "gzip on; location / {}", false},
		{"missing include", "nginx.conf", "include PREFIX/mime.types;", "include PREFIX/mime.typ;", false},
		{"snippet in server", "sites-enabled/default", "\tlisten 80 default_server;", "\tlisten 8080 default_server;\n\tinclude snippets/fastcgi-php.conf;", true},
		{"snippet in location", "sites-enabled/default", "try_files $uri $uri/ =404;", "include snippets/fastcgi-php.conf;", true},
		{"snippet twice", "sites-enabled/default", "try_files $uri $uri/ =404;", "include snippets/fastcgi-php.conf; include snippets/fastcgi-php.conf;", false},
	}
	for _, b := range breakages {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"modules-enabled/": "", "conf.d/": ""}
			for _, name := range []string{"nginx.conf", "mime.types", "fastcgi.conf", "fastcgi_params",
				"uwsgi_params", "proxy_params", "scgi_params", "snippets/fastcgi-php.conf",
				"snippets/snakeoil.conf", "koi-utf", "koi-win", "win-utf"} {
				data, err := os.ReadFile(filepath.Join("testdata/debian", name))
				if err != nil {
					t.Fatal(err)
				}
				files[name] = strings.ReplaceAll(string(data), "/etc/nginx", "PREFIX")
			}
			site, err := os.ReadFile("testdata/debian/sites-available/default")
			if err != nil {
				t.Fatal(err)
			}
			files["sites-enabled/default"] = string(site)
			if b.file != "" {
				if !strings.Contains(files[b.file], strings.ReplaceAll(b.old, "PREFIX", "PREFIX")) {
					t.Fatalf("%s does not contain %q", b.file, b.old)
				}
				files[b.file] = strings.Replace(files[b.file], b.old, b.new, 1)
			}
			// Keep the test away from the system's pid file and logs.
			files["nginx.conf"] = strings.Replace(files["nginx.conf"], "pid /run/nginx.pid;", "pid PREFIX/nginx.pid;", 1)
			files["nginx.conf"] = strings.ReplaceAll(files["nginx.conf"], "/var/log/nginx/", "PREFIX/")
			writeTree(t, dir, files)
			if nginxOK := compareWithNginx(t, dir); nginxOK != b.ok {
				t.Errorf("nginx -t accepted it: %v, the table says %v", nginxOK, b.ok)
			}
		})
	}
}

// TestRandomTokensMatchNginx feeds nginx and our parser the same random
// token soup inside a types {} block, whose entries nginx does not check,
// so that the verdict comes from the lexer and the block structure: quotes,
// escapes, comments, braces, "${", parens and line counting.
func TestRandomTokensMatchNginx(t *testing.T) {
	common := []string{
		"a", "b1", "x.y", "$v", "${v}", "a#b", "c}d", "(e", "f)", `"q r"`, `'s'`, `""`,
		`"t\"u"`, `'v\'w'`, `\"`, `\\`, `\n`, `a\ b`, `x\;y`, `"m\nl"`, "\"multi\nline\"",
		";", ";", ";", " ", " ", " ", " ", "\t", "\n", "\n", "\r\n", "# note\n",
	}
	rare := []string{"{", "}", "#", `"`, `'`, ")", "$", "${", `\`}
	piece := func(rng *rand.Rand) string {
		if rng.Intn(20) == 0 {
			return rare[rng.Intn(len(rare))]
		}
		return common[rng.Intn(len(common))]
	}
	rng := newRand(7)
	const cases = 120
	accepted := 0
	for i := 0; i < cases; i++ {
		var sb strings.Builder
		for n := 2 + rng.Intn(16); n > 0; n-- {
			sb.WriteString(piece(rng))
		}
		body := sb.String() + " ;"
		conf := "events {}\nhttp {\n  types {\n    " + body + "\n  }\n}\n"
		t.Run(fmt.Sprintf("%03d", i), func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"nginx.conf": conf})
			if compareWithNginx(t, dir) {
				accepted++
			}
			if t.Failed() {
				t.Logf("body: %q", body)
			}
		})
	}
	// The soup must be neither all valid nor all broken to tell anything.
	if accepted < cases/10 || accepted > cases*9/10 {
		t.Errorf("nginx accepted %d of %d random configs; retune the pieces", accepted, cases)
	}
	t.Logf("nginx accepted %d of %d", accepted, cases)
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }
