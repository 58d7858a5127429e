package load

import (
	"fmt"
	"math"

	"servercore/internal/checkpacket"
)

// The generator's packets are checkpacket packets: the connection (or
// sender), the sequence number and, in broadcast, the send time, with
// every other byte derived from them, so a packet delivered to the wrong
// place, out of order, stale or with any byte changed fails verification.
// The echo load times its packets itself and sends them with no send time.

// pingConn is the sender of a broadcast ping, which only tells a member it
// is in the room; data packets come from senders 0 upwards.
const pingConn = math.MaxUint32

// putEcho writes into pkt, a whole packet of len(pkt) bytes, the echo packet
// of connection conn with sequence seq.
func putEcho(pkt []byte, conn uint32, seq uint64) {
	checkpacket.Put(pkt, checkpacket.Fields{Conn: conn, Seq: uint32(seq)})
}

// checkEcho verifies that pkt is exactly the echo packet putEcho makes for
// conn and seq, every byte of it.
func checkEcho(pkt []byte, conn uint32, seq uint64) error {
	want := checkpacket.Fields{Conn: conn, Seq: uint32(seq)}
	got, err := readPacket(pkt)
	switch {
	case err != nil:
		return fmt.Errorf("packet conn %d seq %d: %w", conn, seq, err)
	case got != want:
		return fmt.Errorf("got conn %d seq %d sent at %d, want conn %d seq %d", got.Conn, got.Seq, got.SentAt, conn, uint32(seq))
	}
	return nil
}

// putBroadcast writes into pkt, a whole packet of len(pkt) bytes, packet
// seq of sender, sent at run-clock time at.
func putBroadcast(pkt []byte, sender, seq uint32, at int64) {
	checkpacket.Put(pkt, checkpacket.Fields{Conn: sender, Seq: seq, SentAt: at})
}

// readPacket verifies that the whole packet pkt is as long as its size
// field says and consistent with its own fields, and returns them; the
// caller checks them against what it expects.
func readPacket(pkt []byte) (checkpacket.Fields, error) {
	size, id := checkpacket.ReadHeader(pkt)
	if size != len(pkt) {
		return checkpacket.Fields{}, fmt.Errorf("size field %d in a packet of %d bytes", size, len(pkt))
	}
	f, err := checkpacket.Check(id, pkt[checkpacket.HeaderSize:])
	if err != nil {
		return f, fmt.Errorf("sender %d seq %d: %w", f.Conn, f.Seq, err)
	}
	return f, nil
}
