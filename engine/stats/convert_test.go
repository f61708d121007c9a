package stats

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// snapshotFromUWSGI reads a stats document written by real uWSGI back into
// a Snapshot, so a test can encode the same values and compare bytes.
func snapshotFromUWSGI(t *testing.T, doc []byte) Snapshot {
	t.Helper()
	var raw struct {
		Version           string           `json:"version"`
		ListenQueue       int              `json:"listen_queue"`
		ListenQueueErrors int              `json:"listen_queue_errors"`
		SignalQueue       int              `json:"signal_queue"`
		Load              int              `json:"load"`
		PID               int              `json:"pid"`
		UID               int              `json:"uid"`
		GID               int              `json:"gid"`
		CWD               string           `json:"cwd"`
		Locks             []map[string]int `json:"locks"`
		Sockets           []map[string]any `json:"sockets"`
		Workers           []map[string]any `json:"workers"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("uWSGI's document does not decode: %v\n%s", err, doc)
	}
	s := Snapshot{
		Version: raw.Version, ListenQueue: raw.ListenQueue, ListenQueueErrors: raw.ListenQueueErrors,
		SignalQueue: raw.SignalQueue, Load: raw.Load, PID: raw.PID, UID: raw.UID, GID: raw.GID, CWD: raw.CWD,
		Locks: []Lock{},
	}
	for _, l := range raw.Locks {
		if len(l) != 1 {
			t.Fatalf("lock %v: want one key", l)
		}
		for k, v := range l {
			s.Locks = append(s.Locks, Lock{Name: k, Value: v})
		}
	}
	for _, so := range raw.Sockets {
		s.Sockets = append(s.Sockets, Socket{
			Name: str(t, so, "name"), Proto: str(t, so, "proto"),
			Queue: int(num(t, so, "queue")), MaxQueue: int(num(t, so, "max_queue")),
			Shared: num(t, so, "shared") != 0, CanOffload: num(t, so, "can_offload") != 0,
		})
	}
	for _, w := range raw.Workers {
		wk := Worker{
			ID: int(num(t, w, "id")), PID: int(num(t, w, "pid")), Accepting: num(t, w, "accepting") != 0,
			Requests: uint64(num(t, w, "requests")), DeltaRequests: uint64(num(t, w, "delta_requests")),
			Exceptions: uint64(num(t, w, "exceptions")), HarakiriCount: uint64(num(t, w, "harakiri_count")),
			Signals: uint64(num(t, w, "signals")), SignalQueue: int(num(t, w, "signal_queue")),
			Status: Status(str(t, w, "status")), RSS: uint64(num(t, w, "rss")), VSZ: uint64(num(t, w, "vsz")),
			RunningTime:  time.Duration(num(t, w, "running_time")) * time.Microsecond,
			LastSpawn:    unixOrZero(num(t, w, "last_spawn")),
			RespawnCount: uint64(num(t, w, "respawn_count")), TX: uint64(num(t, w, "tx")),
			AvgRT: time.Duration(num(t, w, "avg_rt")) * time.Microsecond,
			Apps:  []App{},
		}
		for _, a := range list(t, w, "apps") {
			wk.Apps = append(wk.Apps, App{
				ID: int(num(t, a, "id")), Modifier1: int(num(t, a, "modifier1")), Mountpoint: str(t, a, "mountpoint"),
				StartupTime: int(num(t, a, "startup_time")), Requests: uint64(num(t, a, "requests")),
				Exceptions: uint64(num(t, a, "exceptions")), Chdir: str(t, a, "chdir"),
			})
		}
		if _, ok := w["cores"]; ok {
			for _, c := range list(t, w, "cores") {
				core := Core{
					ID: int(num(t, c, "id")), Requests: uint64(num(t, c, "requests")),
					StaticRequests: uint64(num(t, c, "static_requests")), RoutedRequests: uint64(num(t, c, "routed_requests")),
					OffloadedRequests: uint64(num(t, c, "offloaded_requests")),
					WriteErrors:       uint64(num(t, c, "write_errors")), ReadErrors: uint64(num(t, c, "read_errors")),
					InRequest: num(t, c, "in_request") != 0,
				}
				vars, _ := c["vars"].([]any)
				for i, v := range vars {
					if i == len(vars)-1 {
						if v != "" {
							t.Fatalf("core %d: vars end with %q, want \"\"", core.ID, v)
						}
						break
					}
					core.Vars = append(core.Vars, v.(string))
				}
				if ri, ok := c["req_info"].(map[string]any); ok && len(ri) > 0 {
					core.RequestStart = unixOrZero(num(t, ri, "request_start"))
				}
				wk.Cores = append(wk.Cores, core)
			}
		}
		s.Workers = append(s.Workers, wk)
	}
	return s
}

func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func num(t *testing.T, m map[string]any, k string) int64 {
	t.Helper()
	n, ok := m[k].(json.Number)
	if !ok {
		t.Fatalf("key %q: got %#v, want a number", k, m[k])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("key %q: %v", k, err)
	}
	return v
}

func str(t *testing.T, m map[string]any, k string) string {
	t.Helper()
	s, ok := m[k].(string)
	if !ok {
		t.Fatalf("key %q: got %#v, want a string", k, m[k])
	}
	return s
}

func list(t *testing.T, m map[string]any, k string) []map[string]any {
	t.Helper()
	l, ok := m[k].([]any)
	if !ok {
		t.Fatalf("key %q: got %#v, want a list", k, m[k])
	}
	out := make([]map[string]any, len(l))
	for i, e := range l {
		if out[i], ok = e.(map[string]any); !ok {
			t.Fatalf("key %q[%d]: got %#v, want an object", k, i, e)
		}
	}
	return out
}
