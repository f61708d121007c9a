package control

// seqRing keeps the last len(items) values added, in a fixed amount of
// memory, numbered 1, 2, 3... in the order added: readers ask for what came
// after the last number they saw. The log and the traces are kept in one.
// The caller locks.
type seqRing[T any] struct {
	items []T
	head  int    // index of the oldest value
	n     int    // values kept
	seq   uint64 // the number of the newest value
}

func newSeqRing[T any](capacity int) seqRing[T] {
	return seqRing[T]{items: make([]T, capacity)}
}

// add stores the value number(seq) returns for the next number, dropping
// the oldest when full, and returns it as stored.
func (r *seqRing[T]) add(number func(seq uint64) T) T {
	r.seq++
	v := number(r.seq)
	i := (r.head + r.n) % len(r.items)
	if r.n == len(r.items) {
		r.head = (r.head + 1) % len(r.items)
	} else {
		r.n++
	}
	r.items[i] = v
	return v
}

// after returns up to max values numbered above after, oldest first (all
// when max <= 0). A caller that fell behind gets the oldest still kept;
// the numbers say how many it missed.
func (r *seqRing[T]) after(after uint64, max int) []T {
	if r.n == 0 || after >= r.seq {
		return nil
	}
	oldest := r.seq - uint64(r.n) + 1
	start := 0
	if after >= oldest {
		start = int(after - oldest + 1)
	}
	count := r.n - start
	if max > 0 && count > max {
		count = max
	}
	out := make([]T, count)
	for k := range out {
		out[k] = r.items[(r.head+start+k)%len(r.items)]
	}
	return out
}
