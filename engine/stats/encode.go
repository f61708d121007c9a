package stats

import (
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Format selects the variants of the document that uWSGI options choose.
type Format struct {
	Minified bool // stats-minified: no newlines, no tabs
	NoCores  bool // stats-no-cores: leave out every worker's "cores"
}

// AppendJSON appends the stats document for s to dst, laid out as uWSGI
// 2.0.21 lays it out (see the package doc), and returns the extended slice.
func AppendJSON(dst []byte, s *Snapshot, f Format) []byte {
	e := encoder{buf: dst, minified: f.Minified}
	e.objectOpen()
	e.keyString("version", s.Version)
	e.comma()
	e.keyInt("listen_queue", int64(s.ListenQueue))
	e.comma()
	e.keyInt("listen_queue_errors", int64(s.ListenQueueErrors))
	e.comma()
	e.keyInt("signal_queue", int64(s.SignalQueue))
	e.comma()
	e.keyInt("load", int64(s.Load))
	e.comma()
	e.keyInt("pid", int64(s.PID))
	e.comma()
	e.keyInt("uid", int64(s.UID))
	e.comma()
	e.keyInt("gid", int64(s.GID))
	e.comma()
	e.keyString("cwd", s.CWD)
	e.comma()

	if len(s.Daemons) > 0 {
		e.key("daemons")
		e.listOpen()
		for i, d := range s.Daemons {
			if i > 0 {
				e.comma()
			}
			e.objectOpen()
			e.keyString("cmd", d.Cmd)
			e.comma()
			e.keyInt("pid", int64(d.PID))
			e.comma()
			e.keyInt("respawns", int64(d.Respawns))
			e.objectClose()
		}
		e.listClose()
		e.comma()
	}

	locks := s.Locks
	if locks == nil {
		locks = DefaultLocks()
	}
	e.key("locks")
	e.listOpen()
	for i, l := range locks {
		if i > 0 {
			e.comma()
		}
		e.objectOpen()
		e.keyInt(l.Name, int64(l.Value))
		e.objectClose()
	}
	e.listClose()
	e.comma()

	e.key("sockets")
	e.listOpen()
	for i := range s.Sockets {
		if i > 0 {
			e.comma()
		}
		e.socket(&s.Sockets[i])
	}
	e.listClose()
	e.comma()

	e.key("workers")
	e.listOpen()
	for i := range s.Workers {
		if i > 0 {
			e.comma()
		}
		e.worker(&s.Workers[i], f)
	}
	e.listClose()
	e.objectClose()
	return e.buf
}

func (e *encoder) socket(s *Socket) {
	e.objectOpen()
	e.keyString("name", s.Name)
	e.comma()
	e.keyString("proto", s.Proto)
	e.comma()
	e.keyInt("queue", int64(s.Queue))
	e.comma()
	e.keyInt("max_queue", int64(s.MaxQueue))
	e.comma()
	e.keyBool("shared", s.Shared)
	e.comma()
	e.keyBool("can_offload", s.CanOffload)
	e.objectClose()
}

func (e *encoder) worker(w *Worker, f Format) {
	status := w.Status
	if status == "" {
		status = StatusIdle
	}
	e.objectOpen()
	e.keyInt("id", int64(w.ID))
	e.comma()
	e.keyInt("pid", int64(w.PID))
	e.comma()
	e.keyBool("accepting", w.Accepting)
	e.comma()
	e.keyUint("requests", w.Requests)
	e.comma()
	e.keyUint("delta_requests", w.DeltaRequests)
	e.comma()
	e.keyUint("exceptions", w.Exceptions)
	e.comma()
	e.keyUint("harakiri_count", w.HarakiriCount)
	e.comma()
	e.keyUint("signals", w.Signals)
	e.comma()
	e.keyInt("signal_queue", int64(w.SignalQueue))
	e.comma()
	e.keyString("status", string(status))
	e.comma()
	e.keyUint("rss", w.RSS)
	e.comma()
	e.keyUint("vsz", w.VSZ)
	e.comma()
	e.keyInt("running_time", micros(w.RunningTime))
	e.comma()
	e.keyInt("last_spawn", epoch(w.LastSpawn))
	e.comma()
	e.keyUint("respawn_count", w.RespawnCount)
	e.comma()
	e.keyUint("tx", w.TX)
	e.comma()
	e.keyInt("avg_rt", micros(w.AvgRT))
	e.comma()

	e.key("apps")
	e.listOpen()
	for i := range w.Apps {
		if i > 0 {
			e.comma()
		}
		e.app(&w.Apps[i])
	}
	e.listClose()

	if !f.NoCores {
		e.comma()
		e.key("cores")
		e.listOpen()
		for i := range w.Cores {
			if i > 0 {
				e.comma()
			}
			e.core(&w.Cores[i])
		}
		e.listClose()
	}
	e.objectClose()
}

func (e *encoder) app(a *App) {
	e.objectOpen()
	e.keyInt("id", int64(a.ID))
	e.comma()
	e.keyInt("modifier1", int64(a.Modifier1))
	e.comma()
	e.keyString("mountpoint", a.Mountpoint)
	e.comma()
	e.keyInt("startup_time", int64(a.StartupTime))
	e.comma()
	e.keyUint("requests", a.Requests)
	e.comma()
	e.keyUint("exceptions", a.Exceptions)
	e.comma()
	e.keyString("chdir", a.Chdir)
	e.objectClose()
}

func (e *encoder) core(c *Core) {
	e.objectOpen()
	e.keyInt("id", int64(c.ID))
	e.comma()
	e.keyUint("requests", c.Requests)
	e.comma()
	e.keyUint("static_requests", c.StaticRequests)
	e.comma()
	e.keyUint("routed_requests", c.RoutedRequests)
	e.comma()
	e.keyUint("offloaded_requests", c.OffloadedRequests)
	e.comma()
	e.keyUint("write_errors", c.WriteErrors)
	e.comma()
	e.keyUint("read_errors", c.ReadErrors)
	e.comma()
	e.keyBool("in_request", c.InRequest)
	e.comma()

	// uWSGI writes the vars as bare strings with no indentation, then an
	// empty string, and only for a request in progress.
	e.key("vars")
	e.listOpen()
	if c.InRequest {
		for _, v := range c.Vars {
			e.string(v)
			e.comma()
		}
		e.string("")
	}
	e.listClose()
	e.comma()

	// The object after "req_info": is indented like an object that opens a
	// line: uWSGI applies the tabs after the key.
	e.key("req_info")
	e.objectOpen()
	if c.InRequest {
		e.keyInt("request_start", epoch(c.RequestStart))
	}
	e.objectClose()
	e.objectClose()
}

func micros(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return d.Microseconds()
}

func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// encoder reproduces uWSGI's stats writer (core/stats.c): every opening
// symbol and comma ends the line, objects indent themselves before their
// '{', closers start a new line at the outer level.
type encoder struct {
	buf      []byte
	tabs     int
	minified bool
}

func (e *encoder) symbolNewline(c byte) {
	e.buf = append(e.buf, c)
	if !e.minified {
		e.buf = append(e.buf, '\n')
	}
}

func (e *encoder) indent() {
	if e.minified {
		return
	}
	for range e.tabs {
		e.buf = append(e.buf, '\t')
	}
}

func (e *encoder) comma() { e.symbolNewline(',') }

func (e *encoder) objectOpen() {
	e.indent()
	e.tabs++
	e.symbolNewline('{')
}

func (e *encoder) objectClose() {
	e.tabs--
	if !e.minified {
		e.buf = append(e.buf, '\n')
	}
	e.indent()
	e.buf = append(e.buf, '}')
}

func (e *encoder) listOpen() {
	e.tabs++
	e.symbolNewline('[')
}

func (e *encoder) listClose() {
	e.tabs--
	if !e.minified {
		e.buf = append(e.buf, '\n')
	}
	e.indent()
	e.buf = append(e.buf, ']')
}

func (e *encoder) key(k string) {
	e.indent()
	e.string(k)
	e.buf = append(e.buf, ':')
}

func (e *encoder) keyString(k, v string) {
	e.key(k)
	e.string(v)
}

func (e *encoder) keyInt(k string, v int64) {
	e.key(k)
	e.buf = strconv.AppendInt(e.buf, v, 10)
}

func (e *encoder) keyUint(k string, v uint64) {
	e.key(k)
	e.buf = strconv.AppendUint(e.buf, v, 10)
}

func (e *encoder) keyBool(k string, v bool) {
	e.key(k)
	if v {
		e.buf = append(e.buf, '1')
	} else {
		e.buf = append(e.buf, '0')
	}
}

const hexDigits = "0123456789abcdef"

// string appends s as a quoted JSON string in pure ASCII: control
// characters, '"' and '\' escaped, everything above 0x7e written as \uXXXX
// (a surrogate pair above the BMP), and each byte that is not part of valid
// UTF-8 as \ufffd.
func (e *encoder) string(s string) {
	b := append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if c < utf8.RuneSelf {
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
				b = appendU(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			b = appendU(appendU(b, r1), r2)
		} else {
			b = appendU(b, r) // RuneError (\ufffd) for an invalid byte
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
