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
// A proxy that answers many requests uses a Call instead: the same
// exchange without net/http's types (the params, header lines and body
// handed over as they are, the answer's headers in the upstream's order),
// reused from request to request so that it allocates next to nothing. Its
// OnWait hook runs whenever a read from the upstream would block, which is
// when nginx writes out what it holds for the client.
//
// On Linux, an upstream named by IP address or unix socket path is
// connected with a non-blocking socket driven by raw system calls through
// the runtime's poller, as nginx's event loop drives it: no getsockname,
// getpeername or setsockopt, no wait for the connect before the packet is
// written, and no thread handed over while a call runs (a Dial function or
// a host name uses the net package instead). A Call with KeepSocket keeps
// the TCP socket of an answer the upstream ended by closing the
// connection, and connects it again for its next Start.
//
// The exchange itself, the params, the client headers and the errors are
// shared with the fastcgi transport (engine/transport/internal/upstream), so
// Param, Params, HeaderField, Error, Phase, Request and Head are the same
// types in both packages, and one context from WithParams serves either
// transport.
package uwsgi
