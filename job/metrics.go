package job

import (
	"time"

	"servercore/internal/hist"
)

// This file only reads the pool's counters, for an exporter of metrics
// (servercore/metrics/prom).

// LatencyCounts reads the sampled times from Post to a job's start as a
// cumulative histogram: cum[j] becomes the number at or below bounds[j]
// (ascending; cum as long as bounds), within the 3% the samples are kept
// to, and count and sum are of all the samples.
func (p *Pool) LatencyCounts(bounds []time.Duration, cum []uint64) (count uint64, sum time.Duration) {
	s := &p.stats
	var lat hist.Hist
	lat.Merge(&s.inline.latency)
	for i := range s.workers {
		lat.Merge(&s.workers[i].latency)
	}
	ns := make([]int64, len(bounds))
	for i, b := range bounds {
		ns[i] = int64(b)
	}
	lat.Cumulative(ns, cum)
	return lat.Count(), time.Duration(lat.Sum())
}

// QueuesMade is the number of queues NewQueue has made, modulo 2³²: the
// counter it draws their home shards from.
func (p *Pool) QueuesMade() uint64 { return uint64(p.home.Load()) }
