package prom

import "github.com/prometheus/client_golang/prometheus"

// descs describes every metric of a collector, with its service label.
type descs struct {
	sessions, accepted, refused, acceptErrors        *prometheus.Desc
	packetsIn, packetsOut, bytesIn, bytesOut         *prometheus.Desc
	disconnects, panics, slowCallbacks               *prometheus.Desc
	sendQueued, sendQueueMax, recvBuffered, backend  *prometheus.Desc
	jobsRun, jobsDropped, jobPanics, lateTicks       *prometheus.Desc
	mailbox, mailboxMax, timers, latency, latencyMax *prometheus.Desc
	queues                                           *prometheus.Desc
}

func newDescs(labels prometheus.Labels) descs {
	d := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("servercore_"+name, help, variable, labels)
	}
	return descs{
		sessions:      d("sessions", "Sessions connected now."),
		accepted:      d("accepted_total", "Connections accepted."),
		refused:       d("refused_total", "Connections closed at once because of MaxSessions."),
		acceptErrors:  d("accept_errors_total", "Failed accepts the service survived."),
		packetsIn:     d("received_packets_total", "Whole packets received."),
		packetsOut:    d("sent_packets_total", "SendBuffers written."),
		bytesIn:       d("received_bytes_total", "Bytes received."),
		bytesOut:      d("sent_bytes_total", "Bytes written."),
		disconnects:   d("disconnects_total", "Sessions ended, by the cause they ended with.", "cause"),
		panics:        d("handler_panics_total", "Panics recovered in handlers and session factories."),
		slowCallbacks: d("slow_callbacks_total", "Completions whose callbacks ran longer than Config.SlowCallback."),
		sendQueued:    d("send_queue_bytes", "Bytes queued or being written on all sessions now."),
		sendQueueMax:  d("send_queue_max_bytes", "The most bytes one session has queued now."),
		recvBuffered:  d("recv_buffer_bytes", "Memory the sessions' receive buffers hold now."),
		backend:       d("backend_info", "The I/O engine the service runs on, as its label; always 1.", "backend"),

		jobsRun:     d("jobs_run_total", "Jobs run, timers' firings included."),
		jobsDropped: d("jobs_dropped_total", "Jobs discarded by Drop or by an interrupted Close."),
		jobPanics:   d("job_panics_total", "Jobs that panicked."),
		lateTicks:   d("job_late_ticks_total", "Periodic ticks skipped because they could not run in time."),
		mailbox:     d("job_mailbox_jobs", "Jobs waiting in mailboxes now."),
		mailboxMax:  d("job_mailbox_max_jobs", "The most jobs one mailbox has held."),
		timers:      d("job_timers", "Timers waiting for their deadline."),
		latency:     d("job_start_latency_seconds", "Time from posting a job to its start, sampled on one post in 16 of each queue."),
		latencyMax:  d("job_start_latency_max_seconds", "The longest time from posting a job to its start."),
		queues:      d("job_queues_created_total", "Queues made in the pool."),
	}
}

// service lists the descriptions of a service's metrics.
func (d *descs) service() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.sessions, d.accepted, d.refused, d.acceptErrors,
		d.packetsIn, d.packetsOut, d.bytesIn, d.bytesOut,
		d.disconnects, d.panics, d.slowCallbacks,
		d.sendQueued, d.sendQueueMax, d.recvBuffered, d.backend,
	}
}

// job lists the descriptions of a job pool's metrics.
func (d *descs) job() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.jobsRun, d.jobsDropped, d.jobPanics, d.lateTicks,
		d.mailbox, d.mailboxMax, d.timers, d.latency, d.latencyMax,
		d.queues,
	}
}
