package prom

import (
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
	l := st.Latency
	// The pool keeps quantiles, not a sum: the sum is left at 0 rather
	// than made up.
	ch <- prometheus.MustNewConstSummary(d.latency, l.Samples, 0, map[float64]float64{
		0.5:  l.P50.Seconds(),
		0.9:  l.P90.Seconds(),
		0.99: l.P99.Seconds(),
	})
	gauge(d.latencyMax, l.Max.Seconds())
}
