package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"servercore"
)

const (
	// paceTick is how often the pacer looks which clients are due to send.
	paceTick = 5 * time.Millisecond
	// joinTimeout bounds the wait for every client to be in the room.
	joinTimeout = 10 * time.Second
)

// bcastClient is one DummyClient session in broadcast mode. The pacer sends
// its packets at --rate; it receives every client's packets, its own
// included, and checks each sender's arrive complete and in order.
type bcastClient struct {
	clientBase
	expect []uint32 // next sequence number expected from each sender

	nextSend uint32 // owned by the pacer: the next packet to send

	ownBack atomic.Uint32 // own packets received back: the pacer's window
	joined  atomic.Bool   // its hello came back: the server has it in the room
}

// OnConnected implements servercore.PacketHandler.
func (c *bcastClient) OnConnected(s *servercore.Session) { c.connect(s) }

// OnRecvPacket implements servercore.PacketHandler: it checks a broadcast
// packet against its sender's sequence.
func (c *bcastClient) OnRecvPacket(_ *servercore.Session, id uint16, payload []byte) {
	if id == helloID {
		if len(payload) == 4 && binary.LittleEndian.Uint32(payload) == c.id {
			c.joined.Store(true)
		}
		return // other clients' hellos are of no interest
	}
	now := c.run.now()
	sender, seq, sentAt, f := readPacket(id, payload, c.run.cfg.size)
	if f == faultNone && int(sender) >= len(c.expect) {
		f = faultClient
	}
	if f == faultNone {
		switch want := c.expect[sender]; {
		case seq != want:
			f = faultOrder
			if seq > want {
				c.expect[sender] = seq + 1 // a gap: count it once, then follow on
			}
		case sentAt < 0 || sentAt > now:
			f = faultTime
			c.expect[sender]++
		default:
			c.expect[sender]++
		}
		if sender == c.id {
			c.ownBack.Add(1)
		}
	}
	if f == faultNone {
		c.ok(now - sentAt)
	} else {
		c.fail(f, sender, seq)
	}
	c.arrived.Add(1)
}

// bcastDriver runs the broadcast clients of a stress run: it waits until
// every client is in the room, then paces their sends.
type bcastDriver struct {
	run     *stressRun
	mu      sync.Mutex // guards clients while the service makes sessions
	clients []*bcastClient
	paced   chan struct{} // closed when the pacer returns
}

func newBcastDriver(run *stressRun) *bcastDriver { return &bcastDriver{run: run} }

func (d *bcastDriver) newHandler() servercore.PacketHandler {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &bcastClient{expect: make([]uint32, d.run.cfg.clients)}
	c.id, c.run = uint32(len(d.clients)), d.run
	d.clients = append(d.clients, c)
	return c
}

// begin makes sure every connected client is in the server's room before
// anyone sends, so that every client can expect every packet: each client
// sends a hello and waits for it to come back, which proves that the server
// has the client among its sessions. Then it starts the pacer. It returns
// when the sending started, and how many clients did not get in; the others
// go ahead regardless.
func (d *bcastDriver) begin(ctx context.Context, _ time.Time) (time.Time, int, error) {
	clients := d.list()
	for _, c := range clients {
		if c.connected {
			var hello [4]byte
			binary.LittleEndian.PutUint32(hello[:], c.id)
			_ = c.sess.SendPacket(helloID, hello[:]) // an error shows as a disconnect
		}
	}
	out, err := d.awaitJoin(ctx, clients)
	start := time.Now()
	d.paced = make(chan struct{})
	go d.pace(clients, start)
	return start, out, err
}

// awaitJoin waits until every connected client's hello came back, and
// returns how many did not.
func (d *bcastDriver) awaitJoin(ctx context.Context, clients []*bcastClient) (int, error) {
	deadline := time.Now().Add(joinTimeout)
	for {
		out := 0
		for _, c := range clients {
			if c.connected && !c.joined.Load() && !c.down.Load() {
				out++
			}
		}
		switch {
		case out == 0:
			return 0, nil
		case ctx.Err() != nil:
			return out, fmt.Errorf("%d clients not in the room: %w", out, ctx.Err())
		case time.Now().After(deadline):
			return out, fmt.Errorf("%d clients got no hello back within %v", out, joinTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// pace sends each connected client's packets at the run's rate, client i
// offset by i/n of a period so that the sends spread out, each client with
// at most inflight of its own packets not yet back.
func (d *bcastDriver) pace(clients []*bcastClient, start time.Time) {
	defer close(d.paced)
	cfg := d.run.cfg
	window := uint32(cfg.inflight)
	t := time.NewTicker(paceTick)
	defer t.Stop()
	for !d.run.stop.Load() {
		periods := time.Since(start).Seconds() * cfg.rate
		for i, c := range clients {
			if !c.connected || c.down.Load() {
				continue
			}
			due := uint32(periods + float64(i)/float64(len(clients)))
			for c.nextSend < due && c.nextSend-c.ownBack.Load() < window {
				if c.sendPacket(c.sess, c.nextSend, d.run.now()) != nil {
					break // closing: OnDisconnected records why
				}
				c.nextSend++
			}
		}
		<-t.C
	}
}

// halt waits until the pacer has stopped (the run's stop flag is set).
func (d *bcastDriver) halt() {
	if d.paced != nil {
		<-d.paced
	}
}

func (d *bcastDriver) received() uint64 {
	var n uint64
	for _, c := range d.list() {
		n += c.arrived.Load()
	}
	return n
}

// drained reports whether every client still connected received every
// packet sent; it is called after halt.
func (d *bcastDriver) drained() bool {
	clients := d.list()
	var sent uint64
	for _, c := range clients {
		sent += uint64(c.nextSend)
	}
	for _, c := range clients {
		if c.connected && !c.down.Load() && c.arrived.Load() < sent {
			return false
		}
	}
	return true
}

// collect adds the results up; a packet some client never got from its
// sender is lost.
func (d *bcastDriver) collect(t *tally) {
	clients := d.list()
	for _, c := range clients {
		c.addTo(t)
		t.sent += uint64(c.nextSend)
		if !c.connected {
			continue
		}
		for _, from := range clients {
			if got := c.expect[from.id]; from.nextSend > got {
				t.lost += uint64(from.nextSend - got)
			}
		}
	}
}

func (d *bcastDriver) connected() int {
	n := 0
	for _, c := range d.list() {
		if c.connected { // set by OnConnected before Start returned
			n++
		}
	}
	return n
}

func (d *bcastDriver) list() []*bcastClient {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clients
}
