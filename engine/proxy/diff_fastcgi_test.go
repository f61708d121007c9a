package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"sort"
	"strings"
	"testing"
)

// startFCGI runs a FastCGI responder (Go's net/http/fcgi) that reports the
// params and body it got.
func startFCGI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go fcgi.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := fcgi.ProcessEnv(r)
		var keys []string
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.RequestURI)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, env[k])
		}
		var hk []string
		for k := range r.Header {
			hk = append(hk, k)
		}
		sort.Strings(hk)
		for _, k := range hk {
			fmt.Fprintf(&b, "H %s=%s\n", k, strings.Join(r.Header[k], ","))
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(&b, "body=%q\n", body)
		switch r.URL.Path {
		case "/status.php":
			w.Header().Set("Status", "404 Not Found")
			w.WriteHeader(404)
		case "/redirect.php":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(302)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-FCGI", "yes")
		io.WriteString(w, b.String())
	}))
	return ln.Addr().String()
}

func TestDiffFastCGIPass(t *testing.T) {
	app := startFCGI(t)
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location ~ \.php$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass `+app+`;
        }
        location /split/ {
            fastcgi_split_path_info ^(/split/.+?\.py)(/.*)$;
            include /etc/nginx/fastcgi_params;
            fastcgi_param PATH_INFO $fastcgi_path_info;
            fastcgi_index index.py;
            fastcgi_pass `+app+`;
        }
        location /fdown/ { fastcgi_pass 127.0.0.1:1; }
    }`)
	reps := p.run([]dcase{
		{path: "/index.php?a=1", headers: []string{"X-Test: yes", "Cookie: c=1"}},
		{path: "/form.php", method: "POST", body: "k=v", headers: []string{"Content-Type: application/x-www-form-urlencoded"}},
		{path: "/split/app.py/extra/path?q=1"},
		{path: "/split/"},
		{path: "/status.php"},
		{path: "/redirect.php"},
		{path: "/fdown/"},
	})
	// Go's fcgi child turns the standard CGI variables into the request
	// and reports only the others
	expect(t, reps[0], 200, "/index.php\nSERVER_ADDR")
	expect(t, reps[0], 200, "H X-Test=yes")
	expect(t, reps[1], 200, `body="k=v"`)
	expect(t, reps[2], 200, "DOCUMENT_URI=/split/app.py/extra/path")
	expect(t, reps[4], 404, "")
	expect(t, reps[6], 502, "502 Bad Gateway")
}
