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
}

// Ready is the payload of a READY frame.
type Ready struct {
	PID     int     `json:"pid"`
	App     int     `json:"app"`             // 0 when the app loaded, -1 when not
	Error   string  `json:"error,omitempty"` // why the app did not load
	Seconds float64 `json:"seconds"`         // time spent loading the app
}

// ParseReady decodes a READY payload.
func ParseReady(p []byte) (Ready, error) {
	var r Ready
	if err := json.Unmarshal(p, &r); err != nil {
		return r, fmt.Errorf("workerproto: bad READY payload: %w", err)
	}
	return r, nil
}
