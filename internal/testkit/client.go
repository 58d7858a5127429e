package testkit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// headerSize is the size of a packet's header: the packet's size (header
// included) and its id, both little-endian uint16. The kit encodes it
// itself rather than import the root package, whose tests import the kit.
const headerSize = 4

// AppendPacket appends the packet (id, payload) to b.
func AppendPacket(b []byte, id uint16, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(headerSize+len(payload)))
	b = binary.LittleEndian.AppendUint16(b, id)
	return append(b, payload...)
}

// ReadPacket reads one packet from r into buf, or into new memory if buf
// is too small, and returns its id and payload.
func ReadPacket(r io.Reader, buf []byte) (uint16, []byte, error) {
	if cap(buf) < headerSize {
		buf = make([]byte, headerSize)
	}
	hdr := buf[:headerSize]
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, err
	}
	size := int(binary.LittleEndian.Uint16(hdr))
	id := binary.LittleEndian.Uint16(hdr[2:])
	if size < headerSize {
		return 0, nil, fmt.Errorf("bad size %d in a packet header", size)
	}
	n := size - headerSize
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return id, buf, nil
}

// Payload returns a deterministic payload of n bytes for seed, so that a
// test can tell packets apart by their content.
func Payload(seed, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seed*31 + i*7 + i>>8)
	}
	return p
}

// IsReset reports whether err says the peer reset the connection.
func IsReset(err error) bool {
	for _, e := range ResetErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Client is a packet client on a plain net.Conn, so that a server is
// tested against a peer that shares none of its code. The methods that
// return no error fail the test that dialled it instead.
type Client struct {
	net.Conn
	t testing.TB
}

// Dial connects a Client to addr within WaitShort; the connection is closed
// when the test ends.
func Dial(t testing.TB, addr net.Addr) *Client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), WaitShort)
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Client{Conn: c, t: t}
}

// TimedWrite writes b within WaitLong and returns the error, for a test
// that expects a write to fail.
func (c *Client) TimedWrite(b []byte) error {
	c.SetWriteDeadline(time.Now().Add(WaitLong))
	_, err := c.Write(b)
	return err
}

// MustWrite writes b within WaitLong, failing the test on an error.
func (c *Client) MustWrite(b []byte) {
	c.t.Helper()
	if err := c.TimedWrite(b); err != nil {
		c.t.Fatalf("client write: %v", err)
	}
}

// Send writes the packet (id, payload), failing the test on an error.
func (c *Client) Send(id uint16, payload []byte) {
	c.t.Helper()
	c.MustWrite(AppendPacket(nil, id, payload))
}

// ReadPacket reads one packet within d into buf (grown if needed) and
// returns its id and payload.
func (c *Client) ReadPacket(d time.Duration, buf []byte) (uint16, []byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	return ReadPacket(c.Conn, buf)
}

// Expect reads one packet within WaitLong and fails the test unless it is
// (id, payload).
func (c *Client) Expect(id uint16, payload []byte) {
	c.t.Helper()
	gid, gp, err := c.ReadPacket(WaitLong, nil)
	if err != nil {
		c.t.Fatalf("reading the packet (id %d, %d bytes): %v", id, len(payload), err)
	}
	if gid != id || !bytes.Equal(gp, payload) {
		c.t.Fatalf("got packet id %d payload %.40q (%d bytes), want id %d payload %.40q (%d bytes)", gid, gp, len(gp), id, payload, len(payload))
	}
}

// Echo sends a packet and expects it back.
func (c *Client) Echo(id uint16, payload []byte) {
	c.t.Helper()
	c.Send(id, payload)
	c.Expect(id, payload)
}

// ExpectClosed fails the test unless the server closes the connection
// within d: a read returns EOF or a reset, not a timeout. Bytes before are
// discarded.
func (c *Client) ExpectClosed(d time.Duration) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("the server did not close the connection within %v", d)
		}
		return // io.EOF or a reset
	}
}
