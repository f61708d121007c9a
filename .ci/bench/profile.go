package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profileOurs profiles the engine's targets under the same wrk load as the
// rounds, and the matching uWSGI targets for comparison, into dir:
//
//   - perf-<target>.txt: perf record -g of the master and workers, by
//     process and by symbol (the Go master's symbols resolve: the binary
//     is not stripped);
//   - strace-<target>.txt: strace -c -f of the master and workers, and the
//     syscalls per request (strace slows everything down; the counts per
//     request stay valid, the times do not);
//   - cprofile-worker.txt: the Python workers of a wsgideckd whose
//     interpreter (--python) is a wrapper running the worker under cProfile.
func (s *setup) profileOurs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Printf("profile: writing to %s\n", dir)
	for _, key := range []string{
		"ours-http", "ours-http-close", "uwsgi-http", "nginx-ours", "nginx-uwsgi", // engine
		"static-ours", "static-nginx", "ours-proxy-uwsgi", "ours-proxy-ours", // proxy
	} {
		t := s.target(key)
		if t == nil {
			continue
		}
		if err := s.perfTarget(ctx, t, dir); err != nil {
			fmt.Fprintf(os.Stderr, "bench: perf %s: %v\n", key, err)
		}
		if err := s.straceTarget(ctx, t, dir); err != nil {
			fmt.Fprintf(os.Stderr, "bench: strace %s: %v\n", key, err)
		}
	}
	if s.target("ours-http") == nil {
		return nil
	}
	return s.cprofileWorkers(ctx, dir)
}

func (s *setup) pidsOf(t *target) []string {
	procs := allProcs()
	var pids []string
	for _, sv := range t.services {
		for _, p := range tree(sv.pid(), procs) {
			pids = append(pids, strconv.Itoa(p.pid))
		}
	}
	return pids
}

func (s *setup) perfTarget(ctx context.Context, t *target, dir string) error {
	data := filepath.Join(dir, "perf-"+t.key+".data")
	rec := exec.CommandContext(ctx, "perf", "record", "-F", "999", "-g", "-o", data,
		"-p", strings.Join(s.pidsOf(t), ","), "--", "sleep", strconv.Itoa(int(s.opt.duration/time.Second)))
	recOut, err := startCollect(rec)
	if err != nil {
		return err
	}
	run, werr := s.opt.wrk.run(ctx, t.url, s.opt.duration, t.wrkExtra)
	if err := rec.Wait(); err != nil {
		return fmt.Errorf("perf record: %w\n%s", err, recOut)
	}
	if werr != nil {
		return werr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s under wrk: %.0f req/s (perf sampling at 999 Hz slows it)\n\n", t.label, run.RPS)
	for _, sortBy := range []string{"comm", "comm,dso", "comm,sym"} {
		out, err := exec.CommandContext(ctx, "perf", "report", "-i", data, "--stdio", "--no-children",
			"--sort", sortBy, "--percent-limit", "0.7", "-g", "none").CombinedOutput()
		if err != nil {
			return fmt.Errorf("perf report: %w\n%s", err, out)
		}
		fmt.Fprintf(&b, "==== perf report --sort %s\n%s\n", sortBy, stripComments(string(out)))
	}
	out := filepath.Join(dir, "perf-"+t.key+".txt")
	fmt.Printf("  %s\n", out)
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func (s *setup) straceTarget(ctx context.Context, t *target, dir string) error {
	out := filepath.Join(dir, "strace-"+t.key+".txt")
	raw := out + ".raw"
	args := []string{"-c", "-f", "-o", raw}
	for _, p := range s.pidsOf(t) {
		args = append(args, "-p", p)
	}
	st := exec.CommandContext(ctx, "strace", args...)
	stOut, err := startCollect(st)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // attach
	run, werr := s.opt.wrk.run(ctx, t.url, 3*time.Second, t.wrkExtra)
	st.Process.Signal(os.Interrupt)
	st.Wait()
	if werr != nil {
		return werr
	}
	table, err := os.ReadFile(raw)
	if err != nil {
		return fmt.Errorf("strace: %w\n%s", err, stOut)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: strace -c -f of %d processes during %d requests (%.0f req/s under strace)\n\n",
		t.label, len(args)/2-2, run.Requests, run.RPS)
	fmt.Fprintf(&b, "%-20s %12s %10s\n", "syscall", "calls", "per request")
	for _, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		// "% time seconds usecs/call calls [errors] syscall"
		if len(f) < 5 || f[0] == "%" || strings.HasPrefix(f[0], "-") {
			continue
		}
		calls, err := strconv.ParseFloat(f[3], 64)
		if err != nil || run.Requests == 0 {
			continue
		}
		fmt.Fprintf(&b, "%-20s %12.0f %10.2f\n", f[len(f)-1], calls, calls/float64(run.Requests))
	}
	fmt.Fprintf(&b, "\n==== strace -c\n%s", table)
	os.Remove(raw)
	fmt.Printf("  %s\n", out)
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// cprofileWorkers runs a wsgideckd whose interpreter is a wrapper that runs
// the worker program under cProfile, loads it, stops it gracefully and
// prints the stats. The worker ends with os._exit (no atexit, no cProfile
// dump), so the wrapper patches os._exit to write the profile first.
func (s *setup) cprofileWorkers(ctx context.Context, dir string) error {
	profDir := filepath.Join(dir, "cprofile")
	os.RemoveAll(profDir)
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		return err
	}
	runner := filepath.Join(dir, "cprofile_worker.py")
	code := fmt.Sprintf(`import cProfile, os, runpy, sys
path = %q + "/worker-%%d.prof" %% os.getpid()
prof = cProfile.Profile()
real_exit = os._exit
def _exit(code):
    prof.disable()
    prof.dump_stats(path)
    real_exit(code)
os._exit = _exit
sys.argv = sys.argv[1:]
prof.enable()
runpy.run_path(sys.argv[0], run_name="__main__")
`, profDir)
	if err := os.WriteFile(runner, []byte(code), 0o644); err != nil {
		return err
	}
	wrapper := filepath.Join(dir, "python-cprofile.sh")
	script := fmt.Sprintf("#!/bin/sh\nexec %s %s \"$@\"\n", s.opt.python, runner)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		return err
	}
	real := s.opt.python
	s.opt.python = wrapper
	sv, err := s.oursEngine("ours-cprofile", "--http-socket", 2)
	s.opt.python = real
	if err != nil {
		return err
	}
	if err := sv.start(s.work); err != nil {
		return err
	}
	defer sv.stop(20 * time.Second)
	u := url(portOf(sv.addr), "/")
	if err := checkBody(u, helloBody, 30*time.Second, sv); err != nil {
		return err
	}
	run, err := s.opt.wrk.run(ctx, u, s.opt.duration, nil)
	if err != nil {
		return err
	}
	if err := sv.stop(20 * time.Second); err != nil {
		return err
	}
	profs, _ := filepath.Glob(filepath.Join(profDir, "*.prof"))
	if len(profs) == 0 {
		return fmt.Errorf("cProfile wrote no profile in %s (did the workers exit normally?)\n%s", profDir, sv.logTail())
	}
	code = `import pstats, sys
n = int(sys.argv[1])
p = pstats.Stats(*sys.argv[2:])
print("requests served:", n)
p.sort_stats("tottime").print_stats(25)
p.sort_stats("cumulative").print_stats(25)
`
	out, err := exec.CommandContext(ctx, s.opt.python, append([]string{"-c", code, strconv.FormatInt(run.Requests, 10)}, profs...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pstats: %w\n%s", err, out)
	}
	path := filepath.Join(dir, "cprofile-worker.txt")
	fmt.Printf("  %s\n", path)
	header := fmt.Sprintf("wsgideckd uwsgi --http-socket, workers under cProfile: %.0f req/s under wrk (cProfile slows them)\n\n", run.RPS)
	return os.WriteFile(path, []byte(header+string(out)), 0o644)
}

// startCollect starts cmd with its output collected in memory (read it
// only after cmd.Wait).
func startCollect(cmd *exec.Cmd) (*strings.Builder, error) {
	var b strings.Builder
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.Path, err)
	}
	return &b, nil
}

func stripComments(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
