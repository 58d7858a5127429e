package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"servercore"
)

// echoClient is one DummyClient session in echo mode. From OnConnected on it
// keeps --inflight packets in flight; each reply must be, byte for byte, the
// oldest packet in flight, and is answered with the next packet until the
// run stops.
type echoClient struct {
	clientBase
	nextSend uint32  // sequence number of the next packet to send
	nextRecv uint32  // sequence number of the oldest packet in flight
	skipped  uint64  // packets in flight that a later one overtook: lost
	sentAt   []int64 // send time of packet seq, at seq % inflight

	sent    atomic.Uint64 // mirrors nextSend, for the drain check
	settled atomic.Uint64 // mirrors nextRecv, for the drain check
}

// OnConnected implements servercore.PacketHandler: it fills the window.
func (c *echoClient) OnConnected(s *servercore.Session) {
	c.connect(s)
	c.refill(s, c.run.cfg.inflight)
}

// OnRecvPacket implements servercore.PacketHandler: it checks the reply
// against the oldest packet in flight and sends the next packet.
func (c *echoClient) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	now := c.run.now()
	c.arrived.Add(1)
	client, gotSeq, gotAt, f := readPacket(id, payload, c.run.cfg.size)
	seq := c.nextRecv
	inFlight := c.nextSend - seq
	switch {
	case inFlight == 0:
		c.fail(faultExtra, client, gotSeq)
		return
	case f == faultNone && client == c.id && gotSeq != seq && gotSeq-seq < inFlight:
		// A later packet in flight came back first: one order fault, and
		// the packets it overtook count as lost.
		c.fail(faultOrder, client, seq)
		c.skipped += uint64(gotSeq - seq)
		seq = gotSeq
	}
	settled := int(seq - c.nextRecv + 1)
	c.nextRecv = seq + 1
	sentAt := c.sentAt[seq%uint32(len(c.sentAt))]
	switch {
	case f != faultNone:
	case client != c.id:
		f = faultClient
	case gotSeq != seq:
		f = faultOrder
	case gotAt != sentAt:
		f = faultTime
	}
	if f == faultNone {
		c.ok(now - sentAt)
	} else {
		c.fail(f, client, seq)
	}
	c.refill(s, settled)
	// Counted after the refill, so that the drain check (which reads
	// settled before sent) never sees nothing in flight while a reply is
	// being answered.
	c.settled.Add(uint64(settled))
}

// refill sends up to n more packets, unless the run stops.
func (c *echoClient) refill(s *servercore.Session, n int) {
	for ; n > 0 && !c.run.stop.Load(); n-- {
		seq := c.nextSend
		now := c.run.now()
		c.sentAt[seq%uint32(len(c.sentAt))] = now
		c.sent.Add(1)
		if err := c.sendPacket(s, seq, now); err != nil {
			c.sent.Add(^uint64(0)) // not sent after all: the session is closing
			return
		}
		c.nextSend++
	}
}

// echoDriver runs the echo clients of a stress run.
type echoDriver struct {
	run     *stressRun
	mu      sync.Mutex // guards clients while the service makes sessions
	clients []*echoClient
}

func newEchoDriver(run *stressRun) *echoDriver { return &echoDriver{run: run} }

func (d *echoDriver) newHandler() servercore.PacketHandler {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &echoClient{sentAt: make([]int64, d.run.cfg.inflight)}
	c.id, c.run = uint32(len(d.clients)), d.run
	d.clients = append(d.clients, c)
	return c
}

// begin has nothing to do: echo clients start sending when they connect,
// so the sending started when the connecting did.
func (d *echoDriver) begin(_ context.Context, connecting time.Time) (time.Time, int, error) {
	return connecting, 0, nil
}

func (d *echoDriver) halt() {}

func (d *echoDriver) received() uint64 {
	var n uint64
	for _, c := range d.list() {
		n += c.arrived.Load()
	}
	return n
}

func (d *echoDriver) drained() bool {
	for _, c := range d.list() {
		if c.down.Load() {
			continue // what it had in flight is lost
		}
		settled := c.settled.Load() // before sent: see OnRecvPacket
		if settled < c.sent.Load() {
			return false
		}
	}
	return true
}

func (d *echoDriver) collect(t *tally) {
	for _, c := range d.list() {
		c.addTo(t)
		t.sent += uint64(c.nextSend)
		t.lost += uint64(c.nextSend-c.nextRecv) + c.skipped
	}
}

func (d *echoDriver) connected() int {
	n := 0
	for _, c := range d.list() {
		if c.connected { // set by OnConnected before Start returned
			n++
		}
	}
	return n
}

func (d *echoDriver) list() []*echoClient {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clients
}
