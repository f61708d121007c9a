// Package control is the one API between wsgideck's front ends (the desktop
// window, the headless wsgideckd) and its engine: commands, snapshots and an
// event stream. Nothing above it reaches into the servers it runs.
//
// A [Runner] runs one project: the uWSGI-compatible app server
// (engine/appserver) and the nginx-compatible proxy (engine/proxy), both in
// this process, reading the project's uwsgi.ini and nginx.conf.
//
//	r := control.NewRunner(control.RunnerOptions{Dir: dir})
//	err := r.Start(ctx, control.Both)  // the engine, then the proxy
//	snap := r.Snapshot()               // cheap: call it every second
//	cancel := r.Subscribe(func(ev control.Event) { ... })
//	err = r.Reload(ctx, control.Both)  // graceful: no request is dropped
//	err = r.Stop(ctx, control.Both)    // the proxy, then the engine
//
// Commands take a [Tier]: the engine, the proxy, or both. Start and Reload
// read both files from disk and validate them first, as `wsgideckd check`
// does: each file on its own (engine/confedit, the way uWSGI and nginx -t
// read them), the proxy's compile step, and the two against each other
// (engine/crosscheck: the pass and the socket agree, ports are free). A
// config with an error is never applied: the error is a *[ConfigError]
// naming the file and line, and on Reload the servers already running keep
// serving the old configuration.
//
// Each tier runs from its own file, and a project may have only one of
// them (the app server behind the user's own nginx; a file deleted to be
// generated again). A missing file is not a config with errors: the tier
// it configures cannot start or reload, and says so with a
// *[MissingConfigError] naming the file and the way out, while the other
// tier starts, reloads and stops from its file alone (checked on its own,
// ports included, without the checks that compare the two). Start of Both
// starts the tier it can and returns the other's error.
//
// A [Deck] is the set of projects (engine/project's Store) with one Runner
// per project, created when first asked for; the project's two files as
// shared, watched documents for editors, each opened on its own so that
// one file is editable while the other is missing; the cross-tier check with fixes
// that edit and save the files; the production export, and a check of the
// exported files by the real nginx and uWSGI when they are installed.
// [Deck.StopAll] returns when every worker process of every project is gone.
//
// # What the Runner adds to the servers
//
// Logs: one bounded ring per Runner ([DefaultLogLines] lines) holding the
// engine's log (the master's lines and request lines), the workers' output,
// the proxy's error log (when nginx.conf sends it to stderr, as the
// generated configs do) and its access log, each line with a sequence
// number, a level and its source.
//
// Measurements: a metrics.Sampler per engine run (per-worker CPU, memory,
// requests, latency), and the proxy's responses per second by status
// class. The Runner sees each of the proxy's finished requests through
// proxy.Options.OnRequest, whatever access_log says: every access_log the
// user wrote still writes where it did, a level with "access_log off"
// writes nothing, and the Runner's log gets each request as a line in
// nginx's combined format.
//
// Traces: each finished request followed through its hops ([Runner.Traces]):
// the proxy's record and the engine's (the worker, its pid, its time and
// outcome), paired by method, URI and time, since neither tier tells the
// other which request is which. A request the proxy answered alone (a
// static file, a 502 while the engine is down) has no engine hop.
//
// Events: state changes, workers spawned, dead, killed by harakiri or
// recycled (the engine's own events, from appserver.Server.Subscribe),
// reloads, finished requests of both tiers, and log lines.
package control
