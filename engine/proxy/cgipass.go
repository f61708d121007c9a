package proxy

import (
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/fastcgi"
	"github.com/wsgideck/wsgideck/engine/transport/uwsgi"
)

// uwsgiPass is uwsgi_pass: the request goes to a uwsgi upstream through
// the uwsgi transport.
func (r *request) uwsgiPass() int {
	return r.cgiPass(modUWSGI, r.conf.uwsgi, &r.conf.uwsgiConf)
}

// fastcgiPass is fastcgi_pass, through the FastCGI transport.
func (r *request) fastcgiPass() int {
	return r.cgiPass(modFastCGI, r.conf.fastcgi, &r.conf.fastcgiConf)
}

// cgiError is what both transports report.
type cgiError struct {
	status      int
	connecting  bool
	beforeReply bool // nothing of the answer was read: another server may be tried
	msg         string
	timeout     bool
}

func asCGIError(err error) (cgiError, bool) {
	var ue *uwsgi.Error
	if errors.As(err, &ue) {
		return cgiError{status: ue.Status, connecting: ue.Phase == uwsgi.Connecting,
			beforeReply: ue.Phase <= uwsgi.ReadingHeader, msg: ue.Message(), timeout: ue.Timeout()}, true
	}
	var fe *fastcgi.Error
	if errors.As(err, &fe) {
		return cgiError{status: fe.Status, connecting: fe.Phase == fastcgi.Connecting,
			beforeReply: fe.Phase <= fastcgi.ReadingHeader, msg: fe.Message(), timeout: fe.Timeout()}, true
	}
	return cgiError{}, false
}

func (r *request) cgiPass(mod upstreamModule, target *uwsgiPass, pc *passConf) int {
	up, rc := r.resolvePass(target, mod)
	if rc != 0 {
		return rc
	}
	body, rc := r.bufferBody()
	if rc != 0 {
		return rc
	}
	defer body.close()

	c := r.c
	fields := c.fieldBuf[:0]
	for _, h := range r.headers {
		fields = append(fields, uwsgi.HeaderField{Name: h.name, Value: h.value})
	}
	c.fieldBuf = fields
	req := uwsgi.Request{
		Method:        r.method,
		ContentLength: body.size,
		Params:        r.cgiParams(pc),
		Header:        fields,
		Body:          uwsgi.NewBody(body.mem, body.file, body.size),
		// nginx writes what it holds for the client whenever a read from
		// the upstream would block
		OnWait: c.flushBuffered,
	}
	if !pc.passRequestBody {
		req.ContentLength = 0
		req.Body = uwsgi.Body{}
	}
	scheme := "uwsgi://"
	if mod == modFastCGI {
		scheme = "fastcgi://"
	}

	sel := up.newSelection(r)
	r.upstream.tries = c.tryBuf[:0]
	defer func() {
		c.triedBuf = sel.tried[:0]
		c.tryBuf = r.upstream.tries[:0]
	}()
	maxTries := up.tries()
	if pc.nextTries > 0 && pc.nextTries < maxTries {
		maxTries = pc.nextTries
	}
	var deadline time.Time
	if pc.nextTimeout > 0 {
		deadline = c.srv.clock.now().Add(pc.nextTimeout)
	}
	status := 502
	for try := 0; try < maxTries; try++ {
		now := c.srv.clock.now()
		if try > 0 && !deadline.IsZero() && now.After(deadline) {
			break
		}
		p := sel.next(r, now)
		if p == nil {
			// 502 whatever the tries before it got, as nginx's
			// NGX_HTTP_UPSTREAM_FT_NOLIVE; the log names the group
			r.upstream.curScheme, r.upstream.curPeer, r.upstream.curURI = scheme, &peer{name: up.name}, ""
			r.errorf(levelError, "no live upstreams while connecting to upstream")
			r.upstream.tries = append(r.upstream.tries, upstreamTry{addr: up.name, status: 502})
			return 502
		}
		r.upstream.curScheme, r.upstream.curPeer, r.upstream.curURI = scheme, p, ""
		start := now
		a, err := r.startCall(mod, p, pc, &req)
		r.now = c.srv.clock.now()
		elapsed := r.now.Sub(start)
		if err != nil {
			c.srv.calls.put(a.body)
			ce, ok := asCGIError(err)
			if !ok {
				ce = cgiError{status: 502, beforeReply: true, msg: err.Error()}
			}
			sel.done(p, ce.status != 500, r.now)
			r.errorf(levelError, "%s", ce.msg)
			status = ce.status
			t := upstreamTry{addr: p.name, status: ce.status, connect: -1, header: -1, response: elapsed}
			if !ce.connecting {
				t.connect = 0
			}
			r.upstream.tries = append(r.upstream.tries, t)
			if status == 500 || !ce.beforeReply || !r.mayRetry(pc, ce.timeout, ce.connecting) {
				return status
			}
			continue
		}
		t := upstreamTry{addr: p.name, status: a.status, header: elapsed}
		if r.retryStatus(pc, a.status) && try+1 < maxTries {
			a.body.Close()
			c.srv.calls.put(a.body)
			sel.done(p, failedBy(a.status), r.now)
			t.response = elapsed
			r.upstream.tries = append(r.upstream.tries, t)
			status = a.status
			continue
		}
		sel.done(p, false, r.now)
		rc := r.forwardResponse(&a, mod, pc, &t, start)
		c.srv.calls.put(a.body)
		r.upstream.tries = append(r.upstream.tries, t)
		return rc
	}
	return status
}

// startCall sends the request to peer p through the module's transport
// and returns the answer's head. The answer's body is a Call from the
// server's pool (also after a failure), which the caller closes and
// returns.
func (r *request) startCall(mod upstreamModule, p *peer, pc *passConf, req *uwsgi.Request) (upstreamAnswer, error) {
	c := r.c
	if mod == modUWSGI {
		call := c.srv.calls.uwsgi()
		call.Request = *req
		tr := uwsgi.Transport{Addr: p.passAddr, ConnectTimeout: pc.connectTimeout, SendTimeout: pc.sendTimeout,
			ReadTimeout: pc.readTimeout, BufferSize: pc.bufferSize, Modifier1: pc.modifier1, Modifier2: pc.modifier2,
			OmitRequestHeaders: !pc.passRequestHeaders, OmitRequestBody: !pc.passRequestBody}
		if err := tr.Start(call); err != nil {
			call.Close()
			return upstreamAnswer{body: call}, err
		}
		h := call.Head
		return upstreamAnswer{status: h.StatusCode, statusText: h.FullStatus(), length: h.ContentLength, fields: h.Fields, body: call}, nil
	}
	call := c.srv.calls.fastcgi()
	call.Request = *req
	call.Logf = c.logUpstream
	tr := fastcgi.Transport{Addr: p.passAddr, ConnectTimeout: pc.connectTimeout, SendTimeout: pc.sendTimeout,
		ReadTimeout: pc.readTimeout, BufferSize: pc.bufferSize,
		OmitRequestHeaders: !pc.passRequestHeaders, OmitRequestBody: !pc.passRequestBody}
	if err := tr.Start(call); err != nil {
		call.Close()
		return upstreamAnswer{body: call}, err
	}
	h := call.Head
	return upstreamAnswer{status: h.StatusCode, statusText: h.FullStatus(), length: h.ContentLength, fields: h.Fields, body: call}, nil
}

// callPool recycles the transports' Calls, with their buffers, from
// request to request.
type callPool struct {
	uwsgiCalls, fastcgiCalls sync.Pool
}

func (p *callPool) uwsgi() *uwsgi.Call {
	if c, ok := p.uwsgiCalls.Get().(*uwsgi.Call); ok {
		return c
	}
	// the pool reuses Calls, so their sockets can be kept
	return &uwsgi.Call{KeepSocket: true}
}

func (p *callPool) fastcgi() *fastcgi.Call {
	if c, ok := p.fastcgiCalls.Get().(*fastcgi.Call); ok {
		return c
	}
	return &fastcgi.Call{KeepSocket: true}
}

// put returns a closed Call; the request's parts it holds are dropped.
func (p *callPool) put(body io.ReadCloser) {
	switch c := body.(type) {
	case *uwsgi.Call:
		c.Request = uwsgi.Request{}
		p.uwsgiCalls.Put(c)
	case *fastcgi.Call:
		c.Request, c.Logf = fastcgi.Request{}, nil
		p.fastcgiCalls.Put(c)
	}
}

// mayRetry applies *_next_upstream to a failed try.
func (r *request) mayRetry(pc *passConf, timeout, connecting bool) bool {
	if pc.nextUpstream&nextOff != 0 {
		return false
	}
	if timeout && pc.nextUpstream&nextTimeout == 0 {
		return false
	}
	if !timeout && pc.nextUpstream&nextError == 0 {
		return false
	}
	if !connecting && pc.nextUpstream&nextNonIdempotent == 0 {
		switch r.method {
		case "POST", "LOCK", "PATCH":
			return false
		}
	}
	return true
}

// retryStatus reports an upstream status *_next_upstream asks to retry.
func (r *request) retryStatus(pc *passConf, status int) bool {
	var b int
	switch status {
	case 500:
		b = nextHTTP500
	case 502:
		b = nextHTTP502
	case 503:
		b = nextHTTP503
	case 504:
		b = nextHTTP504
	case 403:
		b = nextHTTP403
	case 404:
		b = nextHTTP404
	case 429:
		b = nextHTTP429
	default:
		return false
	}
	return pc.nextUpstream&b != 0 && pc.nextUpstream&nextOff == 0
}

// forwardResponse sends an upstream answer to the client.
func (r *request) forwardResponse(a *upstreamAnswer, mod upstreamModule, pc *passConf, t *upstreamTry, start time.Time) int {
	defer a.body.Close()
	if rc, ok := r.xAccelRedirect(a, pc); ok {
		return rc
	}
	if r.interceptStatus(a.status, pc) {
		return a.status
	}
	r.setUpstreamResponse(a, mod, pc)
	if code := r.sendHeader(); code != 0 {
		return code
	}
	n, err := r.sendUpstreamBody(a.body, mod == modProxy)
	t.length = n
	t.response = r.c.srv.clock.now().Sub(start)
	if err != nil {
		if ce, ok := asCGIError(err); ok {
			r.errorf(levelError, "%s", ce.msg)
		} else {
			r.errorf(levelError, "upstream prematurely closed connection while reading upstream")
		}
		r.keepAlive = false
		r.c.closed = true
		return rcDone
	}
	r.finishBody()
	return rcDone
}

// resolvePass finds the upstream of a *_pass: the compiled one, or, for an
// address with variables, a named upstream or a one-server group.
func (r *request) resolvePass(target *uwsgiPass, mod upstreamModule) (*upstream, int) {
	if target.up != nil {
		return target.up, 0
	}
	addr := target.url.eval(r)
	for _, p := range []string{"uwsgi://", "http://"} {
		addr = strings.TrimPrefix(addr, p)
	}
	if addr == "" {
		r.errorf(levelError, "no upstream configuration")
		return nil, 500
	}
	if strings.HasPrefix(addr, "unix:") {
		up := &upstream{name: addr, implicit: true, peers: []*peer{newPeer(addr, "unix", addr[len("unix:"):], 1)}}
		up.init()
		return up, 0
	}
	up, _, rc := r.varUpstream(addr, "")
	return up, rc
}

// cgiParams evaluates uwsgi_param or fastcgi_param for the request.
func (r *request) cgiParams(pc *passConf) uwsgi.Params {
	out := r.c.paramBuf[:0]
	defer func() { r.c.paramBuf = out }()
	for _, p := range pc.params {
		v := p.value.eval(r)
		skip := (p.ifNotEmpty && v == "") || (strings.HasPrefix(p.key, "HTTP_") && p.value.isLit && p.value.lit == "")
		out = append(out, uwsgi.Param{Key: p.key, Value: v, Skip: skip})
	}
	return out
}

// fastcgiSplit gives $fastcgi_script_name and $fastcgi_path_info.
func (r *request) fastcgiSplit() (string, string) {
	if r.conf == nil {
		return r.uri, ""
	}
	fc := &r.conf.fastcgiConf
	script, info := r.uri, ""
	if fc.splitPathInfo != nil {
		if m := fc.splitPathInfo.FindStringSubmatch(r.uri); m != nil {
			script, info = m[1], m[2]
		}
	}
	if strings.HasSuffix(script, "/") {
		script += fc.fastcgiIndex
	}
	return script, info
}
