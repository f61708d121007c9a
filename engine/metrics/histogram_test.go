package metrics

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryDuration(t *testing.T) {
	// Consecutive buckets tile [0, 2^(maxExp+1)) µs without gaps.
	var next uint64
	for i := range numBuckets {
		lo, w := bucketBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d µs, want %d", i, lo, next)
		}
		if i >= subBuckets && w*subBuckets > lo {
			t.Fatalf("bucket %d [%d, +%d) is wider than 1/16 of its start", i, lo, w)
		}
		for _, us := range []uint64{lo, lo + w/2, lo + w - 1} {
			if got := bucketOf(time.Duration(us) * time.Microsecond); got != i && !(i == numBuckets-1) {
				t.Fatalf("%d µs is in bucket %d, want %d", us, got, i)
			}
		}
		next = lo + w
	}
	if next != 1<<(maxExp+1) {
		t.Fatalf("the buckets end at %d µs, want 2^%d", next, maxExp+1)
	}
	for _, d := range []time.Duration{-time.Second, 0, 999 * time.Nanosecond} {
		if got := bucketOf(d); got != 0 {
			t.Errorf("bucketOf(%v) = %d, want 0", d, got)
		}
	}
	if got := bucketOf(1000 * time.Hour); got != numBuckets-1 {
		t.Errorf("1000h goes to bucket %d, want the last", got)
	}
}

// TestQuantilesWithinBucketError draws random latencies and compares the
// histogram's quantiles with the exact ones.
func TestQuantilesWithinBucketError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 99, 1000, 20000} {
		var counts [numBuckets]uint64
		ds := make([]time.Duration, n)
		for i := range ds {
			// Log-uniform from 20 µs to 20 s, like real request latencies.
			ds[i] = time.Duration(20e3 * float64(uint64(1)<<r.IntN(20)) * (1 + r.Float64()))
			counts[bucketOf(ds[i])]++
		}
		slices.Sort(ds)
		got := make([]time.Duration, len(quantileLevels))
		quantiles(&counts, uint64(n), quantileLevels, got)
		for k, q := range quantileLevels {
			exact := ds[rank(q, uint64(n))-1]
			if diff := (got[k] - exact).Abs(); diff > exact/16 {
				t.Errorf("n=%d p%v: histogram says %v, exact %v", n, q*100, got[k], exact)
			}
		}
	}
	out := []time.Duration{1, 2, 3}
	quantiles(&[numBuckets]uint64{}, 0, quantileLevels, out)
	if out[0] != 0 || out[2] != 0 {
		t.Errorf("no observations: %v", out)
	}
}

func TestRank(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		n, r uint64
	}{{0.5, 1, 1}, {0.5, 2, 1}, {0.5, 3, 2}, {0.95, 20, 19}, {0.95, 21, 20}, {0.99, 100, 99}, {0.99, 1000, 990}, {0.01, 10, 1}} {
		if got := rank(tc.q, tc.n); got != tc.r {
			t.Errorf("rank(%v, %d) = %d, want %d", tc.q, tc.n, got, tc.r)
		}
	}
}
