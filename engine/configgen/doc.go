// Package configgen renders the configuration files wsgideck generates, from
// the text templates in the templates package, for two profiles:
//
//   - Local: a project's uwsgi.ini and a complete nginx.conf for development
//     (loopback TCP ports, py-autoreload and touch-reload, access logs on),
//     plus nginx's stock mime.types and uwsgi_params, which nginx.conf
//     includes from beside it.
//   - Production: a bundle for a Debian/Ubuntu server: uwsgi.ini (a unix
//     socket under /run, master, harakiri, max-requests, one worker per
//     core), an nginx site file (static files with expires, gzip, security
//     headers, optional TLS with an HTTP->HTTPS redirect), a systemd unit
//     and a README with the deploy steps in order.
//
// Generate takes a Config and returns Files (name -> content); it writes
// nothing. WriteDir saves Files atomically, keeping the versions it
// replaces. A Config is validated first; every problem is reported at once
// as a *ValidationError whose FieldErrors name the Config field.
//
// App factories (Flask's create_app) are rendered as
// "module = pkg:create_app()". Real uWSGI 2.0 supports this "quick
// callable" form: when the callable name ends in "()", the loader calls it
// with no arguments and serves what it returns (plugins/python/pyloader.c,
// uwsgi_uwsgi_loader); the tests run it on Debian's uWSGI 2.0.21. A factory
// that needs arguments cannot be written that way: it needs a small
// wsgi.py ("from pkg import create_app; application = create_app(...)"),
// which engine/detect tells the user to write rather than guessing the
// arguments.
//
// Paths in a local Config may be relative to the project folder (where the
// configs are written). uwsgi.ini then spells them with uWSGI's %d ("the
// folder of this file") and nginx.conf leaves them relative, which nginx
// resolves against its prefix: wsgideck runs the proxy, and real nginx,
// with the project folder as the prefix (nginx -p DIR). That is what lets
// the built-in demo project be copied anywhere. Production paths must be
// absolute.
package configgen
