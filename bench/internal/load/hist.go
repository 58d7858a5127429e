package load

import (
	"math/bits"
	"sync/atomic"
)

// A log-linear latency histogram in nanoseconds: 32 sub-buckets per power of
// two (about 3% resolution), lock-free and allocation-free to record into.
// The generator shards it so connections seldom share a cache line.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits + 1) * subBuckets
	histShards = 32
)

// Hist is one histogram.
type Hist struct {
	counts [numBuckets]atomic.Uint64
}

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

// bucketValue is the middle of bucket i.
func bucketValue(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	lo := int64(i%subBuckets+subBuckets) << shift
	return lo + (int64(1)<<shift)/2
}

// Record adds one value.
func (h *Hist) Record(ns int64) { h.counts[bucketOf(ns)].Add(1) }

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
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

// Quantile returns the value at quantile q (0..1), 0 when empty.
func (h *Hist) Quantile(q float64) int64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return bucketValue(i)
		}
	}
	return bucketValue(numBuckets - 1)
}

// shardedHist spreads recording over several histograms.
type shardedHist struct {
	shards [histShards]Hist
}

func (s *shardedHist) shard(i int) *Hist { return &s.shards[i%histShards] }

func (s *shardedHist) merged() *Hist {
	h := new(Hist)
	for i := range s.shards {
		h.Merge(&s.shards[i])
	}
	return h
}
