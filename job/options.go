package job

import (
	"runtime"
	"time"
)

// Defaults for the zero values of Options.
const (
	// DefaultMailbox bounds the jobs waiting in one queue.
	DefaultMailbox = 4096
	// DefaultSlice is how long a queue runs before it lets others run.
	DefaultSlice = time.Millisecond
)

// Options configures a Pool; zero values take the defaults documented on
// each field.
type Options struct {
	// Workers is how many goroutines run jobs (default GOMAXPROCS).
	Workers int
	// Mailbox bounds the jobs waiting in each queue (default
	// DefaultMailbox); Post beyond it returns ErrQueueFull.
	Mailbox int
	// Slice is how long a queue that keeps getting work runs before it goes
	// to the back of the line (default DefaultSlice). A job is never cut
	// short: the queue yields between jobs.
	Slice time.Duration
	// Inline makes Post run the queue on the posting goroutine when the
	// queue is idle, for up to one slice, instead of handing it to a
	// worker (the first poster runs it). Post then takes as long as the
	// jobs it runs, and a job that posts to another idle queue runs that
	// queue within itself. Timers' jobs always run on the workers.
	Inline bool
	// OnPanic receives a job's recovered panic with its queue's name and
	// the goroutine's stack. Nil logs it with the log package.
	OnPanic func(queue string, v any, stack []byte)
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Mailbox <= 0 {
		o.Mailbox = DefaultMailbox
	}
	if o.Slice <= 0 {
		o.Slice = DefaultSlice
	}
	return o
}
