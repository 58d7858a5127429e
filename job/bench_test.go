package job_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/job"
)

// The peers: a goroutine per queue reading a buffered channel (what leaf,
// cherry and Nakama's matches do), and a room behind a mutex whose jobs run
// on the poster's goroutine.
type chanRoom struct {
	ch   chan func()
	done chan struct{}
}

func newChanRooms(n, capacity int) []*chanRoom {
	rooms := make([]*chanRoom, n)
	for i := range rooms {
		r := &chanRoom{ch: make(chan func(), capacity), done: make(chan struct{})}
		go func() {
			defer close(r.done)
			for f := range r.ch {
				f()
			}
		}()
		rooms[i] = r
	}
	return rooms
}

func stopChanRooms(rooms []*chanRoom) {
	for _, r := range rooms {
		close(r.ch)
	}
	for _, r := range rooms {
		<-r.done
	}
}

type mutexRoom struct {
	mu sync.Mutex
	n  int
}

const (
	fanInQueues  = 1000
	fanInPosters = 8
	mailbox      = 1024
)

func closePool(b *testing.B, p *job.Pool) {
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// post posts f to q, waiting while q's mailbox is full, as a sender on a
// full channel would.
func post(b *testing.B, q *job.Queue, f func()) {
	for {
		err := q.Post(f)
		if err == nil {
			return
		}
		if err != job.ErrQueueFull {
			b.Fatal(err)
		}
		fullCount.Add(1)
		runtime.Gosched()
	}
}

// fullCount counts the posts that found a mailbox full, reported by
// BenchmarkFanIn/job as full/op: how often its posters had to wait.
var fullCount atomic.Int64

// fanIn runs b.N posts from fanInPosters goroutines, each to queues in an
// order of its own, calling send(queue, poster).
func fanIn(b *testing.B, send func(q, poster int)) {
	var wg sync.WaitGroup
	per := b.N / fanInPosters
	for w := range fanInPosters {
		n := per
		if w == 0 {
			n += b.N % fanInPosters
		}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range n {
				send(r.IntN(fanInQueues), w)
			}
		})
	}
	wg.Wait()
}

// reportCPU reports the CPU time the process used since start per op, as
// cpu-ns/op: on a machine shared with other work, wall time per op counts
// the time the benchmark waited for a core, and CPU time does not.
func reportCPU(b *testing.B, start time.Duration) {
	if used := cpuTime() - start; start != 0 && b.N > 0 {
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkFanIn posts jobs to 1000 queues from 8 goroutines as fast as
// they can; an op is one job, posted and run. The jobs are made up front,
// so allocs/op is the queue's own.
func BenchmarkFanIn(b *testing.B) {
	counts := make([]int, fanInQueues)
	fns := make([]func(), fanInQueues)
	for i := range fns {
		fns[i] = func() { counts[i]++ }
	}
	b.Run("job", func(b *testing.B) {
		p := job.NewPool(job.Options{Mailbox: mailbox})
		defer closePool(b, p)
		fullCount.Store(0)
		defer func() { b.ReportMetric(float64(fullCount.Load())/float64(b.N), "full/op") }()
		queues := make([]*job.Queue, fanInQueues)
		for i := range queues {
			queues[i] = p.NewQueue("room")
		}
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		fanIn(b, func(q, _ int) { post(b, queues[q], fns[q]) })
		var wg sync.WaitGroup
		for _, q := range queues {
			wg.Add(1)
			post(b, q, wg.Done)
		}
		wg.Wait()
	})
	b.Run("job-inline", func(b *testing.B) {
		p := job.NewPool(job.Options{Mailbox: mailbox, Inline: true})
		defer closePool(b, p)
		fullCount.Store(0)
		defer func() { b.ReportMetric(float64(fullCount.Load())/float64(b.N), "full/op") }()
		queues := make([]*job.Queue, fanInQueues)
		for i := range queues {
			queues[i] = p.NewQueue("room")
		}
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		fanIn(b, func(q, _ int) { post(b, queues[q], fns[q]) })
		var wg sync.WaitGroup
		for _, q := range queues {
			wg.Add(1)
			post(b, q, wg.Done)
		}
		wg.Wait()
	})
	b.Run("chan", func(b *testing.B) {
		rooms := newChanRooms(fanInQueues, mailbox)
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		fanIn(b, func(q, _ int) { rooms[q].ch <- fns[q] })
		stopChanRooms(rooms)
	})
	b.Run("mutex", func(b *testing.B) {
		rooms := make([]mutexRoom, fanInQueues)
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		fanIn(b, func(q, _ int) {
			r := &rooms[q]
			r.mu.Lock()
			fns[q]()
			r.mu.Unlock()
		})
	})
}

const (
	roomsCount = 10_000
	roomTick   = 100 * time.Millisecond
)

// heapAndStacks is the memory in use after a collection. The second
// collection empties sync.Pool's victim caches, which hold free memory.
func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// BenchmarkRooms runs 10 000 rooms, each ticking every 100 ms, and posts
// jobs to them from 8 goroutines; an op is one job. B/queue is the memory
// one idle room costs, its ticker included, once every room has had work.
func BenchmarkRooms(b *testing.B) {
	tick := func() {}
	work := func() {}
	b.Run("job", func(b *testing.B) {
		p := job.NewPool(job.Options{Mailbox: mailbox})
		defer closePool(b, p)
		before := heapAndStacks()
		queues := make([]*job.Queue, roomsCount)
		for i := range queues {
			q := p.NewQueue("room")
			if _, err := q.Every(roomTick, tick); err != nil {
				b.Fatal(err)
			}
			queues[i] = q
		}
		var wg sync.WaitGroup
		for _, q := range queues {
			wg.Add(1)
			post(b, q, wg.Done)
		}
		wg.Wait()
		perQueue := float64(heapAndStacks()-before-8*roomsCount) / roomsCount // less the slice of queues
		b.ReportAllocs()
		b.ResetTimer()
		fanIn(b, func(q, _ int) { post(b, queues[q%roomsCount], work) })
		for _, q := range queues {
			wg.Add(1)
			post(b, q, wg.Done)
		}
		wg.Wait()
		b.ReportMetric(perQueue, "B/queue")
	})
	b.Run("chan", func(b *testing.B) {
		before := heapAndStacks()
		type room struct {
			ch   chan func()
			done chan struct{}
		}
		rooms := make([]*room, roomsCount)
		for i := range rooms {
			// A small mailbox, to spare the peer the memory of a big one.
			r := &room{ch: make(chan func(), 16), done: make(chan struct{})}
			go func() {
				defer close(r.done)
				t := time.NewTicker(roomTick)
				defer t.Stop()
				for {
					select {
					case f, ok := <-r.ch:
						if !ok {
							return
						}
						f()
					case <-t.C:
						tick()
					}
				}
			}()
			rooms[i] = r
		}
		var wg sync.WaitGroup
		for _, r := range rooms {
			wg.Add(1)
			r.ch <- wg.Done
		}
		wg.Wait()
		perQueue := float64(heapAndStacks()-before-8*roomsCount) / roomsCount
		b.ReportAllocs()
		b.ResetTimer()
		fanIn(b, func(q, _ int) { rooms[q%roomsCount].ch <- work })
		b.StopTimer()
		for _, r := range rooms {
			close(r.ch)
		}
		for _, r := range rooms {
			<-r.done
		}
		b.ReportMetric(perQueue, "B/queue")
	})
}

const timersCount = 1_000_000

// BenchmarkTimers schedules 1 000 000 timers, due between 1 s and 61 s
// from now, then stops them all; an op is one timer, scheduled and
// stopped. B/timer is the memory each pending timer holds.
func BenchmarkTimers(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	delays := make([]time.Duration, timersCount)
	for i := range delays {
		delays[i] = time.Second + time.Duration(r.Int64N(int64(time.Minute)))
	}
	f := func() {}
	b.Run("job", func(b *testing.B) {
		p := job.NewPool(job.Options{})
		defer closePool(b, p)
		q := p.NewQueue("timers")
		timers := make([]*job.Timer, timersCount)
		var perTimer float64
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		for i := 0; i < b.N; {
			n := min(timersCount, b.N-i)
			var before uint64
			if n == timersCount && perTimer == 0 {
				b.StopTimer()
				before = heapAndStacks()
				b.StartTimer()
			}
			for j := range n {
				t, err := q.After(delays[j], f)
				if err != nil {
					b.Fatal(err)
				}
				timers[j] = t
			}
			if before != 0 {
				b.StopTimer()
				perTimer = float64(heapAndStacks()-before) / timersCount
				b.StartTimer()
			}
			for j := range n {
				timers[j].Stop()
				timers[j] = nil
			}
			i += n
		}
		if perTimer != 0 {
			b.ReportMetric(perTimer, "B/timer")
		}
	})
	b.Run("runtime", func(b *testing.B) {
		timers := make([]*time.Timer, timersCount)
		var perTimer float64
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		for i := 0; i < b.N; {
			n := min(timersCount, b.N-i)
			var before uint64
			if n == timersCount && perTimer == 0 {
				b.StopTimer()
				before = heapAndStacks()
				b.StartTimer()
			}
			for j := range n {
				timers[j] = time.AfterFunc(delays[j], f)
			}
			if before != 0 {
				b.StopTimer()
				perTimer = float64(heapAndStacks()-before) / timersCount
				b.StartTimer()
			}
			for j := range n {
				timers[j].Stop()
				timers[j] = nil
			}
			i += n
		}
		if perTimer != 0 {
			b.ReportMetric(perTimer, "B/timer")
		}
	})
}
