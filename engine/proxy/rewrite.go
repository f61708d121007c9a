package proxy

import (
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"os"
	"regexp"
	"strings"
)

// script is one level's rewrite module directives (rewrite, return, set,
// if, break) in config order, compiled.
type script struct {
	ops []*scriptOp
}

type opKind uint8

const (
	opSet opKind = iota
	opRewrite
	opReturn
	opIf
	opBreak
)

type rewriteFlag uint8

const (
	flagNone rewriteFlag = iota
	flagLast
	flagBreak
	flagRedirect
	flagPermanent
)

type scriptOp struct {
	kind opKind

	// set
	varIndex int
	setArgs  bool
	value    *complexValue

	// rewrite
	re       *regexp.Regexp
	repl     *complexValue
	flag     rewriteFlag
	redirect bool // the replacement is a URL, or the flag asks for one
	status   int
	addArgs  bool

	// return
	code int
	text *complexValue

	// if
	cond   *condition
	body   *script
	ifConf *locConf
	// ifDirective is the if block until compile gives it its settings.
	ifDirective *nginxconf.Directive
}

type scriptKind uint8

const (
	scriptContinue scriptKind = iota // the script ran to its end or a break
	scriptStatus                     // the request is answered: code is the rc
)

type scriptResult struct {
	kind scriptKind
	code int
}

// runScript runs a rewrite script. It leaves r.uriChanged set when a
// rewrite without "break" changed the URI.
func (r *request) runScript(sc *script) scriptResult {
	res, _ := r.runOps(sc.ops)
	return res
}

// runOps runs ops; stop reports a "break" (of either kind) or "last".
func (r *request) runOps(ops []*scriptOp) (scriptResult, bool) {
	for _, op := range ops {
		switch op.kind {
		case opSet:
			v := op.value.eval(r)
			if op.setArgs {
				r.args = v
			} else {
				r.setVar(op.varIndex, v)
			}
		case opBreak:
			return scriptResult{}, true
		case opReturn:
			return scriptResult{kind: scriptStatus, code: r.doReturn(op)}, true
		case opIf:
			if !r.evalCondition(op.cond) {
				continue
			}
			if op.ifConf != nil {
				r.conf = op.ifConf
			}
			if res, stop := r.runOps(op.body.ops); stop {
				return res, true
			}
		case opRewrite:
			if !r.matchRegex(op.re, r.uri) {
				continue
			}
			if res, stop := r.doRewrite(op); stop {
				return res, true
			}
		}
	}
	return scriptResult{}, false
}

// doRewrite applies a matched rewrite.
func (r *request) doRewrite(op *scriptOp) (scriptResult, bool) {
	repl := r.evalReplacement(op)
	if op.redirect {
		loc := repl
		if op.addArgs && r.args != "" {
			if strings.IndexByte(loc, '?') >= 0 {
				loc += "&" + r.args
			} else {
				loc += "?" + r.args
			}
		}
		r.resp.hasLocation = true
		r.resp.location = loc
		return scriptResult{kind: scriptStatus, code: op.status}, true
	}
	uri := repl
	if i := strings.IndexByte(repl, '?'); i >= 0 {
		uri = repl[:i]
		args := repl[i+1:]
		if op.addArgs && r.args != "" {
			args += "&" + r.args
		}
		r.args = args
	} else if !op.addArgs {
		r.args = ""
	}
	if uri == "" {
		r.errorf(levelError, "the rewritten URI has a zero length")
		return scriptResult{kind: scriptStatus, code: 500}, true
	}
	r.setURI(uri)
	r.internal = true
	switch op.flag {
	case flagBreak:
		r.uriChanged = false
		r.validLocation = false
		return scriptResult{}, true
	case flagLast:
		r.uriChanged = true
		return scriptResult{}, true
	}
	r.uriChanged = true
	return scriptResult{}, false
}

// evalReplacement computes a rewrite's replacement. Captures are escaped
// in the arguments part and in redirects when the request URI had escapes,
// as nginx does.
func (r *request) evalReplacement(op *scriptOp) string {
	cv := op.repl
	if cv.isLit {
		return cv.lit
	}
	var sb strings.Builder
	inArgs := false
	for i := range cv.parts {
		p := &cv.parts[i]
		if p.get == nil && p.capture < 0 {
			if !inArgs && strings.IndexByte(p.lit, '?') >= 0 {
				inArgs = true
			}
			sb.WriteString(p.lit)
			continue
		}
		v := p.value(r)
		if p.capture >= 0 && (inArgs || op.redirect) && r.quotedURI {
			v = escapeArgs(v)
		}
		sb.WriteString(v)
	}
	return sb.String()
}

// escapeArgs is ngx_escape_uri with NGX_ESCAPE_ARGS.
func escapeArgs(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= 0x20, c >= 0x7f, c == '#', c == '%', c == '&', c == '+', c == ';', c == '?':
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// doReturn is the return directive. It returns the rc.
func (r *request) doReturn(op *scriptOp) int {
	code := op.code
	if code == 444 {
		return rcClose
	}
	if code >= 400 && op.text == nil {
		return code
	}
	text := ""
	if op.text != nil {
		text = op.text.eval(r)
	}
	if isRedirectStatus(code) {
		r.resp.hasLocation = true
		r.resp.location = text
		return code
	}
	return r.sendText(code, text)
}

// sendText is ngx_http_send_response with a body: the status, the
// content type of the URI's extension (or default_type), the text.
func (r *request) sendText(code int, text string) int {
	w := &r.resp
	w.status = code
	w.contentType = r.contentTypeFor()
	w.contentLength = int64(len(text))
	if rc := r.sendHeader(); rc != 0 {
		return rc
	}
	r.writeString(text)
	r.finishBody()
	return rcDone
}

// condition is an "if" condition.
type condition struct {
	kind   condKind
	negate bool
	v      *complexValue // the variable, or the file name
	cmp    *complexValue // for = and !=
	re     *regexp.Regexp
}

type condKind uint8

const (
	condVar condKind = iota
	condEqual
	condRegex
	condFile
	condDir
	condExists
	condExec
)

func (r *request) evalCondition(c *condition) bool {
	var ok bool
	switch c.kind {
	case condVar:
		v := c.v.eval(r)
		ok = v != "" && v != "0"
	case condEqual:
		ok = c.v.eval(r) == c.cmp.eval(r)
	case condRegex:
		ok = r.matchRegex(c.re, c.v.eval(r))
	case condFile, condDir, condExists, condExec:
		name := c.v.eval(r)
		st, err := os.Stat(name)
		if err != nil {
			if c.kind == condExists {
				_, lerr := os.Lstat(name)
				ok = lerr == nil
			}
			break
		}
		switch c.kind {
		case condFile:
			ok = st.Mode().IsRegular()
		case condDir:
			ok = st.IsDir()
		case condExists:
			ok = true
		case condExec:
			ok = st.Mode()&0o111 != 0
		}
	}
	return ok != c.negate
}
