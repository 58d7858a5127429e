package job

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// A periodic timer keeps absolute deadlines: over a minute of a clock that
// moves in uneven steps, Every(100ms) fires 600 times and no tick is late.
func TestEveryDoesNotDrift(t *testing.T) {
	tests := []struct {
		period  time.Duration
		maxStep time.Duration
		want    int
	}{
		{100 * time.Millisecond, 13 * time.Millisecond, 600},
		{100 * time.Millisecond, 99 * time.Millisecond, 600},
		{33 * time.Millisecond, 7 * time.Millisecond, 1818},
		{1500 * time.Microsecond, time.Millisecond, 40000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.period, "/", tt.maxStep), func(t *testing.T) {
			p, clock := newFakePool(t, Options{Workers: 2})
			q := p.NewQueue("ticker")
			runs := 0
			if _, err := q.Every(tt.period, func() { runs++ }); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(4, uint64(tt.period)))
			for clock.ns.Load() < int64(time.Minute) {
				step := min(1+r.Int64N(int64(tt.maxStep)), int64(time.Minute)-clock.ns.Load())
				clock.advance(time.Duration(step))
				flush(t, q) // the tick ran before the next deadline
			}
			if runs != tt.want {
				t.Errorf("%d runs in a minute, want %d", runs, tt.want)
			}
			if late := q.Stats().LateTicks; late != 0 {
				t.Errorf("%d late ticks", late)
			}
		})
	}
}

// Ticks whose deadline passes before the previous tick ran, or that the
// clock skips over, are counted late, not piled up; runs and late ticks add
// up to the deadlines passed.
func TestEveryCountsLateTicks(t *testing.T) {
	p, clock := newFakePool(t, Options{Workers: 1})
	q := p.NewQueue("ticker")
	var runs atomic.Int64
	q.Every(100*time.Millisecond, func() { runs.Add(1) })

	clock.advance(350 * time.Millisecond) // deadlines 100, 200, 300 at once
	flush(t, q)
	if r, l := runs.Load(), q.Stats().LateTicks; r != 1 || l != 2 {
		t.Errorf("after a jump over 3 deadlines: %d runs, %d late; want 1, 2", r, l)
	}

	release := gate(t, q) // the queue is busy through deadlines 400..700
	for range 4 {
		clock.advance(100 * time.Millisecond)
	}
	release()
	flush(t, q)
	if r, l := runs.Load(), q.Stats().LateTicks; r != 2 || l != 5 {
		t.Errorf("after a busy queue missed 4 deadlines: %d runs, %d late; want 2, 5", r, l)
	}
	if l := p.Stats().LateTicks; l != 5 {
		t.Errorf("pool LateTicks %d, want 5", l)
	}
}

// After fires on the first tick at or after its deadline, never before.
func TestAfterDeadline(t *testing.T) {
	for _, delay := range []time.Duration{0, 1, 999 * time.Microsecond, time.Millisecond, 50*time.Millisecond + 1, 90 * time.Minute} {
		t.Run(delay.String(), func(t *testing.T) {
			p, clock := newFakePool(t, Options{})
			q := p.NewQueue("once")
			clock.advance(3*time.Second + 123*time.Microsecond) // off the tick grid
			start := time.Duration(clock.ns.Load())
			var at atomic.Int64
			at.Store(-1)
			q.After(delay, func() { at.Store(clock.ns.Load()) })
			deadline := start + delay
			onTick := (deadline + time.Millisecond - 1).Truncate(time.Millisecond)
			// Up to just before the tick, in uneven steps.
			r := rand.New(rand.NewPCG(7, uint64(delay)))
			for left := onTick - 1 - time.Duration(clock.ns.Load()); left > 0; left = onTick - 1 - time.Duration(clock.ns.Load()) {
				clock.advance(min(left, 1+time.Duration(r.Int64N(int64(7*time.Second)))))
			}
			flush(t, q)
			if a := at.Load(); a >= 0 {
				t.Fatalf("fired at %v, before its tick at %v", time.Duration(a)-start, onTick-start)
			}
			clock.advance(1)
			flush(t, q)
			if a := at.Load(); a != int64(onTick) {
				t.Fatalf("fired at %v, want on the tick at %v (deadline %v)", time.Duration(a)-start, onTick-start, delay)
			}
		})
	}
}

// Stop is exact even when the firing is already in the mailbox: the job
// does not start, for a timer that fires once and for a periodic one.
func TestStopAfterFiring(t *testing.T) {
	tests := []struct {
		name string
		set  func(q *Queue, fn func()) (*Timer, error)
	}{
		{"After", func(q *Queue, fn func()) (*Timer, error) { return q.After(10*time.Millisecond, fn) }},
		{"Every", func(q *Queue, fn func()) (*Timer, error) { return q.Every(10*time.Millisecond, fn) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clock := newFakePool(t, Options{Workers: 1})
			q := p.NewQueue("room")
			var runs atomic.Int64
			tm, err := tt.set(q, func() { runs.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			release := gate(t, q)
			clock.advance(15 * time.Millisecond) // the firing waits behind the gate
			if !tm.Stop() {
				t.Error("Stop of a timer whose job had not started reported false")
			}
			if tm.Stop() {
				t.Error("second Stop reported true")
			}
			release()
			clock.advance(time.Second)
			flush(t, q)
			if n := runs.Load(); n != 0 {
				t.Errorf("job ran %d times after Stop", n)
			}
		})
	}
}

// Under concurrent firing and stopping on the real clock, a timer whose
// Stop reported true never runs, and one whose Stop reported false ran.
func TestStopRace(t *testing.T) {
	p := newTestPool(t, Options{})
	queues := []*Queue{p.NewQueue("a"), p.NewQueue("b"), p.NewQueue("c")}
	const n = 3000
	type rec struct {
		t   *Timer
		ran atomic.Bool
	}
	recs := make([]rec, n)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range recs {
		rc := &recs[i]
		tm, err := queues[i%3].After(time.Duration(r.Int64N(int64(3*time.Millisecond))), func() { rc.ran.Store(true) })
		if err != nil {
			t.Fatal(err)
		}
		rc.t = tm
	}
	stopped := make([]bool, n)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := w; i < n; i += 3 {
				if i%5 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
				stopped[i] = recs[i].t.Stop()
			}
		})
	}
	wg.Wait()
	for _, q := range queues {
		flush(t, q)
	}
	for i := range recs {
		if ran := recs[i].ran.Load(); ran == stopped[i] {
			t.Fatalf("timer %d: Stop reported %v and the job ran: %v", i, stopped[i], ran)
		}
	}
}

// Once Stop of a periodic timer has returned, no new run starts, whether
// Stop comes from another goroutine or from the timer's own job.
func TestStopPeriodic(t *testing.T) {
	p := newTestPool(t, Options{})
	q := p.NewQueue("room")
	var runs atomic.Int64
	tm, _ := q.Every(time.Millisecond, func() { runs.Add(1) })
	testkit.WaitFor(t, testkit.WaitLong, "3 runs", func() bool { return runs.Load() >= 3 })
	tm.Stop()
	flush(t, q) // a run under way when Stop returned has finished
	after := runs.Load()
	time.Sleep(20 * time.Millisecond)
	flush(t, q)
	if got := runs.Load(); got != after {
		t.Errorf("%d runs after Stop returned", got-after)
	}

	var self *Timer
	var selfRuns atomic.Int64
	ready := make(chan struct{})
	q.Post(func() {
		self, _ = q.Every(time.Millisecond, func() {
			if selfRuns.Add(1) == 3 {
				self.Stop()
			}
		})
		close(ready)
	})
	testkit.Recv(t, ready, testkit.WaitLong, "the job that set the timer")
	testkit.WaitFor(t, testkit.WaitLong, "3 runs", func() bool { return selfRuns.Load() >= 3 })
	time.Sleep(10 * time.Millisecond)
	flush(t, q)
	if got := selfRuns.Load(); got != 3 {
		t.Errorf("a timer that stopped itself on its 3rd run ran %d times", got)
	}
}

// Closing a queue stops its timers, including a firing already waiting.
func TestQueueCloseStopsTimers(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprint("drop=", drop), func(t *testing.T) {
			p, clock := newFakePool(t, Options{Workers: 1})
			q := p.NewQueue("room")
			var runs atomic.Int64
			q.Every(10*time.Millisecond, func() { runs.Add(1) })
			q.After(20*time.Millisecond, func() { runs.Add(1) })
			q.After(time.Hour, func() { runs.Add(1) })
			release := gate(t, q)
			clock.advance(25 * time.Millisecond)
			if drop {
				q.Drop()
			} else {
				q.Close()
			}
			if _, err := q.After(time.Millisecond, func() {}); err != ErrClosed {
				t.Errorf("After on a closed queue: %v", err)
			}
			release()
			testkit.Recv(t, q.Done(), testkit.WaitLong, "the closed queue's end")
			clock.advance(2 * time.Hour)
			if n := runs.Load(); n != 0 {
				t.Errorf("%d timer jobs ran after Close", n)
			}
			if n := p.Stats().Timers; n != 0 {
				t.Errorf("%d timers pending after Close", n)
			}
		})
	}
}

// A periodic timer whose job panics keeps ticking.
func TestEveryPanicKeepsTicking(t *testing.T) {
	p, clock := newFakePool(t, Options{Workers: 1, OnPanic: func(string, any, []byte) {}})
	q := p.NewQueue("room")
	var runs atomic.Int64
	q.Every(time.Millisecond, func() {
		runs.Add(1)
		panic("tick")
	})
	for range 5 {
		clock.advance(time.Millisecond)
		flush(t, q)
	}
	if n := runs.Load(); n != 5 {
		t.Errorf("%d runs, want 5", n)
	}
	if n := q.Stats().Panics; n != 5 {
		t.Errorf("%d panics, want 5", n)
	}
}

// On the real clock, timers fire: the timer goroutine wakes for a timer
// set earlier than everything pending.
func TestTimersFireOnTheRealClock(t *testing.T) {
	defer testkit.LeakCheck(t)()
	p := NewPool(Options{})
	q := p.NewQueue("room")
	q.After(time.Hour, func() {})
	done := make(chan struct{})
	q.After(2*time.Millisecond, func() { close(done) })
	testkit.Recv(t, done, testkit.WaitLong, "a timer set before an hour's")
	ticks := make(chan struct{}, 3)
	tm, _ := q.Every(time.Millisecond, func() {
		select {
		case ticks <- struct{}{}:
		default:
		}
	})
	for range 3 {
		testkit.Recv(t, ticks, testkit.WaitLong, "a tick")
	}
	tm.Stop()
	closePool(t, p)
}
