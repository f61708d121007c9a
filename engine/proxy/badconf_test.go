package proxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
)

// nginxT runs the real nginx -t on a config file.
func nginxT(t *testing.T, path string) (string, bool) {
	t.Helper()
	return peertest.NginxTest(t, path)
}

var emergRE = regexp.MustCompile(`\[emerg\] \d+#\d+: (.*)`)

// TestBadConfigs: configs nginx -t refuses are refused by Load too, most
// with nginx's own words; none makes anything panic.
func TestBadConfigs(t *testing.T) {
	dir := t.TempDir()
	type bc struct {
		name, http string
		// same is set when our message must equal nginx's.
		same bool
	}
	cases := []bc{
		{"unknown variable", `server { listen 127.0.0.1:1; location / { return 200 $nope; } }`, true},
		{"unknown variable in set", `server { listen 127.0.0.1:1; set $a $b; }`, true},
		{"set builtin", `server { listen 127.0.0.1:1; set $uri x; }`, false},
		{"bad regex location", `server { listen 127.0.0.1:1; location ~ "(" { } }`, false},
		{"bad regex rewrite", `server { listen 127.0.0.1:1; rewrite "[" /x; }`, false},
		{"duplicate location", `server { listen 127.0.0.1:1; location /a { } location /a { } }`, true},
		{"duplicate exact location", `server { listen 127.0.0.1:1; location = /a { } location = /a { } }`, true},
		{"duplicate default server", `server { listen 127.0.0.1:1 default_server; } server { listen 127.0.0.1:1 default_server; }`, true},
		{"no upstream servers", `upstream u { } server { listen 127.0.0.1:1; }`, false},
		{"proxy_pass bad url", `server { listen 127.0.0.1:1; location / { proxy_pass ftp://x; } }`, true},
		{"proxy_pass uri in regex", `server { listen 127.0.0.1:1; location ~ x { proxy_pass http://127.0.0.1:1/a; } }`, false},
		{"host not found", `server { listen 127.0.0.1:1; location / { proxy_pass http://no-such-host.invalid; } }`, false},
		{"nested outside", `server { listen 127.0.0.1:1; location /a/ { location /b/ { } } }`, true},
		{"named nested", `server { listen 127.0.0.1:1; location /a/ { location @n { } } }`, false},
		{"invalid return code", `server { listen 127.0.0.1:1; location / { return abc def; } }`, true},
		{"invalid port", `server { listen 127.0.0.1:99999; }`, false},
		{"error_page range", `server { listen 127.0.0.1:1; error_page 200 /x; }`, true},
		{"rewrite flag", `server { listen 127.0.0.1:1; rewrite ^ /x sideways; }`, true},
		{"if condition", `server { listen 127.0.0.1:1; if ($a ==) { } }`, false},
		{"alias duplicate", `server { listen 127.0.0.1:1; location / { alias /a/; alias /b/; } }`, true},
		{"root and alias", `server { listen 127.0.0.1:1; location / { root /a; alias /b/; } }`, true},
		{"unknown log format", `server { listen 127.0.0.1:1; access_log /tmp/x.log nosuch; }`, true},
		{"duplicate upstream", `upstream u { server 127.0.0.1:1; } upstream u { server 127.0.0.1:2; } server { listen 127.0.0.1:1; }`, true},
		{"map duplicate default", `map $uri $m { default 1; default 2; } server { listen 127.0.0.1:1; }`, false},
		{"try_files one arg", `server { listen 127.0.0.1:1; location / { try_files $uri; } }`, true},
		// nginx's words for mistakes users make
		{"listen twice in a server", `server { listen 127.0.0.1:1; listen 127.0.0.1:1; }`, true},
		{"listen options twice", `server { listen 127.0.0.1:1 reuseport; } server { listen 127.0.0.1:1 reuseport; }`, true},
		{"listen bad backlog", `server { listen 127.0.0.1:1 backlog=x; }`, true},
		{"listen bad rcvbuf", `server { listen 127.0.0.1:1 rcvbuf=1q; }`, true},
		{"uwsgi_pass with http scheme", `server { listen 127.0.0.1:1; location / { uwsgi_pass http://127.0.0.1:9; } }`, true},
		{"uwsgi_pass port too big", `server { listen 127.0.0.1:1; location / { uwsgi_pass 127.0.0.1:99999; } }`, true},
		{"uwsgi_pass empty port", `server { listen 127.0.0.1:1; location / { uwsgi_pass 127.0.0.1:; } }`, true},
		{"uwsgi_pass empty unix path", `server { listen 127.0.0.1:1; location / { uwsgi_pass unix:; } }`, true},
		{"proxy_pass no host", `server { listen 127.0.0.1:1; location / { proxy_pass http://; } }`, true},
		{"proxy_pass no host before uri", `server { listen 127.0.0.1:1; location / { proxy_pass http:///x; } }`, true},
		{"proxy_pass port too big", `server { listen 127.0.0.1:1; location / { proxy_pass http://127.0.0.1:99999/x; } }`, true},
		{"proxy_pass host not found with port", `server { listen 127.0.0.1:1; location / { proxy_pass http://no-such-host.invalid:8000/; } }`, true},
		{"upstream server with http scheme", `upstream u { server http://127.0.0.1:1; } server { listen 127.0.0.1:1; }`, true},
		{"upstream server port too big", `upstream u { server 127.0.0.1:99999; } server { listen 127.0.0.1:1; }`, true},
		{"dollar at the end", `server { listen 127.0.0.1:1; location / { return 200 "cost: $"; } }`, true},
		{"empty braces variable", `server { listen 127.0.0.1:1; location / { return 200 "${}"; } }`, true},
		{"expires bad", `server { listen 127.0.0.1:1; location / { expires 1x; } }`, true},
		{"expires bad modified", `server { listen 127.0.0.1:1; location / { expires changed 1h; } }`, true},
		{"access_log bad buffer", `server { listen 127.0.0.1:1; access_log /tmp/x.log combined buffer=x; }`, true},
		{"access_log bad gzip", `server { listen 127.0.0.1:1; access_log /tmp/x.log combined gzip=10; }`, true},
		{"access_log bad flush", `server { listen 127.0.0.1:1; access_log /tmp/x.log combined buffer=4k flush=0; }`, true},
		{"error_log bad level in location", `server { listen 127.0.0.1:1; location / { error_log /tmp/x.log verbose; } }`, true},
		{"regex missing paren", `server { listen 127.0.0.1:1; location ~ ^/static/(.*$ { } }`, true},
		{"regex unmatched paren", `server { listen 127.0.0.1:1; location ~ "^/(a|b))/x$" { } }`, true},
		{"regex missing bracket", `server { listen 127.0.0.1:1; location ~ "[a-z" { } }`, true},
		{"regex bad range", `server { listen 127.0.0.1:1; location ~ "^/[9-0]+$" { } }`, true},
		{"regex nothing to repeat", `server { listen 127.0.0.1:1; rewrite "*.php" /x; }`, true},
		{"regex repeat order", `server { listen 127.0.0.1:1; rewrite "^/a{3,2}" /x; }`, true},
		{"regex trailing backslash", `server { listen 127.0.0.1:1; if ($uri ~ "a\") { } }`, true},
		{"caseless regex missing paren", `server { listen 127.0.0.1:1; location ~* "\.(jpg|png$" { } }`, true},
		{"caseless if regex", `server { listen 127.0.0.1:1; if ($http_user_agent ~* "(bot") { } }`, true},
		{"caseless map regex", `map $uri $m { ~*^/(a 1; } server { listen 127.0.0.1:1; }`, true},
		{"regex unterminated name", `server { listen 127.0.0.1:1; location ~ "(?<n" { } }`, true},
		{"server_name regex", `server { listen 127.0.0.1:1;
    server_name ~^(www\.)?(.+$; }`, true},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".conf")
		text := "events {}\nhttp {\n    " + c.http + "\n}\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		if ok {
			t.Errorf("%s: nginx accepts it; the case is wrong", c.name)
			continue
		}
		_, _, err := Load(path, LoadOptions{Prefix: dir})
		if err == nil {
			t.Errorf("%s: we accept what nginx refuses:\n%s", c.name, out)
			continue
		}
		if c.same {
			m := emergRE.FindStringSubmatch(out)
			if m == nil {
				t.Errorf("%s: no [emerg] in nginx's output %q", c.name, out)
				continue
			}
			if err.Error() != m[1] {
				t.Errorf("%s:\n nginx: %s\n ours:  %s", c.name, m[1], err)
			}
		}
	}
}

// TestGoodConfigs: configs nginx accepts, with constructs that are easy to
// get wrong, are accepted too.
func TestGoodConfigs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "extra1.conf"), []byte("server { listen 127.0.0.1:2; server_name inc1; }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "extra2.conf"), []byte("server { listen 127.0.0.1:2; server_name inc2; }\n"), 0o644)
	cases := map[string]string{
		"set after use":     `server { listen 127.0.0.1:1; location / { return 200 $later; } location /x { set $later 1; } }`,
		"map after use":     `server { listen 127.0.0.1:1; location / { return 200 $m; } } map $uri $m { default 1; }`,
		"capture variable":  `server { listen 127.0.0.1:1; location ~ ^/(?<name>.+)$ { return 200 $name; } }`,
		"glued modifiers":   `server { listen 127.0.0.1:1; location =/ { } location ^~/a/ { } location ~\.php$ { } location ~*\.JPG$ { } }`,
		"if spacing":        `server { listen 127.0.0.1:1; if ( $uri = / ) { return 204; } if ($uri ~* "^/x(\d+)$") { return 200 $1; } if (!-e $request_filename) { rewrite ^ /index.html last; } }`,
		"includes glob":     `include ` + dir + `/extra*.conf; server { listen 127.0.0.1:1; }`,
		"hostname":          `server { listen 127.0.0.1:1; server_name $hostname localhost _; }`,
		"upstream all":      `upstream u { least_conn; server 127.0.0.1:1 weight=3 max_fails=2 fail_timeout=5s; server 127.0.0.1:2 backup; keepalive 8; } server { listen 127.0.0.1:1; location / { proxy_pass http://u; } }`,
		"uwsgi params":      `server { listen 127.0.0.1:1; location / { include /etc/nginx/uwsgi_params; uwsgi_param X $http_x if_not_empty; uwsgi_pass unix:/tmp/none.sock; } }`,
		"limit_except":      `server { listen 127.0.0.1:1; location / { limit_except GET POST { allow 127.0.0.1; deny all; } } }`,
		"unix listen":       `server { listen unix:` + dir + `/s.sock; }`,
		"ipv6 listen":       `server { listen [::1]:1; listen 127.0.0.1:1; }`,
		"escape json":       `log_format j escape=json '{"a":"$uri"}'; server { listen 127.0.0.1:1; access_log ` + dir + `/j.log j if=$arg_log; }`,
		"error_page forms":  `server { listen 127.0.0.1:1; error_page 404 = @n; error_page 500 =200 /x; error_page 502 http://e/; location @n { } }`,
		"return forms":      `server { listen 127.0.0.1:1; location /a { return 301 /b; } location /c { return https://e/; } location /d { return 444; } }`,
		"proxy_pass vars":   `server { listen 127.0.0.1:1; location / { proxy_pass http://127.0.0.1:1$request_uri; } }`,
		"regex server name": `server { listen 127.0.0.1:1; server_name ~^(www\.)?(?<d>.+)$; return 200 $d; }`,
		"named twice":       `server { listen 127.0.0.1:1; location @a { } location @a { } location / { try_files $uri @a; } }`,
		"two handlers":      `server { listen 127.0.0.1:1; location / { proxy_pass http://127.0.0.1:1; uwsgi_pass 127.0.0.1:1; } }`,
		"try_files =99":     `server { listen 127.0.0.1:1; location / { try_files $uri =99; } }`,
		"listen options":    `server { listen 127.0.0.1:1 backlog=511 rcvbuf=64k reuseport; } server { listen 127.0.0.1:1; }`,
		"access_log params": `server { listen 127.0.0.1:1; access_log /tmp/x.log combined buffer=32k gzip=9 flush=5m; access_log /tmp/y.log combined gzip; }`,
	}
	for name, http := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		text := "events {}\nhttp {\n    " + http + "\n}\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		if !ok {
			t.Errorf("%s: nginx refuses it; the case is wrong:\n%s", name, out)
			continue
		}
		if _, _, err := Load(path, LoadOptions{Prefix: dir}); err != nil {
			t.Errorf("%s: we refuse what nginx accepts: %v", name, err)
		}
	}
}

// TestNoEventsSection: nginx refuses a main config without "events {}",
// after reading the rest, with no file or line.
func TestNoEventsSection(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"no events": "http {\n    server { listen 127.0.0.1:1; }\n}\n",
		"empty":     "",
		"only main": "worker_processes 1;\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		m := emergRE.FindStringSubmatch(out)
		if ok || m == nil {
			t.Fatalf("%s: nginx accepts it; the case is wrong:\n%s", name, out)
		}
		_, _, err := Load(path, LoadOptions{Prefix: dir})
		if err == nil || err.Error() != m[1] {
			t.Errorf("%s:\n nginx: %s\n ours:  %v", name, m[1], err)
		}
	}
}

// TestServerNameWarnings: a name two servers of an address share draws
// nginx's "conflicting server name" warning; a name written twice in one
// server draws none.
func TestServerNameWarnings(t *testing.T) {
	dir := t.TempDir()
	warnRE := regexp.MustCompile(`\[warn\] \d+#\d+: (.*)`)
	for name, http := range map[string]string{
		"same server":   `server { listen 127.0.0.1:1; server_name a.test a.test A.test *.b.test *.b.test .c.test *.c.test www.d.* www.d.*; }`,
		"other servers": `server { listen 127.0.0.1:1; server_name a.test *.b.test; } server { listen 127.0.0.1:1; server_name a.test *.b.test; }`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
		if err := os.WriteFile(path, []byte("events {}\nhttp {\n    "+http+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, ok := nginxT(t, path)
		if !ok {
			t.Fatalf("%s: nginx refuses it:\n%s", name, out)
		}
		var want []string
		for _, m := range warnRE.FindAllStringSubmatch(out, -1) {
			want = append(want, m[1])
		}
		cfg, _, err := Load(path, LoadOptions{Prefix: dir})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, w := range cfg.Warnings {
			if strings.Contains(w, "server name") {
				got = append(got, w)
			}
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s:\n nginx warned: %q\n we warned:   %q", name, want, got)
		}
	}
}

// TestNginxTestBinary makes sure nginxT really runs nginx (a test that
// could not fail would prove nothing).
func TestNginxTestBinary(t *testing.T) {
	if _, err := exec.LookPath(peertest.NginxPath); err != nil {
		t.Fatalf("nginx missing: %v", err)
	}
}

// TestActedOnDirectivesDoNotWarn: the directives the proxy acts on draw no
// "has no effect" warning, from nginxconf's check or from the compiler,
// and a directive it does not act on draws exactly one.
func TestActedOnDirectivesDoNotWarn(t *testing.T) {
	dir := t.TempDir()
	http := `
    send_timeout 30s; chunked_transfer_encoding on; underscores_in_headers on; ignore_invalid_headers off;
    merge_slashes off; client_header_timeout 20s;
    uwsgi_connect_timeout 5s; uwsgi_read_timeout 5s; uwsgi_send_timeout 5s; uwsgi_buffer_size 8k;
    if_modified_since before; etag off; max_ranges 2; msie_padding off;
    keepalive_timeout 30s; keepalive_requests 50;
    gzip on; gzip_comp_level 5; gzip_vary on; gzip_http_version 1.0; gzip_proxied any; gzip_disable "msie6";
    postpone_output 1460; charset utf-8; charset_types text/plain text/css;
    limit_req_zone $binary_remote_addr zone=lr:10m rate=5r/s; limit_conn_zone $binary_remote_addr zone=lc:10m;
    limit_req_status 429; limit_req_log_level warn; limit_req_dry_run off;
    limit_conn_status 429; limit_conn_log_level info; limit_conn_dry_run off;
    upstream h { hash $uri consistent; server 127.0.0.1:1; keepalive 2; keepalive_timeout 10s; keepalive_requests 10; }
    upstream r { random; server 127.0.0.1:1; server 127.0.0.1:2; }
    server {
        listen 127.0.0.1:1;
        location /l/ { limit_req zone=lr burst=5 nodelay; limit_conn lc 10; }
        location /i/ { autoindex on; autoindex_exact_size off; autoindex_localtime on; autoindex_format json; }
        location /u/ { uwsgi_pass h; uwsgi_next_upstream error timeout http_503; uwsgi_next_upstream_tries 2; uwsgi_next_upstream_timeout 5s; }
        location /p/ { proxy_pass http://r; proxy_next_upstream error; proxy_next_upstream_tries 3; proxy_next_upstream_timeout 1s; }
        location /f/ { fastcgi_pass h; fastcgi_next_upstream off; fastcgi_next_upstream_tries 0; fastcgi_next_upstream_timeout 0; }
    }`
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte("events {}\nhttp {"+http+"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, ok := nginxT(t, path); !ok {
		t.Fatalf("nginx refuses the config; the case is wrong:\n%s", out)
	}
	cfg, diags, err := Load(path, LoadOptions{Prefix: dir})
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, d := range diags.Warnings() {
		warnings = append(warnings, d.Error())
	}
	warnings = append(warnings, cfg.Warnings...)
	noEffect := 0
	for _, w := range warnings {
		if strings.Contains(w, "has no effect") {
			if !strings.Contains(w, `"postpone_output"`) {
				t.Errorf("warning for a directive the proxy acts on: %s", w)
			}
			noEffect++
		}
	}
	if noEffect != 1 {
		t.Errorf("%d \"has no effect\" warnings, want 1 (postpone_output): %q", noEffect, warnings)
	}
	// the server-level settings written at the http level apply
	srv := cfg.Listens[0].defaultServer
	if !srv.underscoresInHeaders || srv.ignoreInvalidHeaders || srv.mergeSlashes || srv.headerTimeout != 20*time.Second {
		t.Errorf("http-level server settings not inherited: underscores %v ignore_invalid %v merge_slashes %v header timeout %v",
			srv.underscoresInHeaders, srv.ignoreInvalidHeaders, srv.mergeSlashes, srv.headerTimeout)
	}
}
