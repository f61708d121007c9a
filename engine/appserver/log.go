package appserver

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Logf is how the engine reports what it does, one line per call.
type Logf func(format string, args ...any)

// logWriter serializes whole lines onto the log (stderr or logto), which the
// workers' stderr shares: every write holds whole lines.
//
// Request lines are batched: they are written at most requestLogDelay after
// they were logged (or once requestLogBatch bytes are waiting), so a busy
// server spends one write(2) on many lines instead of one per request.
// Any other line first flushes the batch, so the order is kept.
type logWriter struct {
	mu        sync.Mutex
	w         io.Writer
	buf       []byte
	pending   []byte
	scheduled bool
	// stamp appends log-date's prefix ("date - ") to printf's lines; it
	// returns b unchanged when log-date is off. Nil: never a prefix.
	stamp func(b []byte) []byte
}

const (
	requestLogDelay = 20 * time.Millisecond
	requestLogBatch = 32 << 10
)

func (l *logWriter) printf(format string, args ...any) {
	l.mu.Lock()
	l.flushLocked()
	l.buf = l.buf[:0]
	if l.stamp != nil {
		l.buf = l.stamp(l.buf)
	}
	l.buf = fmt.Appendf(l.buf, format, args...)
	if len(l.buf) == 0 || l.buf[len(l.buf)-1] != '\n' {
		l.buf = append(l.buf, '\n')
	}
	l.w.Write(l.buf)
	l.mu.Unlock()
}

// Write passes whole lines of a worker's output to the log, after the
// request lines waiting, so that they follow the log when it is rotated or
// reopened (the workers' own descriptors would stay on the old file).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.flushLocked()
	l.w.Write(p)
	l.mu.Unlock()
	return len(p), nil
}

var _ io.Writer = (*logWriter)(nil)

// flush writes the waiting request lines.
func (l *logWriter) flush() {
	l.mu.Lock()
	l.flushLocked()
	l.mu.Unlock()
}

func (l *logWriter) flushLocked() {
	l.scheduled = false
	if len(l.pending) > 0 {
		l.w.Write(l.pending)
		l.pending = l.pending[:0]
	}
}

// ctimeLayout is C's ctime() without its newline, as uWSGI prints dates.
const ctimeLayout = "Mon Jan _2 15:04:05 2006"

// verbose logs a line with uWSGI's uwsgi_log_verbose prefix: the date, then
// " - ". With log-date every line has a date prefix already, log-date's,
// and uWSGI adds no second one.
func (s *Server) verbose(format string, args ...any) {
	if s.logDate.Load() != nil {
		s.log.printf(format, args...)
		return
	}
	s.log.printf("%s - "+format, append([]any{s.now().Format(ctimeLayout)}, args...)...)
}

// logDateSetting is log-date in force: format nil means C's ctime().
type logDateSetting struct{ format strftime }

// setLogDate puts cfg's log-date in force. It is atomic, not under
// Server.cfgMu, because code holding cfgMu logs.
func (s *Server) setLogDate(cfg *Config) {
	if !cfg.LogDate {
		s.logDate.Store(nil)
		return
	}
	s.logDate.Store(&logDateSetting{format: cfg.logDate})
}

// logStamp is the log writer's stamp: log-date's prefix, when it is on.
func (s *Server) logStamp(b []byte) []byte {
	ld := s.logDate.Load()
	if ld == nil {
		return b
	}
	t := s.now()
	if ld.format != nil {
		b = ld.format.appendTo(b, t)
	} else {
		b = t.AppendFormat(b, ctimeLayout)
	}
	return append(b, " - "...)
}

// requestLog is one finished request, as uWSGI's request log line shows it
// (core/logging.c uwsgi_logit_simple).
type requestLog struct {
	pid         int
	app         int
	appReqs     int64 // this worker's requests for the app (-1 without app)
	totalReqs   uint64
	remoteAddr  string
	remoteUser  string
	vars        int
	varsBytes   int
	start       time.Time
	method      string
	uri         string
	bodyBytes   int64
	duration    time.Duration
	via         string // " via sendfile()" for static files
	proto       string
	status      int
	headers     int
	headerBytes int
	switches    uint32
	core        int
	memReport   bool   // memory-report: prefix the worker's memory use
	vsz, rss    uint64 // bytes

	// For log-format only.
	env           []byte // the request's environ, wire form
	wid           int
	contentLength int64
}

// request writes a request log line:
//
//	[pid: 12766|app: 0|req: 1/1] 127.0.0.1 () {28 vars in 303 bytes} [Sun Nov 22 00:54:46 2026] GET /hello?x=1 => generated 11 bytes in 0 msecs (HTTP/1.1 200) 1 headers in 44 bytes (1 switches on core 0)
func (l *logWriter) request(r *requestLog) {
	l.mu.Lock()
	b := l.pending
	if r.memReport {
		b = append(b, "{address space usage: "...)
		b = strconv.AppendUint(b, r.vsz, 10)
		b = append(b, " bytes/"...)
		b = strconv.AppendUint(b, r.vsz>>20, 10)
		b = append(b, "MB} {rss usage: "...)
		b = strconv.AppendUint(b, r.rss, 10)
		b = append(b, " bytes/"...)
		b = strconv.AppendUint(b, r.rss>>20, 10)
		b = append(b, "MB} "...)
	}
	b = append(b, "[pid: "...)
	b = strconv.AppendInt(b, int64(r.pid), 10)
	b = append(b, "|app: "...)
	b = strconv.AppendInt(b, int64(r.app), 10)
	b = append(b, "|req: "...)
	b = strconv.AppendInt(b, r.appReqs, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, r.totalReqs, 10)
	b = append(b, "] "...)
	b = append(b, r.remoteAddr...)
	b = append(b, " ("...)
	b = append(b, r.remoteUser...)
	b = append(b, ") {"...)
	b = strconv.AppendInt(b, int64(r.vars), 10)
	b = append(b, " vars in "...)
	b = strconv.AppendInt(b, int64(r.varsBytes), 10)
	b = append(b, " bytes} ["...)
	b = r.start.AppendFormat(b, ctimeLayout)
	b = append(b, "] "...)
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.uri...)
	b = append(b, " => generated "...)
	b = strconv.AppendInt(b, r.bodyBytes, 10)
	b = append(b, " bytes in "...)
	b = strconv.AppendInt(b, r.duration.Milliseconds(), 10)
	b = append(b, " msecs"...)
	b = append(b, r.via...)
	b = append(b, " ("...)
	b = append(b, r.proto...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.status), 10)
	b = append(b, ") "...)
	b = strconv.AppendInt(b, int64(r.headers), 10)
	b = append(b, " headers in "...)
	b = strconv.AppendInt(b, int64(r.headerBytes), 10)
	b = append(b, " bytes ("...)
	b = strconv.AppendUint(b, uint64(r.switches), 10)
	b = append(b, " switches on core "...)
	b = strconv.AppendInt(b, int64(r.core), 10)
	b = append(b, ")\n"...)
	l.pending = b
	l.schedule()
	l.mu.Unlock()
}

// schedule writes the waiting request lines now if there are many, else
// soon. Call with l.mu held.
func (l *logWriter) schedule() {
	if len(l.pending) >= requestLogBatch {
		l.flushLocked()
	} else if !l.scheduled {
		l.scheduled = true
		time.AfterFunc(requestLogDelay, l.flush)
	}
}
