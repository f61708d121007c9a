// Package uwsgiini reads uWSGI configuration the way uWSGI 2.0.21 does:
// uwsgi.ini files (core/ini.c), the uWSGI command line (getopt_long in
// core/uwsgi.c) with the UWSGI_* environment variables before it, config
// logic blocks (if-env, if-exists, for, ... endif: logic.go) and the
// expansion passes that follow (magic %X variables at read time, then
// $(ENV), @(file) and %(option) with placeholder math).
//
// The result is a flat, ordered list of option occurrences, each with the
// file and line (or argument index) it came from, so that the engine, the
// project tooling and the desktop app can all point at the exact line of a
// bad value. Options uWSGI would accept but wsgideck cannot honour are
// reported as warnings, never silently dropped.
//
// The rules reproduced here were checked against Debian's uwsgi 2.0.21
// (see compat_test.go); where uWSGI is plainly broken (include loops,
// self-referencing placeholders) we return an error instead of hanging.
// Size options (buffer-size, post-buffering, limit-post, log-big) take a
// k, m or g suffix as meant, with a warning on the line: uWSGI 2.0.21
// reads them with atoi, so "32k" is 32 bytes there (an error under strict).
package uwsgiini
