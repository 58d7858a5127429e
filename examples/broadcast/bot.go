package broadcast

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"servercore"
	"servercore/internal/bot"
)

const (
	// helloID marks a client's "am I in the room?" packet, whose payload is
	// the client id; data packets have ids up to checkpacket.MaxID.
	helloID uint16 = 0xFFFF
	// paceTick is how often the pacer looks which clients are due to send.
	paceTick = 5 * time.Millisecond
	// joinTimeout bounds the wait for every client to be in the room.
	joinTimeout = 10 * time.Second
)

// client is one bot session. The pacer sends its packets at Rate; it
// receives every client's packets, its own included, and checks each
// sender's arrive complete and in order.
type client struct {
	bot.Client
	expect []uint32 // next sequence number expected from each sender

	nextSend uint32 // owned by the pacer: the next packet to send

	ownBack atomic.Uint32 // own packets received back: the pacer's window
	joined  atomic.Bool   // its hello came back: the server has it in the room
}

// OnConnected implements servercore.PacketHandler.
func (c *client) OnConnected(s *servercore.Session) { c.Connect(s) }

// OnRecvPacket implements servercore.PacketHandler: it checks a broadcast
// packet against its sender's sequence.
func (c *client) OnRecvPacket(_ *servercore.Session, id uint16, payload []byte) {
	if id == helloID {
		if len(payload) == 4 && binary.LittleEndian.Uint32(payload) == c.ID {
			c.joined.Store(true)
		}
		return // other clients' hellos are of no interest
	}
	now := c.Run.Now()
	got, f := c.Run.ReadPacket(id, payload)
	sender := got.Conn
	if f == bot.FaultNone && int(sender) >= len(c.expect) {
		f = bot.FaultClient
	}
	if f == bot.FaultNone {
		switch want := c.expect[sender]; {
		case got.Seq != want:
			f = bot.FaultOrder
			if got.Seq > want {
				c.expect[sender] = got.Seq + 1 // a gap: count it once, then follow on
			}
		case got.SentAt < 0 || got.SentAt > now:
			f = bot.FaultTime
			c.expect[sender]++
		default:
			c.expect[sender]++
		}
		if sender == c.ID {
			c.ownBack.Add(1)
		}
	}
	if f == bot.FaultNone {
		c.OK(now - got.SentAt)
	} else {
		c.Fail(f, sender, got.Seq)
	}
	c.Arrived.Add(1)
}

// driver runs the bots of one load test: it waits until every client is in
// the room, then paces their sends.
type driver struct {
	bot.Fleet[*client]
	run   *bot.Run
	paced chan struct{} // closed when the pacer returns
}

// NewBot returns the broadcast bot of run: once all its clients are in the
// room, each sends Rate packets of Size bytes a second, with at most
// Inflight of its own not yet back, and checks every packet it receives.
func NewBot(run *bot.Run) bot.Driver { return &driver{run: run} }

func (d *driver) NewHandler() servercore.PacketHandler {
	return d.Add(d.run, &client{expect: make([]uint32, d.run.Config.Clients)})
}

// Begin makes sure every connected client is in the server's room before
// anyone sends, so that every client can expect every packet: each client
// sends a hello and waits for it to come back, which proves that the server
// has the client among its sessions. Then it starts the pacer. It returns
// when the sending started, and how many clients did not get in; the others
// go ahead regardless.
func (d *driver) Begin(ctx context.Context, _ time.Time) (time.Time, int, error) {
	clients := d.List()
	for _, c := range clients {
		if c.Connected {
			var hello [4]byte
			binary.LittleEndian.PutUint32(hello[:], c.ID)
			_ = c.Session.SendPacket(helloID, hello[:]) // an error shows as a disconnect
		}
	}
	out, err := awaitJoin(ctx, clients)
	start := time.Now()
	d.paced = make(chan struct{})
	go d.pace(clients, start)
	return start, out, err
}

// awaitJoin waits until every connected client's hello came back, and
// returns how many did not.
func awaitJoin(ctx context.Context, clients []*client) (int, error) {
	deadline := time.Now().Add(joinTimeout)
	for {
		out := 0
		for _, c := range clients {
			if c.Connected && !c.joined.Load() && !c.Down.Load() {
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
// at most Inflight of its own packets not yet back.
func (d *driver) pace(clients []*client, start time.Time) {
	defer close(d.paced)
	cfg := d.run.Config
	window := uint32(cfg.Inflight)
	t := time.NewTicker(paceTick)
	defer t.Stop()
	for !d.run.Stopped() {
		periods := time.Since(start).Seconds() * cfg.Rate
		for i, c := range clients {
			if !c.Connected || c.Down.Load() {
				continue
			}
			due := uint32(periods + float64(i)/float64(len(clients)))
			for c.nextSend < due && c.nextSend-c.ownBack.Load() < window {
				if c.SendPacket(c.Session, c.nextSend, d.run.Now()) != nil {
					break // closing: OnDisconnected records why
				}
				c.nextSend++
			}
		}
		<-t.C
	}
}

// Halt waits until the pacer has stopped (the run's stop flag is set).
func (d *driver) Halt() {
	if d.paced != nil {
		<-d.paced
	}
}

// Drained reports whether every client still connected received every
// packet sent; it is called after Halt.
func (d *driver) Drained() bool {
	clients := d.List()
	var sent uint64
	for _, c := range clients {
		sent += uint64(c.nextSend)
	}
	for _, c := range clients {
		if c.Connected && !c.Down.Load() && c.Arrived.Load() < sent {
			return false
		}
	}
	return true
}

// Collect adds the results up; a packet some client never got from its
// sender is lost.
func (d *driver) Collect(t *bot.Tally) {
	clients := d.List()
	for _, c := range clients {
		c.AddTo(t)
		t.Sent += uint64(c.nextSend)
		if !c.Connected {
			continue
		}
		for _, from := range clients {
			if got := c.expect[from.ID]; from.nextSend > got {
				t.Lost += uint64(from.nextSend - got)
			}
		}
	}
}
