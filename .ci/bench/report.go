package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one run found, rendered as text or Markdown.
type report struct {
	opt                options
	started, finished  time.Time
	loadStart, loadEnd string
	versions           [][2]string
	targets            []*target
	compares           []comparison
	memory             []procMemory
	supervision        *supervisionResult
	todos              []string
}

// table is a header row and data rows, rendered by both formats.
type table struct {
	title string
	head  []string
	rows  [][]string
	notes []string
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// series extracts one figure from every run of t.
func (t *target) series(f func(measurement) float64) []float64 {
	out := make([]float64, len(t.runs))
	for i, m := range t.runs {
		out[i] = f(m)
	}
	return out
}

func (t *target) rps() float64 { return median(t.series(func(m measurement) float64 { return m.RPS })) }

func (t *target) cpuPerReq(part func(measurement) time.Duration) float64 {
	return median(t.series(func(m measurement) float64 { return us(m.perRequest(part(m))) }))
}

func (t *target) serverCPUPerReq() float64 {
	return t.cpuPerReq(measurement.serverCPU)
}

func (r *report) targetTable(group string) table {
	tb := table{
		title: group,
		head:  []string{"target", "req/s (median)", "req/s min-max", "p99 (median)", "server CPU us/req", "of which: service master + children", "connection", "errors"},
	}
	for _, t := range r.targets {
		if t.group != group || len(t.runs) == 0 {
			continue
		}
		rpsS := t.series(func(m measurement) float64 { return m.RPS })
		lo, hi := minMax(rpsS)
		p99 := time.Duration(median(t.series(func(m measurement) float64 { return float64(m.P99) })))
		conn := "keep-alive"
		if !t.keepAlive {
			conn = "closed per request"
		}
		var nonOK, sockErr int64
		for _, m := range t.runs {
			nonOK += m.NonOK
			sockErr += m.ConnectErrs + m.WriteErrs + m.Timeouts
			if t.keepAlive {
				// Only a server that closes after each response
				// makes read errors normal.
				sockErr += m.ReadErrs
			}
		}
		errs := "0"
		if nonOK+sockErr > 0 {
			errs = fmt.Sprintf("non-2xx %d, socket %d", nonOK, sockErr)
		}
		var parts []string
		for i, sv := range t.services {
			parts = append(parts, fmt.Sprintf("%s %.1f + %.1f", sv.name,
				t.cpuPerReq(func(m measurement) time.Duration { return m.cpu[i].master }),
				t.cpuPerReq(func(m measurement) time.Duration { return m.cpu[i].children })))
		}
		split := strings.Join(parts, "; ")
		tb.rows = append(tb.rows, []string{
			t.key + ": " + t.label,
			fmt.Sprintf("%.0f", t.rps()),
			fmt.Sprintf("%.0f-%.0f", lo, hi),
			fmtDur(p99),
			fmt.Sprintf("%.1f", t.serverCPUPerReq()),
			split,
			conn,
			errs,
		})
	}
	tb.notes = append(tb.notes,
		"server CPU us/req: CPU time of the target's process trees (for a proxy -> X: the proxy's and X's) during the run, over the requests completed, "+
			"split per service into its master (the uWSGI, wsgideckd, gunicorn or nginx master) and its children (workers, uWSGI's http router, nginx's worker).",
		"connection: whether the server kept the client's connection open between requests (checked before the run with wrk's request headers). "+
			"wrk counts a response delimited by closing the connection as a socket read error; those are not listed under errors.")
	return tb
}

func (r *report) compareTable(group string) table {
	tb := table{
		title: group + ": ratios (ours / peer, requests/s)",
		head:  []string{"comparison", "ours req/s", "peer req/s", "ratio", "per-round ratios", "target", "verdict", "CPU/req peer / ours"},
	}
	byKey := map[string]*target{}
	for _, t := range r.targets {
		byKey[t.key] = t
	}
	for _, c := range r.compares {
		if c.group != group {
			continue
		}
		ours, peer := byKey[c.ours], byKey[c.peer]
		if ours == nil || peer == nil || len(ours.runs) == 0 || len(peer.runs) == 0 {
			continue
		}
		ratio := ours.rps() / peer.rps()
		var per []float64
		for i := range ours.runs {
			if i < len(peer.runs) {
				per = append(per, ours.runs[i].RPS/peer.runs[i].RPS)
			}
		}
		lo, hi := minMax(per)
		want, verdict := "(info)", ""
		if c.min > 0 {
			want = fmt.Sprintf(">= %.1fx", c.min)
			verdict = "PASS"
			if ratio < c.min {
				verdict = "MISS"
			}
		}
		tb.rows = append(tb.rows, []string{
			c.label,
			fmt.Sprintf("%.0f", ours.rps()),
			fmt.Sprintf("%.0f", peer.rps()),
			fmt.Sprintf("%.2fx", ratio),
			fmt.Sprintf("%.2f-%.2f", lo, hi),
			want,
			verdict,
			fmt.Sprintf("%.2fx", peer.serverCPUPerReq()/ours.serverCPUPerReq()),
		})
	}
	tb.notes = append(tb.notes,
		"ratio: of the median requests/s; per-round ratios: ours and the peer in the same round, seconds apart.",
		"CPU/req peer / ours: above 1 means ours spends less server CPU per request than the peer.")
	return tb
}

func (r *report) memoryTable() table {
	tb := table{
		title: "memory after the rounds (KiB)",
		head:  []string{"service", "master RSS", "master peak RSS", "children RSS (each)", "total RSS", "total PSS"},
	}
	for _, pm := range r.memory {
		if len(pm.procs) == 0 {
			continue
		}
		var kids []string
		var total, pss uint64
		for i, p := range pm.procs {
			total += p.rss
			pss += p.pss
			if i > 0 {
				kids = append(kids, fmt.Sprintf("%d", p.rss))
			}
		}
		tb.rows = append(tb.rows, []string{
			pm.service,
			fmt.Sprintf("%d", pm.procs[0].rss),
			fmt.Sprintf("%d", pm.procs[0].hwm),
			strings.Join(kids, ", "),
			fmt.Sprintf("%d", total),
			fmt.Sprintf("%d", pss),
		})
	}
	tb.notes = append(tb.notes,
		"children: the Python workers (uWSGI --http also has its router process; nginx its one worker; wsgideckd's masters are Go, their workers fresh interpreters).",
		"PSS divides shared pages among the processes sharing them: uWSGI and gunicorn fork their workers from a master that already imported Python, so their pages are shared; wsgideckd starts each worker as a new interpreter.")
	return tb
}

func (r *report) othersLoad() float64 {
	var others, wall float64
	for _, t := range r.targets {
		for _, m := range t.runs {
			others += m.othersCPU().Seconds()
			wall += m.wall.Seconds()
		}
	}
	if wall == 0 {
		return 0
	}
	return 100 * others / (wall * float64(numCPU()))
}

func (r *report) header() [][2]string {
	h := [][2]string{
		{"date", r.started.Format("2006-01-02 15:04 MST") + fmt.Sprintf(" (%v)", r.finished.Sub(r.started).Round(time.Second))},
		{"machine", fmt.Sprintf("%d CPUs (%s), %s RAM, Linux %s", numCPU(), cpuModel(), memTotal(), kernelRelease())},
		{"load average", fmt.Sprintf("%s at the start, %s at the end", r.loadStart, r.loadEnd)},
		{"others' load", fmt.Sprintf("processes outside the benchmark used %.0f%% of the machine's CPU during the wrk runs, on average", r.othersLoad())},
		{"wrk", fmt.Sprintf("-t%d -c%d -d%v --latency, %d interleaved rounds (order rotated each round), %v warm-up per target; medians over rounds",
			r.opt.wrk.Threads, r.opt.wrk.Connections, r.opt.duration, r.opt.rounds, r.opt.warmup)},
		{"app", "def application(e, s): s('200 OK', [('Content-Type','text/plain')]); return [b'Hello World']"},
		{"logging", "--disable-logging on uWSGI and wsgideckd uwsgi; gunicorn's default (no access log); access_log off on both proxies"},
	}
	if len(r.opt.oursEnv) > 0 {
		h = append(h, [2]string{"ours-env", "every wsgideckd ran with " + strings.Join(r.opt.oursEnv, " ")})
	}
	if host, err := os.Hostname(); err == nil {
		h[1][1] += ", host " + host
	}
	return append(h, r.versions...)
}

func (r *report) tables() []table {
	var out []table
	for _, g := range []string{"engine", "proxy", "supervision"} {
		tt := r.targetTable(g)
		if len(tt.rows) == 0 {
			continue
		}
		tt.title = map[string]string{"engine": "engine (issue 2): hello world", "proxy": "proxy (issue 4)", "supervision": "supervision (issue 3): accounting and tracing hooks"}[g]
		out = append(out, tt)
		if ct := r.compareTable(g); len(ct.rows) > 0 {
			out = append(out, ct)
		}
	}
	if mt := r.memoryTable(); len(mt.rows) > 0 {
		out = append(out, mt)
	}
	if r.supervision != nil {
		out = append(out, r.supervision.table())
	}
	return out
}

func (r *report) text() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, kv := range r.header() {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	tw.Flush()
	for _, t := range r.tables() {
		fmt.Fprintf(&b, "\n== %s\n", t.title)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.head, "\t"))
		for _, row := range t.rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
		for _, n := range t.notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	for _, todo := range r.todos {
		fmt.Fprintf(&b, "\nTODO %s\n", todo)
	}
	return b.String()
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# wsgideck benchmark results\n\n")
	b.WriteString("Written by `go run ./.ci/bench -md .ci/bench/RESULTS.md`; every figure below comes from one run of the harness, " +
		"ours and the real peers side by side on the same machine.\n\n")
	for _, kv := range r.header() {
		fmt.Fprintf(&b, "- **%s**: %s\n", kv[0], mdEscape(kv[1]))
	}
	for _, t := range r.tables() {
		fmt.Fprintf(&b, "\n## %s\n\n", t.title)
		fmt.Fprintf(&b, "| %s |\n", strings.Join(t.head, " | "))
		seps := make([]string, len(t.head))
		for i := range seps {
			seps[i] = "---"
			if i > 0 {
				seps[i] = "---:"
			}
		}
		fmt.Fprintf(&b, "|%s|\n", strings.Join(seps, "|"))
		for _, row := range t.rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = mdEscape(c)
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
		if len(t.notes) > 0 {
			b.WriteString("\n")
			for _, n := range t.notes {
				fmt.Fprintf(&b, "- %s\n", mdEscape(n))
			}
		}
	}
	if len(r.todos) > 0 {
		b.WriteString("\n## TODO\n\n")
		for _, todo := range r.todos {
			fmt.Fprintf(&b, "- %s\n", todo)
		}
	}
	return b.String()
}

// notesMarker starts the hand-written part of the Markdown report, which
// -md keeps when it rewrites the file.
const notesMarker = "<!-- hand-written notes: everything from this line on is kept by -md -->"

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
	}
}
