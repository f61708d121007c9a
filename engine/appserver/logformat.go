package appserver

import (
	"bytes"
	"strconv"
	"strings"
)

// logFormat is a compiled log-format (core/logging.c
// uwsgi_build_log_format): literal text and %(name) variables. A variable
// with no value prints "-", as in uWSGI; a name uWSGI does not know is a
// user logvar, which this engine never has, so it prints "-" too.
type logFormat struct {
	chunks  []logChunk
	needMem bool // uses vsz/rss
}

type logChunk struct {
	text string // literal, when v is lfLiteral
	v    logVar
	arg  string // the variable's name (var.NAME: NAME)
}

type logVar uint8

const (
	lfLiteral logVar = iota
	lfURI
	lfMethod
	lfUser
	lfAddr
	lfHost
	lfProto
	lfUAgent
	lfReferer
	lfStatus
	lfRSize
	lfHSize
	lfSize
	lfCL
	lfMicros
	lfMsecs
	lfTime
	lfLTime
	lfCTime
	lfEpoch
	lfPID
	lfWID
	lfSwitches
	lfVars
	lfCore
	lfVSZ
	lfRSS
	lfVSZM
	lfRSSM
	lfPktSize
	lfModifier1
	lfModifier2
	lfHeaders
	lfEnvVar // var.NAME: a request variable
	lfUnknown
)

var logVarNames = map[string]logVar{
	"uri": lfURI, "method": lfMethod, "user": lfUser, "addr": lfAddr, "host": lfHost,
	"proto": lfProto, "uagent": lfUAgent, "referer": lfReferer, "status": lfStatus,
	"rsize": lfRSize, "hsize": lfHSize, "size": lfSize, "cl": lfCL, "micros": lfMicros,
	"msecs": lfMsecs, "time": lfTime, "ltime": lfLTime, "ctime": lfCTime, "epoch": lfEpoch,
	"pid": lfPID, "wid": lfWID, "switches": lfSwitches, "vars": lfVars, "core": lfCore,
	"vsz": lfVSZ, "rss": lfRSS, "vszM": lfVSZM, "rssM": lfRSSM, "pktsize": lfPktSize,
	"modifier1": lfModifier1, "modifier2": lfModifier2, "headers": lfHeaders,
}

// parseLogFormat compiles a log-format value. Text outside %(...) is kept
// as is; an unterminated "%(" is text.
func parseLogFormat(format string) *logFormat {
	lf := &logFormat{}
	lit := func(s string) {
		if s == "" {
			return
		}
		if n := len(lf.chunks); n > 0 && lf.chunks[n-1].v == lfLiteral {
			lf.chunks[n-1].text += s
			return
		}
		lf.chunks = append(lf.chunks, logChunk{text: s})
	}
	rest := format
	for {
		i := strings.Index(rest, "%(")
		if i < 0 {
			lit(rest)
			break
		}
		j := strings.IndexByte(rest[i+2:], ')')
		if j < 0 {
			lit(rest)
			break
		}
		lit(rest[:i])
		name := rest[i+2 : i+2+j]
		rest = rest[i+2+j+1:]
		c := logChunk{v: lfUnknown, arg: name}
		if v, ok := logVarNames[name]; ok {
			c.v = v
		} else if env, ok := strings.CutPrefix(name, "var."); ok && env != "" {
			c.v, c.arg = lfEnvVar, env
		}
		if c.v == lfVSZ || c.v == lfRSS || c.v == lfVSZM || c.v == lfRSSM {
			lf.needMem = true
		}
		lf.chunks = append(lf.chunks, c)
	}
	return lf
}

// envValue finds key in an environ in its wire form (key\0value\0...).
func envValue(env []byte, key string) []byte {
	for len(env) > 0 {
		k, rest, _ := bytes.Cut(env, []byte{0})
		v, rest, _ := bytes.Cut(rest, []byte{0})
		if string(k) == key {
			return v
		}
		env = rest
	}
	return nil
}

// append writes r's line in this format, with a trailing newline.
func (lf *logFormat) append(b []byte, r *requestLog) []byte {
	for _, c := range lf.chunks {
		if c.v == lfLiteral {
			b = append(b, c.text...)
			continue
		}
		n := len(b)
		b = lf.value(b, &c, r)
		if len(b) == n {
			b = append(b, '-')
		}
	}
	return append(b, '\n')
}

func (lf *logFormat) value(b []byte, c *logChunk, r *requestLog) []byte {
	num := func(n int64) []byte { return strconv.AppendInt(b, n, 10) }
	env := func(key string) []byte {
		if r.env == nil {
			return b
		}
		return append(b, envValue(r.env, key)...)
	}
	switch c.v {
	case lfURI:
		return append(b, r.uri...)
	case lfMethod:
		return append(b, r.method...)
	case lfUser:
		return append(b, r.remoteUser...)
	case lfAddr:
		return append(b, r.remoteAddr...)
	case lfHost:
		return env("HTTP_HOST")
	case lfProto:
		return append(b, r.proto...)
	case lfUAgent:
		return env("HTTP_USER_AGENT")
	case lfReferer:
		return env("HTTP_REFERER")
	case lfEnvVar:
		return env(c.arg)
	case lfStatus:
		return num(int64(r.status))
	case lfRSize:
		return num(r.bodyBytes)
	case lfHSize:
		return num(int64(r.headerBytes))
	case lfSize:
		return num(r.bodyBytes + int64(r.headerBytes))
	case lfCL:
		return num(r.contentLength)
	case lfMicros:
		return num(r.duration.Microseconds())
	case lfMsecs:
		return num(r.duration.Milliseconds())
	case lfTime:
		return num(r.start.Unix())
	case lfLTime:
		return r.start.Local().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	case lfCTime:
		return r.start.AppendFormat(b, ctimeLayout)
	case lfEpoch:
		return num(r.start.Add(r.duration).Unix())
	case lfPID:
		return num(int64(r.pid))
	case lfWID:
		return num(int64(r.wid))
	case lfSwitches:
		return num(int64(r.switches))
	case lfVars:
		return num(int64(r.vars))
	case lfCore:
		return num(int64(r.core))
	case lfVSZ:
		return strconv.AppendUint(b, r.vsz, 10)
	case lfRSS:
		return strconv.AppendUint(b, r.rss, 10)
	case lfVSZM:
		return strconv.AppendUint(b, r.vsz>>20, 10)
	case lfRSSM:
		return strconv.AppendUint(b, r.rss>>20, 10)
	case lfPktSize:
		return num(int64(r.varsBytes))
	case lfModifier1, lfModifier2:
		return append(b, '0')
	case lfHeaders:
		return num(int64(r.headers))
	}
	return b // a user logvar: none are ever set
}

// formatted writes a request line in a log-format.
func (l *logWriter) formatted(lf *logFormat, r *requestLog) {
	l.mu.Lock()
	l.pending = lf.append(l.pending, r)
	l.schedule()
	l.mu.Unlock()
}
