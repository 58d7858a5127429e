// Package hist is a log-linear latency histogram in nanoseconds: lock-free
// and allocation-free to record into, mergeable, with percentiles.
package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Values are exact below 64 ns; above, each power of two is cut into 32
// buckets, so a value is known within about 3% (the HDR histogram idea).
const (
	subBits    = 5
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits + 1) * subBuckets
)

// Hist is a histogram of nanosecond values. It is safe for concurrent use,
// and its zero value is an empty histogram.
type Hist struct {
	counts [numBuckets]atomic.Uint64
	max    atomic.Int64
	sum    atomic.Int64
}

// bucketOf is the bucket of v; negative values land in bucket 0.
func bucketOf(v int64) int {
	if v < subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	return (shift+1)*subBuckets + int(uint64(v)>>shift) - subBuckets
}

// bucketValue is the value bucket i stands for: the middle of its range.
func bucketValue(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	lo := int64(i%subBuckets+subBuckets) << shift
	return lo + (int64(1)<<shift)/2
}

// Record adds the value ns.
func (h *Hist) Record(ns int64) {
	h.counts[bucketOf(ns)].Add(1)
	h.sum.Add(ns)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// Merge adds o's values to h.
func (h *Hist) Merge(o *Hist) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.sum.Add(o.sum.Load())
	for {
		m, om := h.max.Load(), o.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			return
		}
	}
}

// Count is the number of values recorded.
func (h *Hist) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Sum is the sum of the values recorded, exact (not of the buckets).
func (h *Hist) Sum() int64 { return h.sum.Load() }

// Max is the largest value recorded, or 0 if none was positive.
func (h *Hist) Max() int64 { return h.max.Load() }

// Quantile returns the value below which the fraction q (0..1) of the
// recorded values lie, at most Max, or 0 if nothing was recorded.
func (h *Hist) Quantile(q float64) int64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(bucketValue(i), h.Max())
		}
	}
	return h.Max()
}

// Cumulative sets cum[j] to the number of values recorded in the buckets
// that lie wholly at or below bounds[j], for bounds in ascending order, as
// a Prometheus histogram counts them: a value is never counted below a
// bound it exceeds, and one within about 3% under a bound may be counted
// only at the next. cum must be as long as bounds.
func (h *Hist) Cumulative(bounds []int64, cum []uint64) {
	j := 0
	var seen uint64
	for i := range h.counts {
		// The bucket's largest value is one less than the next one's least.
		for j < len(bounds) && bucketLow(i+1)-1 > bounds[j] {
			cum[j] = seen
			j++
		}
		if j == len(bounds) {
			return
		}
		seen += h.counts[i].Load()
	}
	for ; j < len(bounds); j++ {
		cum[j] = seen
	}
}

// bucketLow is the least value of bucket i, or MaxInt64 for a bucket past
// the largest int64 (which no value reaches).
func bucketLow(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	if shift > 63-subBits-1 {
		return math.MaxInt64
	}
	return int64(i%subBuckets+subBuckets) << shift
}
