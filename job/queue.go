package job

import (
	"sync"
	"sync/atomic"
)

// maxStride bounds the jobs a runner runs between reading the clock.
const maxStride = 16

// sampleEvery is how often a post is timed for the latency histogram: one
// post in sampleEvery per queue, and only while no timed job waits in it,
// so that posting costs a clock read only that often.
const sampleEvery = 16

// A queue's states, guarded by its lock.
const (
	idle    = iota // nothing to run, on no worker
	ready          // waiting for a worker
	running        // on a worker, or on a poster's goroutine
)

// Queue runs jobs one at a time, in the order they were posted, on its
// pool's workers. It costs no goroutine while it has nothing to do. Its
// methods are safe for concurrent use.
type Queue struct {
	// The first cache line holds what a post reads and writes, and what the
	// runner writes once per batch. The struct is 128 bytes, a size class
	// whose objects start on a cache line, so queues share no line.
	mu       sync.Mutex
	pool     *Pool
	box      mailbox
	taken    int32 // jobs the runner has taken from box and not yet consumed
	state    uint8
	sample   uint8
	finished bool // closed and done with its jobs

	// The second line is read by posts and written seldom, but for ran.
	maxQueued int32
	home      uint32        // the shard the queue waits in when ready
	flags     atomic.Uint32 // closed and dropped; written with mu held
	panics    atomic.Uint32
	postedAt  int64 // when the sampled job waiting was posted; zero if none
	name      string
	done      chan struct{}
	ran       atomic.Uint64
	late      atomic.Uint64
}

// The queue's flags.
const (
	closedFlag  = 1 << iota // Close or Drop was called: posts fail
	droppedFlag             // Drop was called: the runner stops between jobs
)

func (q *Queue) closed() bool  { return q.flags.Load()&closedFlag != 0 }
func (q *Queue) dropped() bool { return q.flags.Load()&droppedFlag != 0 }

// NewQueue returns an idle queue on p. The name appears in panic reports
// and stats.
func (p *Pool) NewQueue(name string) *Queue {
	return &Queue{pool: p, name: name, home: p.home.Add(1)}
}

// Name returns the name the queue was made with.
func (q *Queue) Name() string { return q.name }

// Post adds fn to the queue's mailbox and returns without waiting for it.
// It returns ErrQueueFull if the mailbox is at its bound and ErrClosed if
// the queue or its pool is closed. With Options.Inline, an idle queue runs
// fn on the calling goroutine.
func (q *Queue) Post(fn func()) error {
	if q.pool.stopping.Load() {
		return ErrClosed
	}
	return q.post(slot{fn: fn}, true, true)
}

// PostUnbounded is Post without the mailbox's bound, for a job that must
// not be refused while the queue is open and of which each poster has few
// in flight: a session's leave, posted from its OnDisconnected. It returns
// ErrClosed if the queue or its pool is closed.
func (q *Queue) PostUnbounded(fn func()) error {
	if q.pool.stopping.Load() {
		return ErrClosed
	}
	return q.post(slot{fn: fn}, false, true)
}

// post adds s. Timers' firings are not bounded: each timer has at most one
// waiting, so they cannot grow the mailbox without bound. Nor do they run
// inline, which would hold up the other timers.
func (q *Queue) post(s slot, bounded, inline bool) error {
	p := q.pool
	q.mu.Lock()
	if q.closed() {
		q.mu.Unlock()
		return ErrClosed
	}
	if bounded && int(q.box.n-q.taken) >= p.opts.Mailbox {
		q.mu.Unlock()
		return ErrQueueFull
	}
	if q.sample++; q.sample == sampleEvery {
		q.sample = 0
		if q.postedAt == 0 && s.timer == nil {
			q.postedAt = max(p.now(), 1) // zero means none
			s.timer = sampledJob
		}
	}
	q.box.push(s, &p.blocks)
	if waiting := q.box.n - q.taken; waiting > q.maxQueued {
		q.maxQueued = waiting
		p.stats.deeper(waiting)
	}
	start := q.state == idle
	if start {
		q.state = ready
	}
	q.mu.Unlock()
	if !start {
		return nil
	}
	if inline && p.opts.Inline {
		// Counted before checking that the pool is open, and Close sets
		// stopping before it waits for the count: either Close waits for
		// this run, or this poster sees the pool closing.
		p.inline.Add(1)
		if !p.stopping.Load() {
			q.run(&runner{stats: &p.stats.inline, stride: 1, untimed: true})
			p.inlineEnded()
			return nil
		}
		p.inlineEnded()
	}
	if !p.schedule(q) {
		// The pool closed after this post was accepted, and its workers
		// are gone: the accepted jobs run here rather than be lost.
		q.run(&runner{stats: &p.stats.inline, stride: 1, untimed: true})
	}
	return nil
}

// run runs q's jobs until it has none or its slice is over; then it goes
// back to the pool's ready queues. Reading the clock costs as much as a
// short job, so the runner reads it only every r.stride jobs while jobs are
// short, and the slice starts at the runner's last reading.
func (q *Queue) run(r *runner) {
	p := q.pool
	w := r.stats
	start := r.now
	timed := !r.untimed // start is a reading of the clock
	left := r.stride    // jobs to run before the next clock reading
	deferred := false   // an untimed run put off its first reading
	q.mu.Lock()
	for {
		if q.dropped() || p.aborting.Load() {
			p.stats.drop(q.clear())
		}
		jobs := q.box.peek()
		k := int32(len(jobs))
		if k == 0 {
			q.state = idle
			if q.closed() {
				q.finish()
			}
			q.mu.Unlock()
			return
		}
		q.state = running
		q.taken = k
		q.mu.Unlock()

		var n int32
		yield, sampled := false, false
		for n < k && !q.dropped() {
			s := &jobs[n]
			if s.timer == sampledJob {
				// Not r.now: that is the stride's last reading. No post
				// writes postedAt until consume clears it.
				w.latency.Record(p.now() - q.postedAt)
				s.timer, sampled = nil, true
			}
			n++
			q.call(s)
			*s = slot{}
			if left--; left > 0 {
				continue
			}
			if !timed && n == k && !deferred {
				// An inline run reads the clock once it has a second job
				// to run: most find their queue empty after the first.
				deferred, left = true, 1
				continue
			}
			t := p.now()
			if !timed {
				start, timed = t, true // an inline run's slice starts at its first reading
			}
			// Read the clock less often while jobs are short: the slice
			// is overrun by less than a 64th of itself.
			if t-r.now < p.slice>>6/int64(r.stride) {
				r.stride = min(2*r.stride, maxStride)
			} else {
				r.stride = 1
			}
			r.now, left = t, r.stride
			if t-start >= p.slice {
				yield = true
				break
			}
		}
		w.ran.Add(uint64(n))
		q.ran.Add(uint64(n))

		q.mu.Lock()
		q.box.consume(n, &p.blocks)
		q.taken = 0
		if sampled {
			q.postedAt = 0
		}
		if yield && q.box.n > 0 && !q.dropped() {
			// Others may be waiting: go to the back of the line, unless
			// the workers are gone (a run inline or after Close).
			q.state = ready
			q.mu.Unlock()
			if p.schedule(q) {
				return
			}
			start = r.now
			q.mu.Lock()
		}
	}
}

// call runs one job, recovering a panic.
func (q *Queue) call(s *slot) {
	defer func() {
		if v := recover(); v != nil {
			q.panics.Add(1)
			q.pool.stats.panics.Add(1)
			if s.timer != nil {
				s.timer.ran()
			}
			q.pool.panicked(q, v)
		}
	}()
	if s.timer != nil {
		s.timer.fire()
		return
	}
	s.fn()
}

// clear drops the waiting jobs and returns how many there were. It is
// called with q.mu held, by the runner or while there is none.
func (q *Queue) clear() int {
	q.postedAt = 0
	return q.box.clear(&q.pool.blocks)
}

// finish marks a closed queue done. It is called with q.mu held.
func (q *Queue) finish() {
	if q.finished {
		return
	}
	q.finished = true
	if q.done != nil {
		close(q.done)
	}
}

// Close closes the queue: further posts and timers fail with ErrClosed, its
// timers are stopped (their memory is freed by their next deadline), and
// the jobs already posted still run. Done tells when they have. Close does
// not wait, so a job may close its own queue.
func (q *Queue) Close() {
	q.close(false)
}

// Drop closes the queue like Close but discards the jobs not yet started.
// A job running when Drop is called finishes.
func (q *Queue) Drop() {
	q.close(true)
}

func (q *Queue) close(drop bool) {
	q.mu.Lock()
	q.flags.Or(closedFlag)
	if drop {
		q.flags.Or(droppedFlag)
		if q.state != running {
			// No runner reads the mailbox: empty it here.
			q.pool.stats.drop(q.clear())
		}
	}
	if q.state == idle {
		q.finish()
	}
	q.mu.Unlock()
}

// Done returns a channel that is closed once the queue is closed and has
// run (or dropped) its last job.
func (q *Queue) Done() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done == nil {
		q.done = make(chan struct{})
		if q.finished {
			close(q.done)
		}
	}
	return q.done
}
