package proxy

import "strconv"

// statusLines are nginx 1.22's status lines (ngx_http_status_lines). A code
// missing here is sent as the bare number followed by a space, as nginx
// does ("HTTP/1.1 418 ").
var statusLines = map[int]string{
	200: "200 OK",
	201: "201 Created",
	202: "202 Accepted",
	204: "204 No Content",
	206: "206 Partial Content",
	301: "301 Moved Permanently",
	302: "302 Moved Temporarily",
	303: "303 See Other",
	304: "304 Not Modified",
	307: "307 Temporary Redirect",
	308: "308 Permanent Redirect",
	400: "400 Bad Request",
	401: "401 Unauthorized",
	402: "402 Payment Required",
	403: "403 Forbidden",
	404: "404 Not Found",
	405: "405 Not Allowed",
	406: "406 Not Acceptable",
	408: "408 Request Time-out",
	409: "409 Conflict",
	410: "410 Gone",
	411: "411 Length Required",
	412: "412 Precondition Failed",
	413: "413 Request Entity Too Large",
	414: "414 Request-URI Too Large",
	415: "415 Unsupported Media Type",
	416: "416 Requested Range Not Satisfiable",
	421: "421 Misdirected Request",
	429: "429 Too Many Requests",
	500: "500 Internal Server Error",
	501: "501 Not Implemented",
	502: "502 Bad Gateway",
	503: "503 Service Temporarily Unavailable",
	504: "504 Gateway Time-out",
	505: "505 HTTP Version Not Supported",
	507: "507 Insufficient Storage",
}

func statusLine(code int) string {
	if s, ok := statusLines[code]; ok {
		return s
	}
	return strconv.Itoa(code) + " "
}

// stockPageHeads are the bodies of nginx's stock pages, before the common
// tail (ngx_http_special_response.c in 1.22.1). A page's title is its
// status line, for the redirections and errors, but for the titles in
// pageTitles.
var stockPageHeads = map[int]string{}

// pageTitles are the stock pages whose title is not their status line:
// 302's says "Found" though its status line says "Moved Temporarily", as
// in nginx, and 498 (a canceled request) shows nginx's 404 page.
var pageTitles = map[int]string{
	302: "302 Found",
	401: "401 Authorization Required",
	498: "404 Not Found",
}

func init() {
	page := func(code int, title string) {
		stockPageHeads[code] = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n"
	}
	for code, line := range statusLines {
		if code > 300 && code != 304 {
			page(code, line)
		}
	}
	for code, title := range pageTitles {
		page(code, title)
	}
	bad := map[int]string{
		494: "Request Header Or Cookie Too Large",
		495: "The SSL certificate error",
		496: "No required SSL certificate was sent",
		497: "The plain HTTP request was sent to HTTPS port",
	}
	for code, msg := range bad {
		stockPageHeads[code] = "<html>\r\n<head><title>400 " + msg + "</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>" + msg + "</center>\r\n"
	}
}

// stockPageTail closes every stock page; identity is the server string
// ("nginx/1.22.1" in nginx, "wsgideck/VERSION" here).
func stockPageTail(identity string) string {
	return "<hr><center>" + identity + "</center>\r\n</body>\r\n</html>\r\n"
}

// isRedirectStatus reports the codes whose "return" argument is a URL.
func isRedirectStatus(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}
