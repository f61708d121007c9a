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
	repl, q := r.evalReplacement(op)
	if op.redirect {
		loc := unescapeRedirect(repl)
		if op.addArgs && r.args != "" {
			if q >= 0 {
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
	if q >= 0 {
		uri = repl[:q]
		args := repl[q+1:]
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
	r.uriReplaced = true
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
// as nginx does. q is the offset of the "?" that starts the arguments, or
// -1: only a "?" written in the replacement does, not one that a capture
// or a variable brings (a decoded %3F stays in the URI).
func (r *request) evalReplacement(op *scriptOp) (s string, q int) {
	cv := op.repl
	if cv.isLit {
		return cv.lit, strings.IndexByte(cv.lit, '?')
	}
	var sb strings.Builder
	q = -1
	for i := range cv.parts {
		p := &cv.parts[i]
		if p.get == nil && p.capture < 0 {
			if q < 0 {
				if j := strings.IndexByte(p.lit, '?'); j >= 0 {
					q = sb.Len() + j
				}
			}
			sb.WriteString(p.lit)
			continue
		}
		inArgs := q >= 0
		v := p.value(r)
		if p.capture >= 0 && (inArgs || op.redirect) && r.quotedURI {
			v = escapeArgs(v)
		}
		sb.WriteString(v)
	}
	return sb.String(), q
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
		// ngx_http_send_response sets the status before it evaluates
		// the text: "$status" in it is the code returned
		r.resp.status = code
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
	if w.contentType == "" {
		w.contentType = r.contentTypeFor()
	}
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
