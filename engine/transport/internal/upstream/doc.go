// Package upstream is what nginx 1.22's uwsgi and fastcgi modules share,
// for the transports in engine/transport/uwsgi and engine/transport/fastcgi:
// the exchange ngx_http_upstream runs for them (connect, send, read the
// head, stream the body, one request per connection, the client's body
// buffered first), the connection with nginx's timers (Conn: raw
// non-blocking sockets on Linux), the evaluated params and the client
// headers passed as HTTP_* variables, the CGI-style response head parser,
// and the errors with nginx's status and error-log wording.
//
// Everything a request needs is kept in an Exchange and its buffers, which
// a transport's Call reuses from request to request.
//
// Each transport adds only its wire format, as each nginx module adds its
// create_request and process_header to the shared upstream code. The
// transports re-export the public names here as aliases, so a param list,
// a header list or an *Error of one is the same type in the other.
package upstream
