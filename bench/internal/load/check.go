package load

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"servercore/internal/checkpacket"
)

// The correctness checks a peer must pass before it is timed. They exercise
// framing the way real traffic does not always: packets of many sizes (from
// a bare header to the largest), several packets in one write, one packet
// cut into many writes, and a malformed header, which must close that
// connection and no other. Against a ws:// target they run over WebSocket
// clients, whose binary messages carry whole packets; the packet cut into
// pieces is then one message cut into many frames.

const checkTimeout = 5 * time.Second

// packetReader reads whole packets from a connection on its own goroutine.
type packetReader struct {
	c    Conn
	pkts chan []byte
	err  chan error
}

func newPacketReader(c Conn) *packetReader {
	r := &packetReader{c: c, pkts: make(chan []byte, 1024), err: make(chan error, 1)}
	go func() {
		var hdr [checkpacket.HeaderSize]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				r.err <- err
				return
			}
			size := int(binary.LittleEndian.Uint16(hdr[:]))
			if size < checkpacket.HeaderSize {
				r.err <- fmt.Errorf("server sent a header with size %d", size)
				return
			}
			p := make([]byte, size)
			copy(p, hdr[:])
			if _, err := io.ReadFull(c, p[checkpacket.HeaderSize:]); err != nil {
				r.err <- err
				return
			}
			r.pkts <- p
		}
	}()
	return r
}

// next returns the next packet or fails after the timeout.
func (r *packetReader) next(timeout time.Duration) ([]byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p := <-r.pkts:
		return p, nil
	case err := <-r.err:
		r.err <- err
		return nil, err
	case <-t.C:
		return nil, errors.New("timed out waiting for a packet")
	}
}

// wsMaxMessage is the largest message the checks send over WebSocket: a
// server may refuse a longer one, as servercore's sessions refuse one
// above MaxPacketSize (close 1009), since a message carries whole packets.
const wsMaxMessage = 65535

// writeMany writes the whole packets pkts: over TCP in one write, over
// WebSocket in as few messages as hold them, none above wsMaxMessage bytes.
func writeMany(c Conn, pkts [][]byte) error {
	limit := math.MaxInt
	if _, ok := c.(*wsConn); ok {
		limit = wsMaxMessage
	}
	var buf []byte
	for i, p := range pkts {
		buf = append(buf, p...)
		if i == len(pkts)-1 || len(buf)+len(pkts[i+1]) > limit {
			if _, err := c.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// rawPacket builds a packet of any size >= checkpacket.HeaderSize with a
// pseudo-random payload that depends on size and id.
func rawPacket(size int, id uint16) []byte {
	p := make([]byte, size)
	binary.LittleEndian.PutUint16(p, uint16(size))
	binary.LittleEndian.PutUint16(p[2:], id)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(size)<<16|uint64(id))
	_, _ = rand.NewChaCha8(seed).Read(p[checkpacket.HeaderSize:]) // never fails
	return p
}

// expectClosed checks that the server closes c after it sent a malformed
// header, without sending anything first.
func expectClosed(c Conn, what string) error {
	if err := c.SetReadDeadline(time.Now().Add(checkTimeout)); err != nil {
		return err
	}
	var b [64]byte
	n, err := c.Read(b[:])
	switch {
	case n > 0:
		return fmt.Errorf("%s: server answered %d bytes instead of closing", what, n)
	case err == nil:
		return fmt.Errorf("%s: read returned nothing and no error", what)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: server kept the connection open", what)
	}
	return nil // reset by peer: closed too
}

// CheckEchoServer checks a server running the echo app.
func CheckEchoServer(ctx context.Context, target string) error {
	a, err := Dial(ctx, target, 0)
	if err != nil {
		return err
	}
	defer abort(a)
	ra := newPacketReader(a)

	// Many sizes, all in one write, written while the replies are read.
	sizes := []int{4, 5, 16, 64, 1024, 4093, 4096, 9000, 32768, 65535, 7}
	var want [][]byte
	for i, s := range sizes {
		want = append(want, rawPacket(s, uint16(100+i)))
	}
	werr := make(chan error, 1)
	go func() { werr <- writeMany(a, want) }()
	for i, w := range want {
		got, err := ra.next(checkTimeout)
		if err != nil {
			return fmt.Errorf("echo of packet %d (%d bytes): %w", i, len(w), err)
		}
		if !bytes.Equal(got, w) {
			return fmt.Errorf("echo of packet %d (%d bytes): wrong bytes back", i, len(w))
		}
	}
	if err := <-werr; err != nil {
		return err
	}

	// One packet cut into many small writes, the header split too.
	p := rawPacket(300, 42)
	if err := checkCutPacket(ctx, target, a, ra, p); err != nil {
		return fmt.Errorf("echo of a packet written in pieces: %w", err)
	}

	// A malformed header closes its connection only.
	for _, bad := range []uint16{0, 3} {
		b, err := Dial(ctx, target, 1)
		if err != nil {
			return err
		}
		var hdr [8]byte
		binary.LittleEndian.PutUint16(hdr[:], bad)
		_, err = b.Write(hdr[:])
		if err == nil {
			err = expectClosed(b, fmt.Sprintf("header with size %d", bad))
		}
		abort(b)
		if err != nil {
			return err
		}
	}
	p = rawPacket(64, 43)
	if _, err := a.Write(p); err != nil {
		return err
	}
	if got, err := ra.next(checkTimeout); err != nil || !bytes.Equal(got, p) {
		return fmt.Errorf("another connection stopped working after a malformed header: %v", err)
	}
	return nil
}

// checkCutPacket writes the packet p in pieces and checks its echo. Over
// TCP the pieces are writes on a, the header split too; over WebSocket,
// where a message holds whole packets, they are the frames of one message
// (a binary frame and continuation frames of 3 bytes each) on a connection
// of their own.
func checkCutPacket(ctx context.Context, target string, a Conn, ra *packetReader, p []byte) error {
	if IsWebSocket(target) {
		c, err := dialWS(ctx, target, 2, 3)
		if err != nil {
			return err
		}
		defer abort(c)
		a, ra = c, newPacketReader(c)
		if _, err := a.Write(p); err != nil {
			return err
		}
	} else {
		for _, cut := range [][2]int{{0, 1}, {1, 3}, {3, 4}, {4, 10}, {10, 150}, {150, 299}, {299, 300}} {
			if _, err := a.Write(p[cut[0]:cut[1]]); err != nil {
				return err
			}
			time.Sleep(3 * time.Millisecond)
		}
	}
	got, err := ra.next(checkTimeout)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, p) {
		return errors.New("wrong bytes back")
	}
	return nil
}

// CheckBroadcastServer checks a server running the broadcast app.
func CheckBroadcastServer(ctx context.Context, target string) error {
	const members = 3
	conns := make([]Conn, members)
	readers := make([]*packetReader, members)
	for i := range conns {
		c, err := Dial(ctx, target, i)
		if err != nil {
			return err
		}
		defer abort(c)
		conns[i], readers[i] = c, newPacketReader(c)
	}
	// Wait until every member is in the room: connection 0 pings until each
	// has seen a ping.
	ping := make([]byte, checkpacket.MinSize)
	seen := make([]bool, members)
	deadline := time.Now().Add(checkTimeout)
	for seq := uint32(0); ; seq++ {
		all := true
		for _, s := range seen {
			all = all && s
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("a broadcast did not reach every connection")
		}
		putBroadcast(ping, pingConn, seq, 0)
		if _, err := conns[0].Write(ping); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		for i, r := range readers {
			for len(r.pkts) > 0 {
				p := <-r.pkts
				if _, err := readPacket(p); err != nil {
					return fmt.Errorf("ping: %w", err)
				}
				seen[i] = true
			}
		}
	}
	time.Sleep(50 * time.Millisecond) // late pings arrive now
	for _, r := range readers {
		for len(r.pkts) > 0 {
			<-r.pkts
		}
	}

	// Every member sends packets of several sizes, each in one write
	// (the last two members' together); every member must get every one,
	// in order per sender.
	sizes := []int{checkpacket.MinSize, 100, 1500, 9000, 65535}
	for s, c := range conns {
		var pkts [][]byte
		for seq, size := range sizes {
			p := make([]byte, size)
			putBroadcast(p, uint32(s), uint32(seq), 0)
			pkts = append(pkts, p)
		}
		if err := writeMany(c, pkts); err != nil {
			return err
		}
	}
	for i, r := range readers {
		next := make([]int, members)
		for got := 0; got < members*len(sizes); {
			p, err := r.next(checkTimeout)
			if err != nil {
				return fmt.Errorf("member %d: %w", i, err)
			}
			f, err := readPacket(p)
			if err != nil {
				return fmt.Errorf("member %d: %w", i, err)
			}
			if f.Conn == pingConn {
				continue
			}
			if int(f.Conn) >= members || f.Seq != uint32(next[f.Conn]) || len(p) != sizes[f.Seq] {
				return fmt.Errorf("member %d: got sender %d seq %d (%d bytes) out of order", i, f.Conn, f.Seq, len(p))
			}
			next[f.Conn]++
			got++
		}
	}

	// A malformed header closes its connection only.
	b, err := Dial(ctx, target, members)
	if err != nil {
		return err
	}
	var hdr [4]byte
	binary.LittleEndian.PutUint16(hdr[:], 1)
	_, err = b.Write(hdr[:])
	if err == nil {
		err = expectClosed(b, "header with size 1")
	}
	abort(b)
	if err != nil {
		return err
	}
	p := make([]byte, 64)
	putBroadcast(p, 0, 99, 0)
	if _, err := conns[0].Write(p); err != nil {
		return err
	}
	for i, r := range readers {
		for {
			got, err := r.next(checkTimeout)
			if err != nil {
				return fmt.Errorf("member %d after a malformed header elsewhere: %w", i, err)
			}
			if bytes.Equal(got, p) {
				break
			}
			if f, err := readPacket(got); err != nil || f.Conn != pingConn {
				return fmt.Errorf("member %d after a malformed header elsewhere: unexpected packet", i)
			}
		}
	}
	return nil
}
