package proxy

import (
	"strconv"
	"time"
)

// RequestRecord is what the proxy knows of one finished request, for
// [Options].OnRequest: the values nginx's log phase sees, named after the
// variables that hold them. Its strings are the request's own (no buffer
// of the connection is shared), so a record may be kept.
type RequestRecord struct {
	// Time is when the request was logged ($time_local, $msec).
	Time time.Time
	// Duration is $request_time: from the request's first byte to its
	// log phase.
	Duration time.Duration

	RemoteAddr string // $remote_addr: an IP, or "unix:" for a unix socket client
	RemotePort string // $remote_port: "" for a unix socket client
	Server     string // $server_name: the name of the server block that took it
	Host       string // $host

	Request string // $request: the request line as sent ("" when there was none)
	Method  string // $request_method; "" for a request line that was not valid
	URI     string // $request_uri: the target as sent, arguments included

	// Status is $status; 0 when no answer was sent (nginx logs "000").
	Status        int
	BodyBytesSent int64 // $body_bytes_sent
	BytesSent     int64 // $bytes_sent

	Referer   string // $http_referer
	UserAgent string // $http_user_agent

	// Upstream is $upstream_addr: each upstream server tried, in order,
	// separated by ", " ("" when none was).
	Upstream string
}

// AppendCombined appends the record as the line nginx's predefined
// "combined" log format writes, without its newline:
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// with nginx's default escaping and "-" for an empty value.
func (rec *RequestRecord) AppendCombined(b []byte) []byte {
	b = appendLogValue(b, rec.RemoteAddr)
	b = append(b, " - - ["...)
	b = rec.Time.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = appendLogValue(b, rec.Request)
	b = append(b, "\" "...)
	if rec.Status == 0 {
		b = append(b, "000"...)
	} else {
		b = strconv.AppendInt(b, int64(rec.Status), 10)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, rec.BodyBytesSent, 10)
	b = append(b, " \""...)
	b = appendLogValue(b, rec.Referer)
	b = append(b, "\" \""...)
	b = appendLogValue(b, rec.UserAgent)
	return append(b, '"')
}

// Combined is [RequestRecord.AppendCombined] as a string.
func (rec *RequestRecord) Combined() string { return string(rec.AppendCombined(nil)) }

// appendLogValue appends a variable's value as escape=default writes it.
func appendLogValue(b []byte, v string) []byte {
	if v == "" {
		return append(b, '-')
	}
	return appendLogEscaped(b, v)
}

// report calls the OnRequest hook with r's record. It runs after the log
// phase, on the connection's goroutine.
func (s *Server) report(r *request) {
	status := r.status
	if status == 0 {
		status = r.resp.status
	}
	now := s.clock.now()
	rec := RequestRecord{
		Time:          now,
		Duration:      now.Sub(r.start),
		RemoteAddr:    r.c.remoteIP,
		RemotePort:    r.c.remotePort,
		Request:       r.line,
		Method:        r.method,
		URI:           r.rawTarget,
		Status:        status,
		BodyBytesSent: r.bodyBytesSent,
		BytesSent:     r.bytesSent,
		Referer:       r.headerByVarName("referer"),
		UserAgent:     r.hdr(hUserAgent),
		Upstream:      r.upstream.addrs(),
	}
	if r.srv != nil {
		rec.Server = r.srv.name
		rec.Host = r.srv.name
	}
	if r.host != "" {
		rec.Host = r.host
	}
	s.onRequest(rec)
}
