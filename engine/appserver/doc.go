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
// serve which request and since when (Server.Snapshot), counts requests per
// worker across respawns, and can replace workers while the sockets stay
// open (Server.Reload). OnRequest and EventRequest receive every finished
// request.
//
// # The API the desktop app uses
//
// Commands: Start, Stop (graceful, within worker-reload-mercy), Kill,
// Reload / ReloadWith(ReloadGraceful | ReloadChain | ReloadBrutal, cfg),
// RecycleWorker(id) (reload one worker), KillWorker(id), SignalWorker,
// AddWorker, RemoveWorker. State: Snapshot (the master, every worker slot
// with its cores, the request each core serves, counters, the last death
// and a backoff, the latest metrics sample), Metrics (the sampler's ring
// buffers: 15 minutes at 1 s), StatsAddr. Events: Subscribe(fn, kinds...)
// delivers spawned, ready, died (with the reason), backoff, harakiri,
// recycled (with why), exited, cheaped, reload started/finished, request
// and stopping/stopped events, in order, from a goroutine of its own; a
// slow subscriber loses events (counted) rather than slowing the server.
// Output: Log gets the log; WorkerOutput, when set, gets each worker
// process's stdout and stderr on a pipe of its own, in whole lines, so a
// traceback can be told from another worker's (without it, a Log that is
// an *os.File is the workers' stdout and stderr, as in uWSGI).
// Reading state never blocks the request path for long: Snapshot takes the
// idle-core pool's lock just to count, and a busy core's own lock while it
// copies that core's request; the metrics rings have a lock of their own.
//
// # The uwsgi socket: one event loop per socket (Linux)
//
// nginx opens a connection per request to a uwsgi socket, so what the
// master spends per connection decides how it compares with uWSGI, whose
// C worker accepts, parses, runs the app, writes and closes all in one
// process. Each uwsgi socket is therefore served by one goroutine locked
// to its OS thread around one epoll set (uwsgiloop_linux.go): accept4 one
// connection per listener event (the listener has TCP_DEFER_ACCEPT, so a
// connection comes with its request and the first read needs no wait),
// read, parse, hand the request to an idle core in one write, read the
// core's frames, write the response, close. No goroutine is started, readied or parked per request.
// Measured behind nginx on 2 CPUs (.ci/bench, -only engine): the master's
// CPU per request went from about 77 us (blocking acceptor goroutines) to
// about 40 us; what is left is mostly the kernel's TCP accept, write and
// close and the context switches to and from the worker.
//
// What made the difference, each measured with perf and strace:
//
//   - No Go scheduler on the request path. With blocking system calls (the
//     previous design: acceptor goroutines) every call that waited made
//     sysmon hand the P to another thread and the returning thread wait to
//     get one back: 2.3 context switches per request in the master, a
//     third of its CPU in the scheduler. The loop waits only in epoll_wait,
//     and does it with a raw system call that keeps its P (GOMAXPROCS
//     leaves another P for everything else: wsgideckd uwsgi runs one P plus
//     one per uwsgi socket); its other calls never block and are raw too,
//     so sysmon never retakes the P when the kernel runs a woken worker
//     before a call returns. The scheduler still preempts the loop every
//     10 ms and stops it for the garbage collector (a signal ends
//     epoll_wait with EINTR). With fewer Ps than loops, a loop waits the
//     ordinary way.
//   - Core channels out of Go's netpoller when only loops use them
//     (Server.corePolled): every response a loop read also woke the
//     netpoller's thread through its own epoll registration. The loops read
//     and write those blocking descriptors with MSG_DONTWAIT. With an HTTP
//     or FastCGI socket too, the channels stay in the netpoller for the
//     goroutines that wait on them, and a loop's epoll set also hears of
//     their traffic, which it ignores.
//   - The workers run SCHED_BATCH (assets/worker.py): a worker woken by a
//     request no longer preempts the master, which finishes what it was
//     doing first; and a core waits for requests in poll(), not recv(),
//     which the kernel also woke whenever the master read a response (the
//     read frees the worker's send buffer). Together: the workers' context
//     switches per request went from 1.5 to 1, the master's involuntary
//     ones from 0.7 to 0.25.
//   - The last write of a response goes with MSG_MORE, so the close that
//     follows sends the response and the FIN in one segment.
//   - When a response ends, the core goes back to the pool and the next
//     queued request is sent to it before the client gets its response.
//   - One accept4 per listener event, not a batch up to EAGAIN: behind
//     nginx one connection is nearly always waiting, so the batch ended in
//     a failing accept4 on nearly every request (strace: 1.86 accept4 per
//     request, now 1.0). The listener is level-triggered: a connection
//     left waiting is reported by the next epoll_wait at once.
//   - The worker parses a REQUEST frame straight from the bytes its recv()
//     returned (one whole frame nearly always) and builds the response
//     head with one join; its pure-Python path per request (frame, environ,
//     start_response, head, response frames) is about 4 us of its ~25.
//     Tried and dropped: a recv(MSG_DONTWAIT) before poll(), to skip the
//     poll() when the next request is already there. It was there 60% of
//     the time, but the misses (a failing recv and a Python exception)
//     cost more than the hits saved (workers 25 -> 29 us per request, one
//     short run each on a noisy machine).
//
// What is left, per request behind nginx: the master's system calls are
// accept4, read, sendto (core), epoll_pwait, recvfrom (core), sendto
// (client, MSG_MORE), close, about 1 each; its own Go code is under 10% of
// its CPU. The rest is the kernel: TCP on loopback (the sender runs the
// receiver's TCP input too) and the two wakeups through the core channel,
// which uWSGI's single C process does not have. Reaching nginx -> uWSGI's
// rate needs fewer wakeups per request, not cheaper code.
//
// Why wakeups weigh so much on the benchmark machine: it is a nested VM
// whose kernel halts an idle vCPU at once (cpuidle haltpoll with
// guest_halt_poll_ns=0), so waking a task on the other vCPU costs an IPI and
// a VM exit. `perf bench sched pipe` there: 17-25 us per round trip between
// the two vCPUs, 6.5-9 us on one. A request through nginx and uWSGI wakes
// two tasks (the uWSGI worker, then nginx); through nginx and this server it
// wakes four (the master, a worker, the master, nginx). In perf (call graphs
// of the master behind nginx), the largest single item is waking the worker
// (sendto -> sock_def_readable), then waking nginx (close -> tcp_fin ->
// sock_def_wakeup). Tried and dropped, measured against uWSGI in the same
// runs: the loop polling epoll for 30 or 150 us before it sleeps, and the
// worker polling its channel 20 times before it sleeps (within the noise,
// and a busy-wait costs an idle laptop's battery).
//
// The benchmark's control experiments (.ci/bench/pydirect.py) measure the
// alternative: uWSGI's design in Python, workers that accept from the
// socket and parse the uwsgi packet themselves, with no master in the
// request path. Bare (no accounting, no logging, no body handling), behind
// the same nginx, it reaches 0.91-0.95x of uWSGI (medians of four runs),
// where this server reaches 0.71-0.74x, at 41-44 us of worker CPU per
// request against this master's 46-51 us plus its worker's 25-27 us: what
// costs is the hop between master and worker, not the worker being
// Python. The second control adds the least
// a master outside the request path would need from its workers, at their
// cheapest: a shared-memory scoreboard slot (the request's start, for
// harakiri and busy cores), request records sent to the master in batches
// of 16 (for the log, counters, events and traces), and an epoll wait
// beside a control pipe (to stop a worker gracefully, which a blocking
// accept(2) cannot be told). That adds about 5 us per request and brings
// it to 0.86x and 0.90x in two runs on 2026-11-22 (per round 0.77-0.94),
// before full WSGI (wsgi.input, write(), the error handling: about 4 us
// more in today's worker) and the master's log formatting. So moving the
// accept into the workers, which would also give up the master's own
// 502/504 answers and its exact per-request accounting, would at best
// reach issue 2's 0.9x at its edge on this machine: the target needs
// uWSGI's C worker, not a different split between a Go master and Python
// workers.
//
// A request waits for a core in the pool like any other (a FIFO of
// goroutines and loop entries; pool.put hands a core to a loop through
// an eventfd, or directly when the loop itself put it back). Supervision
// sees the same things as on the other sockets: markBusy/markIdle for
// stats and harakiri, logRequest for the log, counters and events, the
// same 502/504 when a worker dies or harakiri kills it under a request (a
// core closed under an exchange is noticed within 100 ms even if its
// epoll event was lost with the close). socket-timeout is checked every
// 100 ms. What the loop does not do itself goes, with the bytes already
// read, to a goroutine on the blocking path (front_uwsgi.go, rawconn.go):
// bodies over 64 KiB (streamed to the app on demand), sockets with
// static-map, and bodies over limit-post (413). Responses of any size
// stream through the loop: it buffers up to 256 KiB per client and stops
// reading that client's core until the client takes it.
//
// Other systems, and a loop that could not start, use the blocking
// acceptors: a fixed set of goroutines blocked in accept(2), one request
// each, deadlines enforced by a watchdog.
//
// # Supervision (uWSGI's semantics and log lines)
//
//   - A worker that dies is respawned at once ("DAMN ! worker N (pid: P)
//     died, killed by signal S :( trying respawn ..."); respawn_count,
//     last_spawn and delta_requests follow uWSGI. A worker that dies on
//     start (before its app loaded, or within a second) is respawned after
//     a delay that doubles from 1 s up to MaxRespawnBackoff ("worker
//     respawning too fast !!! i have to sleep a bit (N seconds)..."); the
//     reason (exit status, the app's load error) is in EventDied,
//     EventBackoff and WorkerState.LastDeath. uWSGI instead stops its whole
//     master for 2 s.
//   - harakiri: the master knows when each request started, so a request
//     over the limit is caught within 100 ms (uWSGI looks once a second).
//     Its worker is SIGKILLed and respawned, harakiri_count goes up, and
//     the log carries uWSGI's report naming the request. The client gets
//     504 Gateway Timeout, on all three protocols: the master is the
//     gateway to the worker and the worker did not answer in time, which is
//     what 504 means, and it tells a developer "too slow" rather than
//     "crashed". (uWSGI just closes the connection; nginx in front turns
//     that into 502.) Other requests the killed worker held get 502 Bad
//     Gateway, as does any request whose worker dies under it (not 500:
//     500 stays the app's own error).
//   - max-requests (+ max-requests-delta, uWSGI 2.0.22's), reload-on-rss,
//     reload-on-as (checked after each request, past min-worker-lifetime,
//     10 s by default), max-worker-lifetime, and a MemoryError under
//     limit-as (set with setrlimit in each worker before the app loads)
//     recycle a worker: "...The work of process P is done. Seeya!", a
//     replacement starts ("Respawned uWSGI worker N (new pid: P2)"), and
//     the old process serves until the replacement is ready, then finishes
//     its requests ("worker N killed successfully (pid: P)"). uWSGI's
//     worker exits first and the slot is empty while its replacement loads.
//     evil-reload-on-rss/-as SIGKILL from the master, as uWSGI does.
//   - A request whose core was already gone when it was handed over (the
//     worker died after the core went idle) goes to another core instead
//     of failing: the worker never saw it.
//
// # Reloads
//
// Graceful (SIGHUP in wsgideckd, master-fifo r/w, touch-reload, fs-reload,
// py-autoreload, Reload): every new worker starts at once and each old one
// stops taking requests only once its replacement is ready, so no request
// fails. The master does not re-exec (uWSGI's does): the sockets, the stats
// server and the counters stay, and Server.ReloadConfig supplies the
// re-read configuration. Chain (master-fifo c, touch-chain-reload): one
// worker at a time, the next once the previous replacement is ready ("chain
// reload starting...", "chain next victim is worker N", "chain reloading
// complete"); here the replacement starts before its victim stops, so the
// number of accepting workers never drops; a victim's exit is logged
// "worker N killed successfully (pid: P)", as uWSGI does. Brutal
// (master-fifo R/W): the old workers get SIGTERM at once. A reload of the
// workers only (master-fifo w and W, touch-workers-reload) is logged as
// uWSGI logs it, as respawns ("Respawned uWSGI worker N", "worker N killed
// successfully", and for W "killing worker N"), without the "...gracefully
// killing workers..." of a whole reload; uWSGI 2.0.21 honours
// touch-workers-reload only with lazy-apps, which is always in effect here. With need-app, a replacement whose app does
// not load replaces nothing: the old workers serve on while it is respawned
// with a backoff, and Snapshot.AppError says why (uWSGI would exit).
//
// master-fifo reads r R w W c q Q s p P l L + - and 0-9, re-creating the
// FIFO after each writer, as core/fifo.c does (p pauses or resumes: Pause,
// Resume, TogglePause; P writes the pidfiles again; l reopens the logto
// file, as log-reopen does on every reload; L rotates it, as log-maxsize
// does when it grows past the size). Not read: C (go cheap until a
// connection comes), f, E, B, S.
//
// Signals to wsgideckd uwsgi (cmd/wsgideckd), as uWSGI 2.0.21's master:
// SIGHUP reloads gracefully; SIGINT and SIGQUIT stop at once ("SIGINT/SIGTERM
// received...killing workers...", requests in flight are cut); SIGUSR1
// logs the stats; SIGTSTP pauses the workers or resumes them (SIGSTOP and
// SIGCONT; harakiri, cheaper and the recycling limits wait meanwhile, and a
// reload or a stop resumes them first). Better than 2.0.21, whose master has
// no handler for these and dies of SIGUSR2 or is stopped by SIGTTIN/SIGTTOU:
// SIGUSR2 logs what every busy core is doing, in the words a 2.0 worker
// uses for its own SIGUSR2 (LogWorkerStatus); with cheaper, SIGTTIN adds a
// worker and SIGTTOU removes one, as uWSGI 2.1 does, unless the log is a
// terminal (there they keep their job-control meaning: caught, a background
// write to the terminal would raise SIGTTOU again on every retry). A second
// stop signal during a graceful stop makes it brutal (Kill during Stop).
//
// cheaper runs the cheaper-algo every check-interval; stats show cheap
// workers as "cheap" with pid 0, and a cheap goes to the idle worker
// spawned first, as in uWSGI. spare (the default): cheaper-step workers
// come back when every running worker was busy for more than
// cheaper-overload cycles, and one idle worker goes cheap every
// cheaper-overload cycles down to cheaper. busyness (uWSGI's
// cheaper_busyness plugin, with its log lines): every cheaper-overload
// seconds each running worker's busyness is the share of that period its
// cores spent in requests; over cheaper-busyness-max on average,
// cheaper-step workers come back; under cheaper-busyness-min for
// cheaper-busyness-multiplier periods, one goes cheap (periods between the
// two push that back, three in a row restart it); workers needed again
// within that time of a cheap add cheaper-busyness-penalty to the
// multiplier; more than cheaper-busyness-backlog-alert requests waiting
// (checked every cycle), or requests waiting for
// cheaper-busyness-backlog-nonzero seconds, bring
// cheaper-busyness-backlog-step emergency workers, which go cheap after
// cheaper-busyness-backlog-multiplier periods instead. Better than uWSGI,
// which adds up the times of the requests a worker finished (and guesses
// 100% for a worker seen busy that finished none), the master knows when
// each request in progress began, so the share is exact; with threads it
// is the share of all the worker's cores, where uWSGI adds its threads'
// times and caps them at 100% (Config.DisableAccounting, a benchmark
// switch, leaves only the requests in progress to count). The settings lines come at the first cycle
// after a start or reload rather than before the sockets are bound. A
// zero busyness option means uWSGI's default, as there (Pending says so).
// backlog: cheaper-step workers come back every cycle while more than
// cheaper-overload requests wait for a core, and one goes cheap every
// cycle while fewer wait. manual: only the master FIFO's + and -, SIGTTIN
// and SIGTTOU. An unknown cheaper-algo is an error naming its line (uWSGI
// 2.0.21 logs "unable to find requested cheaper algorithm, falling back to
// spare"); backlog2 (a uWSGI plugin) and spare2 (uWSGI 2.1) run spare, as
// on a uWSGI 2.0.21 without them, and Pending warns.
//
// # Stats and metrics
//
// stats (TCP, unix or @abstract), stats-http, stats-minified and
// stats-no-cores serve uWSGI 2.0.21's JSON through package stats; rss and
// vsz are always filled (from the metrics sampler, or /proc when a process
// is newer than its last sample); cores show in_request and the vars of
// the request in progress (the request's own, without wsgi.url_scheme, as
// uWSGI's; an app's "chdir" is "" as uWSGI's for configured apps). A
// worker that never ran (cheaper) shows its own id and no apps; uWSGI
// 2.0.21 shows id 0 and the master's apps, which reads as a bug. Counters are updated before the client sees the
// end of its response. listen_queue counts the requests waiting for a core
// plus the kernel's accept queue. Each Server runs a metrics.Sampler (1 s)
// over every worker slot, fed by a metrics.Recorder on the request path;
// Config.DisableAccounting turns the per-request hooks off (to measure
// them), and wsgideckd serves metrics.Handler on --prometheus ADDR (a
// command-line flag, never an ini option).
//
// # Configuration
//
// Config is the typed configuration; FromINI builds it from a uwsgi.ini or
// a uWSGI command line read by package uwsgiini, and Pending lists the
// options it does not act on yet. Sockets: socket/uwsgi-socket, http-socket,
// http and fastcgi-socket, each "host:port", ":port" or a unix path, several
// at once; chmod-socket (a unix socket's mode: 666 when bare, as uWSGI),
// listen (backlog), buffer-size, post-buffering, vacuum, pidfile,
// static-map, daemonize/logto, disable-logging, need-app, processes/workers,
// threads, chdir, module/wsgi, wsgi-file, callable, home/virtualenv,
// pythonpath, env, worker-reload-mercy, socket-timeout; harakiri,
// max-requests, max-requests-delta, min-worker-lifetime,
// max-worker-lifetime, reload-on-rss, reload-on-as, evil-reload-on-rss,
// evil-reload-on-as, limit-as, memory-report, touch-reload,
// touch-chain-reload, touch-workers-reload, fs-reload, py-autoreload,
// master-fifo, cheaper, cheaper-initial, cheaper-step, cheaper-overload,
// cheaper-algo (spare, busyness, backlog, manual), cheaper-busyness-min and
// -max (percent), -multiplier, -penalty, -verbose, -backlog-alert,
// -backlog-step, -backlog-multiplier, -backlog-nonzero (seconds),
// check-interval, stats, stats-http, stats-minified, stats-no-cores;
// mount, manage-script-name, import, log-format, limit-post, static-map2,
// static-index, check-static, static-skip-ext, pidfile2, daemonize2,
// logto2, log-4xx, log-5xx, log-slow, log-big, log-x-forwarded-for, unenv,
// pyargv, optimize, reload-mercy, exit-on-reload, die-on-term (read by
// wsgideckd's signal handling), log-date (uWSGI's date prefix, or a
// strftime format, on the lines the master and the workers log themselves;
// not on request lines or the app's output, as in uWSGI), log-reopen,
// log-maxsize and log-backupname (with these, or a master-fifo, whose l
// and L move the file too, the workers' output passes through the master so
// that it follows the new file: uWSGI's workers keep writing to the renamed
// one until they are respawned).
// log-master is accepted (the master and the workers share the log
// already), harakiri-verbose. Pending lists the rest: http-timeout. Package
// uwsgiini also reads what uWSGI reads around the options: UWSGI_<NAME>
// environment variables, and the if-env/if-exists/for/... blocks.
//
// # External daemons (daemons.go)
//
// attach-daemon, attach-control-daemon, smart-attach-daemon,
// smart-attach-daemon2, attach-daemon2 (cmd, freq, pidfile, daemonize,
// control, touch, stopsignal, reloadsignal, stdin, chdir, max_throttle;
// uid, gid, ns_pid, notifypid and legion are ignored with a warning naming
// the line) and daemons-honour-stdin run commands beside the workers as
// uWSGI 2.0.21's master does: each through /bin/sh -c in a session of its
// own, with the workers' environment, in chdir, reading /dev/null, writing
// to the log ("[uwsgi-daemons] spawning "CMD" (uid: U gid: G)"). A plain
// daemon is respawned when it exits ("respawning"), after uWSGI's throttle
// when it was spawned less than 4 s before ("[uwsgi-daemons] throttling
// "CMD" for N seconds": its spawn count less the seconds since, capped at
// max_throttle or 300 s); attach-control-daemon's exit stops the server.
// A smart daemon is watched through its pidfile once a second and
// respawned when the pid there is gone (smart-attach-daemon: the command
// daemonizes and writes it; smart-attach-daemon2: it stays in the
// foreground and the master writes it, "writing pidfile to F"). A whole
// reload (graceful or brutal; not chain or workers-only, which uWSGI does
// without re-exec) stops the plain daemons ("[uwsgi-daemons] stopping
// daemon (pid: P): CMD", reloadsignal or stopsignal, SIGKILL after
// reload-mercy or 3 s) and spawns them afresh, and keeps the smart ones
// ("found valid/active pidfile"). A stop stops them all the same way, the
// smart ones too: uWSGI 2.0.21 leaves those running, and the desktop app
// promises that nothing outlives it; what a daemon left in its process
// group goes too. uWSGI logs its "stopping daemon" lines twice on a
// reload; here once. Snapshot.Daemons and EventDaemonSpawned /
// EventDaemonExited show them (uWSGI logs nothing when a plain daemon
// dies). The stats server's daemons[] is not filled yet.
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
// An app that does not load is reported as uWSGI 2.0.21 reports it
// (noapp_uwsgi_test.go runs both): the traceback starts in the app's own
// file, with no importlib or worker frames (a syntax error or a module not
// found is the bare exception, as PyErr_Print leaves it); a wsgi-file is
// compiled under the path as written, so tracebacks, __file__ and the
// py-autoreload line ("[uwsgi-python-reloader] module/file app.py has been
// modified", after worker 1's "Python auto-reloader enabled") name it so,
// and a file that does not compile or open adds "failed to compile F" or
// "failed to open python file F"; then "unable to load app 0 ...", and
// "*** no app loaded. going in full dynamic mode ***" or, with need-app,
// only "*** no app loaded. GAME OVER ***" once the worker's output is in.
// The master adds one line of its own, "*** the app did not load: REASON
// ***". A request with no app gets uWSGI's own 500 (SERVER_PROTOCOL 500
// Internal Server Error, Connection: close, Content-Type: text/plain, body
// "Internal Server Error"), logged as 21 bytes with 2 headers; on
// http-socket it also has Content-Length and a HEAD gets no body (uWSGI
// sends the body to HEAD as well).
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
//   - limit-post answers 413 (uWSGI logs "Invalid (too big)
//     CONTENT_LENGTH. skip." and drops the request, which nginx turns into
//     a 502). The log line is the same.
//   - mount: each mount is a file or a module[:callable]; the first app
//     that loads is app 0 and the default for requests whose SCRIPT_NAME
//     names no mountpoint.
//   - SIGTERM stops gracefully: requests in flight finish (uWSGI 2.0
//     reloads brutally; with die-on-term it stops at once, as on SIGINT),
//     which is what service managers expect of SIGTERM; daemonize logs to
//     its file but stays in the foreground. http-keepalive is accepted:
//     HTTP keeps connections alive anyway.
//   - Counters (requests, exceptions, harakiri_count, respawn_count, tx)
//     survive reloads; uWSGI's re-exec resets them.
//   - enable-threads changes nothing: Python threads always work.
//   - Size options take a k/m/g suffix as meant, with a warning (uWSGI
//     2.0.21 reads "32k" as 32 bytes); see package uwsgiini.
//   - The log's "{N vars}" counts the environ this engine builds, which for
//     http-socket includes REMOTE_PORT.
//
// # The request path compared with uWSGI 2.0.21
//
// requestpath_test.go runs one app on uWSGI's http-socket and on this
// engine and compares the bytes; behind nginx (uwsgi_pass and fastcgi_pass)
// the same requests answer alike too, but for the items below. Where uWSGI
// and this engine agree: wsgi.input's read(), read(n), read(-1), readline(),
// readlines(), iteration, bodies over 64 KiB; a client that sends less than
// its Content-Length makes every read that needs the missing bytes raise
// OSError("error during read(N) on wsgi.input"); write() mixed with an
// iterable; start_response called again before anything was sent replaces
// the first call (PEP 3333 calls that an error, but apps that do it work on
// uWSGI), and after the body started raises OSError("headers already
// sent"); a client that goes away during a response makes the next write()
// raise OSError("write error") and stops the iterable, whose close() is
// called; "#..." ends PATH_INFO (QUERY_STRING keeps it). qa_uwsgi_test.go
// adds what Flask and Django exercise (multipart uploads past
// post-buffering, mount with manage-script-name, URL building behind nginx
// with HTTPS on, streamed responses, send_file). Where this engine
// does better, on purpose:
//
//   - read(0) returns b"" (uWSGI returns the whole body), read(None) reads
//     it all (uWSGI raises TypeError), and readline(size) returns at most
//     size bytes, as io and PEP 3333 say (uWSGI returns the whole line).
//     readlines(hint) stops after hint bytes (uWSGI ignores the hint; PEP
//     3333 allows both).
//   - A chunked request body on http-socket reaches the app (uWSGI 2.0.21
//     passes no body and HTTP_TRANSFER_ENCODING; its http-chunked-input is
//     for the http router and uwsgi.chunked_read()). http-chunked-input is
//     accepted with a note.
//   - An exception in the iterable before its first non-empty chunk gets a
//     500 (uWSGI sends the app's status and headers with no body);
//     start_response with exc_info before anything was sent sends the new
//     status, headers and the body returned (uWSGI 2.0.21 raises a
//     SystemError inside start_response and sends no body).
//   - Response headers are checked before anything is sent: a value that
//     is not Latin-1, holds a newline (uWSGI passes "\r\nX-Injected: yes"
//     through: response splitting) or is not a str, a malformed status, an
//     app that returns a str, or one that never called start_response get
//     a 500 with the reason in the log (uWSGI sends a cut or headerless
//     response, or closes; nginx then says 502). Any number of headers is
//     sent (uWSGI drops the response past its buffer).
//   - HEAD, 1xx, 204 and 304 responses carry no body on http-socket (uWSGI
//     sends the app's body, which a keep-alive client would read as the
//     next response); a body longer than the app's Content-Length is cut
//     there.
//   - A request line in absolute form (GET http://host/path) gets PATH_INFO
//     from the path (uWSGI puts the whole URI in it); folded header lines
//     and HTTP/0.9 get 400, bare-LF line ends are accepted, trailing
//     spaces of a header value are dropped (RFC 9110).
//   - wsgi.file_wrapper sends a file from where it is (PEP 3333; uWSGI's
//     sendfile() starts at byte 0 even after the app seeked or read). A
//     file opened in text mode sends its bytes, as on uWSGI.
//   - Behind nginx, an app that does not read a large body still gets its
//     response to nginx (uWSGI closes with the body unread, the reset loses
//     the response, and nginx says 502 or sends it cut).
package appserver
