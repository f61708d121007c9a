package stats

import (
	"strconv"
	"strings"
	"time"
)

// Snapshot is the state of the master as the stats document shows it. The
// master fills one per stats request (Server.Snapshot); field comments give
// the JSON key and its meaning in uWSGI.
type Snapshot struct {
	Version           string // "version", e.g. "2.0.21-debian"
	ListenQueue       int    // "listen_queue": connections waiting in the largest socket backlog
	ListenQueueErrors int    // "listen_queue_errors": connections dropped because a backlog was full
	SignalQueue       int    // "signal_queue"
	Load              int    // "load": uWSGI reports the backlog here too
	PID               int    // "pid" of the master
	UID, GID          int    // "uid", "gid" the master runs as
	CWD               string // "cwd" of the master
	// Daemons is the "daemons" list (attach-daemon and friends); uWSGI
	// writes the key only when there are some, and so does AppendJSON.
	Daemons []Daemon

	// Locks is the "locks" list. Nil means uWSGI's default set, all free
	// (DefaultLocks), which is what a uWSGI without user locks shows.
	Locks   []Lock
	Sockets []Socket // "sockets": the listening sockets, in configuration order
	Workers []Worker // "workers", in id order
}

// Daemon is one entry of "daemons".
type Daemon struct {
	Cmd      string // "cmd": the command as configured
	PID      int    // "pid": 0 while it is not running
	Respawns int    // "respawns": spawns after the first
}

// Lock is one entry of "locks": {"name":value}.
type Lock struct {
	Name  string
	Value int // the pid holding it, 0 when free
}

// DefaultLocks returns the locks a uWSGI 2.0.21 master shows when no user
// locks are configured, all free.
func DefaultLocks() []Lock {
	return []Lock{{Name: "user 0"}, {Name: "signal"}, {Name: "filemon"}, {Name: "timer"},
		{Name: "rbtimer"}, {Name: "cron"}, {Name: "rpc"}, {Name: "snmp"}}
}

// Socket is one entry of "sockets".
type Socket struct {
	Name       string // "name": the address as configured, e.g. "127.0.0.1:3031" or "/run/app.sock"
	Proto      string // "proto": "uwsgi", "http", "fastcgi", ...
	Queue      int    // "queue": connections waiting in its backlog now
	MaxQueue   int    // "max_queue": the configured listen backlog
	Shared     bool   // "shared"
	CanOffload bool   // "can_offload"
}

// Status is a worker's "status": idle, busy, cheap, pause or sig<N>.
type Status string

// The statuses uwsgitop knows (it colours busy, cheap, pause and sig*).
const (
	StatusIdle  Status = "idle"  // waiting for a request
	StatusBusy  Status = "busy"  // at least one core is serving a request
	StatusCheap Status = "cheap" // stopped by the cheaper algorithm; pid is 0
	StatusPause Status = "pause" // the master paused the workers (SIGTSTP, fifo p)
)

// SignalStatus is the status of a worker running the handler of uWSGI
// signal n.
func SignalStatus(n int) Status { return Status("sig" + strconv.Itoa(n)) }

// Worker is one entry of "workers".
type Worker struct {
	ID        int  // "id", from 1
	PID       int  // "pid", 0 while cheap or not yet spawned
	Accepting bool // "accepting": it takes new requests (false while it loads the app or is being retired)

	Requests      uint64 // "requests": served by this worker slot, kept across respawns
	DeltaRequests uint64 // "delta_requests": served since the last spawn (what max-requests counts)
	Exceptions    uint64 // "exceptions": requests whose app raised
	HarakiriCount uint64 // "harakiri_count"
	Signals       uint64 // "signals": uWSGI signals handled
	SignalQueue   int    // "signal_queue"
	Status        Status // "status"; empty means StatusIdle

	RSS uint64 // "rss" in bytes; always filled by the engine (see the package doc)
	VSZ uint64 // "vsz" in bytes; always filled by the engine

	RunningTime  time.Duration // "running_time": time spent serving requests, written in µs
	LastSpawn    time.Time     // "last_spawn", written as epoch seconds; zero writes 0
	RespawnCount uint64        // "respawn_count": 1 after the first spawn
	TX           uint64        // "tx": response bytes sent, headers and body
	AvgRT        time.Duration // "avg_rt", written in µs; uWSGI updates it as (avg+rt)/2

	Apps []App // "apps": the apps loaded in this worker

	// Cores is the "cores" list: one entry per thread (core) of the worker.
	// Format.NoCores (stats-no-cores) leaves it out.
	Cores []Core
}

// App is one entry of a worker's "apps".
type App struct {
	ID          int    // "id", from 0
	Modifier1   int    // "modifier1": 0 for WSGI
	Mountpoint  string // "mountpoint", "" for the default app
	StartupTime int    // "startup_time" in seconds
	Requests    uint64 // "requests"
	Exceptions  uint64 // "exceptions"
	Chdir       string // "chdir"
}

// Core is one entry of a worker's "cores".
type Core struct {
	ID                int    // "id", from 0
	Requests          uint64 // "requests"
	StaticRequests    uint64 // "static_requests"
	RoutedRequests    uint64 // "routed_requests"
	OffloadedRequests uint64 // "offloaded_requests"
	WriteErrors       uint64 // "write_errors"
	ReadErrors        uint64 // "read_errors"

	// InRequest is "in_request". Vars and RequestStart describe the request
	// in progress and are written only while InRequest is set, as in uWSGI;
	// an idle core shows an empty "vars" list and an empty "req_info".
	InRequest bool
	// Vars are the request's CGI variables, each "KEY=value", in the order
	// they arrived (VarsFromEnviron converts the worker's wire environ).
	// The encoder appends the empty string that ends uWSGI's list.
	Vars         []string
	RequestStart time.Time // "req_info": {"request_start": epoch seconds}
}

// VarsFromEnviron converts an environ in the worker wire form
// (key\0value\0key\0value, see package workerproto) into Core.Vars. A
// trailing key without a value is kept as "KEY=".
func VarsFromEnviron(env []byte) []string {
	if len(env) == 0 {
		return nil
	}
	parts := strings.Split(string(env), "\x00")
	vars := make([]string, 0, (len(parts)+1)/2)
	for i := 0; i < len(parts); i += 2 {
		v := ""
		if i+1 < len(parts) {
			v = parts[i+1]
		}
		vars = append(vars, parts[i]+"="+v)
	}
	return vars
}
