package job

import (
	"sync/atomic"
	"time"

	"servercore/internal/hist"
)

// Stats is a snapshot of a pool's counters.
type Stats struct {
	JobsRun   uint64  // jobs run, timers' firings included
	Queued    int64   // jobs waiting in mailboxes now (of queues run inline, left out)
	MaxQueued int     // the most jobs any one mailbox has held
	Dropped   uint64  // jobs discarded by Drop or by an interrupted Close
	Timers    int     // timers waiting for their deadline
	LateTicks uint64  // periodic ticks skipped (see Queue.Every)
	Panics    uint64  // jobs that panicked
	Latency   Latency // from Post to the start of the job
}

// Latency summarises the time from posting a job to its start, measured on
// one post in 16 of each queue (while no timed post of that queue waits).
type Latency struct {
	Samples            uint64
	P50, P90, P99, Max time.Duration
}

// QueueStats is a snapshot of one queue's counters.
type QueueStats struct {
	JobsRun   uint64
	Queued    int
	MaxQueued int
	LateTicks uint64
	Panics    uint64
}

// workerStats is written by one worker (the inline one by any poster).
type workerStats struct {
	ran     atomic.Uint64
	latency hist.Hist
	_       cacheLine
}

type poolStats struct {
	workers []workerStats
	inline  workerStats
	dropped atomic.Uint64
	panics  atomic.Uint64
	deepest atomic.Int32
}

func (s *poolStats) init(workers int) { s.workers = make([]workerStats, workers) }

func (s *poolStats) drop(n int) {
	if n > 0 {
		s.dropped.Add(uint64(n))
	}
}

// deeper records a mailbox depth of n.
func (s *poolStats) deeper(n int32) {
	for {
		d := s.deepest.Load()
		if n <= d || s.deepest.CompareAndSwap(d, n) {
			return
		}
	}
}

// Stats returns the pool's counters. They are read one by one while the
// pool runs, so they agree with each other only roughly.
func (p *Pool) Stats() Stats {
	s := &p.stats
	var st Stats
	var lat hist.Hist
	for i := range s.workers {
		st.JobsRun += s.workers[i].ran.Load()
		lat.Merge(&s.workers[i].latency)
	}
	st.JobsRun += s.inline.ran.Load()
	lat.Merge(&s.inline.latency)
	st.Dropped = s.dropped.Load()
	// An idle queue has an empty mailbox, so the jobs waiting are those of
	// the queues waiting for a worker and of those the workers took. Posts
	// count nothing in the pool, to share no cache line.
	// The queues are copied under the shard's lock and read after it, so
	// that a scrape never holds up the workers for a walk of every queue.
	var waiting []*Queue
	for i := range p.shards {
		sh := &p.shards[i]
		sh.mu.Lock()
		for j := range sh.n {
			waiting = append(waiting, sh.ring[(sh.head+j)%len(sh.ring)])
		}
		for _, q := range sh.taken {
			if q != nil {
				waiting = append(waiting, q)
			}
		}
		sh.mu.Unlock()
	}
	// A queue that yielded or was stolen can be both waiting and among
	// the ones a worker took: count it once.
	counted := make(map[*Queue]bool, len(waiting))
	for _, q := range waiting {
		if !counted[q] {
			counted[q] = true
			st.Queued += int64(q.Stats().Queued)
		}
	}
	st.MaxQueued = int(s.deepest.Load())
	st.Panics = s.panics.Load()
	p.timers.mu.Lock()
	st.Timers = p.timers.w.n
	st.LateTicks = p.timers.late
	p.timers.mu.Unlock()
	st.Latency = Latency{
		Samples: lat.Count(),
		P50:     time.Duration(lat.Quantile(0.50)),
		P90:     time.Duration(lat.Quantile(0.90)),
		P99:     time.Duration(lat.Quantile(0.99)),
		Max:     time.Duration(lat.Max()),
	}
	return st
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	n, deepest := int(q.box.n-q.taken), int(q.maxQueued)
	q.mu.Unlock()
	return QueueStats{
		JobsRun:   q.ran.Load(),
		Queued:    n,
		MaxQueued: deepest,
		LateTicks: q.late.Load(),
		Panics:    uint64(q.panics.Load()),
	}
}
