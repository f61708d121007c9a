package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uwsgiPath is Debian's uWSGI 2.0.21, the peer these tests compare with.
const uwsgiPath = "/usr/bin/uwsgi"

// blockingApp answers "/" with its pid; /block writes its pid to the file
// "started" and waits for a file "release" that the tests never create, so a
// request is in progress for as long as a test needs.
const blockingApp = `import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/block":
        with open("started.tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename("started.tmp", "started")
        while not os.path.exists("release"):
            time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
`

// startUWSGIPeer runs the real uWSGI on dir/app.ini, like startDaemon runs
// ours; it fails the test when uWSGI is not installed.
func startUWSGIPeer(t *testing.T, dir string) *cmdProc {
	t.Helper()
	if _, err := os.Stat(uwsgiPath); err != nil {
		t.Fatalf("uWSGI is needed (apt-get install uwsgi-core uwsgi-plugin-python3): %v", err)
	}
	cmd := exec.Command(uwsgiPath, "--ini", "app.ini")
	cmd.Dir = dir
	return runProc(t, cmd, "uWSGI")
}

// blockRequest starts GET /block and waits until the app is in it; it
// returns the pid of the worker serving it and a channel that gets nil when
// the app's answer arrived, else why not (uWSGI closes the connection; this
// engine, the gateway, answers 502).
func blockRequest(t *testing.T, dir, addr string) (pid int, done <-chan error) {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 60 * time.Second}
		resp, err := c.Get("http://" + addr + "/block")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		ch <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "started")); err == nil {
			pid, _ := strconv.Atoi(string(b))
			return pid, ch
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the app never started /block")
	return 0, nil
}

// waitServing polls addr until the app answers.
func waitServing(t *testing.T, p *cmdProc, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("exited (%d) before serving", p.code)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s never served", addr)
}

// usr2Line is a worker's SIGUSR2 report with the pid and date masked.
var usr2Line = regexp.MustCompile(`SIGUSR2: --- uWSGI worker 1 \(pid: (\d+)\) is managing request /block since \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} ---`)

// TestSignalsLikeUWSGI sends the same signals to real uWSGI 2.0.21 and to
// `wsgideckd uwsgi` running the same ini, while a request is in progress:
// SIGUSR2 reports what the worker is doing, in uWSGI's words (uWSGI's
// master has no handler and dies of it, so there it goes to the worker);
// SIGINT, and SIGTERM under die-on-term, stop at once, cutting the
// request, with uWSGI's log lines.
func TestSignalsLikeUWSGI(t *testing.T) {
	for _, run := range []struct {
		peer, extra string
		stop        syscall.Signal
	}{
		{"uWSGI", "", syscall.SIGINT},
		{"wsgideckd", "", syscall.SIGINT},
		{"uWSGI", "die-on-term = true\n", syscall.SIGTERM},
		{"wsgideckd", "die-on-term = true\n", syscall.SIGTERM},
	} {
		peer := run.peer
		t.Run(peer+"/"+run.stop.String(), func(t *testing.T) {
			addr := freeAddr(t)
			dir := writeFiles(t, map[string]string{
				"app.py": blockingApp,
				"app.ini": fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nhttp-socket = %s\nwsgi-file = app.py\n"+
					"processes = 1\nworker-reload-mercy = 60\n%s", addr, run.extra),
			})
			var p *cmdProc
			if peer == "uWSGI" {
				p = startUWSGIPeer(t, dir)
			} else {
				p = startDaemon(t, dir, "--ini", "app.ini", "--python", testPython)
			}
			waitServing(t, p, addr)
			worker, done := blockRequest(t, dir, addr)

			target := p.cmd.Process.Pid
			if peer == "uWSGI" {
				target = worker
			}
			syscall.Kill(target, syscall.SIGUSR2)
			p.waitOutput(t, "SIGUSR2: ---")
			p.waitOutput(t, " ---\n")
			m := usr2Line.FindStringSubmatch(p.out.String())
			if m == nil || m[1] != strconv.Itoa(worker) {
				t.Errorf("no SIGUSR2 report naming worker 1 (pid: %d) and /block:\n%s", worker, p.out)
			}

			p.cmd.Process.Signal(run.stop)
			// The request would never end: only a shutdown that does not
			// wait for it lets the process exit.
			if code := p.waitExit(t, 20*time.Second); code != 0 {
				t.Errorf("exit code after %v: %d", run.stop, code)
			}
			if err := <-done; err == nil {
				t.Errorf("the request in progress was answered; %v should cut it", run.stop)
			}
			out := p.out.String()
			i := strings.Index(out, "SIGINT/SIGTERM received...killing workers...")
			j := strings.Index(out, "goodbye to uWSGI.")
			if i < 0 || j < i {
				t.Errorf("want \"SIGINT/SIGTERM received...killing workers...\" then \"goodbye to uWSGI.\":\n%s", out)
			}
		})
	}
}

// TestSecondStopSignalIsBrutal: SIGTERM stops gracefully here (uWSGI 2.0
// reloads brutally instead, see engine/appserver's doc.go), waiting for the
// request in progress; a second SIGTERM stops at once, as a second Ctrl-C
// would.
func TestSecondStopSignalIsBrutal(t *testing.T) {
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"app.py":  blockingApp,
		"app.ini": fmt.Sprintf("[uwsgi]\nhttp-socket = %s\nwsgi-file = app.py\nprocesses = 1\nworker-reload-mercy = 60\n", addr),
	})
	p := startDaemon(t, dir, "--ini", "app.ini", "--python", testPython)
	waitServing(t, p, addr)
	_, done := blockRequest(t, dir, addr)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitOutput(t, "graceful shutdown triggered...")
	select {
	case <-p.exited:
		t.Fatalf("a graceful stop did not wait for the request in progress:\n%s", p.out)
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code: %d", code)
	}
	if err := <-done; err == nil {
		t.Errorf("the request was answered; the second SIGTERM should cut it")
	}
	p.waitOutput(t, "SIGINT/SIGTERM received...killing workers...")
}

// TestTTINTTOUWithCheaper: with cheaper, SIGTTIN adds a worker and SIGTTOU
// removes one, as uWSGI 2.1 does and its docs say (2.0.21's master has no
// handler, so the signals stop it, as job control stops a background
// process); SIGTSTP pauses and resumes.
func TestTTINTTOUWithCheaper(t *testing.T) {
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"app.py":  blockingApp,
		"app.ini": fmt.Sprintf("[uwsgi]\nhttp-socket = %s\nwsgi-file = app.py\nprocesses = 3\ncheaper = 1\n", addr),
	})
	p := startDaemon(t, dir, "--ini", "app.ini", "--python", testPython)
	waitServing(t, p, addr)
	p.cmd.Process.Signal(syscall.SIGTTIN)
	p.waitOutput(t, "spawned uWSGI worker 2 (pid: ")
	p.cmd.Process.Signal(syscall.SIGTTOU)
	p.waitOutput(t, "uWSGI worker 2 cheaped.")
	// Still running, not stopped by job control: it answers, and stops.
	waitServing(t, p, addr)
	// SIGTSTP pauses the workers and resumes them, as uWSGI's master does.
	p.cmd.Process.Signal(syscall.SIGTSTP)
	p.waitOutput(t, "*** PAUSE (press start to resume, if you do not have a joypad send SIGTSTP) ***")
	p.cmd.Process.Signal(syscall.SIGTSTP)
	p.waitOutput(t, "*** (SIGTSTP received) resuming workers ***")
	waitServing(t, p, addr)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code: %d", code)
	}
}
