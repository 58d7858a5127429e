package job

import "errors"

var (
	// ErrQueueFull is returned by Post when the queue's mailbox holds as
	// many jobs as its bound allows.
	ErrQueueFull = errors.New("job: queue full")
	// ErrClosed is returned when posting to, or setting a timer on, a
	// closed queue or a queue of a closed pool.
	ErrClosed = errors.New("job: closed")
)
