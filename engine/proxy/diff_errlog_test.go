package proxy

import (
	"regexp"
	"strings"
	"testing"
)

// requestLogRE picks the message out of an error log line about a
// request: what follows the level, the pid and the connection number.
var requestLogRE = regexp.MustCompile(`^\S+ \S+ \[(\w+)\] \d+#\d+: \*\d+ (.*)$`)

// requestErrors are the "[level] message" of the request lines of an
// error log, in order.
func requestErrors(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := requestLogRE.FindStringSubmatch(l); m != nil {
			out = append(out, "["+m[1]+"] "+m[2])
		}
	}
	return out
}

// compareErrorLogs checks that ours logged the same request errors as
// nginx, in the same order. It stops our server first, so that every
// line is written.
func (p *pair) compareErrorLogs() {
	p.t.Helper()
	if p.logsCompared {
		return
	}
	p.logsCompared = true
	p.srv.Close()
	want := requestErrors(strings.Split(p.ngx.LogText(), "\n"))
	got := requestErrors(p.logs)
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = strings.ReplaceAll(got[i], "127.0.0.2", "127.0.0.1")
		}
		if w != g {
			p.t.Errorf("error log line %d:\nnginx %s\nours  %s", i+1, w, g)
		}
	}
}

// The error log lines of requests: what users read to find out why a
// request failed.
func TestDiffErrorLogLines(t *testing.T) {
	p := newPair(t, `
    upstream dead2 { server 127.0.0.1:1; server 127.0.0.1:2; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        location /noidx/ { alias {{ROOT}}/list/; index nothere.html; }
        location /al/ { alias {{ROOT}}/alias-target/; }
        location /loop/ { rewrite ^ /loop/ last; }
        location /dead/ { proxy_pass http://127.0.0.1:1; }
        location /dead2/ { proxy_pass http://dead2; }
        location /deny/ { deny all; }
        location /tf/ { try_files $uri =404; }
        location /named/ { try_files /x @nope; }
        location /nolog/ { log_not_found off; }
    }`)
	p.run([]dcase{
		{path: "/missing"},
		{path: "/missing.txt?x=1"},
		{path: "/noidx/"},
		{path: "/al/none"},
		{path: "/loop/"},
		{path: "/dead/"},
		{path: "/dead2/"},
		{path: "/dead2/"},
		{path: "/deny/"},
		{path: "/tf/none"},
		{path: "/nolog/none"},
		{path: "/a.txt/x"},
		{method: "POST", path: "/a.txt", body: "x"},
	})
	p.compareErrorLogs()
}
