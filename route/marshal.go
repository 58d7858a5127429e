package route

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"servercore"
)

// ErrTooLarge is returned by Marshal and Send for a message that would make
// a packet above servercore.MaxPacketSize; such a message is never cut
// short. It is servercore.ErrPacketTooLarge, the error of SendPacket.
var ErrTooLarge = servercore.ErrPacketTooLarge

// errNotInPlace reports a message whose encoding did not take the size
// measured just before, which only a message changed while it was being
// marshalled (a data race in the caller) produces.
var errNotInPlace = errors.New("route: message changed while it was marshalled")

// maxPayload is the largest message a packet can carry.
const maxPayload = servercore.MaxPacketSize - servercore.HeaderSize

// Marshal returns a sealed SendBuffer holding one packet: a header with id,
// then m in protobuf's wire format, encoded in place in the buffer. The
// caller owns the buffer's reference and releases it after sending.
func Marshal(id uint16, m proto.Message) (*servercore.SendBuffer, error) {
	// Size first, so that the buffer is opened at its exact size and the
	// encoding, reusing the sizes Size cached, appends right after the
	// header without growing anything.
	n := proto.Size(m)
	if n > maxPayload {
		return nil, fmt.Errorf("%w: %s is %d bytes; a packet carries at most %d", ErrTooLarge, messageName(m), n, maxPayload)
	}
	size := servercore.HeaderSize + n
	b := servercore.OpenSendBuffer(size)
	w := b.Buffer()[:size]
	servercore.PacketHeader{Size: uint16(size), ID: id}.Put(w)
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(w[:servercore.HeaderSize], m)
	if err == nil && (len(out) != size || &out[0] != &w[0]) {
		err = fmt.Errorf("%w: %s", errNotInPlace, messageName(m))
	}
	if err != nil {
		b.Seal(0)
		b.Release()
		return nil, err
	}
	b.Seal(size)
	return b, nil
}

// Send marshals m into a packet with the given id, as Marshal does, and
// sends it on s.
func Send(s *servercore.Session, id uint16, m proto.Message) error {
	b, err := Marshal(id, m)
	if err != nil {
		return err
	}
	err = s.Send(b)
	b.Release()
	return err
}

// messageName is m's full protobuf name, for errors.
func messageName(m proto.Message) string {
	if m == nil {
		return "<nil message>"
	}
	return string(m.ProtoReflect().Descriptor().FullName())
}
