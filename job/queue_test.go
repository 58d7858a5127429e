package job

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"servercore/internal/testkit"
)

// Jobs of one queue run one at a time, and each poster's jobs run in the
// order it posted them, whatever the number of posters and workers.
func TestQueueOrderAndOneAtATime(t *testing.T) {
	tests := []struct {
		workers, posters, queues, jobs int
		inline                         bool
	}{
		{workers: 1, posters: 8, queues: 4, jobs: 500},
		{workers: 2, posters: 8, queues: 50, jobs: 200},
		{workers: 4, posters: 3, queues: 1, jobs: 3000},
		{workers: 2, posters: 8, queues: 20, jobs: 200, inline: true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("workers=%d,posters=%d,queues=%d,inline=%v", tt.workers, tt.posters, tt.queues, tt.inline)
		t.Run(name, func(t *testing.T) {
			p := newTestPool(t, Options{Workers: tt.workers, Inline: tt.inline, Mailbox: 1 << 20})
			type room struct {
				q    *Queue
				busy atomic.Bool
				last []int // per poster, the last sequence number run: no lock, since one job runs at a time
				runs int
			}
			rooms := make([]*room, tt.queues)
			for i := range rooms {
				rooms[i] = &room{q: p.NewQueue(fmt.Sprint("room", i)), last: make([]int, tt.posters)}
				for j := range rooms[i].last {
					rooms[i].last[j] = -1
				}
			}
			var wg sync.WaitGroup
			for poster := range tt.posters {
				wg.Go(func() {
					for seq := range tt.jobs {
						for _, r := range rooms {
							err := r.q.Post(func() {
								if !r.busy.CompareAndSwap(false, true) {
									t.Error("two jobs of one queue at once")
								}
								if r.last[poster] != seq-1 {
									t.Errorf("poster %d: job %d after %d", poster, seq, r.last[poster])
								}
								r.last[poster] = seq
								r.runs++
								r.busy.Store(false)
							})
							if err != nil {
								t.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			for _, r := range rooms {
				flush(t, r.q)
				if r.runs != tt.posters*tt.jobs {
					t.Errorf("%s ran %d jobs, want %d", r.q.Name(), r.runs, tt.posters*tt.jobs)
				}
			}
		})
	}
}

// A queue that keeps getting work yields after its slice, so a queue
// posted to meanwhile runs before the busy one has finished. The jobs move
// a fake clock, so the slice ends after a known number of them.
func TestQueueSliceFairness(t *testing.T) {
	tests := []struct {
		slice, jobCost time.Duration
		wantHotRuns    int
	}{
		{slice: time.Millisecond, jobCost: 400 * time.Microsecond, wantHotRuns: 3},
		{slice: 10 * time.Millisecond, jobCost: time.Millisecond, wantHotRuns: 10},
		{slice: time.Millisecond, jobCost: 5 * time.Millisecond, wantHotRuns: 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.slice, "/", tt.jobCost), func(t *testing.T) {
			p, clock := newFakePool(t, Options{Workers: 1, Slice: tt.slice})
			hot, cold := p.NewQueue("hot"), p.NewQueue("cold")
			var hotRuns, hotRunsAtCold int
			coldRan := make(chan struct{})
			var spin func()
			spin = func() {
				hotRuns++
				clock.ns.Add(int64(tt.jobCost))
				if hotRuns == 1 {
					// Cold is ready while hot still has work.
					cold.Post(func() { hotRunsAtCold = hotRuns; close(coldRan) })
				}
				select {
				case <-coldRan:
				default:
					hot.Post(spin)
				}
			}
			hot.Post(spin)
			testkit.Recv(t, coldRan, testkit.WaitLong, "the cold queue's job")
			flush(t, hot)
			if hotRunsAtCold != tt.wantHotRuns {
				t.Errorf("cold ran after %d hot jobs, want %d", hotRunsAtCold, tt.wantHotRuns)
			}
		})
	}
}

// A full mailbox refuses posts with ErrQueueFull until its jobs start.
func TestQueueBoundedMailbox(t *testing.T) {
	for _, size := range []int{1, 4, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p := newTestPool(t, Options{Workers: 1, Mailbox: size})
			q := p.NewQueue("small")
			release := gate(t, q)
			defer release()
			var ran atomic.Int64
			for i := range size {
				if err := q.Post(func() { ran.Add(1) }); err != nil {
					t.Fatalf("post %d of %d: %v", i+1, size, err)
				}
			}
			if err := q.Post(func() {}); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("post beyond %d: %v, want ErrQueueFull", size, err)
			}
			if got := q.Stats().Queued; got != size {
				t.Errorf("Queued %d, want %d", got, size)
			}
			release()
			flush(t, q)
			if got := ran.Load(); got != int64(size) {
				t.Errorf("ran %d, want %d", got, size)
			}
			if got := q.Stats().MaxQueued; got < size {
				t.Errorf("MaxQueued %d, want at least %d", got, size)
			}
		})
	}
}

// A panicking job is reported with its queue's name; the queue and the
// worker go on.
func TestQueuePanicRecovered(t *testing.T) {
	type report struct {
		queue string
		v     any
		stack bool
	}
	reports := make(chan report, 10)
	p := newTestPool(t, Options{Workers: 1, OnPanic: func(queue string, v any, stack []byte) {
		reports <- report{queue, v, len(stack) > 0}
	}})
	q := p.NewQueue("room 7")
	ran := false
	q.Post(func() { panic("boom") })
	q.Post(func() { ran = true })
	flush(t, q)
	if !ran {
		t.Error("the job after a panic did not run")
	}
	if r := testkit.Recv(t, reports, testkit.WaitLong, "the panic's report"); r.queue != "room 7" || r.v != "boom" || !r.stack {
		t.Errorf("report %+v", r)
	}
	if got := q.Stats().Panics; got != 1 {
		t.Errorf("queue Panics %d, want 1", got)
	}
	if got := p.Stats().Panics; got != 1 {
		t.Errorf("pool Panics %d, want 1", got)
	}
	// The one worker survived: another queue still runs.
	flush(t, p.NewQueue("other"))
}

// Close lets the posted jobs run; Drop discards them. Both refuse posts
// and then close Done.
func TestQueueCloseAndDrop(t *testing.T) {
	tests := []struct {
		name    string
		close   func(*Queue)
		wantRan int64
	}{
		{"Close drains", (*Queue).Close, 10},
		{"Drop discards", (*Queue).Drop, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPool(t, Options{Workers: 1})
			q := p.NewQueue("room")
			release := gate(t, q)
			var ran atomic.Int64
			for range 10 {
				q.Post(func() { ran.Add(1) })
			}
			tt.close(q)
			if err := q.Post(func() { ran.Add(100) }); !errors.Is(err, ErrClosed) {
				t.Errorf("Post after close: %v, want ErrClosed", err)
			}
			select {
			case <-q.Done():
				t.Fatal("Done before the running job returned")
			default:
			}
			release()
			testkit.Recv(t, q.Done(), testkit.WaitLong, "the closed queue's end")
			if got := ran.Load(); got != tt.wantRan {
				t.Errorf("ran %d, want %d", got, tt.wantRan)
			}
		})
	}
}

// A job may drop its own queue: the jobs after it do not run.
func TestQueueDropFromItsOwnJob(t *testing.T) {
	p := newTestPool(t, Options{Workers: 1})
	q := p.NewQueue("room")
	release := gate(t, q)
	var ran atomic.Int64
	q.Post(func() { ran.Add(1); q.Drop() })
	for range 5 {
		q.Post(func() { ran.Add(1) })
	}
	release()
	testkit.Recv(t, q.Done(), testkit.WaitLong, "the dropped queue's end")
	if got := ran.Load(); got != 1 {
		t.Errorf("ran %d, want 1", got)
	}
}

// Done of an idle queue closes as soon as it is closed.
func TestQueueDoneIdle(t *testing.T) {
	p := newTestPool(t, Options{})
	q := p.NewQueue("idle")
	done := q.Done()
	q.Close()
	testkit.Recv(t, done, testkit.WaitLong, "Done of the closed idle queue")
	testkit.Recv(t, q.Done(), testkit.WaitLong, "Done asked again")
}

// A poster running its queue inline hands it to the pool after a slice, so
// Post returns although the queue keeps getting work.
func TestQueueInlineYields(t *testing.T) {
	p, clock := newFakePool(t, Options{Workers: 1, Inline: true, Slice: time.Millisecond})
	hot := p.NewQueue("hot")
	var returned atomic.Bool
	runs := 0
	var spin func()
	spin = func() {
		runs++
		clock.ns.Add(int64(400 * time.Microsecond))
		if returned.Load() {
			return
		}
		if runs == 10000 {
			t.Error("Post did not return after 10000 jobs")
			return
		}
		hot.Post(spin)
	}
	hot.Post(spin)
	returned.Store(true)
	flush(t, hot)
	// Run inline: the first job, then 3 timed ones within the slice.
	if runs > 10 {
		t.Errorf("Post returned after %d jobs", runs)
	}
}

// A Queue fills a 128-byte size class exactly: its objects start on a cache
// line, so that no two queues share one, and an idle queue costs no more.
func TestQueueSize(t *testing.T) {
	if got := unsafe.Sizeof(Queue{}); got != 128 {
		t.Errorf("Queue is %d bytes, want 128", got)
	}
	if got := unsafe.Offsetof(Queue{}.maxQueued); got != 64 {
		t.Errorf("the posts' cache line ends at %d, want 64", got)
	}
}
