package bot

import (
	"errors"
	"fmt"
	"sync/atomic"

	"servercore"
	"servercore/internal/checkpacket"
	"servercore/internal/hist"
)

// Client is the state every verifying client has; an application's client
// embeds it. Its plain fields belong to the session's callbacks, which never
// run concurrently; the run reads them only after the client service
// stopped. The atomics are for reading while the run goes on.
type Client struct {
	ID        uint32
	Run       *Run
	Session   *servercore.Session // set by Connect
	Connected bool                // Connect ran

	dropped    bool   // disconnected by the peer or an error, not by the run
	cause      error  // why it disconnected
	good       uint64 // data packets received and verified
	mismatches uint64 // data packets that failed the check
	firstFault string // the first mismatch, described

	Arrived atomic.Uint64 // data packets received, verified or not
	Down    atomic.Bool   // OnDisconnected ran
}

func (c *Client) base() *Client { return c }

// Connect records that the client's session s is connected; an
// application's OnConnected calls it first.
func (c *Client) Connect(s *servercore.Session) {
	c.Session = s
	c.Connected = true
}

// OnSend implements servercore.PacketHandler.
func (c *Client) OnSend(*servercore.Session, int) {}

// OnDisconnected implements servercore.PacketHandler.
func (c *Client) OnDisconnected(_ *servercore.Session, cause error) {
	c.cause = cause
	c.dropped = !errors.Is(cause, servercore.ErrServiceClosed)
	c.Down.Store(true)
}

// OK records a verified packet and its latency in nanoseconds.
func (c *Client) OK(latency int64) {
	c.good++
	c.Run.latency.Shard(int(c.ID)).Record(latency)
}

// Fail records a mismatch: packet seq of client from (as far as it can be
// told) was wrong in the way f says.
func (c *Client) Fail(f Fault, from, seq uint32) {
	c.mismatches++
	if c.firstFault == "" {
		c.firstFault = fmt.Sprintf("client %d got packet %d of client %d: %v", c.ID, seq, from, f)
	}
}

// AddTo adds the client's counts to the run's tally.
func (c *Client) AddTo(t *Tally) {
	if !c.Connected {
		return
	}
	t.Connected++
	t.Good += c.good
	t.Mismatches += c.mismatches
	if c.firstFault != "" && t.FirstMismatch == "" {
		t.FirstMismatch = c.firstFault
	}
	if c.dropped {
		t.Disconnects++
		if t.FirstError == "" {
			t.FirstError = fmt.Sprintf("client %d disconnected: %v", c.ID, c.cause)
		}
	}
}

// SendPacket sends packet seq of the client on s, sent now. The SendBuffer
// comes from the library's pool: no allocation per packet.
func (c *Client) SendPacket(s *servercore.Session, seq uint32, now int64) error {
	size := c.Run.Config.Size
	b := servercore.OpenSendBuffer(size)
	checkpacket.Put(b.Buffer()[:size], checkpacket.Fields{Conn: c.ID, Seq: seq, SentAt: now})
	b.Seal(size)
	err := s.Send(b)
	b.Release()
	return err
}

// Tally is the merge of all the clients' results.
type Tally struct {
	Connected     int
	Sent          uint64
	Good          uint64
	Mismatches    uint64
	Disconnects   uint64
	Lost          uint64
	Latency       *hist.Hist // of the verified packets, in nanoseconds
	FirstError    string
	FirstMismatch string
}
