package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
)

func TestLogRing(t *testing.T) {
	r := newLogRing(3)
	for i := 1; i <= 5; i++ {
		if l := r.add(LogLine{Text: string(rune('a' + i - 1))}); l.Seq != uint64(i) {
			t.Fatalf("Seq %d, want %d", l.Seq, i)
		}
	}
	got := r.after(0, 0)
	if len(got) != 3 || got[0].Seq != 3 || got[2].Text != "e" {
		t.Fatalf("after(0) = %+v", got)
	}
	if got := r.after(3, 1); len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("after(3, 1) = %+v", got)
	}
	if got := r.after(5, 0); got != nil {
		t.Fatalf("after(5) = %+v", got)
	}
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(s string) { lines = append(lines, s) }}
	w.Write([]byte("one\r\ntw"))
	w.Write([]byte("o\nthree"))
	w.flush()
	if strings.Join(lines, "|") != "one|two|three" {
		t.Fatalf("lines %q", lines)
	}
	lines = nil
	w.Write([]byte(strings.Repeat("x", maxLogLine+10)))
	if len(lines) != 1 || len(lines[0]) != maxLogLine {
		t.Fatalf("a line without an end is not cut at %d bytes", maxLogLine)
	}
}

func TestHostPortAndURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/",
		"0.0.0.0:80":     "http://127.0.0.1/",
		"[::]:8080":      "http://[::1]:8080/",
		"8080":           "http://127.0.0.1:8080/",
		"/run/x.sock":    "",
	} {
		if got := browserURL(addr); got != want {
			t.Errorf("browserURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestOverall(t *testing.T) {
	for _, c := range []struct{ e, p, want State }{
		{Running, Running, Running}, {Stopped, Stopped, Stopped}, {Running, Stopped, Degraded},
		{Failed, Stopped, Failed}, {Starting, Running, Starting}, {Degraded, Running, Degraded},
	} {
		if got := Overall(c.e, c.p); got != c.want {
			t.Errorf("Overall(%s, %s) = %s, want %s", c.e, c.p, got, c.want)
		}
	}
}

func TestEngineLineGrading(t *testing.T) {
	for _, c := range []struct {
		line   string
		master bool
		level  Level
	}{
		{"spawned uWSGI worker 1 (pid: 12, cores: 1)", true, LevelInfo},
		{"DAMN ! worker 1 (pid: 12) died, killed by signal 9 :( trying respawn ...", true, LevelError},
		{"Sun Nov 22 02:15:35 2026 - chain next victim is worker 1", true, LevelInfo},
		{"Traceback (most recent call last):", false, LevelError},
		{"hello from the app", false, LevelInfo},
		{"step 1 - ok", false, LevelInfo}, // an app's line with " - " in it
		{"ValueError: 12 - worker exploded", false, LevelError},
		{"2026-11-22 10:00:00,123 - worker - INFO - handled job 7", false, LevelInfo},
	} {
		body, master := masterLine(c.line, nil)
		if master != c.master {
			t.Errorf("masterLine(%q) = %v", c.line, master)
		}
		if got := levelOf(body); got != c.level {
			t.Errorf("levelOf(%q) = %s, want %s", body, got, c.level)
		}
	}
	// With log-date, the server's own lines carry its date: a format of the
	// user's (with " - " in it), or ctime()'s.
	for format, line := range map[string]string{
		"%Y-%m-%d - %H:%M:%S": "2026-11-22 - 02:15:35 - spawned uWSGI worker 3 (pid: 44, cores: 1)",
		"":                    "Sun Nov 22 02:15:35 2026 - spawned uWSGI worker 3 (pid: 44, cores: 1)",
	} {
		cfg := appserver.Config{LogDate: true, LogDateFormat: format}
		body, master := masterLine(line, cfg.LogDatePrefix())
		if !master || spawnedRe.FindStringSubmatch(body) == nil {
			t.Errorf("log-date %q: %q read as %q (master %v)", format, line, body, master)
		}
		if _, master := masterLine("2026-11-22 10:00:00,123 - worker - INFO - handled job 7", cfg.LogDatePrefix()); master {
			t.Errorf("log-date %q: an app's logging line taken for the server's", format)
		}
	}
	for line, pid := range map[string]string{
		"[pid: 12|app: 0|req: 1/1] 127.0.0.1 () {32 vars in 368 bytes} [x] GET / => generated 5 bytes in 0 msecs (HTTP/1.1 404) 4 headers": "12",
		"{address space usage: 1 bytes/0MB} {rss usage: 2 bytes/0MB} [pid: 7|app: 0|req: 1/1] x":                                           "7",
	} {
		m := requestLineRe.FindStringSubmatch(line)
		if m == nil || m[1] != pid {
			t.Errorf("request line %q: %v", line, m)
		}
	}
	if requestStatus("GET / => generated 5 bytes in 0 msecs (HTTP/1.1 404) 4 headers") != 404 {
		t.Error("status not read")
	}
}

func TestValidateText(t *testing.T) {
	dir, _, _ := demoProject(t)
	r := NewRunner(RunnerOptions{Dir: dir})
	ini, _ := os.ReadFile(filepath.Join(dir, "uwsgi.ini"))
	if errs := errorsOf(r.ValidateIni(string(ini))); len(errs) > 0 {
		t.Fatalf("the demo's uwsgi.ini: %v", errs)
	}
	if errs := errorsOf(r.ValidateIni(strings.Replace(string(ini), "processes = 2", "processes = 0", 1))); len(errs) == 0 || errs[0].Line == 0 {
		t.Errorf("processes = 0: %v", errs)
	}
	ngx, _ := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	if errs := errorsOf(r.ValidateNginx(string(ngx))); len(errs) > 0 {
		t.Fatalf("the demo's nginx.conf: %v", errs)
	}
	// nginx accepts a PCRE look-ahead; the proxy cannot run it.
	bad := strings.Replace(string(ngx), "location / {", "location ~ ^/(?!static) {", 1)
	errs := errorsOf(r.ValidateNginx(bad))
	if len(errs) == 0 || errs[0].Line == 0 || !strings.Contains(errs[0].Msg, "proxy") {
		t.Errorf("look-ahead: %v", errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "nginx.conf")); string(b) != string(ngx) {
		t.Error("validating changed the file")
	}
}

func errorsOf(ps []confedit.Problem) []confedit.Problem { return confedit.Errors(ps) }

// A subscriber gets only the kinds it asked for, and a kind nobody asked
// for is not wanted (so request and log events are not even built).
func TestBusKinds(t *testing.T) {
	var b bus
	got := make(chan Event, 8)
	all := make(chan Event, 8)
	cancelState := b.subscribe(func(ev Event) { got <- ev }, EventState, EventConfigChanged)
	defer cancelState()
	if !b.wants(EventState) || b.wants(EventLog) || b.wants(EventRequest) {
		t.Fatalf("wants: state %v, log %v, request %v; want true, false, false",
			b.wants(EventState), b.wants(EventLog), b.wants(EventRequest))
	}
	b.publish(Event{Kind: EventLog, Message: "a log line"})
	b.publish(Event{Kind: EventState, Message: "state"})
	if ev := <-got; ev.Kind != EventState || ev.Dropped != 0 {
		t.Fatalf("first event: %v (dropped %d), want the state event", ev.Kind, ev.Dropped)
	}

	cancelAll := b.subscribe(func(ev Event) { all <- ev })
	if !b.wants(EventLog) || !b.wants(EventRequest) {
		t.Fatal("a subscriber of every kind does not want log and request events")
	}
	b.publish(Event{Kind: EventRequest})
	b.publish(Event{Kind: EventConfigChanged})
	if ev := <-all; ev.Kind != EventRequest {
		t.Fatalf("all-kinds subscriber got %v first, want request", ev.Kind)
	}
	if ev := <-all; ev.Kind != EventConfigChanged {
		t.Fatalf("all-kinds subscriber got %v second, want config-changed", ev.Kind)
	}
	if ev := <-got; ev.Kind != EventConfigChanged {
		t.Fatalf("filtered subscriber got %v, want config-changed (the request skipped)", ev.Kind)
	}
	cancelAll()
	if b.wants(EventLog) {
		t.Fatal("log events still wanted after the only subscriber of them left")
	}
}
