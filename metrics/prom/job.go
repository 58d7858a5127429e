package prom

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"servercore/job"
)

func (c *Collector) collectPool(ch chan<- prometheus.Metric, st job.Stats) {
	d := &c.d
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	counter(d.jobsRun, st.JobsRun)
	counter(d.jobsDropped, st.Dropped)
	counter(d.jobPanics, st.Panics)
	counter(d.lateTicks, st.LateTicks)
	gauge(d.mailbox, float64(st.Queued))
	gauge(d.mailboxMax, float64(st.MaxQueued))
	gauge(d.timers, float64(st.Timers))
	counter(d.queues, c.pool.QueuesMade())
	cum := make([]uint64, len(c.bounds))
	n, sum := c.pool.LatencyCounts(c.bounds, cum)
	buckets := make(map[float64]uint64, len(c.bounds))
	for i, b := range c.bounds {
		buckets[b.Seconds()] = cum[i]
	}
	ch <- prometheus.MustNewConstHistogram(d.latency, n, sum.Seconds(), buckets)
	gauge(d.latencyMax, st.Latency.Max.Seconds())
}

// latencyBounds are the upper bounds of the job start latency histogram's
// buckets: 1, 2.5 and 5 of each power of ten from 1 µs to 1 s.
func latencyBounds() []time.Duration {
	var b []time.Duration
	for d := time.Microsecond; d < time.Second; d *= 10 {
		b = append(b, d, d*5/2, d*5)
	}
	return append(b, time.Second)
}
