package chart

import (
	"fmt"
	"math"
	"testing"
)

const (
	kib = 1024.0
	mib = 1024 * kib
	gib = 1024 * mib
)

func TestUnitFormat(t *testing.T) {
	for _, tc := range []struct {
		u    Unit
		v    float64
		want string
	}{
		{Percent, 0, "0%"},
		{Percent, 23.456, "23.5%"},
		{Percent, 100, "100%"},
		{Percent, 0.5, "0.5%"},
		{Percent, 3.333, "3.33%"},
		{Bytes, 512, "512 B"},
		{Bytes, 1536, "1.5 KiB"},
		{Bytes, 87.54 * mib, "87.5 MiB"},
		{Bytes, 1.25 * gib, "1.25 GiB"},
		{RequestsPerSecond, 950, "950 req/s"},
		{RequestsPerSecond, 12345, "12.3k req/s"},
		{RequestsPerSecond, 0.25, "0.25 req/s"},
		{Milliseconds, 0.421, "0.421 ms"},
		{Milliseconds, 1500, "1500 ms"},
		{Count, 2500000, "2.5M"},
		{Count, -42, "-42"},
		{Percent, math.NaN(), "–"},
		{Milliseconds, math.Inf(1), "∞ ms"},
		{Unit{Custom: func(v, step float64) string { return fmt.Sprintf("<%g|%g>", v, step) }}, 7, "<7|0>"},
	} {
		if got := tc.u.Format(tc.v); got != tc.want {
			t.Errorf("%+v.Format(%v) = %q, want %q", tc.u.Suffix, tc.v, got, tc.want)
		}
	}
}

func axisLabels(u Unit, a yAxis) []string {
	out := make([]string, a.n)
	for i := range out {
		out[i] = a.label(u, i)
	}
	return out
}

func TestAxisTicks(t *testing.T) {
	for _, tc := range []struct {
		u        Unit
		min, max float64
		target   int
		want     string
	}{
		{Percent, 0, 73, 4, "[0% 20% 40% 60% 80%]"},
		{Percent, 0, 100, 5, "[0% 20% 40% 60% 80% 100%]"},
		{Percent, 0, 0, 5, "[0% 0.2% 0.4% 0.6% 0.8% 1.0%]"},                // flat at zero
		{Percent, 0, 0.3, 3, "[0% 0.1% 0.2% 0.3%]"},                        // no float-noise extra tick
		{Percent, 40, 40, 4, "[36% 38% 40% 42% 44%]"},                      // flat, away from zero
		{Milliseconds, 12, 87, 4, "[0 ms 20 ms 40 ms 60 ms 80 ms 100 ms]"}, // lo/hi rounded outwards
		{Milliseconds, -3, 7, 5, "[-4 ms -2 ms 0 ms 2 ms 4 ms 6 ms 8 ms]"},
		{Bytes, 0, 700 * mib, 4, "[0 B 200 MiB 400 MiB 600 MiB 800 MiB]"}, // ticks in the scaled unit
		{Bytes, 0, 1.7 * gib, 4, "[0 B 0.5 GiB 1.0 GiB 1.5 GiB 2.0 GiB]"},
		{Bytes, 0, 900, 3, "[0 B 500 B 1000 B]"},
		{RequestsPerSecond, 0, 4200, 4, "[0 req/s 2k req/s 4k req/s 6k req/s]"},
		{RequestsPerSecond, 0, 37, 4, "[0 req/s 10 req/s 20 req/s 30 req/s 40 req/s]"},
		{Percent, math.NaN(), 5, 4, "[0% 0.5% 1.0%]"}, // nonsense in, a sane axis out
	} {
		a := tc.u.axis(tc.min, tc.max, tc.target)
		if got := fmt.Sprint(axisLabels(tc.u, a)); got != tc.want {
			t.Errorf("axis(%v, %v, %d) %s = %s, want %s", tc.min, tc.max, tc.target, tc.u.Suffix, got, tc.want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ raw, want float64 }{
		{0.7, 1}, {1, 1}, {1.2, 2}, {2, 2}, {2.1, 5}, {4.9, 5}, {5.1, 10}, {13, 20}, {0.031, 0.05}, {0, 1}, {-3, 1}, {math.Inf(1), 1},
	} {
		if got := niceStep(tc.raw); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestAxisCustomFormatter(t *testing.T) {
	u := Unit{Prefix: BinaryPrefix, Custom: func(v, step float64) string { return fmt.Sprintf("%g/%g", v/mib, step/mib) }}
	a := u.axis(0, 300*mib, 3)
	if got := fmt.Sprint(axisLabels(u, a)); got != "[0/100 100/100 200/100 300/100]" {
		t.Errorf("custom labels %s", got)
	}
}

// FuzzAxis checks the tick invariants on arbitrary ranges: the ticks cover
// the data, there are a bounded number of them, and labels can be made.
func FuzzAxis(f *testing.F) {
	f.Add(0.0, 73.0, 4, 0)
	f.Add(-1e-300, 1e300, 10, 1)
	f.Add(5.0, 5.0, 1, 2)
	f.Add(1e-9, 3e-9, 7, 0)
	f.Fuzz(func(t *testing.T, lo, hi float64, target int, prefix int) {
		if target < 0 || target > 20 {
			return
		}
		u := Unit{Suffix: "x", Prefix: Prefix(((prefix % 3) + 3) % 3)}
		a := u.axis(lo, hi, target)
		if a.n < 2 || a.n > 2*max(target, 1)+3 {
			t.Fatalf("axis(%v, %v, %d): %d ticks", lo, hi, target, a.n)
		}
		if !(a.hi > a.lo) || !(a.step > 0) {
			t.Fatalf("axis(%v, %v, %d): lo %v hi %v step %v", lo, hi, target, a.lo, a.hi, a.step)
		}
		if finite(lo) && finite(hi) && math.Abs(lo) < 1e300 && math.Abs(hi) < 1e300 {
			dmin, dmax := math.Min(lo, hi), math.Max(lo, hi)
			// axis rounds to whole steps with an epsilon of 1e-9 of a step
			// (so float noise does not grow an extra tick); that much may be
			// left uncovered, far below a pixel.
			tol := 1e-9*math.Max(math.Abs(dmin), math.Abs(dmax)) + 1e-9*a.step
			if a.lo > dmin+tol || a.hi < dmax-tol {
				t.Fatalf("axis(%v, %v, %d) = [%v, %v] does not cover the data", lo, hi, target, a.lo, a.hi)
			}
		}
		for i := 0; i < a.n; i++ {
			if a.label(u, i) == "" {
				t.Fatal("empty label")
			}
		}
	})
}
