// Package upstream is what nginx 1.22's uwsgi and fastcgi modules share,
// for the transports in engine/transport/uwsgi and engine/transport/fastcgi:
// the exchange ngx_http_upstream runs for them (buffer the client's body,
// build the request, connect, send, read the head, stream the body, one
// request per connection), the evaluated params and the client headers
// passed as HTTP_* variables, the CGI-style response head parser, and the
// errors with nginx's status and error-log wording.
//
// Each transport adds only its wire format, as each nginx module adds its
// create_request and process_header to the shared upstream code. The
// transports re-export the public names here as aliases, so a param list,
// a header list or an *Error of one is the same type in the other.
package upstream
