package mmo

import (
	"time"

	"servercore/internal/hist"
)

// Live is what the bots show of a run while it goes on: put one in
// BotConfig.Live and read it from any goroutine.
type Live struct {
	latency hist.Sharded
}

// record adds the latency of a move seen by bot id.
func (l *Live) record(id uint32, ns int64) {
	if l != nil {
		l.latency.Shard(int(id)).Record(ns)
	}
}

// P99 is the 99th percentile of the time from a move to its being seen,
// over the run so far.
func (l *Live) P99() time.Duration { return time.Duration(l.latency.Merged().Quantile(0.99)) }

// Seen is how many moves the other players have seen so far.
func (l *Live) Seen() uint64 { return l.latency.Merged().Count() }
