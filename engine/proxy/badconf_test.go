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
    postpone_output 1460;
    upstream h { hash $uri consistent; server 127.0.0.1:1; keepalive 2; keepalive_timeout 10s; keepalive_requests 10; }
    upstream r { random; server 127.0.0.1:1; server 127.0.0.1:2; }
    server {
        listen 127.0.0.1:1;
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
