package echo

import (
	"context"
	"sync/atomic"
	"time"

	"servercore"
	"servercore/internal/bot"
)

// client is one bot session. From OnConnected on it keeps Inflight packets
// in flight; each reply must be, byte for byte, the oldest packet in
// flight, and is answered with the next packet until the run stops.
type client struct {
	bot.Client
	nextSend uint32  // sequence number of the next packet to send
	nextRecv uint32  // sequence number of the oldest packet in flight
	skipped  uint64  // packets in flight that a later one overtook: lost
	sentAt   []int64 // send time of packet seq, at seq % inflight

	sent    atomic.Uint64 // mirrors nextSend, for the drain check
	settled atomic.Uint64 // mirrors nextRecv, for the drain check
}

// OnConnected implements servercore.PacketHandler: it fills the window.
func (c *client) OnConnected(s *servercore.Session) {
	c.Connect(s)
	c.refill(s, c.Run.Config.Inflight)
}

// OnRecvPacket implements servercore.PacketHandler: it checks the reply
// against the oldest packet in flight and sends the next packet.
func (c *client) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	now := c.Run.Now()
	c.Arrived.Add(1)
	got, f := c.Run.ReadPacket(id, payload)
	seq := c.nextRecv
	inFlight := c.nextSend - seq
	switch {
	case inFlight == 0:
		c.Fail(bot.FaultExtra, got.Conn, got.Seq)
		return
	case f == bot.FaultNone && got.Conn == c.ID && got.Seq != seq && got.Seq-seq < inFlight:
		// A later packet in flight came back first: one order fault, and
		// the packets it overtook count as lost.
		c.Fail(bot.FaultOrder, got.Conn, seq)
		c.skipped += uint64(got.Seq - seq)
		seq = got.Seq
	}
	settled := int(seq - c.nextRecv + 1)
	c.nextRecv = seq + 1
	sentAt := c.sentAt[seq%uint32(len(c.sentAt))]
	switch {
	case f != bot.FaultNone:
	case got.Conn != c.ID:
		f = bot.FaultClient
	case got.Seq != seq:
		f = bot.FaultOrder
	case got.SentAt != sentAt:
		f = bot.FaultTime
	}
	if f == bot.FaultNone {
		c.OK(now - sentAt)
	} else {
		c.Fail(f, got.Conn, seq)
	}
	c.refill(s, settled)
	// Counted after the refill, so that the drain check (which reads
	// settled before sent) never sees nothing in flight while a reply is
	// being answered.
	c.settled.Add(uint64(settled))
}

// refill sends up to n more packets, unless the run stops.
func (c *client) refill(s *servercore.Session, n int) {
	for ; n > 0 && !c.Run.Stopped(); n-- {
		seq := c.nextSend
		now := c.Run.Now()
		c.sentAt[seq%uint32(len(c.sentAt))] = now
		c.sent.Add(1)
		if err := c.SendPacket(s, seq, now); err != nil {
			c.sent.Add(^uint64(0)) // not sent after all: the session is closing
			return
		}
		c.nextSend++
	}
}

// driver runs the bots of one load test.
type driver struct {
	bot.Fleet[*client]
	run *bot.Run
}

// NewBot returns the echo bot of run: its clients each keep Inflight
// packets of Size bytes in flight and check every reply.
func NewBot(run *bot.Run) bot.Driver { return &driver{run: run} }

func (d *driver) NewHandler() servercore.PacketHandler {
	return d.Add(d.run, &client{sentAt: make([]int64, d.run.Config.Inflight)})
}

// Begin has nothing to do: echo clients start sending when they connect,
// so the sending started when the connecting did.
func (d *driver) Begin(_ context.Context, connecting time.Time) (time.Time, int, error) {
	return connecting, 0, nil
}

func (d *driver) Halt() {}

func (d *driver) Drained() bool {
	for _, c := range d.List() {
		if c.Down.Load() {
			continue // what it had in flight is lost
		}
		settled := c.settled.Load() // before sent: see OnRecvPacket
		if settled < c.sent.Load() {
			return false
		}
	}
	return true
}

func (d *driver) Collect(t *bot.Tally) {
	for _, c := range d.List() {
		c.AddTo(t)
		t.Sent += uint64(c.nextSend)
		t.Lost += uint64(c.nextSend-c.nextRecv) + c.skipped
	}
}
