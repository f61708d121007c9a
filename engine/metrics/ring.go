package metrics

// ring keeps the last len(buf) values pushed. It is not safe for concurrent
// use: the Sampler guards it.
type ring[T any] struct {
	buf  []T
	next int // where the next value goes
	full bool
}

func newRing[T any](n int) *ring[T] { return &ring[T]{buf: make([]T, n)} }

func (r *ring[T]) push(v T) {
	r.buf[r.next] = v
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

func (r *ring[T]) len() int {
	if r.full {
		return len(r.buf)
	}
	return r.next
}

// at returns the i-th oldest value, 0 <= i < len().
func (r *ring[T]) at(i int) T {
	if r.full {
		i += r.next
		if i >= len(r.buf) {
			i -= len(r.buf)
		}
	}
	return r.buf[i]
}

// last returns the newest value.
func (r *ring[T]) last() (T, bool) {
	var zero T
	if r.len() == 0 {
		return zero, false
	}
	return r.at(r.len() - 1), true
}

// since copies, oldest first, the values after the newest one for which
// old(v) is true; the values must be ordered so that old is true for a
// prefix of them.
func (r *ring[T]) since(old func(T) bool) []T {
	n := r.len()
	lo, hi := 0, n // binary search for the first value that is not old
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if old(r.at(m)) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	out := make([]T, 0, n-lo)
	for i := lo; i < n; i++ {
		out = append(out, r.at(i))
	}
	return out
}
