// Package deck is wsgideck's main window: a sidebar of projects with their
// status dots, a toolbar to start, stop and reload the selected project's
// proxy and engine, and its tabs: Overview, Workers, Graphs, the two config
// editors (uwsgi.ini and nginx.conf, each as a form and as source), Logs,
// Requests (each request's hops: proxy, engine, worker, app, with their
// times) and Export.
//
// The window talks to the engine side only through the interfaces in
// backend.go (Backend, Project, Document...), which ui/backend implements
// over the engine packages. The views never block the Fyne goroutine: the
// backend is polled by a goroutine of the Deck's (DefaultTick), commands run
// on goroutines of their own, and both report back through fyne.Do. While a
// command runs, the toolbar and the status bar say what is under way and
// the buttons that would conflict are disabled; when it ends, the outcome
// is shown in plain words.
//
// Memory stays flat however long the window runs: the charts keep fixed
// ring buffers (ui/chart), the Logs tab keeps the last MaxLogLines lines
// and the Requests tab the last MaxTraces, and each poll brings only what
// is new (after a flood, only the newest MaxLogLines of it).
package deck
