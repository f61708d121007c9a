package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
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

// upstreamDialer opens upstream connections. TCP keep-alive probes are
// off, as in nginx: they cost four system calls per connection and an
// upstream connection lives for one request.
var upstreamDialer = &net.Dialer{KeepAlive: -1}

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

	scheme := "uwsgi://"
	if mod == modFastCGI {
		scheme = "fastcgi://"
	}
	fields := r.c.fieldBuf[:0]
	for _, h := range r.headers {
		fields = append(fields, uwsgi.HeaderField{Name: h.name, Value: h.value})
	}
	r.c.fieldBuf = fields
	ctx := context.Background()
	switch mod {
	case modUWSGI:
		ctx = uwsgi.WithParams(ctx, r.uwsgiParams(pc))
		ctx = uwsgi.WithClientHeaders(ctx, fields)
	default:
		ffields := make([]fastcgi.HeaderField, len(fields))
		for i, f := range fields {
			ffields[i] = fastcgi.HeaderField{Name: f.Name, Value: f.Value}
		}
		ctx = fastcgi.WithParams(ctx, r.fastcgiParams(pc))
		ctx = fastcgi.WithClientHeaders(ctx, ffields)
		ctx = fastcgi.WithLogf(ctx, func(format string, args ...any) {
			r.errorf(levelError, format, args...)
		})
	}

	sel := up.newSelection(r)
	r.upstream.tries = r.c.tryBuf[:0]
	defer func() {
		r.c.triedBuf = sel.tried[:0]
		r.c.tryBuf = r.upstream.tries[:0]
	}()
	maxTries := up.tries()
	if pc.nextTries > 0 && pc.nextTries < maxTries {
		maxTries = pc.nextTries
	}
	var deadline time.Time
	if pc.nextTimeout > 0 {
		deadline = r.c.srv.clock.now().Add(pc.nextTimeout)
	}
	status := 502
	for try := 0; try < maxTries; try++ {
		now := r.c.srv.clock.now()
		if try > 0 && !deadline.IsZero() && now.After(deadline) {
			break
		}
		p := sel.next(r, now)
		if p == nil {
			r.errorf(levelError, "no live upstreams while connecting to upstream")
			r.upstream.tries = append(r.upstream.tries, upstreamTry{addr: up.name, status: 502})
			return status
		}
		r.upstream.current = scheme + p.name
		if p.network == "unix" {
			r.upstream.current = scheme + "unix:" + p.addr + ":"
		}
		start := r.c.srv.clock.now()
		// the transports take the params and header lines from the
		// context; the request itself carries little
		req := &http.Request{
			Method:        r.method,
			URL:           &url.URL{Path: r.uri, RawQuery: r.args},
			Proto:         r.proto,
			Host:          r.host,
			ContentLength: body.size,
			Body:          http.NoBody,
		}
		if body.size > 0 {
			req.Body = io.NopCloser(body.reader())
		}
		if !pc.passRequestBody {
			req.ContentLength = 0
			req.Body = http.NoBody
		}
		req = req.WithContext(ctx)
		var rt http.RoundTripper
		addr := p.addr
		if p.network == "unix" {
			addr = "unix:" + p.addr
		}
		switch mod {
		case modUWSGI:
			rt = &uwsgi.Transport{Addr: addr, Dial: upstreamDialer.DialContext, ConnectTimeout: pc.connectTimeout, SendTimeout: pc.sendTimeout,
				ReadTimeout: pc.readTimeout, BufferSize: pc.bufferSize, Modifier1: pc.modifier1, Modifier2: pc.modifier2,
				OmitRequestHeaders: !pc.passRequestHeaders, OmitRequestBody: !pc.passRequestBody}
		default:
			rt = &fastcgi.Transport{Addr: addr, Dial: upstreamDialer.DialContext, ConnectTimeout: pc.connectTimeout, SendTimeout: pc.sendTimeout,
				ReadTimeout: pc.readTimeout, BufferSize: pc.bufferSize,
				OmitRequestHeaders: !pc.passRequestHeaders, OmitRequestBody: !pc.passRequestBody}
		}
		resp, err := rt.RoundTrip(req)
		elapsed := r.c.srv.clock.now().Sub(start)
		if err != nil {
			ce, ok := asCGIError(err)
			if !ok {
				ce = cgiError{status: 502, beforeReply: true, msg: err.Error()}
			}
			sel.done(p, ce.status != 500, r.c.srv.clock.now())
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
		t := upstreamTry{addr: p.name, status: resp.StatusCode, header: elapsed}
		if r.retryStatus(pc, resp.StatusCode) && try+1 < maxTries {
			resp.Body.Close()
			sel.done(p, true, r.c.srv.clock.now())
			t.response = elapsed
			r.upstream.tries = append(r.upstream.tries, t)
			status = resp.StatusCode
			continue
		}
		sel.done(p, false, r.c.srv.clock.now())
		rc := r.forwardResponse(resp, mod, pc, &t, start)
		r.upstream.tries = append(r.upstream.tries, t)
		return rc
	}
	return status
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
	bits := map[int]int{500: nextHTTP500, 502: nextHTTP502, 503: nextHTTP503, 504: nextHTTP504,
		403: nextHTTP403, 404: nextHTTP404, 429: nextHTTP429}
	b, ok := bits[status]
	return ok && pc.nextUpstream&b != 0 && pc.nextUpstream&nextOff == 0
}

// forwardResponse sends an upstream answer to the client.
func (r *request) forwardResponse(resp *http.Response, mod upstreamModule, pc *passConf, t *upstreamTry, start time.Time) int {
	defer resp.Body.Close()
	if rc, ok := r.xAccelRedirect(resp); ok {
		return rc
	}
	if r.interceptStatus(resp.StatusCode, pc) {
		return resp.StatusCode
	}
	r.setUpstreamResponse(resp, mod, pc)
	if code := r.sendHeader(); code != 0 {
		return code
	}
	n, err := r.sendUpstreamBody(resp.Body)
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
	if up := r.cfg.upstreams[addr]; up != nil {
		return up, 0
	}
	network := "tcp"
	a := addr
	if strings.HasPrefix(addr, "unix:") {
		network, a = "unix", addr[len("unix:"):]
	}
	if addr == "" {
		r.errorf(levelError, "no upstream configuration")
		return nil, 500
	}
	up := &upstream{name: addr, implicit: true, peers: []*peer{newPeer(addr, network, a, 1)}}
	up.init()
	return up, 0
}

// uwsgiParams evaluates uwsgi_param for the request.
func (r *request) uwsgiParams(pc *passConf) uwsgi.Params {
	out := r.c.paramBuf[:0]
	defer func() { r.c.paramBuf = out }()
	for _, p := range pc.params {
		v := p.value.eval(r)
		skip := (p.ifNotEmpty && v == "") || (strings.HasPrefix(p.key, "HTTP_") && p.value.isLit && p.value.lit == "")
		out = append(out, uwsgi.Param{Key: p.key, Value: v, Skip: skip})
	}
	return out
}

// fastcgiParams evaluates fastcgi_param for the request.
func (r *request) fastcgiParams(pc *passConf) fastcgi.Params {
	out := r.c.fparamBuf[:0]
	defer func() { r.c.fparamBuf = out }()
	for _, p := range pc.params {
		v := p.value.eval(r)
		skip := (p.ifNotEmpty && v == "") || (strings.HasPrefix(p.key, "HTTP_") && p.value.isLit && p.value.lit == "")
		out = append(out, fastcgi.Param{Key: p.key, Value: v, Skip: skip})
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
