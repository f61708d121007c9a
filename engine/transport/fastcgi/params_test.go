package fastcgi

import (
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// debianFastcgiParams is the params file Debian's nginx ships and most
// configs include; the tests evaluate it the way nginx does.
const debianFastcgiParams = "/etc/nginx/fastcgi_params"

var nginxVariable = regexp.MustCompile(`\$([a-z_0-9]+)`)

// evalParams evaluates the fastcgi_param lines of an nginx params file plus
// any extra lines, given the values of nginx's variables, the way
// ngx_http_fastcgi_module does for one request.
func evalParams(t *testing.T, file string, vars map[string]string, extra ...string) Params {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s is required (Debian's nginx-common): %v", file, err)
	}
	var params Params
	lines := append(strings.Split(string(data), "\n"), extra...)
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(strings.TrimSuffix(line, ";"))
		if len(f) < 3 || !strings.HasSuffix(f[0], "_param") {
			t.Fatalf("cannot read param line %q", line)
		}
		raw := strings.Trim(f[2], `"`)
		value := nginxVariable.ReplaceAllStringFunc(raw, func(v string) string {
			val, ok := vars[v[1:]]
			if !ok {
				t.Fatalf("param line %q uses %s, which the test does not define", line, v)
			}
			return val
		})
		p := Param{Key: f[1], Value: value}
		ifNotEmpty := len(f) > 3 && f[3] == "if_not_empty"
		if (ifNotEmpty && value == "") || (strings.HasPrefix(p.Key, "HTTP_") && raw == "") {
			p.Skip = true
		}
		params = append(params, p)
	}
	return params
}

// requestVars computes nginx's variables for a request as a server named
// test.local on 127.0.0.1:80 with root /srv/www would.
func requestVars(r *http.Request) map[string]string {
	remoteAddr, remotePort, _ := net.SplitHostPort(r.RemoteAddr)
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = "test.local"
	}
	return map[string]string{
		"query_string":        r.URL.RawQuery,
		"request_method":      r.Method,
		"content_type":        r.Header.Get("Content-Type"),
		"content_length":      r.Header.Get("Content-Length"),
		"fastcgi_script_name": r.URL.Path,
		"request_uri":         r.URL.RequestURI(),
		"document_uri":        r.URL.Path,
		"document_root":       "/srv/www",
		"server_protocol":     r.Proto,
		"scheme":              "http",
		"https":               "",
		"nginx_version":       "1.22.1",
		"remote_addr":         remoteAddr,
		"remote_port":         remotePort,
		"remote_user":         "",
		"server_addr":         "127.0.0.1",
		"server_port":         "80",
		"server_name":         "test.local",
		"host":                strings.ToLower(host),
	}
}

// withDebianParams attaches Debian's fastcgi_params, evaluated for r.
func withDebianParams(t *testing.T, r *http.Request, extra ...string) *http.Request {
	t.Helper()
	return r.WithContext(WithParams(r.Context(), evalParams(t, debianFastcgiParams, requestVars(r), extra...)))
}
