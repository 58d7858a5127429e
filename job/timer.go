package job

import (
	"sync"
	"sync/atomic"
	"time"
)

// tick is the wheel's resolution: a timer fires on the first tick at or
// after its deadline, never before it.
const tick = int64(time.Millisecond)

// A timer's states. Stop moves any of them to stopped; a firing moves armed
// to fired, the queue moves fired to running and back to armed (periodic)
// or stopped (once).
const (
	armed int32 = iota
	fired
	busy
	stopped
)

// Timer runs a job on its queue after a delay, or every period, until
// stopped. Make one with Queue.After or Queue.Every.
type Timer struct {
	q      *Queue
	fn     func()
	when   int64 // the next deadline, in nanoseconds since the pool's start
	period int64 // zero for a timer that fires once
	state  atomic.Int32

	// Guarded by the pool's timer lock.
	at   int32 // the index in its wheel slot's array
	slot int16 // the wheel slot, or -1
}

// due is the tick the timer is due at: its deadline, rounded up.
func (t *Timer) due() int64 { return (t.when + tick - 1) / tick }

// After runs fn on q once d has passed. It returns ErrClosed if q or its
// pool is closed.
func (q *Queue) After(d time.Duration, fn func()) (*Timer, error) {
	return q.pool.timers.add(q, fn, int64(d), 0)
}

// Every runs fn on q every period, the first time one period from now.
// Deadlines are kept absolute, so ticks do not drift; a tick whose deadline
// passes while the previous one has not finished, or that the pool could
// not deliver in time, is skipped and counted in the stats as late. Every
// panics if period is not positive.
func (q *Queue) Every(period time.Duration, fn func()) (*Timer, error) {
	if period <= 0 {
		panic("job: non-positive period for Every")
	}
	return q.pool.timers.add(q, fn, int64(period), int64(period))
}

// Stop stops the timer. Once it has returned, the timer's job will not
// start again, though a run already started finishes. It reports whether
// it stopped a timer that was still to run: false if the timer was already
// stopped, or fired once and its job started.
func (t *Timer) Stop() bool {
	ts := &t.q.pool.timers
	ts.mu.Lock()
	ts.w.remove(t)
	old := t.state.Swap(stopped)
	ts.mu.Unlock()
	return old == armed || old == fired || (old == busy && t.period != 0)
}

// fire runs the timer's job on its queue, unless it was stopped since the
// firing was posted, or its queue closed.
func (t *Timer) fire() {
	if t.q.closed() || !t.state.CompareAndSwap(fired, busy) {
		return
	}
	t.fn()
	t.ran()
}

// ran ends a run of the job.
func (t *Timer) ran() {
	next := armed
	if t.period == 0 {
		next = stopped
	}
	t.state.CompareAndSwap(busy, next)
}

// timerSet is the timers of a pool: one wheel, one lock, one goroutine
// that sleeps until the wheel's next event.
type timerSet struct {
	p      *Pool
	mu     sync.Mutex
	w      wheel
	wakeAt int64         // the tick the goroutine will next advance at
	kick   chan struct{} // wakes the goroutine for an earlier event
	quit   chan struct{}
	exited chan struct{}
	closed bool
	late   uint64
}

func (ts *timerSet) start(p *Pool, loop bool) {
	ts.p = p
	ts.wakeAt = never
	ts.kick = make(chan struct{}, 1)
	ts.quit = make(chan struct{})
	ts.exited = make(chan struct{})
	if loop {
		go ts.loop()
	} else {
		close(ts.exited)
	}
}

// maxDelay bounds delays and periods (to 146 years), so that deadlines in
// nanoseconds cannot overflow.
const maxDelay = 1 << 62

func (ts *timerSet) add(q *Queue, fn func(), d, period int64) (*Timer, error) {
	p := ts.p
	now := p.now()
	d, period = min(max(d, 0), maxDelay), min(period, maxDelay)
	t := &Timer{q: q, fn: fn, when: now + d, period: period, at: -1, slot: -1}
	ts.mu.Lock()
	if ts.closed || q.closed() {
		ts.mu.Unlock()
		return nil, ErrClosed
	}
	if t.due() <= ts.w.now {
		// Due already: the wheel has passed its tick.
		t.state.Store(fired)
		ts.mu.Unlock()
		ts.post(t)
		return t, nil
	}
	ev := ts.w.insert(t)
	kick := ev < ts.wakeAt
	if kick {
		ts.wakeAt = ev
	}
	ts.mu.Unlock()
	if kick {
		select {
		case ts.kick <- struct{}{}:
		default:
		}
	}
	return t, nil
}

// post hands a firing to the timer's queue. A closed queue refuses it, and
// its timers are being stopped.
func (ts *timerSet) post(t *Timer) {
	t.q.post(slot{timer: t}, false, false)
}

// advance fires what is due at the time now (nanoseconds since the pool's
// start), using buf for the timers that fired, and returns buf and the
// tick of the next event.
func (ts *timerSet) advance(now int64, buf []*Timer) ([]*Timer, int64) {
	ts.mu.Lock()
	if ts.closed {
		ts.mu.Unlock()
		return buf, never
	}
	due := ts.w.advance(now/tick, buf[:0])
	post := due[:0]
	for _, t := range due {
		if t.q.closed() {
			continue // Close stopped it: forget it
		}
		if t.period == 0 {
			if t.state.CompareAndSwap(armed, fired) {
				post = append(post, t)
			}
			continue
		}
		// Periodic: the next deadline is the first after now, counting
		// every one missed as late, and a tick whose previous run has not
		// finished is late too.
		if !t.state.CompareAndSwap(armed, fired) {
			ts.late++
			t.q.late.Add(1)
		} else {
			post = append(post, t)
		}
		t.when += t.period
		if t.when <= now {
			missed := (now-t.when)/t.period + 1
			t.when += missed * t.period
			ts.late += uint64(missed)
			t.q.late.Add(uint64(missed))
		}
		ts.w.insert(t)
	}
	ts.wakeAt = ts.w.next()
	next := ts.wakeAt
	ts.mu.Unlock()
	for i, t := range post {
		ts.post(t)
		post[i] = nil
	}
	return post, next
}

func (ts *timerSet) loop() {
	defer close(ts.exited)
	sleep := time.NewTimer(time.Hour)
	sleep.Stop()
	var buf []*Timer
	for {
		var next int64
		buf, next = ts.advance(ts.p.now(), buf)
		if next != never {
			sleep.Reset(time.Duration(next*tick - ts.p.now()))
		}
		select {
		case <-ts.quit:
			sleep.Stop()
			return
		case <-ts.kick:
		case <-sleep.C:
		}
		sleep.Stop()
	}
}

// stop stops the goroutine, so that no timer fires again, and waits for it
// to exit.
func (ts *timerSet) stop() {
	ts.mu.Lock()
	if ts.closed {
		ts.mu.Unlock()
		<-ts.exited
		return
	}
	ts.closed = true
	ts.mu.Unlock()
	close(ts.quit)
	<-ts.exited
}
