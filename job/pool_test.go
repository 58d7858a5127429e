package job

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// fakeClock is a pool's clock that moves only when a test moves it.
type fakeClock struct {
	p  *Pool
	ns atomic.Int64
}

// newFakePool returns a pool whose clock and timers move only with
// clock.advance. It is closed when the test ends.
func newFakePool(t testing.TB, opts Options) (*Pool, *fakeClock) {
	c := new(fakeClock)
	c.p = newPool(opts, c.ns.Load)
	t.Cleanup(func() { closePool(t, c.p) })
	return c.p, c
}

// newTestPool returns a pool on the real clock, closed when the test ends.
func newTestPool(t testing.TB, opts Options) *Pool {
	p := NewPool(opts)
	t.Cleanup(func() { closePool(t, p) })
	return p
}

func closePool(t testing.TB, p *Pool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// advance moves the clock by d and fires the timers that came due.
func (c *fakeClock) advance(d time.Duration) {
	c.p.timers.advance(c.ns.Add(int64(d)), nil)
}

// flush waits until every job posted to q before it has run.
func flush(t testing.TB, q *Queue) {
	t.Helper()
	done := make(chan struct{})
	for {
		err := q.Post(func() { close(done) })
		if err == nil {
			break
		}
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("flush: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	testkit.Recv(t, done, testkit.WaitLong, "the flush job")
}

// gate blocks q with a job until the returned function is called; it
// returns once the job has started.
func gate(t testing.TB, q *Queue) (release func()) {
	t.Helper()
	started, wait := make(chan struct{}), make(chan struct{})
	if err := q.Post(func() { close(started); <-wait }); err != nil {
		t.Fatalf("gate: %v", err)
	}
	testkit.Recv(t, started, testkit.WaitLong, "the gate job")
	var once sync.Once
	return func() { once.Do(func() { close(wait) }) }
}

// Close runs the jobs already posted, stops timers, and leaves no goroutine.
func TestPoolCloseRunsPostedJobsAndLeavesNoGoroutine(t *testing.T) {
	defer testkit.LeakCheck(t)()
	p := NewPool(Options{Workers: 3})
	var ran atomic.Int64
	queues := make([]*Queue, 20)
	for i := range queues {
		queues[i] = p.NewQueue("q")
		if _, err := queues[i].Every(time.Millisecond, func() {}); err != nil {
			t.Fatal(err)
		}
		if _, err := queues[i].After(time.Hour, func() { t.Error("an hour passed") }); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		for _, q := range queues {
			if err := q.Post(func() { ran.Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ran.Load(); got != 100*int64(len(queues)) {
		t.Errorf("ran %d jobs, want %d", got, 100*len(queues))
	}
	q := queues[0]
	if err := q.Post(func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Post after Close: %v, want ErrClosed", err)
	}
	if _, err := q.After(time.Millisecond, func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("After after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A Close whose context ends drops the jobs not started and returns the
// context's error; the workers exit once their jobs return.
func TestPoolCloseDeadline(t *testing.T) {
	defer testkit.LeakCheck(t)()
	p := NewPool(Options{Workers: 1})
	q := p.NewQueue("stuck")
	release := gate(t, q)
	var ran atomic.Int64
	for range 10 {
		q.Post(func() { ran.Add(1) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v, want context.Canceled", err)
	}
	release()
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("Close after release: %v", err)
	}
	if got := ran.Load(); got != 0 {
		t.Errorf("%d jobs ran after an interrupted Close, want 0", got)
	}
	if got := p.Stats().Dropped; got != 10 {
		t.Errorf("Dropped %d, want 10", got)
	}
}

// Posts racing with Close either fail with ErrClosed or run.
func TestPoolClosePostRace(t *testing.T) {
	defer testkit.LeakCheck(t)()
	for range 20 {
		p := NewPool(Options{Workers: 2})
		q := p.NewQueue("race")
		var accepted, ran atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 200 {
					switch err := q.Post(func() { ran.Add(1) }); {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, ErrClosed):
						return
					default:
						t.Error(err)
						return
					}
				}
			})
		}
		p.Close(context.Background())
		wg.Wait()
		if a, r := accepted.Load(), ran.Load(); r != a {
			t.Fatalf("ran %d jobs of %d accepted", r, a)
		}
	}
}
