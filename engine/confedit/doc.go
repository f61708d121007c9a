// Package confedit edits a project's uwsgi.ini and nginx.conf without
// losing a byte: a structured edit (set a key, add a location, change a
// listen address) rewrites only the bytes it must, and every comment,
// blank line, spacing choice, ordering and line ending (CRLF included)
// stays as it was.
//
// Two layers:
//
//   - INI is the lossless uwsgi.ini editor: the file as lines, read with
//     uWSGI's own rules (lines trimmed of blanks, ";" and "#" comments, the
//     key and value split at the first "=", every [uwsgi] section counted,
//     aliases such as workers/processes resolved through engine/uwsgiini).
//     nginx.conf needs no such layer: engine/nginxconf edits by splicing
//     byte spans already, and nginx.go adds the few helpers the desktop app
//     needs (listen, server_name, locations, the *_pass of a location).
//   - A Document is one config as the desktop app holds it: loaded from
//     disk, edited in memory, validated (Validate lists every problem with
//     its file:line), saved atomically through engine/atomicfile only when
//     valid (the replaced version is kept as a backup), compared with the
//     disk (Diff, a unified diff for the UI), reverted, and refreshed when
//     the file changes outside the app (Refresh, which engine/watch calls:
//     a clean document reloads itself, a document with unsaved edits
//     reports a conflict and keeps them).
//
// Documents are safe for concurrent use: a watcher goroutine may call
// Refresh while the UI edits. Edits made directly on the tree returned by
// NginxDoc.Config bypass that lock; make them inside NginxDoc.Edit.
package confedit
