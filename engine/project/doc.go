// Package project is wsgideck's model of a project: an app folder with its
// uwsgi.ini and nginx.conf, and the local settings they were generated
// from (name, app, virtualenv, ports) plus the Python interpreter the
// workers run.
//
// A Store keeps the list in the user's config folder
// (os.UserConfigDir()/wsgideck/projects.json), saved atomically with the
// previous version kept (engine/atomicfile). The built-in demo project is
// always first in the list: on first use its files are copied from
// assets.Demo into the user's data folder ($XDG_DATA_HOME/wsgideck/demo on
// Linux), where it can be edited and run. A demo file that goes missing is
// put back; the user's edits are never overwritten (ResetDemo does that on
// request, keeping backups).
//
// Adding a folder goes through a Proposal: Propose runs engine/detect and
// fills a configgen.Config (the app, its static folders, the virtualenv,
// free ports) together with everything detection was unsure of, for the
// user to correct before Create writes the configs. Init does the same for
// the headless "wsgideckd init": detect, then generate the local configs,
// never replacing existing ones unless asked.
//
// Export derives the production bundle from the project's current files
// (not from the settings it was created with, which edits may have
// outgrown): the app, static folders and limits from uwsgi.ini and
// nginx.conf, its local paths moved under the server's app folder.
package project
