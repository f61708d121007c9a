package deck

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/metrics"
)

// This file is the contract between the window and the engine side: the
// narrow interfaces the views consume, and the plain values they read. The
// window never imports the engine's servers; whatever implements Backend
// (ui/backend today, over engine/control once it exists) does.
//
// Every method may be called from any goroutine, and the window calls the
// slow ones (Start, Stop, Reload, Detect, Check, Save...) from goroutines of
// its own, never from the Fyne goroutine. Methods taking a context honour
// its cancellation. Errors are for people: they say what failed in plain
// words, and, where the engine knows one, how to fix it.

// Backend is the engine side of the window: the project list, and each
// project's servers.
type Backend interface {
	// Projects lists the projects, the built-in demo first.
	Projects() []ProjectInfo
	// Project returns the project with id, or nil if there is none.
	Project(id string) Project
	// Detect looks at a folder the user picked, without changing it.
	Detect(dir string) (*detect.Result, error)
	// FreePorts suggests a proxy port and an engine port that are free
	// now and used by no other project.
	FreePorts() (proxy, engine int)
	// AddProject adds a folder as a project, writing the local uwsgi.ini
	// and nginx.conf from np unless the folder has them (np.UseExisting).
	AddProject(np NewProject) (ProjectInfo, error)
	// RemoveProject forgets a project (stopping it first); its folder and
	// files are left alone. The demo cannot be removed.
	RemoveProject(ctx context.Context, id string) error
	// StopAll stops everything any project started. The window calls it
	// on quit and from the tray; it returns when every process is gone.
	StopAll(ctx context.Context) error
	// CheckExport validates a generated production bundle with the real
	// programs when they are installed (nginx -t on the site file inside
	// a scratch main config; uwsgi --strict reading uwsgi.ini), and says
	// which are missing.
	CheckExport(ctx context.Context, files configgen.Files) []ExportCheck
}

// ExportCheck is the result of one real program checking an exported file.
type ExportCheck struct {
	Tool      string // "nginx -t", "uwsgi --strict"
	File      string // the file checked
	Installed bool   // false: the program is not on this machine; nothing was checked
	OK        bool
	Output    string // what the program said
}

// Project is one project's servers, documents and measurements.
type Project interface {
	Info() ProjectInfo

	// Start, Stop and Reload act on the proxy, the engine or both. They
	// return when the work is done: Start once the tier serves (or failed
	// to), Stop once its processes are gone, Reload once the new
	// configuration serves (a graceful reload: no request is dropped).
	// Start of Both starts the engine first; Stop of Both stops the proxy
	// first. A config that does not validate is never applied: Start and
	// Reload return an error naming the file and line.
	Start(ctx context.Context, t Tier) error
	Stop(ctx context.Context, t Tier) error
	Reload(ctx context.Context, t Tier) error

	// Worker commands, uWSGI's per-worker and master operations. An
	// engine that cannot do one returns an error wrapping
	// errors.ErrUnsupported, and the window disables that action.
	ReloadWorker(ctx context.Context, id int) error // graceful: finish the request in hand, then respawn
	KillWorker(ctx context.Context, id int) error   // SIGKILL; the master respawns it
	ChainReload(ctx context.Context) error          // replace the workers one at a time
	AddWorker(ctx context.Context) error
	RemoveWorker(ctx context.Context) error
	// Supports reports which worker commands the engine implements.
	Supports() Capabilities

	// Snapshot is the state now. It must be cheap: the window calls it
	// once a second for the selected project, and for the status dot of
	// every project.
	Snapshot() Snapshot
	// Subscribe calls fn for every Event from now on, on a goroutine of
	// the backend's (fn must not block), until cancel is called.
	Subscribe(fn func(Event)) (cancel func())

	// WorkerHistory returns worker id's samples newer than since, oldest
	// first; TotalHistory the whole engine's. The zero time gets all that
	// are kept (at least 15 minutes at 1 s).
	WorkerHistory(id int, since time.Time) []metrics.WorkerSample
	TotalHistory(since time.Time) []metrics.MasterSample
	// ProxyHistory returns the proxy's per-second response counts newer
	// than since; ok is false when the proxy does not count its responses.
	ProxyHistory(since time.Time) (samples []ProxySample, ok bool)

	// Logs returns up to max lines with Seq > after, oldest first. A
	// caller that fell behind the backend's bounded buffer gets the oldest
	// lines still kept; LogLine.Seq says how many it missed.
	Logs(after uint64, max int) []LogLine

	// Traces returns up to max request traces with Seq > after, oldest
	// first (all when max <= 0), the way Logs does: each request that
	// finished, followed through the proxy and the engine.
	Traces(after uint64, max int) []Trace

	// Check runs the cross-tier check on the files on disk: ports in use
	// (naming the process that holds them), the proxy's upstream against
	// the engine's sockets and protocols, missing static folders. Each
	// finding says what is wrong in plain words, and carries a Fix where
	// one is known.
	Check(ctx context.Context) []Finding

	// Ini and Nginx are the project's two config files as editable
	// documents; while both files exist, each call returns the same
	// document. Each opens on its own: a missing or broken nginx.conf
	// does not stop uwsgi.ini from opening, nor the reverse. A missing
	// file's error wraps fs.ErrNotExist.
	Ini() (IniDocument, error)
	Nginx() (NginxDocument, error)
	// GenerateConfig writes a new local uwsgi.ini (Engine) or nginx.conf
	// (Proxy) from the settings the project was made with, for a file
	// that is missing; it refuses to replace one that exists.
	GenerateConfig(t Tier) error

	// ExportConfig is the production profile's starting point for this
	// project, read from its files as they are now: its app, virtualenv,
	// static folders and limits, with production defaults for the rest.
	// notes say what could not be carried over as is.
	ExportConfig() (cfg configgen.Config, notes []string, err error)
}

// Tier says which server a command acts on.
type Tier uint8

const (
	Both   Tier = iota // the proxy and the engine together
	Engine             // the uWSGI-compatible app server only
	Proxy              // the nginx-compatible proxy only
)

func (t Tier) String() string {
	switch t {
	case Engine:
		return "engine"
	case Proxy:
		return "proxy"
	}
	return "proxy and engine"
}

// State is the state of a tier, or of a project as a whole.
type State uint8

const (
	Stopped  State = iota
	Starting       // or reloading: work is under way
	Running
	Degraded // serving, but not as configured: a tier down, workers crash-looping
	Stopping
	Failed // it could not start, or died; Status.Message says why
)

func (s State) String() string {
	return [...]string{"stopped", "starting", "running", "degraded", "stopping", "error"}[s]
}

// ProjectInfo describes a project in the sidebar.
type ProjectInfo struct {
	ID        string // stable; the demo's is "demo"
	Name      string
	Dir       string // the project folder
	Builtin   bool   // the demo: always listed, cannot be removed
	IniPath   string
	NginxPath string
}

// NewProject is what the add-project dialog collects, starting from
// detection and corrected by the user.
type NewProject struct {
	Dir  string
	Name string
	// Framework is "flask", "django" or "" (plain WSGI).
	Framework string
	App       configgen.App
	// PythonPath is where App.Module imports from, relative to Dir.
	PythonPath string
	// Venv is the virtualenv folder, relative to Dir; "" for none.
	Venv string
	// Env lists KEY=VALUE variables uwsgi.ini sets for the app (Django's
	// DJANGO_SETTINGS_MODULE).
	Env    []string
	Static []configgen.StaticMap
	// ProxyPort and EnginePort are the loopback ports for the local
	// profile.
	ProxyPort, EnginePort int
	// UseExisting keeps the folder's own uwsgi.ini and nginx.conf
	// instead of generating them.
	UseExisting bool
}

// Capabilities lists the optional worker commands an engine implements.
type Capabilities struct {
	ReloadWorker, KillWorker, ChainReload, AddRemoveWorker bool
}

// Snapshot is a project's state at one moment.
type Snapshot struct {
	Time   time.Time
	State  State // the project as a whole: its status dot
	Engine Status
	Proxy  Status
	// App is the WSGI app the engine serves ("wsgi:application").
	App string
	// URL is where a browser reaches the project through the proxy
	// ("http://127.0.0.1:8080/"), or "" when no proxy address is known.
	URL string
	// Workers are the engine's workers, by id; empty when stopped.
	Workers []Worker
	// ListenQueue and InFlight are the engine's backlog and the requests
	// being served now.
	ListenQueue, InFlight int
	// Requests and Exceptions are totals since the engine started.
	Requests, Exceptions uint64
}

// Status is one tier's state.
type Status struct {
	State State
	// Addrs are the addresses it listens on ("127.0.0.1:8080"), or the
	// configured ones while stopped.
	Addrs []string
	PID   int
	// Since is when it reached its state (uptime, when running).
	Since time.Time
	// Message explains a Failed or Degraded state in plain words.
	Message string
	// Config is the file it runs from.
	Config string
}

// Worker is one engine worker, as the Workers table shows it.
type Worker struct {
	ID, PID int
	// Generation counts reloads: workers started by the same reload share it.
	Generation int
	// Status is "idle", "busy", "starting", "retiring", "cheap" or "dead".
	Status string
	// Busy lists the requests in progress, "GET /path", one per busy core.
	Busy       []string
	Requests   uint64  // since the engine started, across respawns
	RPS        float64 // over the last sampling interval
	AvgLatency time.Duration
	P95        time.Duration
	Exceptions uint64
	Harakiri   uint64
	Respawns   uint64
	CPU        float64 // percent of one core
	RSS        uint64  // bytes
	Spawned    time.Time
}

// ProxySample is the proxy's responses over one sampling interval, by
// status class.
type ProxySample struct {
	Time   time.Time
	RPS    float64
	Status metrics.StatusCounts
}

// EventKind says what happened.
type EventKind uint8

const (
	EventState         EventKind = iota // a tier changed state (Tier, Message)
	EventWorkerSpawned                  // Worker, PID
	EventWorkerDied                     // Worker, PID, Message: how (signal, exit code)
	EventHarakiri                       // Worker, PID, Message: the request it killed
	EventRecycled                       // Worker: max-requests, reload-on-rss...; Message says which
	EventReloadStarted
	EventReloadDone
	EventReloadFailed // Message: why; the old configuration keeps serving
	EventConfigChanged
)

// Event is something that happened to a project, for notifications and
// for refreshing the window at once rather than at the next tick.
type Event struct {
	Time    time.Time
	Kind    EventKind
	Tier    Tier
	Worker  int
	PID     int
	Message string
}

// LogSource says where a log line comes from.
type LogSource uint8

const (
	LogEngine      LogSource = iota // the master's own lines and request lines
	LogWorker                       // a worker's stdout/stderr (tracebacks)
	LogProxyAccess                  // one line per request, in the access_log format
	LogProxyError                   // the error_log
)

func (s LogSource) String() string {
	return [...]string{"engine", "worker", "access", "proxy"}[s]
}

// Level grades a log line.
type Level uint8

const (
	LevelInfo Level = iota
	LevelWarn
	LevelError
)

func (l Level) String() string { return [...]string{"info", "warn", "error"}[l] }

// LogLine is one line of a log.
type LogLine struct {
	Seq    uint64 // 1, 2, 3... per project: gaps mean lines were dropped
	Time   time.Time
	Source LogSource
	Worker int // for LogWorker (and request lines): the worker id; 0 if unknown
	Level  Level
	Text   string
}

// Trace is one finished request followed through its hops: the proxy,
// then the engine and the worker that ran the app.
type Trace struct {
	Seq    uint64
	Start  time.Time
	Method string
	URI    string
	Client string // the client's address and port, "" when unknown
	Status int    // what the client got
	// Total is the request's time as its first hop saw it.
	Total time.Duration
	// Proxy is nil for a request sent straight to the engine.
	Proxy *ProxyHop
	// Engine is nil when the proxy answered alone: a static file, or an
	// error because the engine did not answer (502).
	Engine *EngineHop
}

// ProxyHop is the proxy's part of a trace.
type ProxyHop struct {
	Status   int
	Duration time.Duration
	Bytes    int64
	Upstream string // the engine address it asked; "" when it answered alone
}

// EngineHop is the engine's part of a trace, from the master taking the
// request to the worker's last byte (a wait for a free worker included).
type EngineHop struct {
	Duration time.Duration
	Wait     time.Duration // of Duration, the wait for a free worker
	Worker   int           // 0: the master answered itself
	PID      int
	Status   int
	Bytes    int64
	Outcome  string // "ok", "exception", "worker-lost", "static"...
}

// ProxyOwn is the time the proxy spent on its own: its total minus the
// engine's part.
func (t *Trace) ProxyOwn() time.Duration {
	switch {
	case t.Proxy == nil:
		return 0
	case t.Engine == nil:
		return t.Total
	case t.Engine.Duration > t.Total:
		return 0
	}
	return t.Total - t.Engine.Duration
}

// Severity grades problems and findings.
type Severity uint8

const (
	SevError Severity = iota
	SevWarning
	SevInfo
)

// Finding is one result of the cross-tier check.
type Finding struct {
	Severity Severity
	// Message says what is wrong in plain words: "port 8080 is used by
	// pid 1234 (python3)".
	Message string
	// Where lists the lines involved: "nginx.conf:25", "uwsgi.ini:21".
	Where []string
	// FixLabel describes the fix, "use 8081 in both files"; "" when there
	// is none.
	FixLabel string
	// Fix applies it: it edits and saves the files (validated, atomically,
	// keeping backups). The window then reloads what is running.
	Fix func(ctx context.Context) error
}

// Problem is one validation result on a line of a document.
type Problem struct {
	Line, Col int // 1-based; Line 0 means the whole file
	Severity  Severity
	Message   string
}

// ProblemsError is returned by Document.Save when the text does not
// validate: nothing was written.
type ProblemsError struct {
	File     string
	Problems []Problem
}

func (e *ProblemsError) Error() string {
	for _, p := range e.Problems {
		if p.Severity == SevError {
			if p.Line > 0 {
				return e.File + ":" + strconv.Itoa(p.Line) + ": " + p.Message + " (not saved)"
			}
			return e.File + ": " + p.Message + " (not saved)"
		}
	}
	return e.File + " has problems (not saved)"
}

// ErrNotRunning is returned by commands that need a running tier.
var ErrNotRunning = errors.New("not running")

// ErrConflict is wrapped by Document.Save when the file changed on disk
// since the document read it.
var ErrConflict = errors.New("the file changed on disk since it was opened")

// Document is a config file being edited: its text is the source of truth,
// shared by the Form and Source views.
type Document interface {
	// Name is the file's base name, Path its full path.
	Name() string
	Path() string
	// Text is the current text, with unsaved edits.
	Text() string
	// SetText replaces the text (an edit in the Source view).
	SetText(text string)
	// Validate checks text (not necessarily the current one) and returns
	// its problems; it must be safe to call from any goroutine and fast
	// enough to run while the user types.
	Validate(text string) []Problem
	// Dirty reports whether the text differs from the file on disk.
	Dirty() bool
	// Diff is a unified diff from the file on disk to the text; "" when
	// they are the same.
	Diff() string
	// Save validates the text and, when it has no errors, writes it
	// atomically, keeping the previous version as a backup. With errors
	// it returns a *ProblemsError and writes nothing. When the file
	// changed on disk since it was read, it writes nothing and returns an
	// error wrapping ErrConflict.
	Save() error
	// ForceSave is Save without the check for changes on disk: the edits
	// win (the version on disk is kept as a backup).
	ForceSave() error
	// Revert drops the edits and reads the file from disk again.
	Revert() error
	// OnDiskChange registers fn, called (from any goroutine) when the
	// file changed on disk outside the app. A document without unsaved
	// edits has already reloaded itself; one with edits keeps them (Dirty
	// is true, and Save would report ErrConflict).
	OnDiskChange(fn func())
}

// IniDocument is uwsgi.ini, edited option by option without touching any
// other byte of the file.
type IniDocument interface {
	Document
	// Get returns the last value of option key in [uwsgi] (as written,
	// before %-expansion).
	Get(key string) (value string, ok bool)
	// Set replaces the last occurrence of key, or adds it at the end of
	// [uwsgi]. An empty value removes the option.
	Set(key, value string) error
}

// NginxDocument is nginx.conf, edited directive by directive without
// touching any other byte of the file.
type NginxDocument interface {
	Document
	// Servers lists the server blocks of the main file, in order.
	Servers() ([]NginxServer, error)
	// Upstreams lists the upstream blocks.
	Upstreams() ([]NginxUpstream, error)
	// SetDirective sets the arguments of the directive at path (see
	// NginxServer), adding it to its block when absent. No args removes
	// it.
	SetDirective(path NginxPath, args ...string) error
}

// NginxPath addresses a directive: the Server-th server block (0-based),
// within it the Location-th location (-1 for the server block itself),
// and the directive's name. Upstream >= 0 addresses an upstream block's
// directive instead.
type NginxPath struct {
	Server, Location int
	Upstream         int
	Name             string
}

// NginxServer is the form view of one server block.
type NginxServer struct {
	Line              int
	Listen            []string // each listen directive's arguments, joined
	ServerName        string
	Root              string
	ClientMaxBodySize string
	Locations         []NginxLocation
}

// NginxLocation is the form view of one location block.
type NginxLocation struct {
	Line  int
	Match string // "/static/", "= /favicon.ico", "~ \.php$"
	// Handler is the directive that answers: "uwsgi_pass", "proxy_pass",
	// "fastcgi_pass", "alias", "root", "return", or "" for none.
	Handler string
	Target  string // its arguments, joined
}

// NginxUpstream is the form view of one upstream block.
type NginxUpstream struct {
	Line    int
	Name    string
	Servers []string
}
