package servercore

import (
	"errors"
	"iter"
	"sync/atomic"
)

// totals are the service's accept counts, under its mu.
type totals struct {
	accepted, refused, acceptErrors uint64
}

// Stats is a snapshot of a service's counters.
type Stats struct {
	Sessions     int    // sessions connected now
	Accepted     uint64 // connections accepted (server)
	Refused      uint64 // connections closed at once because of MaxSessions (server)
	AcceptErrors uint64 // failed accepts the service survived (server)
	PacketsIn    uint64 // whole packets received (packet sessions)
	PacketsOut   uint64 // SendBuffers written
	BytesIn      uint64
	BytesOut     uint64
	Disconnects  DisconnectCounts // sessions ended, by cause
	// SendQueued is the bytes queued or being written on all sessions
	// now; SendQueueMax is the most that one session has queued now, the
	// slowest reader's backlog (cut at Config.SendQueueLimit).
	SendQueued   int
	SendQueueMax int
	// RecvBuffered is the memory the sessions' receive buffers hold now,
	// in bytes: their capacity, not the unread bytes in them.
	RecvBuffered int64
	// HandlerPanics counts the panics recovered in handlers and session
	// factories, those after a session ended (in OnDisconnected) included.
	HandlerPanics uint64
	// SlowCallbacks counts the completions whose callbacks ran longer
	// than Config.SlowCallback.
	SlowCallbacks uint64
}

// DisconnectCounts counts the sessions that ended, by the cause they ended
// with; each field counts the causes that errors.Is matches with its error.
type DisconnectCounts struct {
	PeerClosed    uint64 // ErrPeerClosed: the peer closed or reset the connection
	Protocol      uint64 // ErrProtocol
	SendQueueFull uint64 // ErrSendQueueFull: a peer that does not read fast enough
	SendTimeout   uint64 // ErrSendTimeout: cut before its last sends were written
	IdleTimeout   uint64 // ErrIdleTimeout
	PacketTimeout uint64 // ErrPacketTimeout
	RecvOverflow  uint64 // ErrRecvOverflow
	Panic         uint64 // ErrHandlerPanic
	ServiceClosed uint64 // ErrServiceClosed: ended by Stop
	Local         uint64 // ErrDisconnected: Disconnect(nil)
	Other         uint64 // a cause of the application's own, or another network error
}

// disconnectCauses are the causes counted apart, with the name they are
// reported under and their field, in the order they are matched: a cut
// drain wraps the cause it was draining for, so it comes first.
var disconnectCauses = [...]struct {
	err   error
	name  string
	field func(*DisconnectCounts) *uint64
}{
	{ErrHandlerPanic, "panic", func(c *DisconnectCounts) *uint64 { return &c.Panic }},
	{ErrSendTimeout, "send_timeout", func(c *DisconnectCounts) *uint64 { return &c.SendTimeout }},
	{ErrProtocol, "protocol", func(c *DisconnectCounts) *uint64 { return &c.Protocol }},
	{ErrSendQueueFull, "send_queue_full", func(c *DisconnectCounts) *uint64 { return &c.SendQueueFull }},
	{ErrIdleTimeout, "idle_timeout", func(c *DisconnectCounts) *uint64 { return &c.IdleTimeout }},
	{ErrPacketTimeout, "packet_timeout", func(c *DisconnectCounts) *uint64 { return &c.PacketTimeout }},
	{ErrRecvOverflow, "recv_overflow", func(c *DisconnectCounts) *uint64 { return &c.RecvOverflow }},
	{ErrPeerClosed, "peer_closed", func(c *DisconnectCounts) *uint64 { return &c.PeerClosed }},
	{ErrServiceClosed, "service_closed", func(c *DisconnectCounts) *uint64 { return &c.ServiceClosed }},
	{ErrDisconnected, "local", func(c *DisconnectCounts) *uint64 { return &c.Local }},
}

// All yields every cause's name (peer_closed, protocol, ... and other) and
// its count, those still at zero included, always in the same order.
func (d DisconnectCounts) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for _, c := range disconnectCauses {
			if !yield(c.name, *c.field(&d)) {
				return
			}
		}
		yield("other", d.Other)
	}
}

// Add adds o's counts to d's, cause by cause: the counts of several
// services (a server listening on TCP and WebSocket, say) as one.
func (d *DisconnectCounts) Add(o DisconnectCounts) {
	for _, c := range disconnectCauses {
		*c.field(d) += *c.field(&o)
	}
	d.Other += o.Other
}

// disconnectCounts counts ended sessions by cause, in the order of
// disconnectCauses, other last; a session ends once, so plain atomics are
// cheap enough.
type disconnectCounts [len(disconnectCauses) + 1]atomic.Uint64

func (d *disconnectCounts) count(cause error) {
	for i, c := range disconnectCauses {
		if errors.Is(cause, c.err) {
			d[i].Add(1)
			return
		}
	}
	d[len(disconnectCauses)].Add(1)
}

func (d *disconnectCounts) addTo(c *DisconnectCounts) {
	for i, dc := range disconnectCauses {
		*dc.field(c) += d[i].Load()
	}
	c.Other += d[len(disconnectCauses)].Load()
}

// Stats returns a snapshot of the service's counters. It visits every
// session for its send queue, so it costs a lock per session: read it
// every second or so, not per packet.
func (svc *Service) Stats() Stats {
	// The sessions are copied under the service's lock and read after it,
	// so that a reader never holds up accepts for a walk of every session.
	svc.mu.RLock()
	t := svc.totals
	list := make([]*Session, 0, len(svc.sessions))
	for s := range svc.sessions {
		list = append(list, s)
	}
	svc.mu.RUnlock()
	st := Stats{
		Accepted:     t.accepted,
		Refused:      t.refused,
		AcceptErrors: t.acceptErrors,
	}
	for _, s := range list {
		if s.Connected() {
			st.Sessions++
		}
		q := s.sendQueued()
		st.SendQueued += q
		st.SendQueueMax = max(st.SendQueueMax, q)
	}
	svc.traffic.addTo(&st)
	svc.disconnects.addTo(&st.Disconnects)
	st.HandlerPanics = svc.panics.Load()
	st.SlowCallbacks = svc.slowCallbacks.Load()
	return st
}

// trafficShards is how many blocks of counters a service spreads its
// sessions' traffic counts over, so that sessions served on different cores
// seldom write the same cache line and no session carries counters of its
// own.
const trafficShards = 64

// trafficShard is one cache line of traffic counters, and of the receive
// memory its sessions hold.
type trafficShard struct {
	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
	recvHeld                                 atomic.Int64
	_                                        [64 - 5*8]byte
}

// traffic is a service's packet and byte counts, in shards chosen by
// session ID.
type traffic [trafficShards]trafficShard

// of returns the shard that counts session id's traffic.
func (t *traffic) of(id uint64) *trafficShard { return &t[id%trafficShards] }

// addTo adds the counts to st.
func (t *traffic) addTo(st *Stats) {
	for i := range t {
		c := &t[i]
		st.PacketsIn += c.packetsIn.Load()
		st.PacketsOut += c.packetsOut.Load()
		st.BytesIn += c.bytesIn.Load()
		st.BytesOut += c.bytesOut.Load()
		st.RecvBuffered += c.recvHeld.Load()
	}
}
