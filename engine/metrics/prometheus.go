package metrics

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exposes a Sampler in Prometheus form: counters read live from
// the Recorder, gauges and latency quantiles from the latest pass.
type collector struct {
	s *Sampler
}

var _ prometheus.Collector = collector{}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("wsgideck_"+name, help, labels, nil)
}

var (
	descRequests        = desc("requests_total", "Requests finished by all workers.")
	descExceptions      = desc("exceptions_total", "Requests whose app raised, all workers.")
	descDuration        = desc("request_duration_seconds", "Request durations, all workers; quantiles over the last sampling interval.")
	descListenQueue     = desc("listen_queue", "Connections waiting in the listen backlog.")
	descInFlight        = desc("requests_in_flight", "Requests being served.")
	descWorkers         = desc("workers", "Workers sampled in the last pass.")
	descWorkersRunning  = desc("workers_running", "Workers whose process could be read in the last pass.")
	descWRequests       = desc("worker_requests_total", "Requests finished by the worker (kept across respawns).", "worker")
	descWExceptions     = desc("worker_exceptions_total", "Requests of the worker whose app raised.", "worker")
	descWResponses      = desc("worker_responses_total", "Responses of the worker by HTTP status class.", "worker", "class")
	descWDuration       = desc("worker_request_duration_seconds", "Request durations of the worker; quantiles over the last sampling interval.", "worker")
	descWInFlight       = desc("worker_requests_in_flight", "Requests the worker is serving.", "worker")
	descWPID            = desc("worker_pid", "The worker's process id.", "worker")
	descWCPUSeconds     = desc("worker_cpu_seconds_total", "User and system CPU time of the worker's current process.", "worker")
	descWCPUPercent     = desc("worker_cpu_percent", "CPU use of the worker over the last sampling interval, in percent of one core.", "worker")
	descWResidentMemory = desc("worker_resident_memory_bytes", "Resident set size of the worker's process.", "worker")
	descWVirtualMemory  = desc("worker_virtual_memory_bytes", "Virtual memory size of the worker's process.", "worker")
	descWThreads        = desc("worker_threads", "Threads of the worker's process.", "worker")

	allDescs = []*prometheus.Desc{descRequests, descExceptions, descDuration, descListenQueue, descInFlight,
		descWorkers, descWorkersRunning, descWRequests, descWExceptions, descWResponses, descWDuration,
		descWInFlight, descWPID, descWCPUSeconds, descWCPUPercent, descWResidentMemory, descWVirtualMemory, descWThreads}
)

// NewCollector returns a prometheus.Collector for s, to register in the
// engine's own registry.
func NewCollector(s *Sampler) prometheus.Collector { return collector{s} }

// Handler serves s in the Prometheus text exposition format, from a
// registry of its own (nothing process-global is registered).
func Handler(s *Sampler) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(s))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	latest := c.s.Latest()
	m := latest.Master
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descListenQueue, float64(m.ListenQueue))
	gauge(descInFlight, float64(m.InFlight))
	gauge(descWorkers, float64(m.Workers))
	gauge(descWorkersRunning, float64(m.Running))

	byID := make(map[int]WorkerSample, len(latest.Workers))
	for _, ws := range latest.Workers {
		byID[ws.WorkerID] = ws
	}

	// Counters come live from the Recorder, so a scrape right after a
	// request sees it.
	var all Totals
	if r := c.s.Recorder; r != nil {
		for _, id := range r.WorkerIDs() {
			t, _ := r.Totals(id)
			all.Requests += t.Requests
			all.Exceptions += t.Exceptions
			all.Latency += t.Latency
			all.Status.add(t.Status)
			w := strconv.Itoa(id)
			counter(descWRequests, float64(t.Requests), w)
			counter(descWExceptions, float64(t.Exceptions), w)
			for _, cl := range []struct {
				name string
				n    uint64
			}{{"1xx", t.Status.Informational}, {"2xx", t.Status.Success}, {"3xx", t.Status.Redirection},
				{"4xx", t.Status.ClientError}, {"5xx", t.Status.ServerError}, {"other", t.Status.Other}} {
				counter(descWResponses, float64(cl.n), w, cl.name)
			}
			ws, ok := byID[id]
			ch <- prometheus.MustNewConstSummary(descWDuration, t.Requests, t.Latency.Seconds(),
				quantileMap(ok && ws.Requests > 0, ws.P50, ws.P95, ws.P99), w)
		}
	}
	counter(descRequests, float64(all.Requests))
	counter(descExceptions, float64(all.Exceptions))
	ch <- prometheus.MustNewConstSummary(descDuration, all.Requests, all.Latency.Seconds(),
		quantileMap(m.Requests > 0, m.P50, m.P95, m.P99))

	for _, ws := range latest.Workers {
		w := strconv.Itoa(ws.WorkerID)
		gauge(descWInFlight, float64(ws.InFlight), w)
		if !ws.Proc {
			continue
		}
		gauge(descWPID, float64(ws.PID), w)
		counter(descWCPUSeconds, ws.CPUTime.Seconds(), w)
		gauge(descWCPUPercent, ws.CPUPercent, w)
		gauge(descWResidentMemory, float64(ws.RSS), w)
		gauge(descWVirtualMemory, float64(ws.VSZ), w)
		gauge(descWThreads, float64(ws.Threads), w)
	}
}

// quantileMap gives a summary's quantiles, NaN (Prometheus's "no
// observations") when the interval had no requests.
func quantileMap(have bool, p50, p95, p99 time.Duration) map[float64]float64 {
	if !have {
		nan := math.NaN()
		return map[float64]float64{0.5: nan, 0.95: nan, 0.99: nan}
	}
	return map[float64]float64{0.5: p50.Seconds(), 0.95: p95.Seconds(), 0.99: p99.Seconds()}
}
