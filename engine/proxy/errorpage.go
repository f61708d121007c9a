package proxy

import "strings"

// specialResponse answers an error status: through error_page when one
// applies, otherwise with nginx's stock page
// (ngx_http_special_response_handler). It returns the rc of what it did.
func (r *request) specialResponse(code int) int {
	r.errStatus = code
	switch code {
	case 400, 413, 414, 494, 495, 496, 497, 500:
		r.keepAlive = false
	}
	conf := r.conf
	if !r.errorPage && conf != nil && len(conf.errorPages) > 0 && r.uriChanges != 0 {
		if !conf.recursiveError {
			r.errorPage = true
		}
		for _, ep := range conf.errorPages {
			if ep.status == code {
				return r.sendErrorPage(ep)
			}
		}
	}
	status := code
	switch code {
	case 494, 495, 496, 497:
		r.errStatus = 400
		status = 400
	}
	return r.sendStockPage(code, status)
}

// sendErrorPage follows one error_page entry: an internal redirect to a
// URI (the method becomes GET unless it was HEAD), a named location, or a
// redirect to a URL.
func (r *request) sendErrorPage(ep *errorPage) int {
	if ep.overwrite >= 0 {
		r.errStatus = ep.overwrite
	}
	target := ep.value.eval(r)
	if strings.HasPrefix(target, "/") {
		uri, args := splitArgs(target)
		if r.method != "HEAD" {
			r.method = "GET"
		}
		return r.internalRedirect(uri, args)
	}
	if strings.HasPrefix(target, "@") {
		return r.namedRedirect(target[1:])
	}
	switch ep.overwrite {
	case 301, 302, 303, 307, 308:
	default:
		r.errStatus = 302
	}
	r.resp.reset()
	r.resp.hasLocation = true
	r.resp.location = target
	return r.sendStockPage(r.errStatus, r.errStatus)
}

// splitArgs splits "uri?args" (ngx_http_split_args).
func splitArgs(s string) (string, string) {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// sendStockPage sends nginx's built-in page for page (the code the page is
// chosen by) with the given status (ngx_http_send_special_response).
func (r *request) sendStockPage(page, status int) int {
	w := &r.resp
	loc, hasLoc := w.location, w.hasLocation
	headers := w.headers
	w.reset()
	w.headers = headers
	w.location, w.hasLocation = loc, hasLoc
	// ngx_http_clear_accept_ranges, _last_modified, _etag
	w.delHeader("accept-ranges")
	w.delHeader("etag")
	w.status = status
	head, ok := stockPageHeads[page]
	if page == 201 || page == 204 {
		ok = false
	}
	var body string
	if ok {
		body = head + stockPageTail(r.serverToken())
		if r.msiePadding() && status >= 400 {
			body += msiePadding
		}
		w.contentType = "text/html"
		w.contentLength = int64(len(body))
	} else {
		w.contentLength = 0
	}
	if page == 201 {
		w.headOnly = true
	}
	if code := r.sendHeader(); code != 0 {
		// a stock page cannot fail a filter; answer it bare
		return rcDone
	}
	if body != "" {
		r.writeString(body)
	}
	r.finishBody()
	return rcDone
}

const msiePadding = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"

// msiePadding reports whether nginx would pad an error page for this
// browser: MSIE (but not Opera), or Chrome.
func (r *request) msiePadding() bool {
	ua := r.hdr(hUserAgent)
	if ua == "" {
		return false
	}
	if strings.Contains(ua, "Opera") {
		return false
	}
	if i := strings.Index(ua, "MSIE "); i >= 0 && i+7 < len(ua) {
		return true
	}
	if strings.Contains(ua, "Gecko/") {
		return false
	}
	return strings.Contains(ua, "Chrome/")
}

// finalizeEarly answers a request whose header could not be read: with
// the stock page of the default server.
func (s *Server) finalizeEarly(r *request, code int) {
	r.uriChanges = 0 // no error_page for a request nginx could not parse
	r.finalize(code)
}
