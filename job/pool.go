package job

import (
	"context"
	"log"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a set of worker goroutines shared by any number of queues, and
// the timers of those queues. Its methods are safe for concurrent use.
type Pool struct {
	// Read by every post and run, written only by NewPool and Close: kept
	// off the cache lines that posts and workers write.
	opts     Options
	slice    int64
	epoch    time.Time
	now      func() int64 // nanoseconds since epoch; a test may replace it
	stopping atomic.Bool  // Close was called: posts fail
	aborting atomic.Bool  // Close gave up: waiting jobs are dropped
	blocks   sync.Pool    // free mailbox blocks
	_        cacheLine

	inline     atomic.Int64  // queues being run by their posters (Options.Inline)
	inlineDone chan struct{} // a token when inline falls to zero while stopping
	_          cacheLine

	shards []shard
	exited atomic.Bool  // closing, with nothing left: the workers are gone or going
	idle   atomic.Int32 // workers waiting for a queue
	home   atomic.Uint32
	_      cacheLine

	mu      sync.Mutex // for waiting workers and closing
	wake    sync.Cond
	closing bool

	workers sync.WaitGroup
	timers  timerSet
	stats   poolStats
	panics  panicLog
}

// cacheLine pads apart fields that different cores write.
type cacheLine [64]byte

// NewPool starts a pool's workers and its timer goroutine.
func NewPool(opts Options) *Pool {
	return newPool(opts, nil)
}

// newPool makes a pool on the clock now (nanoseconds since the pool's
// start). A pool on a clock of its own has no timer goroutine: its timers
// fire when the caller advances them.
func newPool(opts Options, now func() int64) *Pool {
	p := &Pool{opts: opts.withDefaults(), epoch: time.Now(), now: now}
	p.slice = int64(p.opts.Slice)
	if p.now == nil {
		p.now = func() int64 { return int64(time.Since(p.epoch)) }
	}
	p.blocks.New = func() any { return new(block) }
	p.inlineDone = make(chan struct{}, 1)
	p.wake.L = &p.mu
	p.shards = make([]shard, p.opts.Workers)
	p.stats.init(p.opts.Workers)
	p.timers.start(p, now == nil)
	p.workers.Add(p.opts.Workers)
	for i := range p.opts.Workers {
		go p.work(i)
	}
	return p
}

// runner is what runs queues: a worker, or a poster running one inline.
type runner struct {
	stats   *workerStats
	now     int64 // the last clock reading
	stride  int32 // jobs to run between clock readings
	untimed bool  // now is no reading: a poster's run reads the clock lazily
}

func (p *Pool) work(id int) {
	defer p.workers.Done()
	r := runner{stats: &p.stats.workers[id], now: p.now(), stride: 1}
	var buf [takeMax]*Queue
	n := 0
	var from *shard
	for {
		var waited bool
		n, from, waited = p.take(id, buf[:], n, from)
		if n == 0 {
			return
		}
		if waited {
			r.now = p.now()
		}
		for _, q := range buf[:n] {
			q.run(&r)
		}
	}
}

// panicked reports a job's panic.
func (p *Pool) panicked(q *Queue, v any) {
	if p.opts.OnPanic != nil {
		p.opts.OnPanic(q.name, v, debug.Stack())
		return
	}
	if held, ok := p.panics.allow(time.Now()); ok {
		log.Printf("job: panic in queue %q (%d more held back since the last): %v\n%s", q.name, held, v, debug.Stack())
	}
}

// panicLog limits the default report of panics to a line a second, so
// that a job panicking on every packet costs a line a second, not a line
// and a stack per packet.
type panicLog struct {
	mu   sync.Mutex
	last time.Time
	held int
}

// allow reports whether a panic may be logged at now, and how many were
// held back before it.
func (l *panicLog) allow(now time.Time) (held int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		l.held++
		return 0, false
	}
	held, l.held, l.last = l.held, 0, now
	return held, true
}

// inlineEnded ends a poster's inline run; the last to end while the pool
// stops tells Close.
func (p *Pool) inlineEnded() {
	if p.inline.Add(-1) == 0 && p.stopping.Load() {
		select {
		case p.inlineDone <- struct{}{}:
		default:
		}
	}
}

// Close stops the pool: posts and new timers fail with ErrClosed, pending
// timers are stopped, and the jobs already posted run. Close returns once
// they have and every goroutine of the pool has exited. If ctx ends first,
// the jobs not yet started are dropped, the workers exit as soon as their
// running jobs return, and Close returns ctx.Err().
func (p *Pool) Close(ctx context.Context) error {
	p.stopping.Store(true)
	p.timers.stop()
	p.mu.Lock()
	p.closing = true
	p.wake.Broadcast()
	p.mu.Unlock()

	exited := make(chan struct{})
	go func() {
		p.workers.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-ctx.Done():
		p.aborting.Store(true)
		return ctx.Err()
	}
	// Posters running their queues inline saw the pool open; no other
	// will start (see post), and the last to end sends a token.
	for p.inline.Load() > 0 {
		select {
		case <-ctx.Done():
			p.aborting.Store(true)
			return ctx.Err()
		case <-p.inlineDone:
		}
	}
	return nil
}
