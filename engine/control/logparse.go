package control

import (
	"net"
	"regexp"
	"strconv"
	"strings"
)

// The engine's log follows uWSGI's wording. The Runner reads it only to
// grade lines and to tell request lines from the rest; events come from
// the engine itself (appserver.Server.Subscribe).
var (
	// [pid: 12766|app: 0|req: 1/1] 127.0.0.1 () {...} [...] GET / => generated ... (HTTP/1.1 200) ...
	// (memory-report puts "{address space usage: ...} {rss usage: ...} " first)
	requestLineRe   = regexp.MustCompile(`^(?:\{address space usage: [^}]*\} \{rss usage: [^}]*\} )?\[pid: (\d+)\|app: `)
	requestStatusRe = regexp.MustCompile(`\(HTTP/[0-9.]+ (\d{3})\)`)
	// spawned uWSGI worker 1 (pid: 1234, cores: 1)
	spawnedRe = regexp.MustCompile(`^spawned uWSGI worker (\d+) \(pid: (\d+)`)
	// Respawned uWSGI worker 1 (new pid: 1240)
	respawnedRe = regexp.MustCompile(`^Respawned uWSGI worker (\d+) \(new pid: (\d+)\)`)
	// uWSGI's verbose lines start with the date: "Sun Nov 22 02:15:35 2026 - ..."
	verboseRe = regexp.MustCompile(`^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - `)
	// the address in a bind error, the engine's or the proxy's
	portInErrRe = regexp.MustCompile(`\S:(\d{1,5})\b`)
)

// masterPrefixes start the lines the engine's master writes itself, as
// uWSGI words them. Anything else on the engine's log is a worker's
// output: the app's prints and tracebacks.
var masterPrefixes = []string{
	"*** ", "warning: ", "ignored ", "current working directory", "detected ",
	"uwsgi socket", "uWSGI http", "uWSGI ", "your ", "spawned uWSGI", "WSGI app",
	"DAMN ! ", "OOPS ! ", "Respawned", "respawned", "worker ", "graceful", "goodbye",
	"...", "gracefully", "Gracefully", "chdir()", "mapped ", "Python ", "SIGINT", "SIGTERM",
	"SIGHUP", "bind(): ", "binary reloading", "reloading", "reload:", "all workers", "brutally",
	"wsgideck:", "thunder lock", "announcing", "harakiri", "HARAKIRI", "[busyness]",
	"the master", "VACUUM", "cannot respawn", "cannot recycle", "chain reload", "Listen queue",
	"stats server", "[uwsgi-python-reloader]",
}

// masterLine reports whether text is a line the server wrote itself (the
// master's, or a worker's own "WSGI app 0 ... ready"), and returns it
// without its date prefix. uWSGI's verbose lines start with ctime()'s
// date; with log-date every line the server writes starts with the date
// that datePrefix matches (nil: log-date is off), and the app's output
// never does.
func masterLine(text string, datePrefix *regexp.Regexp) (body string, ok bool) {
	if hasMasterPrefix(text) {
		return text, true
	}
	if datePrefix != nil {
		if m := datePrefix.FindStringIndex(text); m != nil {
			return text[m[1]:], true
		}
	}
	if m := verboseRe.FindStringIndex(text); m != nil {
		return text[m[1]:], true
	}
	return text, false
}

func hasMasterPrefix(text string) bool {
	for _, p := range masterPrefixes {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	return false
}

func requestStatus(text string) int {
	m := requestStatusRe.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	return atoi(m[1])
}

// levelOf grades a line by the words uWSGI, nginx and Python use for
// trouble.
func levelOf(text string) Level {
	t := strings.ToLower(text)
	switch {
	case strings.HasPrefix(text, "Traceback "), strings.HasPrefix(text, "  File \""),
		strings.Contains(t, "error"), strings.Contains(t, "[emerg]"), strings.Contains(t, "[crit]"),
		strings.Contains(t, "[alert]"), strings.HasPrefix(text, "DAMN"), strings.HasPrefix(text, "OOPS"),
		strings.Contains(t, "exception"), strings.Contains(t, "harakiri"), strings.Contains(t, "failed"),
		strings.HasPrefix(text, "!!!"), strings.Contains(t, "no mercy"), strings.Contains(t, "unable to"),
		strings.Contains(t, "no app loaded"):
		return LevelError
	case strings.HasPrefix(t, "warning"), strings.Contains(t, "[warn]"), strings.Contains(t, "not supported"),
		strings.Contains(t, "respawn"), strings.Contains(t, "ignored"), strings.Contains(t, ": warning:"):
		return LevelWarn
	}
	return LevelInfo
}

// nginxLevel grades an error-log line by its "[level]".
func nginxLevel(text string) Level {
	switch {
	case strings.Contains(text, "[emerg]"), strings.Contains(text, "[alert]"), strings.Contains(text, "[crit]"),
		strings.Contains(text, "[error]"):
		return LevelError
	case strings.Contains(text, "[warn]"):
		return LevelWarn
	case strings.Contains(text, "[notice]"), strings.Contains(text, "[info]"), strings.Contains(text, "[debug]"):
		return LevelInfo
	}
	return levelOf(text)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// hostPort splits a TCP address as written in either file ("127.0.0.1:8080",
// ":3031", "8080", "[::1]:80", "http://host:port/x") into host and port; ok
// is false for unix sockets and names without a port.
func hostPort(addr string) (host string, port int, ok bool) {
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	if i := strings.IndexByte(addr, '/'); i > 0 {
		addr = addr[:i]
	}
	if addr == "" || strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@") {
		return "", 0, false
	}
	if n, err := strconv.Atoi(addr); err == nil {
		return "", n, n > 0 && n < 65536
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, false
	}
	return h, n, true
}

// browserURL is the address a browser opens for a listen address.
func browserURL(addr string) string {
	host, port, ok := hostPort(addr)
	if !ok {
		return ""
	}
	switch host {
	case "", "0.0.0.0", "*":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	if port == 80 {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return "http://" + host + "/"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}
