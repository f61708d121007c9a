package main

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// asMainEnv makes the test binary double as wsgideckd: run with it set to
// 1, the binary executes its command line instead of the tests, so signals
// and exit codes are tested on a real process.
const asMainEnv = "WSGIDECKD_AS_MAIN"

func init() {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// syncBuffer collects a child's output; the test reads it while the child
// still writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cmdProc is `wsgideckd ARGS` running as a real process.
type cmdProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	code   int
}

// startCmd runs `wsgideckd args...` in dir ("" = this directory) with env
// added to the test's environment. The process is killed when the test ends,
// and its output logged if the test failed.
func startCmd(t *testing.T, dir string, env []string, args ...string) *cmdProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
	return runProc(t, cmd, "wsgideckd "+args[0])
}

// runProc starts cmd with its output collected. The process is killed
// when the test ends, and its output logged (as name's) if the test
// failed.
func runProc(t *testing.T, cmd *exec.Cmd, name string) *cmdProc {
	t.Helper()
	p := &cmdProc{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// waitExit waits for the process to exit and returns its exit code.
func (p *cmdProc) waitExit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("wsgideckd %s did not exit in %v:\n%s", p.cmd.Args[1], timeout, p.out)
		return -1
	}
}
