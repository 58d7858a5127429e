package main

import (
	"math"
	"math/bits"
)

// Latencies are recorded in nanoseconds in a log-bucketed histogram (the HDR
// histogram idea): exact below 64 ns, then 32 buckets per power of two, so a
// value is known within about 3%. Values from 2^36 ns (about 69 s) up land
// in the last bucket.
const (
	histSub      = 32
	histBuckets  = 1024
	histMaxValue = 1<<36 - 1
)

// histIndex is the bucket of v nanoseconds.
func histIndex(v int64) int {
	switch {
	case v < 0:
		return 0
	case v < 2*histSub:
		return int(v)
	case v > histMaxValue:
		v = histMaxValue
	}
	e := bits.Len64(uint64(v)) - 6 // v>>e is in [32, 64)
	return histSub*e + int(v>>e)
}

// histValue is the value a bucket stands for: the middle of its range.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	e := i/histSub - 1
	m := int64(i - histSub*e)
	return m<<e + (int64(1)<<e-1)/2
}

// latencyHist is one client's histogram: recording is one increment, with no
// allocation and no lock; the run merges the clients' histograms at the end.
type latencyHist struct {
	counts [histBuckets]uint32
	max    int64
}

func (h *latencyHist) record(ns int64) {
	h.counts[histIndex(ns)]++
	h.max = max(h.max, ns)
}

// latencySummary is the merge of many clients' histograms.
type latencySummary struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64
}

func (s *latencySummary) add(h *latencyHist) {
	for i, n := range h.counts {
		s.counts[i] += uint64(n)
		s.total += uint64(n)
	}
	s.max = max(s.max, h.max)
}

// quantile returns the latency in nanoseconds below which the fraction q of
// the recorded values lie, or 0 if nothing was recorded.
func (s *latencySummary) quantile(q float64) int64 {
	if s.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.total)))
	rank = min(max(rank, 1), s.total)
	var seen uint64
	for i, n := range s.counts {
		seen += n
		if seen >= rank {
			return min(histValue(i), s.max)
		}
	}
	return s.max
}
