package upstreamtest

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

var nginxVariable = regexp.MustCompile(`\$([a-z_0-9]+)`)

// EvalParams evaluates the uwsgi_param or fastcgi_param lines of an nginx
// params file (Debian's /etc/nginx/uwsgi_params, /etc/nginx/fastcgi_params)
// plus any extra lines, given the values of nginx's variables, the way
// nginx's modules do for one request.
func EvalParams(t testing.TB, file string, vars map[string]string, extra ...string) upstream.Params {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s is required (Debian's nginx-common): %v", file, err)
	}
	var params upstream.Params
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
		p := upstream.Param{Key: f[1], Value: value}
		ifNotEmpty := len(f) > 3 && f[3] == "if_not_empty"
		if (ifNotEmpty && value == "") || (strings.HasPrefix(p.Key, "HTTP_") && raw == "") {
			p.Skip = true
		}
		params = append(params, p)
	}
	return params
}

// RequestVars computes nginx's variables for r as a server named test.local
// on 127.0.0.1:80 with root /srv/www would.
func RequestVars(r *http.Request) map[string]string {
	remoteAddr, remotePort, _ := net.SplitHostPort(r.RemoteAddr)
	vars := map[string]string{
		"document_root": "/srv/www",
		"remote_addr":   remoteAddr,
		"remote_port":   remotePort,
		"server_port":   "80",
		"server_name":   "test.local",
	}
	setRequestVars(vars, r, r.URL.RequestURI())
	vars["args"] = r.URL.RawQuery
	return vars
}

// setRequestVars sets the variables nginx takes from the request itself.
// The server's own (server_name and the like) must be in vars already.
func setRequestVars(vars map[string]string, r *http.Request, requestURI string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = vars["server_name"]
	}
	for k, v := range map[string]string{
		"query_string":        r.URL.RawQuery,
		"request_method":      r.Method,
		"content_type":        r.Header.Get("Content-Type"),
		"content_length":      r.Header.Get("Content-Length"),
		"fastcgi_script_name": r.URL.Path,
		"request_uri":         requestURI,
		"document_uri":        r.URL.Path,
		"server_protocol":     r.Proto,
		"scheme":              "http",
		"https":               "",
		"nginx_version":       "1.22.1",
		"remote_user":         "",
		"server_addr":         "127.0.0.1",
		"host":                strings.ToLower(host),
		"arg_maybe":           r.URL.Query().Get("maybe"),
	} {
		vars[k] = v
	}
}

// WithNginxParams attaches the params file, evaluated for r with
// RequestVars, plus any extra param lines.
func WithNginxParams(t testing.TB, r *http.Request, file string, extra ...string) *http.Request {
	t.Helper()
	return r.WithContext(upstream.WithParams(r.Context(), EvalParams(t, file, RequestVars(r), extra...)))
}

// OracleRequest turns the raw request nginx received into the request the
// proxy would hand a transport: parsed by net/http, with the params file
// (and extra lines) evaluated as nginx evaluates them for that connection,
// and the client headers in wire order. vars holds the server's and the
// connection's variables (document_root, remote_addr, remote_port,
// server_port, server_name); the request's own are added to it.
func OracleRequest(t testing.TB, raw, file string, vars map[string]string, extra ...string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parsing the test's own request: %v", err)
	}
	setRequestVars(vars, r, r.RequestURI)
	ctx := upstream.WithParams(r.Context(), EvalParams(t, file, vars, extra...))
	ctx = upstream.WithClientHeaders(ctx, RawHeaderFields(raw))
	return r.WithContext(ctx)
}
