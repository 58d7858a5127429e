package servercore

import "sync/atomic"

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
}

// Stats returns a snapshot of the service's counters.
func (svc *Service) Stats() Stats {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	t := svc.totals
	st := Stats{
		Accepted:     t.accepted,
		Refused:      t.refused,
		AcceptErrors: t.acceptErrors,
	}
	for s := range svc.sessions {
		if s.Connected() {
			st.Sessions++
		}
	}
	svc.traffic.addTo(&st)
	return st
}

// trafficShards is how many blocks of counters a service spreads its
// sessions' traffic counts over, so that sessions served on different cores
// seldom write the same cache line and no session carries counters of its
// own.
const trafficShards = 64

// trafficShard is one cache line of traffic counters.
type trafficShard struct {
	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
	_                                        [64 - 4*8]byte
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
	}
}
