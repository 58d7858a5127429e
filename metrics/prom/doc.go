// Package prom exports the counters of a servercore service, and of a job
// pool, as Prometheus metrics.
//
// It is a module of its own, so that the library's module never depends on
// the Prometheus client. A Collector reads Service.Stats and Pool.Stats
// when it is scraped and at no other time: nothing is counted per packet
// for it. Register it in a registry and serve that with promhttp:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(prom.NewCollector("game", svc, pool))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every metric carries the label service, the name given to NewCollector,
// so that one process can export several services. The metrics:
//
//	servercore_sessions                     gauge    sessions connected now
//	servercore_accepted_total               counter  connections accepted
//	servercore_refused_total                counter  connections refused by MaxSessions
//	servercore_accept_errors_total          counter  failed accepts the service survived
//	servercore_received_packets_total       counter  whole packets received
//	servercore_sent_packets_total           counter  SendBuffers written
//	servercore_received_bytes_total         counter
//	servercore_sent_bytes_total             counter
//	servercore_disconnects_total{cause}     counter  sessions ended, by cause
//	servercore_handler_panics_total         counter  panics recovered in handlers and factories
//	servercore_slow_callbacks_total         counter  completions slower than Config.SlowCallback
//	servercore_send_queue_bytes             gauge    bytes queued or being written, all sessions
//	servercore_send_queue_max_bytes         gauge    the largest queue of one session now
//	servercore_recv_buffer_bytes            gauge    memory held by receive buffers
//	servercore_backend_info{backend}        gauge    1, naming the I/O engine
//
// and, with a pool:
//
//	servercore_jobs_run_total               counter  jobs run, timers' included
//	servercore_jobs_dropped_total           counter  jobs discarded by Drop or an interrupted Close
//	servercore_job_panics_total             counter  jobs that panicked
//	servercore_job_late_ticks_total         counter  periodic ticks skipped
//	servercore_job_mailbox_jobs             gauge    jobs waiting in mailboxes now
//	servercore_job_mailbox_max_jobs         gauge    the most jobs one mailbox has held
//	servercore_job_timers                   gauge    timers waiting for their deadline
//	servercore_job_start_latency_seconds    histogram from Post to the job's start, sampled
//	servercore_job_start_latency_max_seconds gauge  the longest of them
//	servercore_job_queues_created_total     counter  queues made in the pool
//
// A game adds figures of its own (players, rooms) with
// prometheus.NewGaugeFunc or NewCounterFunc and the same service label.
//
// The causes are those of the library's errors.Is causes: peer_closed,
// protocol, send_queue_full, send_timeout, idle_timeout, packet_timeout,
// recv_overflow, panic, service_closed, local (Disconnect(nil)) and other.
// The job pool times one post in 16 of each queue; the latency histogram's
// count is the number timed, its sum exact, and its buckets (1, 2.5 and 5
// of each power of ten from 1 µs to 1 s) are read from the pool's own
// finer histogram, so a wait within about 3% below a bound may be counted
// only at the next.
package prom
