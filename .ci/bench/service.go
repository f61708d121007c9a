package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// service is one server process the benchmark starts: a master whose
// process tree (master + workers, routers...) is what gets measured.
type service struct {
	name    string // short key, also the log file's name
	dir     string // working directory
	argv    []string
	env     []string       // added to the harness's environment
	stopSig syscall.Signal // the graceful stop: SIGINT for uWSGI (SIGTERM reloads there), SIGQUIT for nginx
	// addr is a TCP address that accepts once the service listens; the
	// targets' readiness checks then wait for real answers.
	addr string
	// For the nginx-like services: the listen ports and the config file.
	ports nginxPorts
	conf  string

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

func (s *service) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// start runs the service in its own process group, its output in a log
// file under logDir.
func (s *service) start(logDir string) error {
	s.logPath = filepath.Join(logDir, s.name+".log")
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir = s.dir
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own group, so that stragglers can be stopped by group id; and
	// killed with us if the harness dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	logf.Close()
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// waitListening waits until s accepts TCP connections on s.addr.
func (s *service) waitListening(timeout time.Duration) error {
	if s.addr == "" {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited (%v) before listening on %s\n%s", s.name, s.waitErr, s.addr, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %v\n%s", s.name, s.addr, timeout, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop asks for a graceful stop, waits, then kills the process group.
func (s *service) stop(timeout time.Duration) error {
	if s.cmd == nil {
		return nil
	}
	pgid := s.cmd.Process.Pid
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(s.stopSig)
		select {
		case <-s.exited:
		case <-time.After(timeout):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.exited
			return fmt.Errorf("%s did not stop within %v of %v; killed", s.name, timeout, s.stopSig)
		}
	}
	// Workers that outlived their master (they should not) go too.
	if syscall.Kill(-pgid, 0) == nil {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return nil
}

func (s *service) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return indent(strings.Join(lines, "\n"))
}

// checkBody GETs url until it answers 200 with wantBody, or timeout.
func checkBody(url, wantBody string, timeout time.Duration, alive ...*service) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = rerr
			case resp.StatusCode != 200:
				err = fmt.Errorf("status %s", resp.Status)
			case string(body) != wantBody:
				err = fmt.Errorf("body %.60q, want %.60q", body, wantBody)
			default:
				return nil
			}
		}
		last = err
		for _, s := range alive {
			select {
			case <-s.exited:
				return fmt.Errorf("GET %s: %s exited (%v)\n%s", url, s.name, s.waitErr, s.logTail())
			default:
			}
		}
		if time.Now().After(deadline) {
			var logs []string
			for _, s := range alive {
				logs = append(logs, s.name+":\n"+s.logTail())
			}
			return fmt.Errorf("GET %s: %w (for %v)\n%s", url, last, timeout, strings.Join(logs, ""))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort picks a free loopback port below the kernel's ephemeral range:
// a port the kernel hands out for port 0 (or for an outgoing connection)
// could be taken by someone else between our pick and the server's bind,
// which on a machine shared with parallel test runs happens. Ports below
// the range are only ever taken by an explicit bind.
func freePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	const base = 10000
	if lo-base < 1000 {
		// An unusual ephemeral range: let the kernel choose.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	for tries := 0; tries < 1000; tries++ {
		port := base + rand.IntN(lo-base)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free port in 127.0.0.1:%d-%d", base, lo-1)
}

var (
	portMu     sync.Mutex
	portsGiven = map[int]bool{} // never hand the same port out twice in a run
)

// keepsAlive sends three requests the way wrk does (HTTP/1.1, with the
// target's extra headers) and reports whether the server kept the
// connection open between them.
func keepsAlive(url string, extra []string) (bool, error) {
	var dials atomic.Int32
	var d net.Dialer
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return d.DialContext(ctx, network, addr)
			},
		},
	}
	defer client.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return false, err
		}
		for j := 0; j+1 < len(extra); j += 2 {
			if extra[j] == "-H" {
				k, v, _ := strings.Cut(extra[j+1], ":")
				req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return dials.Load() == 1, nil
}
