package appserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/wsgideck/wsgideck/assets"
)

func (s *Server) openLog(cfg *Config) error {
	out := s.Log
	if cfg.LogTo != "" {
		f, err := os.OpenFile(cfg.LogTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
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
	s.log = &logWriter{w: out}
	return nil
}

func (s *Server) closeLog() {
	s.log.flush()
	if s.logFile != nil {
		s.logFile.Close()
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
