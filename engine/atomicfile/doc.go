// Package atomicfile saves files so that no reader, crash or failed write
// ever sees a half-written file, and keeps the versions it replaces.
//
// A save follows the usual recipe (as in Tailscale's atomicfile): write a
// temporary file in the same folder, fsync it, close it, rename it over the
// target, then fsync the folder so the rename itself is durable. The rename
// is atomic on POSIX file systems, so the target always holds either the
// old bytes or the new ones. If anything fails before the rename, the
// temporary file is removed and the target is untouched.
//
// Backups: before the rename, the file being replaced is kept in a
// ".wsgideck/backups" folder beside it, named "<file>.<UTC time>.bak"
// (for example ".wsgideck/backups/nginx.conf.20260102T150405.000000000Z.bak"),
// and only the newest few generations are kept (DefaultKeep, or
// Saver.Keep). A folder rather than a single "nginx.conf.bak" because one
// generation is not enough to undo two bad saves, and because files beside
// the config would be picked up by globs such as nginx's
// "include sites-enabled/*". A save whose bytes equal the current file
// makes no backup, so repeated saves do not push real history out.
//
// The existing file's permission bits (and, when running as root, its
// owner) are kept; perm applies only to new files. A symlink is followed
// and its target replaced, so /etc/nginx/sites-enabled/x -> ../sites-available/x
// stays a link.
//
// A watcher on the folder (fsnotify) sees the temporary file and the
// .wsgideck folder come and go: it should ignore names starting with "."
// that end in ".tmp" plus random digits, and the .wsgideck folder.
package atomicfile
