package control

import (
	"slices"
	"testing"
)

// A full ring drops its oldest values; readers get what came after the
// number they last saw, the oldest kept when they fell behind, at most max.
func TestSeqRing(t *testing.T) {
	r := newSeqRing[uint64](3)
	for range 5 {
		r.add(func(seq uint64) uint64 { return seq * 10 })
	}
	for _, c := range []struct {
		after uint64
		max   int
		want  []uint64
	}{
		{0, 0, []uint64{30, 40, 50}}, // 1 and 2 were dropped
		{3, 0, []uint64{40, 50}},
		{0, 2, []uint64{30, 40}},
		{5, 0, nil},
		{9, 0, nil},
	} {
		if got := r.after(c.after, c.max); !slices.Equal(got, c.want) {
			t.Errorf("after(%d, %d) = %v, want %v", c.after, c.max, got, c.want)
		}
	}
}
