package proxy

import (
	"time"
)

// header is one request or response header line.
type header struct {
	name  string // as sent
	lower string // lower-cased name, for lookups
	value string
}

// known request headers, indexed for the handlers that look at them.
const (
	hHost = iota
	hConnection
	hIfModifiedSince
	hIfUnmodifiedSince
	hIfNoneMatch
	hIfMatch
	hRange
	hIfRange
	hAcceptEncoding
	hUserAgent
	hContentType
	hContentLength
	hTransferEncoding
	hExpect
	hVia
	hXForwardedFor
	hKeepAlive
	hUpgrade
	hTE
	numKnownHeaders
)

var knownHeaderIndex = map[string]int{
	"host":                hHost,
	"connection":          hConnection,
	"if-modified-since":   hIfModifiedSince,
	"if-unmodified-since": hIfUnmodifiedSince,
	"if-none-match":       hIfNoneMatch,
	"if-match":            hIfMatch,
	"range":               hRange,
	"if-range":            hIfRange,
	"accept-encoding":     hAcceptEncoding,
	"user-agent":          hUserAgent,
	"content-type":        hContentType,
	"content-length":      hContentLength,
	"transfer-encoding":   hTransferEncoding,
	"expect":              hExpect,
	"via":                 hVia,
	"x-forwarded-for":     hXForwardedFor,
	"keep-alive":          hKeepAlive,
	"upgrade":             hUpgrade,
	"te":                  hTE,
}

// request is one HTTP request and the state of its processing. A
// connection reuses one request value for all its requests.
type request struct {
	c   *conn
	cfg *Config
	lis *Listen
	srv *vserver
	loc *location
	// conf is the settings in effect: the location's, an if block's, or
	// the server's when no location matched.
	conf *locConf

	start time.Time
	// now is when the request path last read the clock: the Date header's
	// time, as nginx's is its cached time of the last event
	now time.Time

	// request line
	line      string // $request
	method    string
	rawTarget string // $request_uri
	proto     string // $server_protocol
	major     int
	minor     int
	http09    bool

	headers []header
	known   [numKnownHeaders]int // index+1 into headers, 0 if absent
	// host is the validated host: from an absolute request target, else
	// from the Host header; "" when there was neither.
	host string

	contentLength int64 // -1 when absent
	chunked       bool
	keepAlive     bool
	body          bodyReader

	// processing state
	uri      string
	uriBuf   []byte
	args     string
	exten    string
	internal bool
	// uriReplaced is nginx's !valid_unparsed_uri: a rewrite or an
	// internal redirect (not a jump to a named location) replaced the
	// client's URI, so proxy_pass without a URI part sends $uri.
	uriReplaced bool
	uriChanges  int
	uriChanged  bool
	errorPage   bool
	errStatus   int
	quotedURI   bool
	discardBody bool
	// validLocation is cleared by "rewrite ... break": alias can no
	// longer map the URI.
	validLocation bool
	// addURIToAlias is nginx's add_uri_to_alias: try_files found a file
	// in a regex location with alias, and the URI is now appended to
	// the alias.
	addURIToAlias bool
	// accelCarry are the upstream headers an X-Accel-Redirect passes to
	// the redirected request (hasAccelCarry until they are applied).
	accelCarry    []header
	hasAccelCarry bool

	// captures of the last successful regex match: capSrc and pairs of
	// offsets into it.
	capSrc string
	caps   []int

	vars    []string
	varsSet []bool
	mapDone []bool

	resp response

	// $status and friends for the log
	status        int
	bytesSent     int64
	bodyBytesSent int64
	headerBytes   int64
	gzipIn        int64

	upstream upstreamState

	requestID string
	// headerLen counts the request line and header bytes ($request_length)
	headerLen int

	// $limit_req_status and $limit_conn_status; heldConns are the
	// limit_conn counts the request holds until it ends.
	limitReqStatus  uint8
	limitConnStatus uint8
	heldConns       []heldConn
}

// reset prepares r for the next request on the same connection.
func (r *request) reset() {
	c := r.c
	uriBuf := r.uriBuf[:0]
	headers := r.headers[:0]
	caps := r.caps[:0]
	vars := r.vars[:0]
	varsSet := r.varsSet[:0]
	mapDone := r.mapDone[:0]
	accelCarry := r.accelCarry[:0]
	respHeaders := r.resp.headers[:0]
	clear(r.upstream.respFields) // no old answer kept alive
	respFields := r.upstream.respFields[:0]
	heldConns := r.heldConns[:0]
	*r = request{c: c, uriBuf: uriBuf, headers: headers, caps: caps, vars: vars, varsSet: varsSet, mapDone: mapDone, accelCarry: accelCarry, heldConns: heldConns}
	r.resp.headers = respHeaders
	r.upstream.respFields = respFields
	r.contentLength = -1
	r.resp.reset()
}

// header returns the value of a known header, or "".
func (r *request) hdr(k int) string {
	if i := r.known[k]; i > 0 {
		return r.headers[i-1].value
	}
	return ""
}

// has reports whether a known header was sent.
func (r *request) has(k int) bool { return r.known[k] > 0 }

// setURI makes uri the request's current $uri.
func (r *request) setURI(uri string) {
	r.uri = uri
	r.exten = extension(uri)
}

// isHead reports a HEAD request.
func (r *request) isHead() bool { return r.method == "HEAD" }
