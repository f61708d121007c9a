package appserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/wsgideck/wsgideck/assets"
)

func (s *Server) openLog(cfg *Config) error {
	out := s.Log
	if cfg.LogTo != "" {
		// 0640, as uWSGI opens it (S_IRUSR|S_IWUSR|S_IRGRP).
		f, err := os.OpenFile(cfg.LogTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("logto %s: %w", cfg.LogTo, err)
		}
		s.logFile = f
		out = f
	}
	if out == nil {
		out = os.Stderr
	}
	s.logOut = out
	s.log = &logWriter{w: out, stamp: s.logStamp}
	return nil
}

// reopenLog opens the logto file again (log-reopen on a reload, master-fifo
// l): after logrotate renamed it, the log goes to a new file of that name.
func (s *Server) reopenLog() {
	path := s.cfg().LogTo
	s.swapLog(func(old *os.File, size int64) *os.File {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			fmt.Fprintf(old, "unable to reopen log file %s: %v (still logging here)\n", path, err)
			return nil
		}
		// uWSGI's two raw lines (uwsgi_log_reopen): the last in the old
		// file, the first in the new one.
		now := s.now().Unix()
		fmt.Fprintf(old, "[%d] logsize: %d, triggering log-reopen...\n", now, size)
		fmt.Fprintf(f, "[%d] %s reopened.\n", now, path)
		return f
	})
}

// rotateLog renames the logto file to log-backupname (or its name plus
// "." and the Unix time) and starts a new one, as uWSGI's
// uwsgi_log_do_rotate does for log-maxsize and master-fifo L.
func (s *Server) rotateLog() {
	cfg := s.cfg()
	path, backup := cfg.LogTo, cfg.LogBackupName
	if backup == "" {
		backup = fmt.Sprintf("%s.%d", path, s.now().Unix())
		// Two rotations within a second (master-fifo L twice) would
		// rename over the first backup; uWSGI loses it, this keeps it.
		for n := 1; ; n++ {
			if _, err := os.Lstat(backup); errors.Is(err, fs.ErrNotExist) {
				break
			}
			backup = fmt.Sprintf("%s.%d.%d", path, s.now().Unix(), n)
		}
	}
	s.swapLog(func(old *os.File, size int64) *os.File {
		fmt.Fprintf(old, "%s - logsize: %d, triggering rotation to %s...\n", s.now().Format(ctimeLayout), size, backup)
		if err := os.Rename(path, backup); err != nil {
			fmt.Fprintf(old, "unable to rotate log: rename(): %v\n", err)
			return nil
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
		if err != nil {
			// The log goes on in the renamed file rather than nowhere.
			fmt.Fprintf(old, "unable to open a new log file %s: %v\n", path, err)
			return nil
		}
		return f
	})
}

// logSize is the logto file's size (0 without one).
func (s *Server) logSize() int64 {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	if s.logFile == nil {
		return 0
	}
	fi, err := s.logFile.Stat()
	if err != nil {
		return 0
	}
	return fi.Size() + int64(len(s.log.pending))
}

// swapLog moves the logto file: next gets the old file, with every line
// logged so far in it, and its size, and returns the file to log to from
// now on (nil: keep the old one). Nothing is logged meanwhile. Without a
// logto file it does nothing.
func (s *Server) swapLog(next func(old *os.File, size int64) *os.File) {
	// s.mu before the log's lock: code holding s.mu logs.
	s.mu.Lock()
	s.log.mu.Lock()
	old := s.logFile
	if old == nil {
		s.log.mu.Unlock()
		s.mu.Unlock()
		return
	}
	s.log.flushLocked()
	var size int64
	if fi, err := old.Stat(); err == nil {
		size = fi.Size()
	}
	f := next(old, size)
	if f != nil {
		s.log.w = f
		s.logFile, s.logOut = f, f
	}
	s.log.mu.Unlock()
	s.mu.Unlock()
	if f != nil {
		old.Close()
	}
}

func (s *Server) closeLog() {
	// Under the log's lock, so that a rotation racing the stop finds no
	// file to move.
	s.log.mu.Lock()
	s.log.flushLocked()
	f := s.logFile
	s.logFile = nil
	s.log.mu.Unlock()
	if f != nil {
		f.Close()
	}
}

// findPython picks the worker interpreter: Config.Python, else home's (or
// the virtualenv's) bin/python, else python3 on PATH.
func (s *Server) findPython(cfg *Config) (string, error) {
	if cfg.Python != "" {
		p, err := exec.LookPath(cfg.Python)
		if err != nil {
			return "", fmt.Errorf("python %s: %w", cfg.Python, err)
		}
		return p, nil
	}
	if cfg.Home != "" {
		for _, name := range []string{"python3", "python"} {
			p := filepath.Join(cfg.Home, "bin", name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, nil
			}
		}
		return "", fmt.Errorf("home/virtualenv %s has no bin/python3: create it with `python3 -m venv %s` or fix the path", cfg.Home, cfg.Home)
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New("no python3 on PATH: install Python 3, or set --python PATH or home/virtualenv")
	}
	return p, nil
}

// writeWorkerScript puts the embedded worker program where the interpreter
// can run it: a per-user cache file named by its hash (written once,
// atomically), or a private temp dir when there is no cache dir.
func (s *Server) writeWorkerScript() error {
	sum := sha256.Sum256(assets.WorkerPy)
	name := "worker-" + hex.EncodeToString(sum[:8]) + ".py"
	if dir, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(dir, "wsgideck")
		path := filepath.Join(dir, name)
		if b, err := os.ReadFile(path); err == nil && string(b) == string(assets.WorkerPy) {
			s.workerScript = path
			return nil
		}
		if os.MkdirAll(dir, 0o755) == nil {
			if tmp, err := os.CreateTemp(dir, name+".*"); err == nil {
				_, werr := tmp.Write(assets.WorkerPy)
				cerr := tmp.Close()
				if werr == nil && cerr == nil && os.Rename(tmp.Name(), path) == nil {
					s.workerScript = path
					return nil
				}
				os.Remove(tmp.Name())
			}
		}
	}
	dir, err := os.MkdirTemp("", "wsgideck-worker-")
	if err != nil {
		return fmt.Errorf("cannot write the worker program: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, assets.WorkerPy, 0o644); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("cannot write the worker program: %w", err)
	}
	s.workerDir, s.workerScript = dir, path
	return nil
}

func (s *Server) cleanupScript() {
	if s.workerDir != "" {
		os.RemoveAll(s.workerDir)
	}
}

// Addrs returns the bound addresses, in config order ("127.0.0.1:8000",
// or the unix socket path), with the real port for ":0".
func (s *Server) Addrs() []string {
	out := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.addr
	}
	return out
}

// PID is the master's process id.
func (s *Server) PID() int { return s.pid }
