package route

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"

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
	return MarshalOptions{}.Marshal(id, m)
}

// Send marshals m into a packet with the given id, as Marshal does, and
// sends it on s.
func Send(s *servercore.Session, id uint16, m proto.Message) error {
	return MarshalOptions{}.Send(s, id, m)
}

// MarshalOptions configures Marshal and Send.
type MarshalOptions struct {
	// AllowPartial skips the check that every required field (proto2) is
	// set, as in proto.MarshalOptions. The generated code sets it for the
	// messages that have no required field, nested ones included, where
	// the check cannot fail.
	AllowPartial bool
}

// Marshal is route.Marshal with o's options.
func (o MarshalOptions) Marshal(id uint16, m proto.Message) (*servercore.SendBuffer, error) {
	// Size first, so that the buffer is opened at its exact size and the
	// encoding, reusing the sizes Size cached, appends right after the
	// header without growing anything. Generated messages are sized and
	// encoded by their own methods, called directly: proto.Size and
	// MarshalAppend would look them up twice and size the message twice.
	var pm protoreflect.Message
	var methods *protoiface.Methods
	if m != nil {
		pm = m.ProtoReflect()
		methods = pm.ProtoMethods()
	}
	if methods == nil || methods.Size == nil || methods.Marshal == nil {
		return o.marshalReflect(id, m)
	}
	if !o.AllowPartial {
		if err := checkInitialized(pm, methods); err != nil {
			return nil, err
		}
	}
	n := methods.Size(protoiface.SizeInput{Message: pm}).Size
	b, w, err := openPacket(id, m, n)
	if err != nil {
		return nil, err
	}
	out, err := methods.Marshal(protoiface.MarshalInput{Message: pm, Buf: w[:servercore.HeaderSize], Flags: protoiface.MarshalUseCachedSize})
	return sealPacket(b, w, out.Buf, m, err)
}

// marshalReflect is Marshal of a message without fast-path methods (or
// nil), through proto's reflection-based encoding.
func (o MarshalOptions) marshalReflect(id uint16, m proto.Message) (*servercore.SendBuffer, error) {
	b, w, err := openPacket(id, m, proto.Size(m))
	if err != nil {
		return nil, err
	}
	out, err := proto.MarshalOptions{AllowPartial: o.AllowPartial, UseCachedSize: true}.MarshalAppend(w[:servercore.HeaderSize], m)
	return sealPacket(b, w, out, m, err)
}

// checkInitialized reports a message whose required fields (proto2) are not
// all set, as proto.Marshal does. A message type without required fields
// answers at once.
func checkInitialized(pm protoreflect.Message, methods *protoiface.Methods) error {
	if methods.CheckInitialized == nil {
		return proto.CheckInitialized(pm.Interface())
	}
	_, err := methods.CheckInitialized(protoiface.CheckInitializedInput{Message: pm})
	return err
}

// openPacket opens a SendBuffer for the packet of m, whose encoding is n
// bytes, and writes its header; w is the whole packet's space.
func openPacket(id uint16, m proto.Message, n int) (b *servercore.SendBuffer, w []byte, err error) {
	if n > maxPayload {
		return nil, nil, fmt.Errorf("%w: %s is %d bytes; a packet carries at most %d", ErrTooLarge, messageName(m), n, maxPayload)
	}
	size := servercore.HeaderSize + n
	b = servercore.OpenSendBuffer(size)
	w = b.Buffer()[:size]
	servercore.PacketHeader{Size: uint16(size), ID: id}.Put(w)
	return b, w, nil
}

// sealPacket seals b, whose packet space is w, once the encoding out has
// filled it, or releases it after err or an encoding that did not fill w
// in place.
func sealPacket(b *servercore.SendBuffer, w, out []byte, m proto.Message, err error) (*servercore.SendBuffer, error) {
	if err == nil && (len(out) != len(w) || &out[0] != &w[0]) {
		err = fmt.Errorf("%w: %s", errNotInPlace, messageName(m))
	}
	if err != nil {
		b.Seal(0)
		b.Release()
		return nil, err
	}
	b.Seal(len(w))
	return b, nil
}

// Send is route.Send with o's options.
func (o MarshalOptions) Send(s *servercore.Session, id uint16, m proto.Message) error {
	b, err := o.Marshal(id, m)
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
