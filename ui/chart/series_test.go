package chart

import (
	"math"
	"testing"
	"time"
)

func sec(k int) time.Time { return t0.Add(time.Duration(k) * time.Second) }

// values returns every sample value of s, oldest first.
func values(s *Series) []float64 {
	out := make([]float64, s.Len())
	for i := range out {
		out[i] = s.At(i).Value
	}
	return out
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSeriesWrapAround(t *testing.T) {
	s := NewSeries("w", 4)
	if s.Cap() != 4 || s.Len() != 0 || s.Name() != "w" {
		t.Fatalf("new series: cap %d len %d name %q", s.Cap(), s.Len(), s.Name())
	}
	if _, ok := s.Last(); ok {
		t.Error("Last on an empty series reported a sample")
	}
	for k := 1; k <= 10; k++ {
		s.Push(sec(k), float64(k))
		want := []float64{}
		for v := max(1, k-3); v <= k; v++ {
			want = append(want, float64(v))
		}
		if got := values(s); !equal(got, want) {
			t.Fatalf("after %d pushes: %v, want %v", k, got, want)
		}
	}
	if got := s.At(0).Time; !got.Equal(sec(7)) {
		t.Errorf("oldest time %v, want %v", got, sec(7))
	}
	if got, _ := s.Last(); got.Value != 10 || !got.Time.Equal(sec(10)) || got.Time.Location() != time.UTC {
		t.Errorf("Last() = %+v", got)
	}
	s.Reset()
	if s.Len() != 0 || s.Cap() != 4 {
		t.Errorf("after Reset: len %d cap %d", s.Len(), s.Cap())
	}
	s.Push(sec(1), 1) // older than what was there: fine after a reset
	if s.Len() != 1 {
		t.Error("push after Reset failed")
	}
}

func TestSeriesDefaultCapacity(t *testing.T) {
	if got := NewSeries("x", 0).Cap(); got != DefaultCapacity {
		t.Errorf("capacity 0 gives %d, want %d", got, DefaultCapacity)
	}
}

func TestSeriesOrder(t *testing.T) {
	s := NewSeries("w", 8)
	s.Push(sec(5), 1)
	if s.Push(sec(4), 2) {
		t.Error("an older sample was accepted")
	}
	if !s.Push(sec(5), 3) {
		t.Error("a sample at the same time was refused")
	}
	if got := values(s); !equal(got, []float64{3}) {
		t.Errorf("same-time push should replace: %v", got)
	}
	s.Push(sec(6), math.NaN())
	if !math.IsNaN(s.At(1).Value) {
		t.Error("NaN (a gap) not kept")
	}
}

func TestSeriesBetween(t *testing.T) {
	s := NewSeries("w", 5)
	for k := 0; k < 8; k++ { // wraps: holds seconds 3..7
		s.Push(sec(k), float64(k))
	}
	for _, tc := range []struct {
		from, to int
		want     []float64
	}{
		{3, 7, []float64{3, 4, 5, 6, 7}},
		{0, 100, []float64{3, 4, 5, 6, 7}},
		{4, 6, []float64{4, 5, 6}}, // both ends inclusive
		{5, 5, []float64{5}},       // a single instant
		{8, 20, []float64{}},       // after the newest
		{-5, 2, []float64{}},       // before the oldest
		{6, 4, []float64{}},        // empty range
	} {
		i, j := s.Between(sec(tc.from), sec(tc.to))
		got := []float64{}
		for k := i; k < j; k++ {
			got = append(got, s.At(k).Value)
		}
		if !equal(got, tc.want) {
			t.Errorf("Between(%d, %d) = [%d,%d) %v, want %v", tc.from, tc.to, i, j, got, tc.want)
		}
	}
	// Sub-second bounds.
	i, j := s.Between(sec(4).Add(time.Millisecond), sec(6).Add(-time.Millisecond))
	if j-i != 1 || s.At(i).Value != 5 {
		t.Errorf("Between(4.001s, 5.999s) = [%d,%d)", i, j)
	}
}

func TestSeriesNearest(t *testing.T) {
	s := NewSeries("w", 3)
	if s.nearest(0) != -1 {
		t.Error("nearest on an empty series")
	}
	for k := 0; k < 5; k++ { // holds 2, 3, 4 after wrapping
		s.Push(sec(2*k), float64(k))
	}
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{{0, 2}, {4 * time.Second, 2}, {5 * time.Second, 2}, {5100 * time.Millisecond, 3}, {7 * time.Second, 3}, {100 * time.Second, 4}} {
		if got := s.valueAt(s.nearest(t0.Add(tc.at).UnixNano())); got != tc.want {
			t.Errorf("nearest(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestSeriesAtOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("At(Len()) did not panic")
		}
	}()
	s := NewSeries("w", 2)
	s.Push(sec(0), 1)
	s.At(1)
}
