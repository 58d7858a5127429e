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
// does in the C++ original. Measured with go test -run '^$' -bench Server
// -benchtime 20000x -count 3 ./job/ (a server on loopback, 32 clients each
// waiting for the reply to its packet, 8 rooms, the io_uring engine, 2
// cores shared with the clients and with other work, load 15; median CPU
// per round trip in µs, clients included, the steadier figure on a shared
// machine):
//
//	job's work   on the loop      pool            inline
//	             io=1   io=2   io=1   io=2   io=1   io=2
//	none         13.6   12.5   18.5   20.6   13.3   15.0
//	20 µs        34.8   36.2   37.4   51.1   36.3   39.0
//
// Inline costs what working on the loop costs; the pool with IOThreads 1
// costs 3 % more with 20 µs jobs and 38 % more with empty ones (a worker's
// wakeup per job; spinning workers before they wait was tried and measured
// no better), and IOThreads 2 leaves the pool no core. Inline measures
// best, but it breaks Post's contract (Post runs game code on the engine's
// loop, where one slow room stalls every session of that loop, and
// blocks), and with posters that are not loops (BenchmarkFanIn/job-inline)
// it is no faster than the pool. So the pool stays the default, with
// IOThreads below the core count; Inline is for servers whose jobs are
// short and posted from the engine's callbacks.
//
// # Performance
//
// go test -run '^$' -bench 'FanIn|Rooms|Timers' -benchmem -count 3
// ./job/ compares the queues with their peers: a goroutine per queue
// reading a buffered channel, and a room behind a mutex run on the
// poster's goroutine. Medians of 3 on 2 cores shared with other work; the
// wall time per op swings 2× from run to run there, so cpu-ns/op (the
// process's CPU per op) is reported beside it:
//
//	FanIn, 1000 queues, 8 posters     job 76 ns, 77 cpu-ns, 0 allocs     chan 104 ns, 83 cpu-ns
//	Rooms, 10 000 ticking queues      job 187 B/queue                    chan 2965 B/queue
//	Timers, 1 000 000 set and stopped job 221 ns, 312 cpu-ns, 57 B/timer  runtime 412 ns, 701 cpu-ns, 112 B/timer
//
// FanIn is short of half the channel's time: 0.73× its wall time and 0.92×
// its CPU (1.3× before queues stopped sharing cache lines). A post and a
// run each move the queue's cache lines between cores, as a channel's send
// and receive do, and a poster that is preempted, by Go or by the system,
// while it holds a queue's lock makes the others wait (the mutex profile
// shows posters blocked on the queue lock most of the run), where the
// runtime's channel lock cannot be preempted. Next: a lock-free mailbox
// (one CAS on a word holding the count and the idle and closed bits, and
// blocks written by position). Timers: 0.54× the runtime's time (target
// 0.5×, short by 8 %; half of it is the collector marking a million live
// timers) and 0.45× its CPU, with half its memory per pending timer.
package job
