package chart

import (
	"math"
	"time"
)

// DefaultCapacity is the number of samples a Series created by Chart.Push
// keeps when Chart.Capacity is 0: 15 minutes at one sample per second.
const DefaultCapacity = 900

// Sample is one point of a Series.
type Sample struct {
	Time  time.Time
	Value float64 // NaN marks a gap: the line is broken there
}

// Series is a named ring buffer of samples in time order. When it is full a
// Push overwrites the oldest sample, so its memory never grows.
//
// A Series that belongs to a Chart must only be changed on the Fyne
// goroutine, like the Chart itself.
type Series struct {
	name string
	// unix nanoseconds and values, kept in two slices so the drawing loop
	// walks plain numbers.
	times []int64
	vals  []float64
	head  int // index of the oldest sample
	n     int
	loc   *time.Location // location of the last pushed time, for display

	// appends counts the samples ever appended; edits counts the changes
	// to samples already held (a replaced newest value, a Reset). The
	// renderer compares them between frames to redraw only what changed.
	appends, edits uint64
}

// NewSeries returns an empty series that keeps the last capacity samples
// (DefaultCapacity if capacity <= 0).
func NewSeries(name string, capacity int) *Series {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Series{
		name:  name,
		times: make([]int64, capacity),
		vals:  make([]float64, capacity),
		loc:   time.Local,
	}
}

// Name returns the series name, shown in the legend.
func (s *Series) Name() string { return s.name }

// Len returns the number of samples held.
func (s *Series) Len() int { return s.n }

// Cap returns the maximum number of samples held.
func (s *Series) Cap() int { return len(s.times) }

// Push appends a sample. Samples must arrive in time order: a sample older
// than the newest one is dropped and Push returns false. A sample with the
// same time as the newest one replaces it.
func (s *Series) Push(t time.Time, v float64) bool {
	ns := t.UnixNano()
	if s.n > 0 {
		last := s.index(s.n - 1)
		switch {
		case ns < s.times[last]:
			return false
		case ns == s.times[last]:
			if old := s.vals[last]; old != v && !(math.IsNaN(old) && math.IsNaN(v)) {
				s.vals[last] = v
				s.edits++
			}
			s.loc = t.Location()
			return true
		}
	}
	if s.n < len(s.times) {
		i := s.index(s.n)
		s.times[i], s.vals[i] = ns, v
		s.n++
	} else {
		s.times[s.head], s.vals[s.head] = ns, v
		s.head = (s.head + 1) % len(s.times)
	}
	s.appends++
	s.loc = t.Location()
	return true
}

// At returns the i-th oldest sample (0 <= i < Len()).
func (s *Series) At(i int) Sample {
	if i < 0 || i >= s.n {
		panic("chart: Series.At index out of range")
	}
	j := s.index(i)
	return Sample{Time: time.Unix(0, s.times[j]).In(s.loc), Value: s.vals[j]}
}

// Last returns the newest sample, or false if the series is empty.
func (s *Series) Last() (Sample, bool) {
	if s.n == 0 {
		return Sample{}, false
	}
	return s.At(s.n - 1), true
}

// Between returns the index range [i, j) of the samples whose time lies in
// [from, to], for use with At.
func (s *Series) Between(from, to time.Time) (i, j int) {
	return s.search(from.UnixNano()), s.search(to.UnixNano() + 1)
}

// Reset drops every sample and keeps the capacity.
func (s *Series) Reset() {
	s.head, s.n = 0, 0
	s.edits++
}

// index maps the i-th oldest sample to its slot.
func (s *Series) index(i int) int {
	i += s.head
	if i >= len(s.times) {
		i -= len(s.times)
	}
	return i
}

// time and value of the i-th oldest sample, without building a Sample.
func (s *Series) timeAt(i int) int64    { return s.times[s.index(i)] }
func (s *Series) valueAt(i int) float64 { return s.vals[s.index(i)] }

// search returns the index of the first sample at or after ns.
func (s *Series) search(ns int64) int {
	lo, hi := 0, s.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.timeAt(mid) < ns {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// nearest returns the index of the sample closest in time to ns, or -1.
func (s *Series) nearest(ns int64) int {
	if s.n == 0 {
		return -1
	}
	i := s.search(ns)
	switch {
	case i == 0:
		return 0
	case i == s.n:
		return s.n - 1
	case ns-s.timeAt(i-1) <= s.timeAt(i)-ns:
		return i - 1
	}
	return i
}
