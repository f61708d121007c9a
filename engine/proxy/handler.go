package proxy

// Request processing: nginx's phase engine, written as straight-line code.
//
// A handler returns an rc in nginx's sense: rcDone when the response has
// been sent (or handed on), or a status code that finalize turns into a
// stock page or an error_page redirect.

const (
	rcDone = 0
	// rcClose ends the connection without an answer (return 444, and the
	// 408/499 nginx never answers).
	rcClose = -1
)

// maxURIChanges is NGX_HTTP_MAX_URI_CHANGES + 1.
const maxURIChanges = 11

// handle processes a request whose header has been read.
func (s *Server) handle(r *request) {
	r.uriChanges = maxURIChanges
	rc := r.runServerRewrite()
	r.finalize(rc)
}

// runServerRewrite starts the phases at the server rewrite phase, where a
// new request and every internal redirect begin.
func (r *request) runServerRewrite() int {
	r.loc = nil
	r.conf = r.srv.conf
	if sc := r.srv.script; sc != nil {
		switch res := r.runScript(sc); res.kind {
		case scriptStatus:
			return res.code
		}
	}
	r.uriChanged = false
	return r.findConfig()
}

// findConfig is the find-config, rewrite and post-rewrite phases, looping
// while rewrites change the URI, then the access, try_files and content
// phases.
func (r *request) findConfig() int {
	for {
		loc, rc := r.srv.locations.find(r, r.uri)
		r.loc = loc
		r.validLocation = true
		if loc != nil {
			r.conf = loc.conf
		} else {
			r.conf = r.srv.conf
		}
		if r.conf.internal && !r.internal {
			return 404
		}
		if le := r.conf.limitExcept; le != nil && !le.methods[r.method] {
			// the method is limited: the limit_except block's settings
			// apply, and the location's rewrite directives do not run
			r.conf = le.conf
		}
		if rc == locDone {
			r.resp.hasLocation = true
			r.resp.location = loc.name
			if r.args != "" {
				r.resp.location += "?" + r.args
			}
			return 301
		}
		if max := r.conf.clientMaxBodySize; max > 0 && r.contentLength > max && !r.discardBody {
			// nginx starts discarding the body here, so an error_page
			// redirect is not refused again
			r.discardBody = true
			r.errorf(levelError, "client intended to send too large body: %d bytes", r.contentLength)
			r.keepAlive = false
			r.c.lingering = true
			return 413
		}
		if r.conf.script != nil {
			res := r.runScript(r.conf.script)
			if res.kind == scriptStatus {
				return res.code
			}
		}
		if r.uriChanged {
			r.uriChanged = false
			r.uriChanges--
			if r.uriChanges == 0 {
				r.errorf(levelError, "rewrite or internal redirection cycle while processing %q", r.uri)
				return 500
			}
			continue
		}
		break
	}
	return r.preAccessPhase()
}

// preAccessPhase is limit_req, then limit_conn (nginx runs its preaccess
// handlers in that order), then the access phase. Each decides once per
// request: not again after an internal redirect, such as an error_page
// for its own rejection.
func (r *request) preAccessPhase() int {
	if len(r.conf.limits.reqs) > 0 && r.limitReqStatus == 0 {
		if rc, stop := r.limitReqs(); stop {
			return rc
		}
	}
	if len(r.conf.limits.conns) > 0 && r.limitConnStatus == 0 {
		if rc, stop := r.limitConns(); stop {
			return rc
		}
	}
	return r.accessPhase()
}

// accessPhase checks allow/deny and limit_except, then goes on.
func (r *request) accessPhase() int {
	conf := r.conf
	if len(conf.access) > 0 && !r.allowed(conf.access) {
		r.errorf(levelError, "access forbidden by rule")
		return 403
	}
	return r.tryFilesPhase()
}

// tryFilesPhase is try_files; it goes on to the content phase.
func (r *request) tryFilesPhase() int {
	if r.conf.hasTryFiles {
		if rc, next := r.tryFiles(); !next {
			return rc
		}
	}
	return r.contentPhase()
}

// contentPhase runs the location's handler, or index, autoindex and the
// static module in turn.
func (r *request) contentPhase() int {
	switch r.conf.handler {
	case handlerProxy:
		return r.proxyPass()
	case handlerUWSGI:
		return r.uwsgiPass()
	case handlerFastCGI:
		return r.fastcgiPass()
	}
	if rc, ok := r.indexHandler(); ok {
		return rc
	}
	if rc, ok := r.autoindexHandler(); ok {
		return rc
	}
	if rc, ok := r.staticHandler(); ok {
		return rc
	}
	if r.uri != "" && r.uri[len(r.uri)-1] == '/' {
		if p, ok := r.mapURIToPath(); ok {
			r.errorf(levelError, "directory index of %q is forbidden", p)
		}
		return 403
	}
	r.errorf(levelError, "no handler found")
	return 404
}

// internalRedirect restarts processing at the server rewrite phase with a
// new URI and arguments (ngx_http_internal_redirect).
func (r *request) internalRedirect(uri, args string) int {
	r.uriChanges--
	if r.uriChanges == 0 {
		r.errorf(levelError, "rewrite or internal redirection cycle while internally redirecting to %q", uri)
		return 500
	}
	r.setURI(uri)
	r.args = args
	r.internal = true
	r.uriReplaced = true
	r.resetResponse()
	// a redirected request starts with clean variables, as nginx clears
	// the module contexts; set variables survive
	return r.runServerRewrite()
}

// resetResponse clears the response for an internal redirect, keeping
// the headers an X-Accel-Redirect carries over.
func (r *request) resetResponse() {
	r.resp.reset()
	if !r.hasAccelCarry {
		return
	}
	r.hasAccelCarry = false
	for _, h := range r.accelCarry {
		if h.lower == "content-type" {
			r.resp.contentType = h.value
			continue
		}
		r.resp.headers = append(r.resp.headers, h)
	}
}

// namedRedirect continues in a named location at its rewrite phase.
func (r *request) namedRedirect(name string) int {
	loc := r.srv.named[name]
	if loc == nil {
		r.errorf(levelError, "could not find named location %q", "@"+name)
		return 500
	}
	r.uriChanges--
	if r.uriChanges == 0 {
		r.errorf(levelError, "rewrite or internal redirection cycle while redirect to named location %q", "@"+name)
		return 500
	}
	r.internal = true
	r.resetResponse()
	r.loc = loc
	r.conf = loc.conf
	if loc.conf.script != nil {
		res := r.runScript(loc.conf.script)
		if res.kind == scriptStatus {
			return res.code
		}
		if r.uriChanged {
			r.uriChanged = false
			r.uriChanges--
			if r.uriChanges == 0 {
				return 500
			}
			return r.findConfig()
		}
	}
	return r.preAccessPhase()
}

// finalize ends a request with rc: nothing more when the response was
// sent, a closed connection, or the answer for an error status.
func (r *request) finalize(rc int) {
	for {
		switch {
		case rc == rcDone:
			return
		case rc == rcClose || rc == 444 || rc == 408 || rc == 499:
			if rc > 0 {
				r.status = rc
			}
			r.keepAlive = false
			r.c.closed = true
			return
		}
		if r.resp.sent {
			// an error after the header went out: nothing can be said
			// any more, the connection is closed
			r.keepAlive = false
			r.c.closed = true
			return
		}
		rc = r.specialResponse(rc)
	}
}
