// Package fastcgi is the proxy's fastcgi_pass upstream: a FastCGI client
// written as an http.RoundTripper to sit under httputil.ReverseProxy, as
// Caddy's reverseproxy/fastcgi does, speaking the protocol the way nginx
// 1.22's ngx_http_fastcgi_module does.
//
// One request per connection (no fastcgi_keep_conn): BEGIN_REQUEST in the
// responder role, every param in one PARAMS record, the body buffered and
// sent as STDIN records of at most 32 KiB, then STDOUT is read as a CGI
// response (Status:, Location:) while STDERR records go to the log, as
// nginx's "FastCGI sent in stderr". The proxy evaluates fastcgi_param and
// hands the list over with WithParams; the client's headers follow as
// HTTP_* pairs with nginx's suppression rules. Failures come back as *Error,
// carrying the status nginx answers and the words it logs.
//
// A proxy that answers many requests uses a Call instead: the same
// exchange without net/http's types, reused from request to request so
// that it allocates next to nothing, with the connection handled as the
// uwsgi transport's is (raw non-blocking sockets on Linux, an OnWait hook
// when a read would block).
//
// The exchange itself, the params, the client headers and the errors are
// shared with the uwsgi transport (engine/transport/internal/upstream), so
// Param, Params, HeaderField, Error, Phase, Request and Head are the same
// types in both packages, and one context from WithParams serves either
// transport.
package fastcgi
