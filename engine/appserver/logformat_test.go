package appserver

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLogFormat(t *testing.T) {
	start := time.Date(2026, 11, 22, 0, 54, 46, 0, time.UTC)
	var env []byte
	for _, kv := range [][2]string{{"REQUEST_METHOD", "GET"}, {"HTTP_HOST", "example.com"}, {"HTTP_USER_AGENT", "curl/8"}, {"HTTP_X_ID", "abc"}} {
		if len(env) > 0 {
			env = append(env, 0)
		}
		env = append(append(append(env, kv[0]...), 0), kv[1]...)
	}
	r := &requestLog{
		pid: 42, wid: 3, core: 1, remoteAddr: "10.0.0.1", method: "GET", uri: "/x?y=1", proto: "HTTP/1.1",
		status: 404, bodyBytes: 9, headerBytes: 40, headers: 2, duration: 1500 * time.Microsecond, start: start,
		vars: 20, varsBytes: 300, switches: 1, contentLength: 5, env: env, vsz: 64 << 20, rss: 8 << 20,
	}
	for format, want := range map[string]string{
		`%(addr) - %(user) [%(ctime)] "%(method) %(uri) %(proto)" %(status) %(size)`:   `10.0.0.1 - - [Sun Nov 22 00:54:46 2026] "GET /x?y=1 HTTP/1.1" 404 49`,
		`%(host) %(uagent) %(referer) %(var.HTTP_X_ID) %(var.NOPE) %(foo)`:             `example.com curl/8 - abc - -`,
		`%(micros) %(msecs) %(time) %(epoch) %(rsize) %(hsize) %(cl)`:                  `1500 1 1795308886 1795308886 9 40 5`,
		`%(pid) %(wid) %(core) %(switches) %(vars) %(pktsize) %(headers) %(modifier1)`: `42 3 1 1 20 300 2 0`,
		`%(vsz) %(rss) %(vszM) %(rssM)`:                                                `67108864 8388608 64 8`,
		`100%% %( unterminated %(status`:                                               `100%% %( unterminated %(status`,
		`%()x`:                                                                         `-x`,
	} {
		if got := string(parseLogFormat(format).append(nil, r)); got != want+"\n" {
			t.Errorf("%s:\n got %q\nwant %q", format, got, want+"\n")
		}
	}
	if lt := string(parseLogFormat("%(ltime)").append(nil, r)); !strings.HasPrefix(lt, start.Local().Format("02/Jan/2006:15:04:05")) {
		t.Errorf("ltime: %q", lt)
	}

	// In a running server.
	s, log := startPlain(t, func(c *Config) { c.LogFormat = `%(addr) "%(method) %(uri)" %(status) %(var.HTTP_X_TEST) %(wid)` })
	req, _ := http.NewRequest("GET", "http://"+s.Addrs()[0]+"/hello?q=1", nil)
	req.Header.Set("X-Test", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitLog(t, log, "127.0.0.1 \"GET /hello?q=1\" 200 yes 1\n")
	if strings.Contains(log.String(), "[pid: ") {
		t.Errorf("the default request line was logged too:\n%s", log)
	}
}

func FuzzParseLogFormat(f *testing.F) {
	f.Add(`%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)"`)
	f.Add(`%(var.HTTP_X) %( %() %(`)
	f.Fuzz(func(t *testing.T, format string) {
		lf := parseLogFormat(format)
		out := lf.append(nil, &requestLog{start: time.Unix(0, 0)})
		if len(out) == 0 || out[len(out)-1] != '\n' {
			t.Fatalf("no newline: %q", out)
		}
		// Text without variables comes out as it went in.
		if !strings.Contains(format, "%(") && string(out) != format+"\n" {
			t.Errorf("literal %q became %q", format, out)
		}
	})
}
