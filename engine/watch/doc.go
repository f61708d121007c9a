// Package watch notices changes made to a project's configs outside
// wsgideck: an editor saving uwsgi.ini, git checking out another
// nginx.conf, a script rewriting an included file.
//
// It watches folders, not files (fsnotify on the project folder, and on
// the folders of included files that live elsewhere), because editors
// save by writing a new file and renaming it over the old one, which a
// watch on the old file's inode would miss. Events are debounced: the
// files must stay quiet for a moment, so an editor's write-rename-chmod
// burst, or a git checkout touching several files, settles as one round
// of changes, reported in the order the files last changed.
// atomicfile's temporary files and the .wsgideck folder (backups) are
// ignored.
//
// Each change is handed to the tracked confedit.Document that reads the
// file, through Document.Refresh: a document with no unsaved edits
// reloads itself and the watcher reports Changed; one with unsaved edits
// keeps them and the watcher reports Conflict, for the UI to offer the
// diff, revert or save-anyway. A change that leaves the file as the
// document last loaded or saved it (wsgideck's own save, a touch) is not
// reported. uwsgi.ini and nginx.conf in the project folder are reported
// even when no document is open for them.
package watch
