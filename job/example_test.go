package job_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"servercore/job"
)

// A room's state is touched only by its queue's jobs, so it needs no lock,
// whichever goroutines post to it.
func ExampleQueue_Post() {
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	room := pool.NewQueue("room 1")

	score := 0
	for range 10 {
		room.Post(func() { score++ })
	}
	done := make(chan struct{})
	room.Post(func() { fmt.Println("score", score); close(done) })
	<-done
	// Output: score 10
}

// A full mailbox refuses work: the poster decides what to do with it, such
// as disconnecting a client that floods a room.
func ExampleErrQueueFull() {
	pool := job.NewPool(job.Options{Workers: 1, Mailbox: 2})
	defer pool.Close(context.Background())
	room := pool.NewQueue("small room")

	release := make(chan struct{})
	started := make(chan struct{})
	room.Post(func() { close(started); <-release }) // keeps the room busy
	<-started
	for i := range 3 {
		err := room.Post(func() {})
		fmt.Println(i, err, errors.Is(err, job.ErrQueueFull))
	}
	close(release)
	// Output:
	// 0 <nil> false
	// 1 <nil> false
	// 2 job: queue full true
}

// A game loop: Every keeps absolute deadlines, so ticks do not drift, and
// Stop is exact. The room sets its ticker from one of its own jobs, so the
// ticks, which run on the room too, see the variable set.
func ExampleQueue_Every() {
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	room := pool.NewQueue("match")

	frames := 0
	done := make(chan struct{})
	var ticker *job.Timer
	room.Post(func() {
		ticker, _ = room.Every(5*time.Millisecond, func() {
			frames++
			if frames == 3 {
				ticker.Stop() // no fourth frame starts
				close(done)
			}
		})
	})
	<-done
	room.Close()
	<-room.Done()
	fmt.Println("frames", frames)
	// Output: frames 3
}

// After runs a job on the queue once; Stop cancels it.
func ExampleQueue_After() {
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	room := pool.NewQueue("lobby")

	timeout, _ := room.After(time.Hour, func() { fmt.Println("the lobby timed out") })
	fmt.Println("stopped:", timeout.Stop())
	// Output: stopped: true
}

// Close lets the jobs already posted run; Done tells when they have.
func ExampleQueue_Close() {
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	room := pool.NewQueue("room")

	for i := range 3 {
		room.Post(func() { fmt.Println("job", i) })
	}
	room.Close()
	err := room.Post(func() {}) // refused: the queue is closed
	<-room.Done()               // the jobs posted before ran
	fmt.Println(err)
	// Output:
	// job 0
	// job 1
	// job 2
	// job: closed
}

// Closing the pool runs what was posted and returns when every goroutine
// of the pool has exited.
func ExamplePool_Close() {
	pool := job.NewPool(job.Options{Workers: 2})
	rooms := []*job.Queue{pool.NewQueue("a"), pool.NewQueue("b")}
	for _, r := range rooms {
		r.Post(func() {})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(pool.Close(ctx), pool.Stats().JobsRun)
	// Output: <nil> 2
}

// Stats counts the pool's work.
func ExamplePool_Stats() {
	pool := job.NewPool(job.Options{})
	room := pool.NewQueue("room")
	for range 100 {
		room.Post(func() {})
	}
	pool.Close(context.Background())
	st := pool.Stats()
	fmt.Println(st.JobsRun, st.Queued, st.Latency.Samples > 0)
	// Output: 100 0 true
}
