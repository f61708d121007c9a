package metrics

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches url with a plain HTTP client and parses the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text exposition format", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return fams
}

// metric finds the sample of family name whose labels are the given
// name=value pairs.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return math.NaN()
}

func TestPrometheusScrape(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	clock := &fakeClock{t: t0}
	src := &fakeSource{}
	src.set(101, ProcStat{CPU: 1500 * time.Millisecond, RSS: 10 << 20, VSZ: 100 << 20, Threads: 3, Started: t0.Add(-3 * time.Second)})
	rec := &Recorder{}
	s := &Sampler{Recorder: rec, Source: src, Now: clock.Now,
		Targets: func() []Target { return []Target{{WorkerID: 1, PID: 101, InFlight: 2}, {WorkerID: 2}} },
		Gauges:  func() Gauges { return Gauges{ListenQueue: 3} }}
	for range 8 {
		rec.RequestDone(1, 10*time.Millisecond, 200, false)
	}
	rec.RequestDone(1, 200*time.Millisecond, 500, true)
	rec.RequestDone(2, 20*time.Millisecond, 404, false)
	s.Sample()

	srv := httptest.NewServer(Handler(s))
	defer srv.Close()
	fams := scrape(t, srv.URL+"/metrics")

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wsgideck_requests_total", nil, 10},
		{"wsgideck_exceptions_total", nil, 1},
		{"wsgideck_listen_queue", nil, 3},
		{"wsgideck_requests_in_flight", nil, 2},
		{"wsgideck_workers", nil, 2},
		{"wsgideck_workers_running", nil, 1},
		{"wsgideck_worker_requests_total", []string{"worker", "1"}, 9},
		{"wsgideck_worker_requests_total", []string{"worker", "2"}, 1},
		{"wsgideck_worker_exceptions_total", []string{"worker", "1"}, 1},
		{"wsgideck_worker_responses_total", []string{"worker", "1", "class", "2xx"}, 8},
		{"wsgideck_worker_responses_total", []string{"worker", "1", "class", "5xx"}, 1},
		{"wsgideck_worker_responses_total", []string{"worker", "2", "class", "4xx"}, 1},
		{"wsgideck_worker_responses_total", []string{"worker", "2", "class", "other"}, 0},
		{"wsgideck_worker_requests_in_flight", []string{"worker", "1"}, 2},
		{"wsgideck_worker_pid", []string{"worker", "1"}, 101},
		{"wsgideck_worker_cpu_seconds_total", []string{"worker", "1"}, 1.5},
		{"wsgideck_worker_cpu_percent", []string{"worker", "1"}, 50},
		{"wsgideck_worker_resident_memory_bytes", []string{"worker", "1"}, 10 << 20},
		{"wsgideck_worker_virtual_memory_bytes", []string{"worker", "1"}, 100 << 20},
		{"wsgideck_worker_threads", []string{"worker", "1"}, 3},
	} {
		if got := value(metric(t, fams, c.name, c.labels...)); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Worker 2 has no process: no process gauges for it.
	for _, m := range fams["wsgideck_worker_resident_memory_bytes"].Metric {
		if m.Label[0].GetValue() == "2" {
			t.Errorf("process gauge for a worker without a process")
		}
	}

	sum := metric(t, fams, "wsgideck_worker_request_duration_seconds", "worker", "1").Summary
	if sum.GetSampleCount() != 9 || math.Abs(sum.GetSampleSum()-0.28) > 1e-9 {
		t.Errorf("worker 1 summary count %d sum %v, want 9 and 0.28", sum.GetSampleCount(), sum.GetSampleSum())
	}
	for _, q := range sum.Quantile {
		want := 0.200 // 9 requests: the 95th and 99th percentiles are the 9th, the slow one
		if q.GetQuantile() == 0.5 {
			want = 0.010
		}
		if math.Abs(q.GetValue()-want) > want/16 {
			t.Errorf("worker 1 quantile %v = %v, want about %v", q.GetQuantile(), q.GetValue(), want)
		}
	}
	all := metric(t, fams, "wsgideck_request_duration_seconds").Summary
	if all.GetSampleCount() != 10 || math.Abs(all.GetSampleSum()-0.3) > 1e-9 {
		t.Errorf("overall summary count %d sum %v", all.GetSampleCount(), all.GetSampleSum())
	}

	// Counters are live: a request recorded after the pass shows at once;
	// the quantiles of an interval without requests are NaN.
	rec.RequestDone(1, time.Millisecond, 201, false)
	clock.Advance(time.Second)
	src.set(101, ProcStat{})
	rec2 := scrape(t, srv.URL+"/metrics")
	if got := value(metric(t, rec2, "wsgideck_worker_requests_total", "worker", "1")); got != 10 {
		t.Errorf("live counter: %v, want 10", got)
	}
	s.Sample() // the one request above ended in this interval
	s.Sample() // none in this one
	rec3 := scrape(t, srv.URL+"/metrics")
	for _, q := range metric(t, rec3, "wsgideck_worker_request_duration_seconds", "worker", "1").Summary.Quantile {
		if !math.IsNaN(q.GetValue()) {
			t.Errorf("quantile %v of an empty interval = %v, want NaN", q.GetQuantile(), q.GetValue())
		}
	}
	if _, ok := rec3["wsgideck_worker_pid"]; ok {
		t.Error("the pid of a process that is gone is still exported")
	}
}
