package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"servercore"
)

// stressRun is what the clients of one stress run share: the settings and
// the clock (read-only once the run starts) and the stop flag.
type stressRun struct {
	cfg  stressConfig
	base time.Time   // the run's time zero; send times count from it
	stop atomic.Bool // set when the clients must stop sending
}

// now is the time since the run started, in nanoseconds, on the monotonic
// clock.
func (r *stressRun) now() int64 { return int64(time.Since(r.base)) }

// clientBase is the state every stress client has. Its plain fields belong
// to the session's callbacks, which never run concurrently; the run reads
// them only after the client service stopped. The atomics are for reading
// while the run goes on.
type clientBase struct {
	id  uint32
	run *stressRun

	sess       *servercore.Session // set by OnConnected
	connected  bool                // OnConnected ran
	dropped    bool                // disconnected by the peer or an error, not by the run
	cause      error               // why it disconnected
	good       uint64              // data packets received and verified
	mismatches uint64              // data packets that failed the check
	firstFault string              // the first mismatch, described
	hist       latencyHist

	arrived atomic.Uint64 // data packets received, verified or not
	down    atomic.Bool   // OnDisconnected ran
}

func (c *clientBase) connect(s *servercore.Session) {
	c.sess = s
	c.connected = true
}

// OnSend implements servercore.PacketHandler.
func (c *clientBase) OnSend(*servercore.Session, int) {}

// OnDisconnected implements servercore.PacketHandler.
func (c *clientBase) OnDisconnected(_ *servercore.Session, cause error) {
	c.cause = cause
	c.dropped = !errors.Is(cause, servercore.ErrServiceClosed)
	c.down.Store(true)
}

// ok records a verified packet and its latency.
func (c *clientBase) ok(latency int64) {
	c.good++
	c.hist.record(latency)
}

// fail records a mismatch: packet seq of client from (as far as it can be
// told) was wrong in the way f says.
func (c *clientBase) fail(f fault, from, seq uint32) {
	c.mismatches++
	if c.firstFault == "" {
		c.firstFault = fmt.Sprintf("client %d got packet %d of client %d: %v", c.id, seq, from, f)
	}
}

// addTo adds the client's counts to the run's tally.
func (c *clientBase) addTo(t *tally) {
	if !c.connected {
		return
	}
	t.connected++
	t.good += c.good
	t.mismatches += c.mismatches
	t.latency.add(&c.hist)
	if c.firstFault != "" && t.firstMismatch == "" {
		t.firstMismatch = c.firstFault
	}
	if c.dropped {
		t.disconnects++
		if t.firstError == "" {
			t.firstError = fmt.Sprintf("client %d disconnected: %v", c.id, c.cause)
		}
	}
}

// tally is the merge of all the clients' results.
type tally struct {
	connected     int
	sent          uint64
	good          uint64
	mismatches    uint64
	disconnects   uint64
	lost          uint64
	latency       latencySummary
	firstError    string
	firstMismatch string
}

// sendPacket sends packet seq of client c on s, sent now. The SendBuffer
// comes from the library's pool: no allocation per packet.
func (c *clientBase) sendPacket(s *servercore.Session, seq uint32, now int64) error {
	size := c.run.cfg.size
	b := servercore.OpenSendBuffer(size)
	writePacket(b.Buffer()[:size], c.id, seq, now)
	b.Seal(size)
	err := s.Send(b)
	b.Release()
	return err
}
