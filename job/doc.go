// Package job runs game logic on serial queues: a room, a zone or a match
// is a Queue whose jobs run one at a time, so its state needs no lock, on a
// Pool of worker goroutines (GOMAXPROCS by default) shared by every queue.
//
// The contract:
//   - Post is safe from any goroutine and never blocks: it adds the job to
//     the queue's mailbox and returns (unless Options.Inline asks it to run
//     an idle queue itself).
//   - The jobs of one queue run one at a time, in the order they were
//     posted: the jobs one goroutine posts run in the order it posted them,
//     and each job sees what the jobs before it did.
//   - A queue with nothing to do costs no goroutine and holds no mailbox
//     memory, only its own struct (about 200 bytes with a ticking timer).
//   - A queue that keeps getting work yields after Options.Slice (1 ms by
//     default) so that other queues run; a job is never interrupted, the
//     queue yields between jobs.
//   - Each mailbox is bounded (Options.Mailbox, 4096 jobs by default): Post
//     to a full one returns ErrQueueFull, to a closed one ErrClosed; test
//     them with errors.Is. PostUnbounded skips the bound, for the one job
//     per session that must not be refused, its leave.
//   - A panicking job is recovered and reported with its queue's name
//     (Options.OnPanic); the worker and the queue go on.
//   - Timers (Queue.After, Queue.Every) run jobs on their queue. They keep
//     absolute deadlines, so periodic ones do not drift; a tick that cannot
//     run before the next deadline is skipped and counted late. Timers have
//     a resolution of a millisecond and never fire early.
//   - Timer.Stop is exact, from any goroutine: once it has returned, the
//     timer's job does not start again.
//   - Queue.Close drains: posts fail, its timers stop, the jobs already
//     posted run, and Done is closed after the last one. Queue.Drop
//     discards the jobs not yet started instead.
//   - Pool.Close refuses new posts, stops every timer, lets the jobs
//     already posted run and returns when no goroutine of the pool is
//     left; if its context ends first, the waiting jobs are dropped. It
//     must not be called from a job.
//
// # Sessions
//
// A packet handler hands its work to a room by posting a job from
// OnRecvPacket: a session's callbacks run one at a time and in order, so
// its jobs keep the order its packets arrived in. The payload is valid only
// during the callback: copy or decode it before posting. OnDisconnected
// posts the leave with PostUnbounded, so that it reaches the room after the
// session's earlier jobs and is never refused. See the sessions example.
//
// # Where jobs run
//
// Jobs run on the pool's workers. Options.Inline makes an idle queue run on
// the posting goroutine instead, for up to a slice, as the first poster
// does in the C++ original. Measured with BenchmarkServer (a server on
// loopback, 32 clients each waiting for the reply to its packet, 8 rooms,
// the io_uring engine, 2 cores shared with the clients; µs per round trip,
// median of 3):
//
//	job's work   on the loop   pool, IOThreads 1   pool, IOThreads 2   inline, IOThreads 1
//	none             13.4            12.9                22.4               12.6
//	20 µs            27.4            37.0                43.3               27.0
//
// Fewer I/O threads than cores leave a core to the workers: on the pool,
// IOThreads 1 ran 1.7 times faster than 2 with short jobs. Inline is as
// fast as working on the loop, and a quarter faster than the pool with
// 20 µs jobs, but it runs game code on the engine's loop, where one slow
// room stalls every session of that loop, and Post then blocks; with
// posters that are not loops (BenchmarkFanIn/job-inline) it is slower
// than the pool. So the pool stays the default; Inline is for servers whose
// jobs are short and posted from the engine's callbacks.
//
// # Performance
//
// go test -run '^$' -bench 'FanIn|Rooms|Timers' -benchmem -count 3
// ./job/ compares the queues with their peers: a goroutine per queue
// reading a buffered channel, and a room behind a mutex run on the
// poster's goroutine (medians of 3 on 2 shared, noisy cores):
//
//	FanIn, 1000 queues, 8 posters     job 120 ns/op, 0 allocs   chan 92   mutex 17
//	Rooms, 10 000 ticking queues      job 210 B/queue, 58 ns/op  chan 2893 B/queue, 143 ns/op
//	Timers, 1 000 000 set and stopped job 203 ns, 64 B/timer     runtime 346 ns, 112 B/timer
//
// A post and a run each move the job's cache lines between cores, as a
// channel's send and receive do, so fanning in from many goroutines costs
// about what a channel costs; what the queue saves is a goroutine and its
// stack per room (a fourteenth of the memory), and per timer two fifths of
// the runtime's time and memory.
package job
