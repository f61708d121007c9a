// Package proxy is wsgideck's nginx-compatible HTTP server: it serves a
// compiled nginx configuration the way nginx 1.22.1 does.
//
// # Use
//
//	cfg, diags, err := proxy.Load("nginx.conf", proxy.LoadOptions{Prefix: dir})
//	srv := proxy.NewServer(proxy.Options{Logf: logf})
//	err = srv.Start(cfg)       // binds every listen address
//	err = srv.Reload(next)     // nginx's SIGHUP: no connection is dropped
//	err = srv.Shutdown(ctx)    // SIGQUIT: requests in progress finish
//	err = srv.Close()          // SIGTERM
//
// [Options].OnRequest, when set, receives a [RequestRecord] for each
// finished request after its log phase (status, bytes, times, upstream
// addresses): what a control panel counts, without an access log.
//
// [Load] reads a file with engine/nginxconf (which checks it the way nginx
// -t does) and [Compile]s it; [CheckFiles] opens the log files as nginx -t
// does. A Config that fails to compile or bind is never applied.
//
// # The compiled model
//
// [Compile] turns the syntax tree into a [Config]: listen groups with their
// server names (exact, "*." and "." wildcards, ".*" wildcards, regexes),
// virtual servers, location trees (exact, "^~", longest prefix, regexes in
// config order, nested and named locations), and for every level a
// settings struct with nginx's inheritance already applied: a level starts
// as a copy of its parent, and the list directives that nginx inherits only
// when a level has none of them (error_page, add_header, access_log,
// allow/deny, proxy_set_header, uwsgi_param, fastcgi_param, index) start
// afresh at their first occurrence. Directives written after a nested
// location still apply to it, as in nginx. Variables, scripts (rewrite,
// return, set, if, break), regexes and log formats are compiled once; the
// request path only looks at this model and compiles nothing per request.
//
// # Serving
//
// [Server] speaks HTTP/1.0 and HTTP/1.1 itself rather than through
// net/http: nginx's request-line and header rules (and its 400, 414, 494,
// 501 and 505 answers), its header order, its keep-alive and pipelining,
// its timeouts (client_header_timeout, client_body_timeout,
// keepalive_timeout, send_timeout), its lingering close after an unread
// body, and its stock error pages are part of what users compare.
//
// Request processing follows nginx's phases: server-level rewrite
// directives, location matching (with the automatic 301 of prefix locations
// handled by *_pass), client_max_body_size, location-level rewrite
// directives (with "last" restarting the search), limit_req and
// limit_conn (once per request), limit_except and allow/deny, try_files,
// then the content handler (proxy_pass, uwsgi_pass, fastcgi_pass, or
// index, autoindex and static files), then the header
// filters (not-modified, add_header and expires, charset, gzip, range) and
// the access log. Internal redirects (index, try_files, error_page,
// X-Accel-Redirect) restart the cycle, at most ten times, as in nginx.
//
// uwsgi_pass and fastcgi_pass go through the Calls of
// engine/transport/uwsgi and engine/transport/fastcgi (the transports'
// http.RoundTrippers without net/http's types), from a pool, with the
// params evaluated here, the client's header lines in wire order and the
// upstream's answer headers in its order. proxy_pass has its own HTTP/1.x
// client, because nginx talks HTTP/1.0 with "Connection: close" by
// default, which net/http cannot.
//
// # Performance
//
// A request is served on its connection's goroutine from start to end,
// upstream exchange included, and the request path allocates next to
// nothing: buffers, header lists and transport Calls are reused. Client
// sockets (and, in the transports, upstream sockets) are read and written
// with raw system calls through the runtime's poller, as nginx's event
// loop does: a send on loopback runs the peer's TCP work inline, and an
// ordinary system call would let the runtime hand the goroutine's
// processor to another thread meanwhile (and wakes the runtime's monitor
// thread). With GOMAXPROCS=1 (wsgideckd nginx maps worker_processes to it)
// the proxy is one event loop, like an nginx worker. The uwsgi_pass and
// fastcgi_pass Calls keep the TCP socket of an answer that ended cleanly
// and connect it again for their next request: the packets are those of
// nginx's close and connect, without a socket(), a close() and the
// poller's registration per request (see engine/internal/rawsock).
// Deadlines are set only where a wait may follow; the Date header
// uses the time the request path last read the clock, as nginx uses its
// cached time.
// Upstream groups balance by weighted round robin (nginx's smooth
// algorithm), least_conn, ip_hash, hash or random, honour max_fails,
// fail_timeout, backup and down, retry the next server as
// *_next_upstream says, and keep idle proxy_pass connections with
// keepalive.
//
// # Where it differs from nginx
//
//   - Identity: the Server header and the footer of stock error pages say
//     "wsgideck/VERSION" ("wsgideck" with server_tokens off) rather than
//     "nginx/1.22.1". The pages are otherwise byte for byte nginx's;
//     [Options].Identity changes the string (the differential tests set it
//     to nginx's to compare whole bodies).
//   - Regular expressions are Go's RE2, not PCRE: look-arounds and
//     backreferences are refused when the config is compiled, with the file
//     and line. Named groups may be written (?<name>...) or (?P<name>...).
//   - No TLS, HTTP/2 or QUIC: "listen ... ssl" serves plain HTTP/1.x, with a
//     warning; https:// upstreams are refused.
//   - proxy_pass answer headers are passed in sorted order with canonical
//     names (net/http reads the answer), not in the order the upstream
//     sent; uwsgi_pass and fastcgi_pass answers keep the upstream's order
//     and names, as nginx does.
//   - error_log below the http level is folded into the main error log.
//   - The default prefix (for "root html", "logs/access.log") is the config
//     file's directory, not Debian's /usr/share/nginx; nginx's default
//     access log (logs/access.log) is used only when that directory exists.
//   - An index name that evaluates to "" (index $arg_page index.html,
//     without the argument) is skipped. nginx takes the directory itself
//     as the index, redirects to the same URI again and again and answers
//     500 "rewrite or internal redirection cycle".
//   - resolver only says that *_pass addresses made of variables may name
//     hosts (without one, such a host is nginx's 502 "no resolver defined
//     to resolve"); the names are looked up with the system's resolver,
//     not at the addresses the directive lists.
//   - After a reload, keep-alive connections carry on with the new config
//     instead of being closed by an exiting worker.
//   - limit_req_zone and limit_conn_zone keep their states in memory with
//     a budget of the zone's size that follows nginx's slab arithmetic on
//     a 64-bit system (see limit_zone.go): about as many keys as nginx,
//     not exactly as many. A reload that changes a zone's key starts the
//     zone afresh, where nginx refuses the reload.
//   - A client that hangs up while its request waits in a limit_req delay
//     is noticed at once on Linux, as nginx notices it; elsewhere, once it
//     has sent more than the request head (a body, a pipelined request),
//     only when the delay ends.
//   - A streamed uwsgi_pass or fastcgi_pass answer is passed on whenever a
//     read from the upstream would block, as nginx does with *_buffering
//     off; with buffering on (its default) nginx holds a partly filled
//     buffer until it fills or the answer ends, which delays server-sent
//     events until "X-Accel-Buffering: no" is set. wsgideck does not
//     delay them. A proxy_pass answer, read through net/http, which cannot
//     tell a read that would block, is flushed 2 ms after the last data
//     if no more arrives.
package proxy
