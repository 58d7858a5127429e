package servercore

import "sync/atomic"

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
