// Package job runs game logic on serial queues: a room, a zone or a match
// is a Queue whose jobs run one at a time, so its state needs no lock, on a
// Pool of worker goroutines shared by every queue.
//
// The contract:
//   - Post is safe from any goroutine and never blocks (unless
//     Options.Inline asks it to run an idle queue itself).
//   - The jobs of one queue run one at a time, and in the order they were
//     posted: the jobs one goroutine posts run in the order it posted them.
//   - A queue with nothing to do costs no goroutine and holds no mailbox
//     memory, only its own small struct.
//   - A queue that keeps getting work yields after Options.Slice (1 ms by
//     default) so that other queues run; a job is never interrupted, the
//     queue yields between jobs.
//   - Each mailbox is bounded (Options.Mailbox, 4096 by default): Post to a
//     full one returns ErrQueueFull, to a closed one ErrClosed.
//   - A panicking job is recovered and reported with its queue's name
//     (Options.OnPanic); the worker and the queue go on.
//   - Timers (Queue.After, Queue.Every) run jobs on their queue. Periodic
//     ones keep absolute deadlines, so they do not drift; a tick that
//     cannot run before the next deadline is skipped and counted late.
//     Timers have a resolution of a millisecond and never fire early.
//   - Timer.Stop is exact: once it has returned, the timer's job does not
//     start again.
//   - Queue.Close drains: the jobs already posted run, its timers stop, and
//     Done is closed after the last job. Queue.Drop discards the jobs not
//     yet started instead.
//   - Pool.Close refuses new posts, stops every timer, lets the jobs
//     already posted run and returns when no goroutine of the pool is
//     left; if its context ends first, the waiting jobs are dropped.
package job
