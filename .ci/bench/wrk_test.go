package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		file string
		want wrkResult
	}{
		{"wrk-keepalive.txt", wrkResult{Requests: 56894, RPS: 18920.95, P50: 714 * time.Microsecond, P99: 16020 * time.Microsecond}},
		{"wrk-uwsgi-closing.txt", wrkResult{Requests: 5317, RPS: 5099.75, P50: 1350 * time.Microsecond, P99: 35580 * time.Microsecond, ReadErrs: 5317}},
		{"wrk-non2xx.txt", wrkResult{Requests: 763, RPS: 754.59, P50: 2560 * time.Microsecond, P99: 85560 * time.Microsecond, NonOK: 763}},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseWrk(string(b))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseWrkRejectsFailedRuns(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "wrk-refused.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseWrk(string(b)); err == nil {
		t.Error("wrk's \"unable to connect\" output parsed without error")
	}
	// Without --latency there is no p99 to report: an error, not a zero.
	ka, _ := os.ReadFile(filepath.Join("testdata", "wrk-keepalive.txt"))
	var kept []string
	for _, line := range strings.Split(string(ka), "\n") {
		if !strings.Contains(line, "%  ") && !strings.Contains(line, "Distribution") {
			kept = append(kept, line)
		}
	}
	if _, err := parseWrk(strings.Join(kept, "\n")); err == nil || !strings.Contains(err.Error(), "--latency") {
		t.Errorf("output without a latency distribution: err = %v, want one naming --latency", err)
	}
}

func TestWrkDurationUnits(t *testing.T) {
	for in, want := range map[[2]string]time.Duration{
		{"714.00", "us"}: 714 * time.Microsecond,
		{"1.62", "ms"}:   1620 * time.Microsecond,
		{"2.00", "s"}:    2 * time.Second,
		{"1.50", "m"}:    90 * time.Second,
	} {
		got, err := wrkDuration(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("wrkDuration(%q, %q) = %v, %v; want %v", in[0], in[1], got, err, want)
		}
	}
}

func FuzzParseWrk(f *testing.F) {
	for _, name := range []string{"wrk-keepalive.txt", "wrk-uwsgi-closing.txt", "wrk-non2xx.txt", "wrk-refused.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseWrk(out)
		if err != nil {
			return
		}
		if r.Requests < 0 || r.RPS < 0 || r.P99 < 0 || r.P50 < 0 {
			t.Fatalf("negative figures from %q: %+v", out, r)
		}
		if r.Requests > 0 && r.P99 == 0 {
			t.Fatalf("requests but no p99 accepted from %q", out)
		}
	})
}
