package workerproto

import (
	"encoding/json"
	"fmt"
)

// WorkerConfig is what a worker process needs to load the app and serve; the
// master passes it as JSON in the ConfigEnv environment variable.
type WorkerConfig struct {
	ID           int      `json:"id"`    // worker number, 1-based like uWSGI's
	Cores        int      `json:"cores"` // channels at fds 3..3+cores-1
	MultiProcess bool     `json:"multiprocess"`
	Chdir        string   `json:"chdir,omitempty"`
	Module       string   `json:"module,omitempty"`    // "pkg.mod" or "pkg.mod:callable"
	WSGIFile     string   `json:"wsgi_file,omitempty"` // a file run as module uwsgi_file_<mangled>
	Callable     string   `json:"callable,omitempty"`  // default "application"
	PythonPath   []string `json:"pythonpath,omitempty"`
	NeedApp      bool     `json:"need_app,omitempty"`
	Version      string   `json:"version"` // environ's uwsgi.version
	Node         string   `json:"node"`    // environ's uwsgi.node (host name)

	// ControlFD is the worker's end of its control channel (see the
	// package doc): 3+Cores. 0 means none.
	ControlFD int `json:"control_fd,omitempty"`
	// LimitAS is RLIMIT_AS in bytes, set before the app loads (limit-as).
	LimitAS int64 `json:"limit_as,omitempty"`
	// PyAutoreload is how often, in seconds, the worker checks the mtimes
	// of the modules it imported (py-autoreload); 0 = never.
	PyAutoreload float64 `json:"py_autoreload,omitempty"`
	// Imports are modules to import before the app loads (import).
	Imports []string `json:"imports,omitempty"`
	// PyArgv is sys.argv[1:], space-separated (pyargv).
	PyArgv string `json:"pyargv,omitempty"`
	// Mounts are more apps, each at a mountpoint (mount), loaded after the
	// default app; ManageScriptName moves the mountpoint from PATH_INFO to
	// SCRIPT_NAME (manage-script-name).
	Mounts           []Mount `json:"mounts,omitempty"`
	ManageScriptName bool    `json:"manage_script_name,omitempty"`
	// LogDate prefixes the lines the worker logs itself ("WSGI app 0 ...
	// ready", not the app's output) with the date and " - " (log-date);
	// LogDateFormat is a strftime format for it, empty for ctime().
	LogDate       bool   `json:"log_date,omitempty"`
	LogDateFormat string `json:"log_date_format,omitempty"`
}

// Mount is one mount: the app at Mountpoint ("/blog"), given as a file
// ("blog.py", "blog/wsgi.py") or a module ("blog.wsgi[:callable]").
type Mount struct {
	Mountpoint string `json:"mountpoint"`
	App        string `json:"app"`
}

// Ready is the payload of a READY frame.
type Ready struct {
	PID     int        `json:"pid"`
	App     int        `json:"app"`             // 0 when an app loaded, -1 when none did
	Error   string     `json:"error,omitempty"` // why the (first) app did not load
	Seconds float64    `json:"seconds"`         // time spent loading the apps
	Apps    []ReadyApp `json:"apps,omitempty"`  // the apps that loaded; the index is the app id
}

// ReadyApp is one loaded app.
type ReadyApp struct {
	ID         int     `json:"id"`
	Mountpoint string  `json:"mountpoint"`
	Seconds    float64 `json:"seconds"`
}

// ParseReady decodes a READY payload.
func ParseReady(p []byte) (Ready, error) {
	var r Ready
	if err := json.Unmarshal(p, &r); err != nil {
		return r, fmt.Errorf("workerproto: bad READY payload: %w", err)
	}
	return r, nil
}
