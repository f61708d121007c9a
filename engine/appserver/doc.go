// Package appserver is wsgideck's uWSGI-compatible app server: the master.
//
// The master is this Go code. It owns every listening socket, speaks every
// protocol (the uwsgi protocol as nginx sends it, HTTP/1.x, FastCGI), and
// runs the app in Python worker processes (assets/worker.py) that never see
// a client socket. Each worker runs `threads` cores; each core has a private
// channel to the master (a unix socketpair, see package workerproto for the
// framing). A request is parsed in the master, handed to an idle core as one
// frame (environ plus the first body bytes), the body is streamed on demand,
// and the response comes back as frames the master writes in the client's
// protocol. Waiting for an idle core is this server's listen queue.
//
//	client ──uwsgi/HTTP/FastCGI──▶ master (Go) ──frames──▶ worker core (Python)
//
// Because the master sees every request, it knows which worker and core
// serve which request and since when (Server.Workers), counts requests per
// worker across respawns, and can replace workers while the sockets stay
// open (Server.Reload). OnRequest receives every finished request.
//
// # Configuration
//
// Config is the typed configuration; FromINI builds it from a uwsgi.ini or
// a uWSGI command line read by package uwsgiini, and Pending lists the
// options it does not act on yet. Sockets: socket/uwsgi-socket, http-socket,
// http and fastcgi-socket, each "host:port", ":port" or a unix path, several
// at once; listen (backlog), buffer-size, post-buffering, vacuum, pidfile,
// static-map, daemonize/logto, disable-logging, need-app, processes/workers,
// threads, chdir, module/wsgi, wsgi-file, callable, home/virtualenv,
// pythonpath, env, worker-reload-mercy, socket-timeout.
//
// # Loading the app, and "before fork"
//
// uWSGI loads the app in the master and forks the workers from it unless
// lazy-apps is set: module-level code runs once, an import error shows up
// once, and workers share the loaded code copy-on-write. Here the master is
// Go, so there is nothing to fork from: every worker process imports the app
// itself when it starts, which is what uWSGI does with lazy-apps. lazy-apps
// is therefore accepted and changes nothing, and without it the app's
// module-level code runs once per worker (not once in total), each worker
// logs its own "WSGI app 0 ... ready" line, and memory is not shared between
// workers. need-app is decided on the first workers' load results; a reload
// starts fresh workers that import the app again, so code changes take
// effect on SIGHUP.
//
// # Where this differs from uWSGI, on purpose
//
//   - `http` does not start a separate router process: the master serves
//     HTTP itself, exactly like http-socket.
//   - HTTP keeps connections alive (1.1, and 1.0 with Connection:
//     keep-alive); a response without Content-Length is sent with one when
//     the worker produced it at once, chunked to 1.1 clients otherwise, or
//     ended by closing for 1.0. HEAD responses carry no body.
//   - A chunked request body is de-chunked and read whole before dispatch
//     (in memory up to 1 MiB or post-buffering, then a temp file), so the app
//     sees CONTENT_LENGTH, as behind nginx. wsgi.input_terminated is True.
//   - Repeated HTTP headers are joined (", ", or "; " for Cookie) and header
//     names holding "_" are dropped, as nginx does by default; on the uwsgi
//     socket the vars arrive as nginx sent them (duplicates: the last wins).
//   - An exception before start_response gets a 500 response on every
//     socket; uWSGI writes nothing on a uwsgi socket (nginx then says 502).
//   - The HTTP request head may be as large as buffer-size or 16 KB,
//     whichever is larger (uWSGI caps it at buffer-size).
//   - FastCGI: when nginx's stock fastcgi_params send no PATH_INFO, it is
//     taken from DOCUMENT_URI and SCRIPT_NAME is set to "".
//   - static-map serves GET and HEAD only, after cleaning the path; a
//     symlink may not lead out of its directory.
//   - SIGTERM stops gracefully (uWSGI 2.0 reloads brutally unless
//     die-on-term); daemonize logs to its file but stays in the foreground.
//   - enable-threads changes nothing: Python threads always work.
//   - The log's "{N vars}" counts the environ this engine builds, which for
//     http-socket includes REMOTE_PORT.
package appserver
