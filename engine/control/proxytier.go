package control

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wsgideck/wsgideck/engine/metrics"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

// proxyRun is one run of the proxy, from Start to Stop.
type proxyRun struct {
	srv *proxy.Server
	// counts are the responses since the run started, by status class
	// (metrics.StatusCounts' order), and in total.
	counts [6]atomic.Uint64
	total  atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
}

// addrs returns the bound addresses in the order nginx.conf lists them.
func (p *proxyRun) addrs() []string {
	bound := p.srv.Addrs()
	order := map[string]int{}
	if cfg := p.srv.Config(); cfg != nil {
		for i, l := range cfg.Listens {
			if _, ok := order[l.Port]; !ok {
				order[l.Port] = i
			}
		}
	}
	out := make([]string, 0, len(bound))
	for _, a := range bound {
		out = append(out, a.String())
	}
	rank := func(a string) int {
		if _, port, err := net.SplitHostPort(a); err == nil {
			if i, ok := order[port]; ok {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

func (r *Runner) startProxy(ctx context.Context, p *plan) error {
	run := &proxyRun{}
	for _, w := range p.proxyCfg.Warnings {
		r.addLog(LogLine{Source: LogProxyError, Level: LevelWarn, Text: w})
	}
	run.srv = proxy.NewServer(proxy.Options{
		Logf:      r.proxyLogf,
		Now:       r.opts.Now,
		OnRequest: func(rec proxy.RequestRecord) { r.proxyAccess(run, &rec) },
	})
	if err := run.srv.Start(p.proxyCfg); err != nil {
		err = explainBusy(ctx, fmt.Errorf("%s: %w", relTo(r.opts.Dir, r.nginx), err))
		r.setProxy(Failed, err.Error())
		r.addLog(LogLine{Source: LogProxyError, Level: LevelError, Text: "wsgideck: the proxy did not start: " + err.Error()})
		return err
	}
	run.ctx, run.cancel = context.WithCancel(context.Background())
	r.mu.Lock()
	r.px = run
	r.pxCounting = true
	r.mu.Unlock()
	go r.sampleProxy(run)
	r.setProxy(Running, "")
	return nil
}

func (r *Runner) reloadProxy(run *proxyRun, p *plan) error {
	if err := run.srv.Reload(p.proxyCfg); err != nil {
		return fmt.Errorf("%s: %w", relTo(r.opts.Dir, r.nginx), err)
	}
	for _, w := range p.proxyCfg.Warnings {
		r.addLog(LogLine{Source: LogProxyError, Level: LevelWarn, Text: w})
	}
	r.addLog(LogLine{Source: LogProxyError, Text: "wsgideck: the proxy reloaded its configuration"})
	return nil
}

func (r *Runner) stopProxy(ctx context.Context) {
	r.mu.Lock()
	run := r.px
	st := r.pxSt.state
	r.mu.Unlock()
	if run == nil {
		if st != Stopped {
			r.setProxy(Stopped, "")
		}
		return
	}
	r.setProxy(Stopping, "")
	if err := run.srv.Shutdown(ctx); err != nil {
		run.srv.Close()
	}
	run.cancel()
	r.mu.Lock()
	if r.px == run {
		r.px = nil
	}
	r.mu.Unlock()
	r.setProxy(Stopped, "")
}

// proxyLogf receives the proxy's error log (when it goes to stderr).
func (r *Runner) proxyLogf(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		r.addLog(LogLine{Source: LogProxyError, Level: nginxLevel(line), Text: line})
	}
}

// proxyAccess receives each finished request of the proxy (its
// OnRequest hook, on the request's goroutine): it is counted, logged in
// nginx's combined format and published.
func (r *Runner) proxyAccess(run *proxyRun, rec *proxy.RequestRecord) {
	run.counts[statusClass(rec.Status)].Add(1)
	run.total.Add(1)
	lvl := LevelInfo
	switch {
	case rec.Status >= 500:
		lvl = LevelError
	case rec.Status >= 400:
		lvl = LevelWarn
	}
	r.addLog(LogLine{Time: rec.Time, Source: LogProxyAccess, Level: lvl, Text: rec.Combined()})
	r.traces.proxy(rec, r.engUp.Load())
	if r.events.wants(EventRequest) {
		r.emit(Event{Time: rec.Time, Kind: EventRequest, Tier: Proxy, Request: &Request{Tier: Proxy, Method: rec.Method, URI: rec.URI,
			Status: rec.Status, Duration: rec.Duration, Bytes: rec.BodyBytesSent, Upstream: rec.Upstream}})
	}
}

// statusClass indexes metrics.StatusCounts' fields: 1xx..5xx, then other.
func statusClass(status int) int {
	if status >= 100 && status <= 599 {
		return status/100 - 1
	}
	return 5
}

// ProxySample is the proxy's responses over one sampling interval, by
// status class.
type ProxySample struct {
	Time     time.Time
	Requests uint64
	RPS      float64
	Status   metrics.StatusCounts
}

// sampleProxy turns the run's counters into one sample per interval.
func (r *Runner) sampleProxy(run *proxyRun) {
	interval := r.opts.SampleInterval
	if interval <= 0 {
		interval = metrics.DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last [6]uint64
	lastTime := r.now()
	for {
		select {
		case <-run.ctx.Done():
			return
		case <-t.C:
		}
		now := r.now()
		var cur [6]uint64
		for i := range cur {
			cur[i] = run.counts[i].Load()
		}
		s := ProxySample{Time: now, Status: metrics.StatusCounts{
			Informational: cur[0] - last[0], Success: cur[1] - last[1], Redirection: cur[2] - last[2],
			ClientError: cur[3] - last[3], ServerError: cur[4] - last[4], Other: cur[5] - last[5],
		}}
		for i := range cur {
			s.Requests += cur[i] - last[i]
		}
		if d := now.Sub(lastTime).Seconds(); d > 0 {
			s.RPS = float64(s.Requests) / d
		}
		last, lastTime = cur, now
		r.pxHist.add(s)
	}
}
