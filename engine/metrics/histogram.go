package metrics

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear over microseconds: values below 16 µs
// get a bucket each, then every power of two [2^e, 2^(e+1)) is split into
// 16 equal buckets. Everything from 2^maxExp µs (about 71 minutes) up
// shares the last bucket.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	maxExp     = 32
	numBuckets = (maxExp - subBits + 2) * subBuckets
)

// bucketOf returns the histogram bucket of a duration.
func bucketOf(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	us := uint64(d / time.Microsecond)
	if us < subBuckets {
		return int(us)
	}
	e := bits.Len64(us) - 1 // us is in [2^e, 2^(e+1)), e >= subBits
	if e > maxExp {
		return numBuckets - 1
	}
	return (e-subBits+1)*subBuckets + int(us>>(e-subBits))&(subBuckets-1)
}

// bucketBounds returns the range [lo, lo+width) of bucket i, in µs.
func bucketBounds(i int) (lo, width uint64) {
	if i < subBuckets {
		return uint64(i), 1
	}
	e := i/subBuckets + subBits - 1
	s := uint64(i % subBuckets)
	return (subBuckets + s) << (e - subBits), 1 << (e - subBits)
}

// bucketValue is the duration a bucket stands for: its middle.
func bucketValue(i int) time.Duration {
	lo, w := bucketBounds(i)
	return time.Duration(lo)*time.Microsecond + time.Duration(w)*time.Microsecond/2
}

// quantiles fills out[k] with the qs[k] quantile (qs ascending, in (0, 1])
// of the distribution whose bucket counts are counts, n in total. The
// quantile is the value of the bucket holding the ceil(q*n)-th smallest
// observation.
func quantiles(counts *[numBuckets]uint64, n uint64, qs []float64, out []time.Duration) {
	if n == 0 {
		clear(out)
		return
	}
	k := 0
	var seen uint64
	for i := range counts {
		seen += counts[i]
		for k < len(qs) && seen >= rank(qs[k], n) {
			out[k] = bucketValue(i)
			k++
		}
		if k == len(qs) {
			return
		}
	}
	for ; k < len(qs); k++ { // counts summed to less than n: a torn read
		out[k] = bucketValue(numBuckets - 1)
	}
}

// rank is ceil(q*n), at least 1. The epsilon keeps float error in q*n
// (0.95*20 is not exactly 19) from adding one.
func rank(q float64, n uint64) uint64 {
	return max(uint64(math.Ceil(q*float64(n)-1e-9)), 1)
}
