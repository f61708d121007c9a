package control

import (
	"bytes"
	"sync"
	"time"
)

// LogSource says where a log line comes from (in the order of ui/deck's).
type LogSource uint8

const (
	LogEngine      LogSource = iota // the master's own lines and request lines
	LogWorker                       // a worker's stdout/stderr (prints, tracebacks)
	LogProxyAccess                  // one line per request, in nginx's combined format
	LogProxyError                   // the proxy's error log
)

func (s LogSource) String() string {
	if int(s) < len(logSourceNames) {
		return logSourceNames[s]
	}
	return "unknown"
}

var logSourceNames = [...]string{"engine", "worker", "access", "proxy"}

// Level grades a log line.
type Level uint8

const (
	LevelInfo Level = iota
	LevelWarn
	LevelError
)

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

var levelNames = [...]string{"info", "warn", "error"}

// LogLine is one line of a project's log.
type LogLine struct {
	Seq    uint64 // 1, 2, 3... per Runner: a gap means lines were dropped
	Time   time.Time
	Source LogSource
	// Worker is the engine worker a line is about (a request line) or
	// from (its stdout and stderr: prints, tracebacks); 0 for the rest.
	Worker int
	Level  Level
	Text   string
}

// DefaultLogLines is how many lines a Runner keeps.
const DefaultLogLines = 10000

// logRing keeps the last lines in a fixed amount of memory.
type logRing struct {
	mu   sync.Mutex
	ring seqRing[LogLine]
}

func newLogRing(capacity int) *logRing {
	if capacity <= 0 {
		capacity = DefaultLogLines
	}
	return &logRing{ring: newSeqRing[LogLine](capacity)}
}

// add stores l with the next Seq and returns it as stored.
func (r *logRing) add(l LogLine) LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ring.add(func(seq uint64) LogLine { l.Seq = seq; return l })
}

// after returns up to max lines with Seq > after, oldest first; max <= 0
// means all. A caller that fell behind gets the oldest lines still kept.
func (r *logRing) after(after uint64, max int) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ring.after(after, max)
}

// lineWriter is an io.Writer that cuts what is written into lines for
// emit. A partial last line waits for its newline, or for maxLogLine bytes
// so that output that never ends a line cannot grow without bound.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(line string)
}

const maxLogLine = 16 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLogLine {
				w.emit(string(w.buf[:maxLogLine]))
				w.buf = append(w.buf[:0], w.buf[maxLogLine:]...)
				continue
			}
			break
		}
		w.emit(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) == 0 {
		w.buf = nil
	}
	return len(p), nil
}

// flush emits a partial last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}
