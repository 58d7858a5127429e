package load

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"servercore/internal/checkpacket"
)

// The typed echo speaks the protocol of examples/typedecho/echopb/echo.proto:
// the client sends C_Echo (id 1000), the server answers S_Echo (id 1001),
// both `message { bytes payload = 1; }`. The generator writes that encoding
// by hand, so that it stays allocation-free per packet and does not share
// the code under test: a packet is
//
//	[size u16 LE][id u16 LE][0x0a][uvarint n][n bytes: a checkpacket]
//
// 0x0a is field 1 with wire type 2 (length-delimited). The checkpacket
// inside keeps its own size and derived id, so every byte the server sends
// back is still checked against what was sent. The whole packet is as long
// as the raw echo's packet of the same scenario, so the two differ in what
// the server does with the bytes, not in how many bytes it moves.
const (
	TypedRequestID uint16 = 1000 // C_Echo
	TypedReplyID   uint16 = 1001 // S_Echo

	payloadTag = 0x0a // field 1, wire type 2
)

// typedFrame is the fixed part of every typed echo packet of one size: what
// precedes the checkpacket on the way out and, identical but for the id, on
// the way back.
type typedFrame struct {
	send, recv []byte
}

// newTypedFrame returns the frame of typed echo packets of size bytes in
// all. Some sizes have no such encoding (the length prefix grows by a byte
// exactly where the payload would shrink below it); they are refused.
func newTypedFrame(size int) (*typedFrame, error) {
	for k := 1; k <= binary.MaxVarintLen16; k++ {
		n := size - checkpacket.HeaderSize - 1 - k
		if n < checkpacket.MinSize {
			break
		}
		var lenBuf [binary.MaxVarintLen64]byte
		if binary.PutUvarint(lenBuf[:], uint64(n)) != k {
			continue
		}
		f := &typedFrame{}
		for _, id := range []uint16{TypedRequestID, TypedReplyID} {
			b := binary.LittleEndian.AppendUint16(nil, uint16(size))
			b = binary.LittleEndian.AppendUint16(b, id)
			b = append(b, payloadTag)
			b = append(b, lenBuf[:k]...)
			if id == TypedRequestID {
				f.send = b
			} else {
				f.recv = b
			}
		}
		return f, nil
	}
	return nil, fmt.Errorf("no typed echo packet is exactly %d bytes: use another size (at least %d)",
		size, checkpacket.HeaderSize+2+checkpacket.MinSize)
}

// put writes into pkt, the whole packet, the C_Echo of connection conn with
// sequence seq.
func (f *typedFrame) put(pkt []byte, conn uint32, seq uint64) {
	copy(pkt, f.send)
	putEcho(pkt[len(f.send):], conn, seq)
}

// check verifies that pkt, the whole packet, is exactly the S_Echo that
// answers put's C_Echo for conn and seq, every byte of it.
func (f *typedFrame) check(pkt []byte, conn uint32, seq uint64) error {
	if len(pkt) < len(f.recv) || !bytes.Equal(pkt[:len(f.recv)], f.recv) {
		n := min(len(pkt), len(f.recv))
		return fmt.Errorf("conn %d seq %d: reply starts % x, want % x (S_Echo of the same length)", conn, seq, pkt[:n], f.recv)
	}
	return checkEcho(pkt[len(f.recv):], conn, seq)
}

// RunTypedEcho runs the echo load against the typed echo app: the same
// closed loop as RunEcho, each packet a C_Echo carrying a checkpacket and
// each reply the S_Echo carrying it back.
func RunTypedEcho(ctx context.Context, o Options) (*Result, error) {
	if o.Size < checkpacket.MinSize || o.Size > checkpacket.MaxSize {
		return nil, fmt.Errorf("echo packet size %d outside %d..%d", o.Size, checkpacket.MinSize, checkpacket.MaxSize)
	}
	f, err := newTypedFrame(o.Size)
	if err != nil {
		return nil, err
	}
	return runEcho(ctx, o, f)
}

// typedMessage is the C_Echo packet carrying payload, and the S_Echo that
// answers it, encoded as echo.proto says; an empty payload is an empty
// message, as protobuf omits an empty bytes field.
func typedMessage(id uint16, payload []byte) []byte {
	var body []byte
	if len(payload) > 0 {
		body = append(binary.AppendUvarint([]byte{payloadTag}, uint64(len(payload))), payload...)
	}
	p := binary.LittleEndian.AppendUint16(nil, uint16(checkpacket.HeaderSize+len(body)))
	p = binary.LittleEndian.AppendUint16(p, id)
	return append(p, body...)
}

// CheckTypedEchoServer checks a server running the typed echo app: C_Echo
// messages of many sizes, several to a write, answered in order by S_Echo
// messages of the same payload; one cut into 1-byte writes; and a packet of
// another id, a C_Echo that does not decode and a header with size 1 each
// closing its own connection and no other.
func CheckTypedEchoServer(ctx context.Context, target string) error {
	a, err := Dial(ctx, target, 0)
	if err != nil {
		return err
	}
	defer abort(a)
	ra := newPacketReader(a)

	lens := []int{0, 1, 16, 60, 127, 128, 1000, 16383, 16384, 65526, 3}
	var all []byte
	var want [][]byte
	for i, n := range lens {
		payload := rawPacket(checkpacket.HeaderSize+n, uint16(200+i))[checkpacket.HeaderSize:]
		all = append(all, typedMessage(TypedRequestID, payload)...)
		want = append(want, typedMessage(TypedReplyID, payload))
	}
	werr := make(chan error, 1)
	go func() { _, err := a.Write(all); werr <- err }()
	for i, w := range want {
		got, err := ra.next(checkTimeout)
		if err != nil {
			return fmt.Errorf("S_Echo of C_Echo %d (payload of %d bytes): %w", i, lens[i], err)
		}
		if !bytes.Equal(got, w) {
			return fmt.Errorf("S_Echo of C_Echo %d (payload of %d bytes): wrong bytes back", i, lens[i])
		}
	}
	if err := <-werr; err != nil {
		return err
	}

	p := typedMessage(TypedRequestID, rawPacket(300, 44)[checkpacket.HeaderSize:])
	w := typedMessage(TypedReplyID, rawPacket(300, 44)[checkpacket.HeaderSize:])
	for i := range p {
		if _, err := a.Write(p[i : i+1]); err != nil {
			return err
		}
		if i < 8 || i%64 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	got, err := ra.next(checkTimeout)
	if err != nil {
		return fmt.Errorf("S_Echo of a C_Echo written a byte at a time: %w", err)
	}
	if !bytes.Equal(got, w) {
		return errors.New("S_Echo of a C_Echo written a byte at a time: wrong bytes back")
	}

	for i, bad := range []struct {
		what string
		pkt  []byte
	}{
		{"a raw packet of id 5", rawPacket(64, 5)},
		{"an S_Echo sent to the server", typedMessage(TypedReplyID, []byte("x"))},
		{"a C_Echo whose length runs past its end", append(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 7), TypedRequestID), payloadTag, 9, 'x')},
		{"a header with size 1", []byte{1, 0, 0, 0}},
	} {
		b, err := Dial(ctx, target, 1+i)
		if err != nil {
			return err
		}
		_, err = b.Write(bad.pkt)
		if err == nil {
			err = expectClosed(b, bad.what)
		}
		abort(b)
		if err != nil {
			return err
		}
	}
	p = typedMessage(TypedRequestID, []byte("still there"))
	if _, err := a.Write(p); err != nil {
		return err
	}
	if got, err := ra.next(checkTimeout); err != nil || !bytes.Equal(got, typedMessage(TypedReplyID, []byte("still there"))) {
		return fmt.Errorf("another connection stopped working after a malformed packet: %v", err)
	}
	return nil
}
