// Package uwsgi is the proxy's uwsgi_pass upstream: an http.RoundTripper
// that speaks the uwsgi protocol the way nginx 1.22's ngx_http_uwsgi_module
// does, meant to sit under httputil.ReverseProxy (as Caddy's reverseproxy
// puts its FastCGI client there), so that hop-by-hop handling, flushing and
// the error handler come from the standard library.
//
// The proxy evaluates uwsgi_param with nginx's variables and hands the
// result over with WithParams; the transport adds the client's headers as
// HTTP_* vars with nginx's suppression rules, buffers the body (nginx's
// uwsgi_request_buffering on), sends one packet per connection and reads the
// raw HTTP answer until the upstream's Content-Length or EOF. Failures come
// back as *Error, which carries the status nginx answers (502, 504, or 500)
// and the words nginx writes in its error log.
//
// The exchange itself, the params, the client headers and the errors are
// shared with the fastcgi transport (engine/transport/internal/upstream), so
// Param, Params, HeaderField, Error and Phase are the same types in both
// packages, and one context from WithParams serves either transport.
package uwsgi
