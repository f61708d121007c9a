package proxy

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Error log levels, nginx's order.
const (
	levelEmerg = iota
	levelAlert
	levelCrit
	levelError
	levelWarn
	levelNotice
	levelInfo
	levelDebug
)

var levelNames = [...]string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}

// parseLevel maps an error_log level name.
func parseLevel(s string) (int, bool) {
	for i, n := range levelNames {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

// logFile is an open log file shared by every log line written to it.
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// logf is used instead of a file for "stderr" when the server has a
	// Logf.
	logf Logf
	refs int
}

func (lf *logFile) write(b []byte) {
	if lf == nil {
		return
	}
	if lf.logf != nil {
		lf.logf("%s", strings.TrimSuffix(string(b), "\n"))
		return
	}
	lf.mu.Lock()
	if lf.f != nil {
		lf.f.Write(b)
	}
	lf.mu.Unlock()
}

// openLogs opens every log file the config writes to. Relative paths were
// resolved against the prefix by compile.
func (cfg *Config) openLogs() error {
	for path, lf := range cfg.logs {
		if lf.f != nil || path == "stderr" || path == "/dev/stderr" {
			if path == "stderr" || path == "/dev/stderr" {
				lf.f = os.Stderr
			}
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			cfg.closeLogs()
			return fmt.Errorf("open() %q failed (%s)", path, errnoString(err))
		}
		lf.f = f
	}
	return nil
}

func (cfg *Config) closeLogs() {
	for _, lf := range cfg.logs {
		lf.mu.Lock()
		if lf.f != nil && lf.f != os.Stderr {
			lf.f.Close()
		}
		lf.f = nil
		lf.mu.Unlock()
	}
}

// errorLog is where and how much the server logs.
type errorLog struct {
	file  *logFile
	level int
	logf  Logf
}

func (cfg *Config) newErrorLog(logf Logf) *errorLog {
	el := &errorLog{level: cfg.ErrorLogLevel, logf: logf}
	if lf := cfg.logs[cfg.ErrorLog]; lf != nil && cfg.ErrorLog != "" && cfg.ErrorLog != "stderr" {
		el.file = lf
	}
	return el
}

func (el *errorLog) log(s *Server, level int, msg string) {
	if el == nil || level > el.level {
		return
	}
	now := s.clock.now()
	line := now.Format("2006/01/02 15:04:05") + " [" + levelNames[level] + "] " + strconv.Itoa(os.Getpid()) + "#" + strconv.Itoa(os.Getpid()) + ": " + msg
	if el.file != nil {
		el.file.write([]byte(line + "\n"))
		return
	}
	el.logf("%s", line)
}

// errorf logs a server-level message.
func (s *Server) errorf(level int, format string, args ...any) {
	el := s.errLog.Load()
	el.log(s, level, fmt.Sprintf(format, args...))
}

// errorf logs a message about a request, with nginx's context suffix.
func (r *request) errorf(level int, format string, args ...any) {
	s := r.c.srv
	el := s.errLog.Load()
	if el == nil || level > el.level {
		return
	}
	msg := "*" + strconv.FormatUint(r.c.id, 10) + " " + fmt.Sprintf(format, args...) + ", client: " + r.c.remoteIP
	if r.srv != nil {
		msg += ", server: " + r.srv.name
	}
	if r.line != "" {
		msg += ", request: \"" + r.line + "\""
	}
	if u := r.upstream.current(); u != "" {
		msg += ", upstream: \"" + u + "\""
	}
	if h := r.hdr(hHost); h != "" {
		msg += ", host: \"" + h + "\""
	}
	el.log(s, level, msg)
}

// accessLog is one access_log line of a location.
type accessLog struct {
	file   *logFile
	format *logFormat
	cond   *complexValue
}

// logFormat is a compiled log_format.
type logFormat struct {
	name   string
	escape int // escapeDefault, escapeJSON, escapeNone
	parts  []cvPart
}

const (
	escapeDefault = iota
	escapeJSON
	escapeNone
)

// combinedFormat is nginx's predefined "combined".
const combinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// compileLogFormat compiles a log_format string. Variables that are empty
// are written as "-" (escape=default and none) or "" (json).
func compileLogFormat(name, escape, s string, vt *varTable) (*logFormat, error) {
	lf := &logFormat{name: name}
	switch escape {
	case "", "default":
		lf.escape = escapeDefault
	case "json":
		lf.escape = escapeJSON
	case "none":
		lf.escape = escapeNone
	default:
		return nil, fmt.Errorf("unknown log format escaping %q", escape)
	}
	cv, err := compileValue(s, vt)
	if err != nil {
		return nil, err
	}
	lf.parts = cv.parts
	return lf, nil
}

// format renders one log line for r.
func (lf *logFormat) format(r *request, b []byte) []byte {
	for i := range lf.parts {
		p := &lf.parts[i]
		if p.get == nil && p.capture < 0 {
			b = append(b, p.lit...)
			continue
		}
		v := p.value(r)
		if v == "" {
			if lf.escape != escapeJSON {
				b = append(b, '-')
			}
			continue
		}
		switch lf.escape {
		case escapeDefault:
			b = appendLogEscaped(b, v)
		case escapeJSON:
			b = appendJSONEscaped(b, v)
		default:
			b = append(b, v...)
		}
	}
	return append(b, '\n')
}

// appendLogEscaped is the default escaping: '"', '\\' and bytes outside
// 0x20..0x7e become \xXX.
func appendLogEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendJSONEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
				continue
			}
			b = append(b, c)
		}
	}
	return b
}

var logBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logRequest writes the access log lines of the request's location.
func (s *Server) logRequest(r *request) {
	c := r.conf
	if c == nil || c.accessLogOff || len(c.accessLogs) == 0 {
		return
	}
	if r.status == 0 {
		r.status = r.resp.status
	}
	bp := logBufPool.Get().(*[]byte)
	for _, al := range c.accessLogs {
		if al.cond != nil {
			if v := al.cond.eval(r); v == "" || v == "0" {
				continue
			}
		}
		b := al.format.format(r, (*bp)[:0])
		al.file.write(b)
		*bp = b
	}
	logBufPool.Put(bp)
}

// CheckFiles opens (creating them if needed) and closes the log files cfg
// writes to, as nginx -t does, so that a bad path fails the test.
func CheckFiles(cfg *Config) error {
	if err := cfg.openLogs(); err != nil {
		return err
	}
	cfg.closeLogs()
	return nil
}

// ReopenLogs closes and reopens the log files (nginx's SIGUSR1), so that a
// rotated log starts afresh.
func (s *Server) ReopenLogs() error {
	cfg := s.cfg.Load()
	if cfg == nil {
		return nil
	}
	var first error
	for path, lf := range cfg.logs {
		if path == "stderr" || path == "/dev/stderr" {
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("reopen() %q failed (%s)", path, errnoString(err))
			}
			continue
		}
		lf.mu.Lock()
		old := lf.f
		lf.f = f
		lf.mu.Unlock()
		if old != nil && old != os.Stderr {
			old.Close()
		}
	}
	return first
}
