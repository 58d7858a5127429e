package prom

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"servercore"
	"servercore/job"
)

// Collector is a prometheus.Collector of a service's counters and,
// optionally, of a job pool's. It reads them when it is collected.
type Collector struct {
	svc    *servercore.Service
	pool   *job.Pool
	d      descs
	bounds []time.Duration // of the job start latency's buckets
}

// NewCollector returns a collector of svc's counters, and of pool's if pool
// is not nil, labelled service=name.
func NewCollector(name string, svc *servercore.Service, pool *job.Pool) *Collector {
	return &Collector{svc: svc, pool: pool, d: newDescs(prometheus.Labels{"service": name}), bounds: latencyBounds()}
}

// Describe sends the descriptions of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d.service() {
		ch <- d
	}
	if c.pool != nil {
		for _, d := range c.d.job() {
			ch <- d
		}
	}
}

// Collect reads the service's Stats, and the pool's, and sends them as
// metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.collectService(ch, c.svc.Stats())
	if c.pool != nil {
		c.collectPool(ch, c.pool.Stats())
	}
}

func (c *Collector) collectService(ch chan<- prometheus.Metric, st servercore.Stats) {
	d := &c.d
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(d.sessions, float64(st.Sessions))
	counter(d.accepted, st.Accepted)
	counter(d.refused, st.Refused)
	counter(d.acceptErrors, st.AcceptErrors)
	counter(d.packetsIn, st.PacketsIn)
	counter(d.packetsOut, st.PacketsOut)
	counter(d.bytesIn, st.BytesIn)
	counter(d.bytesOut, st.BytesOut)
	for cause, n := range st.Disconnects.All() {
		counter(d.disconnects, n, cause)
	}
	counter(d.panics, st.HandlerPanics)
	counter(d.slowCallbacks, st.SlowCallbacks)
	gauge(d.sendQueued, float64(st.SendQueued))
	gauge(d.sendQueueMax, float64(st.SendQueueMax))
	gauge(d.recvBuffered, float64(st.RecvBuffered))
	gauge(d.backend, 1, c.svc.Backend())
}
