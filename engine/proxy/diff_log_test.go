package proxy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDiffAccessLog compares the access log lines nginx and ours write for
// the same requests, in the combined format and in custom formats with
// escaping, conditions and upstream variables.
func TestDiffAccessLog(t *testing.T) {
	be := startBackend(t, "log")
	p := newPair(t, `
    log_format custom '$remote_addr "$request" $status $body_bytes_sent "$http_user_agent" $request_method $uri $args $content_length $host $server_protocol $request_length $bytes_sent';
    log_format js escape=json '{"uri":"$uri","ua":"$http_user_agent","empty":"$http_x_none"}';
    log_format up '$upstream_status $upstream_addr $upstream_response_length';
    map $uri $loggable { ~^/quiet 0; default 1; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        root {{ROOT}};
        access_log {{LOGDIR}}/combined.log;
        access_log {{LOGDIR}}/custom.log custom if=$loggable;
        access_log {{LOGDIR}}/json.log js;
        location /up/ { proxy_pass http://`+be.addr()+`; access_log {{LOGDIR}}/up.log up; }
        location /off/ { access_log off; }
    }`)
	cases := []dcase{
		{path: "/a.txt", headers: []string{"User-Agent: agent \"quoted\" \x01 é", "Referer: http://ref/"}},
		{path: "/missing?x=1"},
		{path: "/quiet/a.txt"},
		{path: "/dir"},
		{path: "/a.txt", method: "POST", body: "abc"},
		{path: "/off/a.txt"},
		{path: "/up/x"},
		{raw: "GET /a.txt HTTP/1.0\r\n\r\n"},
		{raw: "GARBAGE\r\n\r\n"},
	}
	p.run(cases)
	for _, name := range []string{"combined.log", "custom.log", "json.log", "up.log"} {
		// nginx writes a line when it frees the request, which for a bad
		// request is after a lingering close: wait until both logs have
		// the same number of lines
		var want, got []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			want = readLog(t, filepath.Join(p.logDir, "ngx-logs", name))
			got = readLog(t, filepath.Join(p.logDir, "ours-logs", name))
			if len(want) == len(got) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(want) == 0 {
			t.Errorf("%s: nginx wrote nothing", name)
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s differs:\nnginx:\n%s\nours:\n%s", name, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
}

var (
	logTimeRE = regexp.MustCompile(`\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`)
	logPortRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// readLog reads a log, waiting a moment for the last line (nginx writes
// it after the answer), with times normalised.
func readLog(t *testing.T, path string) []string {
	t.Helper()
	var b []byte
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, _ = os.ReadFile(path)
		if len(b) > 0 && strings.HasSuffix(string(b), "\n") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		l = logTimeRE.ReplaceAllString(l, "[TIME]")
		l = logPortRE.ReplaceAllString(l, "127.0.0.1:PORT")
		out = append(out, l)
	}
	return out
}
