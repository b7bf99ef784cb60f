package main

import "math/bits"

// Latencies are recorded in microseconds into a fixed log-linear histogram:
// values below linearMax get one bucket each (exact), above that every
// power of two is split into subCount equal sub-buckets, so the relative
// error of a reported percentile is at most 1/subCount (~3%). A fixed array
// means recording never allocates and merging is element-wise addition.
const (
	subBits   = 5
	subCount  = 1 << subBits // sub-buckets per power of two
	linearMax = 2 * subCount // values below this are exact
	// maxExp bounds the range: values >= 2^maxExp µs (~12.7 days) clamp
	// into the last bucket.
	maxExp     = 40
	numBuckets = linearMax + (maxExp-subBits-1)*subCount
)

type histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64 // for the mean
	max    uint64
}

// bucketOf maps a value to its bucket index.
func bucketOf(v uint64) int {
	if v < linearMax {
		return int(v)
	}
	k := bits.Len64(v) - 1 // v in [2^k, 2^(k+1)), k >= subBits+1
	if k >= maxExp {
		return numBuckets - 1
	}
	shift := k - subBits
	return linearMax + (k-subBits-1)*subCount + int(v>>shift) - subCount
}

// bucketHigh is the largest value that maps to bucket i. Percentiles report
// it so they never understate a latency.
func bucketHigh(i int) uint64 {
	if i < linearMax {
		return uint64(i)
	}
	group := (i - linearMax) / subCount
	sub := uint64((i-linearMax)%subCount + subCount)
	shift := group + 1
	return (sub+1)<<shift - 1
}

func (h *histogram) record(us uint64) {
	h.counts[bucketOf(us)]++
	h.n++
	h.sum += us
	h.max = max(h.max, us)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0 < q <= 1): the upper bound of
// the bucket holding the ceil(q*n)-th smallest sample, capped at the
// observed maximum. It returns 0 for an empty histogram.
func (h *histogram) quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n)
}
