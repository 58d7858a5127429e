package main

import "servercore"

// addStats is the counters of two services together: a server of several
// listeners reports them as one. SendQueueMax, the slowest reader's
// backlog, is the larger of the two.
func addStats(a, b servercore.Stats) servercore.Stats {
	a.Disconnects.Add(b.Disconnects)
	a.Sessions += b.Sessions
	a.Accepted += b.Accepted
	a.Refused += b.Refused
	a.AcceptErrors += b.AcceptErrors
	a.PacketsIn += b.PacketsIn
	a.PacketsOut += b.PacketsOut
	a.BytesIn += b.BytesIn
	a.BytesOut += b.BytesOut
	a.SendQueued += b.SendQueued
	a.SendQueueMax = max(a.SendQueueMax, b.SendQueueMax)
	a.RecvBuffered += b.RecvBuffered
	a.HandlerPanics += b.HandlerPanics
	a.SlowCallbacks += b.SlowCallbacks
	return a
}
