package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run printed.
type wrkResult struct {
	Requests    int64         // "N requests in ..."
	RPS         float64       // "Requests/sec:"
	P50, P99    time.Duration // from --latency's distribution
	NonOK       int64         // "Non-2xx or 3xx responses:"
	ConnectErrs int64         // the four "Socket errors:" counters
	ReadErrs    int64
	WriteErrs   int64
	Timeouts    int64
}

var (
	reRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	reRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)\s*$`)
	reSockErrs = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reNonOK    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	rePercent  = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m)\s*$`)
)

// parseWrk reads wrk's text output (run with --latency). It fails when the
// output has no request count or rate, which is what wrk prints when it
// could not run at all.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := reRequests.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no \"N requests in\" line")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	m = reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no \"Requests/sec:\" line")
	}
	var err error
	if r.RPS, err = strconv.ParseFloat(m[1], 64); err != nil {
		return r, fmt.Errorf("wrk Requests/sec %q: %w", m[1], err)
	}
	if m = reSockErrs.FindStringSubmatch(out); m != nil {
		r.ConnectErrs, _ = strconv.ParseInt(m[1], 10, 64)
		r.ReadErrs, _ = strconv.ParseInt(m[2], 10, 64)
		r.WriteErrs, _ = strconv.ParseInt(m[3], 10, 64)
		r.Timeouts, _ = strconv.ParseInt(m[4], 10, 64)
	}
	if m = reNonOK.FindStringSubmatch(out); m != nil {
		r.NonOK, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range rePercent.FindAllStringSubmatch(out, -1) {
		d, err := wrkDuration(m[2], m[3])
		if err != nil {
			return r, err
		}
		switch m[1] {
		case "50":
			r.P50 = d
		case "99":
			r.P99 = d
		}
	}
	if r.Requests > 0 && r.P99 == 0 {
		return r, errors.New("wrk output has no latency distribution (run it with --latency)")
	}
	return r, nil
}

// wrkDuration converts wrk's "714.00us", "1.62ms", "2.00s" or "1.00m".
func wrkDuration(num, unit string) (time.Duration, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("wrk latency %q: %w", num+unit, err)
	}
	scale := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9}[unit]
	return time.Duration(v * scale), nil
}

// wrkOptions are the load generator's settings, the same for every target.
type wrkOptions struct {
	Path        string
	Threads     int
	Connections int
}

// args is wrk's command line for one run of d against url.
func (o wrkOptions) args(url string, d time.Duration, extra []string) []string {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	a := []string{
		"-t" + strconv.Itoa(o.Threads),
		"-c" + strconv.Itoa(o.Connections),
		"-d" + strconv.Itoa(secs) + "s",
		"--latency",
	}
	a = append(a, extra...)
	return append(a, url)
}

// wrkRun is one run: the parsed figures, wrk's own CPU time and its output.
type wrkRun struct {
	wrkResult
	ClientCPU time.Duration
	Output    string
}

func (o wrkOptions) run(ctx context.Context, url string, d time.Duration, extra []string) (wrkRun, error) {
	// A generous deadline: wrk stops itself after d; this only catches a
	// wrk that hangs on a server that stopped answering.
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Path, o.args(url, d, extra)...)
	out, err := cmd.CombinedOutput()
	run := wrkRun{Output: string(out)}
	if cmd.ProcessState != nil {
		run.ClientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return run, fmt.Errorf("wrk %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, indent(string(out)))
	}
	run.wrkResult, err = parseWrk(run.Output)
	if err != nil {
		return run, fmt.Errorf("%w:\n%s", err, indent(run.Output))
	}
	return run, nil
}

func indent(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		b.WriteString("    ")
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}
