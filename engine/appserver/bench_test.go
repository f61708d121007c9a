package appserver

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/wsgideck/wsgideck/engine/metrics"
	"syscall"
	"testing"
	"time"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSamplerWired measures one pass of the server's own metrics
// sampler over 16 real workers (gopsutil reads of /proc plus the request
// figures), in CPU time of this process; "%core@1Hz" is what sampling once
// a second costs.
//
//	go test ./engine/appserver -run '^$' -bench SamplerWired -benchtime 200x
func BenchmarkSamplerWired(b *testing.B) {
	s, base := benchServer(b, func(c *Config) { c.Processes = 16 })
	for i := 0; i < 32; i++ {
		benchGet(b, base+"/")
	}
	s.stopSampler() // only the passes measured here run
	s.Metrics().Sample()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		s.Metrics().Sample()
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	perPass := cpu / time.Duration(b.N)
	b.ReportMetric(float64(perPass.Microseconds()), "cpu-µs/pass")
	b.ReportMetric(100*perPass.Seconds(), "%core@1Hz")
	if n := len(s.Metrics().Latest().Workers); n != 16 {
		b.Fatalf("sampled %d workers", n)
	}
}

// BenchmarkAccountingHooks compares the engine with its per-request hooks
// on (metrics recorder, stats timing, and an EventRequest subscriber, as
// the UI's request traces use) and off (Config.DisableAccounting), in the
// same run: wrk rounds of 2 s alternate on, off, off, on (so drift in the
// machine's load hits both sides alike). It reports each side's
// throughput, their ratio, and the master's own CPU time per request (this
// process's rusage), which is where the hooks run and which is far less
// noisy than throughput on a shared machine (the Python workers and wrk
// dominate it).
//
//	go test ./engine/appserver -run '^$' -bench AccountingHooks -benchtime 3x
func BenchmarkAccountingHooks(b *testing.B) {
	on, onBase := benchServer(b, func(c *Config) { c.Processes = 2 })
	var seen atomic.Int64
	cancel := on.Subscribe(func(e Event) { seen.Add(1) }, EventRequest)
	defer cancel()
	_, offBase := benchServer(b, func(c *Config) { c.Processes = 2; c.DisableAccounting = true })
	type side struct {
		reqs float64
		wall time.Duration
		cpu  time.Duration
	}
	sides := map[string]*side{"on": {}, "off": {}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, name := range []string{"on", "off", "off", "on"} {
			url := onBase
			if name == "off" {
				url = offBase
			}
			cpu0 := processCPU()
			r, err := runWrk(context.Background(), url+"/", 2*time.Second, 8)
			cpu := processCPU() - cpu0
			if err != nil {
				b.Fatal(err)
			}
			if r.Non2xx != 0 || r.SocketErrors != 0 {
				b.Fatalf("wrk (%s):\n%s", name, r.Output)
			}
			sd := sides[name]
			sd.reqs += float64(r.Requests)
			sd.wall += 2 * time.Second
			sd.cpu += cpu
		}
	}
	b.StopTimer()
	rps := func(sd *side) float64 { return sd.reqs / sd.wall.Seconds() }
	cpuPerReq := func(sd *side) float64 { return float64(sd.cpu.Nanoseconds()) / sd.reqs / 1e3 }
	b.ReportMetric(rps(sides["on"]), "req/s-hooks-on")
	b.ReportMetric(rps(sides["off"]), "req/s-hooks-off")
	b.ReportMetric(rps(sides["on"])/rps(sides["off"]), "on/off")
	b.ReportMetric(cpuPerReq(sides["on"]), "master-µs/req-on")
	b.ReportMetric(cpuPerReq(sides["off"]), "master-µs/req-off")
	if seen.Load() == 0 {
		b.Fatal("the subscriber saw no request event")
	}
}

// benchServer starts superviseApp for a benchmark.
func benchServer(b *testing.B, mod func(*Config)) (*Server, string) {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(superviseApp), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := Config{Sockets: []Socket{{Proto: ProtoHTTP, Addr: "127.0.0.1:0", Option: "http-socket"}}, Chdir: dir, WSGIFile: "app.py", Python: testPython, DisableLogging: true}
	if mod != nil {
		mod(&cfg)
	}
	s := &Server{Config: cfg, Log: &syncBuffer{}}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, w := range s.Snapshot().Workers {
			if w.Accepting {
				n++
			}
		}
		if n == cfg.Processes {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("workers not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, "http://" + s.Addrs()[0]
}

func benchGet(b *testing.B, url string) {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// BenchmarkRequestHooks measures what the per-request accounting costs
// the master in isolation: logRequest for one finished request (the log
// line itself off), with the hooks off, on, and on with an EventRequest
// subscriber. Compare with the master's CPU per request under load
// (BenchmarkAccountingHooks' master-µs/req, some 25-45 µs here).
func BenchmarkRequestHooks(b *testing.B) {
	for _, mode := range []string{"off", "on", "on+subscriber"} {
		b.Run(mode, func(b *testing.B) {
			cfg := Config{DisableLogging: true, DisableAccounting: mode == "off"}
			s := &Server{config: &cfg}
			if mode != "off" {
				s.recorder = &metrics.Recorder{}
			}
			if mode == "on+subscriber" {
				cancel := s.Subscribe(func(Event) {}, EventRequest)
				defer cancel()
			}
			sl := &slot{id: 1}
			w := &worker{s: s, slot: sl, pid: 1234, born: time.Now()}
			rq := &request{proto: "HTTP/1.1"}
			rq.info.Method, rq.info.URI, rq.info.RemoteAddr = "GET", "/", "127.0.0.1"
			x := exchange{status: 200, bodyBytes: 100, headerBytes: 40, app: 0}
			start := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.logRequest(rq, w, 0, &x, start)
			}
		})
	}
}
