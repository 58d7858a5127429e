package route

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/runtime/protoiface"

	"servercore"
)

// Reasons a packet cannot be dispatched. A PacketError wraps one of them,
// next to servercore.ErrProtocol, so callers test it with errors.Is.
var (
	// ErrUnknownID is the reason of a packet whose id names no message.
	ErrUnknownID = errors.New("route: unknown packet id")
	// ErrWrongDirection is the reason of a packet that the other side
	// receives: an S_ message sent to a server, a C_ message to a client.
	ErrWrongDirection = errors.New("route: message of the wrong direction")
	// ErrDecode is the reason of a payload that is not the protobuf encoding
	// of its id's message.
	ErrDecode = errors.New("route: payload does not decode")
	// ErrNotHandled is the reason of a packet whose handler method is the
	// generated Unimplemented one.
	ErrNotHandled = errors.New("route: message not handled")
)

// PacketError is the error of a packet that cannot be dispatched, and the
// disconnect cause the generated session adapters give its session. It
// wraps servercore.ErrProtocol, Reason and, for a payload that does not
// decode, protobuf's error.
type PacketError struct {
	ID      uint16 // the packet's id
	Message string // the full name of the id's message; empty for an unknown id
	Reason  error  // ErrUnknownID, ErrWrongDirection, ErrDecode or ErrNotHandled
	Err     error  // protobuf's error, for ErrDecode; otherwise nil
}

func (e *PacketError) Error() string {
	s := fmt.Sprintf("%v: packet id %d", servercore.ErrProtocol, e.ID)
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	if e.Reason != nil {
		// The reason without its package prefix: the sentence already
		// starts with servercore's.
		s += ": " + strings.TrimPrefix(e.Reason.Error(), "route: ")
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns servercore.ErrProtocol, the reason and protobuf's error,
// if any, for errors.Is and errors.As.
func (e *PacketError) Unwrap() []error {
	errs := []error{servercore.ErrProtocol}
	if e.Reason != nil {
		errs = append(errs, e.Reason)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// UnknownID returns the error of a packet whose id names no message.
func UnknownID(id uint16) error {
	return &PacketError{ID: id, Reason: ErrUnknownID}
}

// WrongDirection returns the error of a packet with the id of message (a
// full name), which this side does not receive.
func WrongDirection(id uint16, message string) error {
	return &PacketError{ID: id, Message: message, Reason: ErrWrongDirection}
}

// NotHandled returns the error of a packet with the id of message (a full
// name), which this side receives but has no method for.
func NotHandled(id uint16, message string) error {
	return &PacketError{ID: id, Message: message, Reason: ErrNotHandled}
}

// Unmarshal decodes payload, the payload of packet id, into m, which is
// empty: a new message or one just reset (payload's fields are merged into
// what m holds, as proto.UnmarshalOptions.Merge does). A payload that does
// not decode is a *PacketError naming the id; m does not keep payload, so
// it outlives the callback that received it.
func Unmarshal(id uint16, payload []byte, m proto.Message) error {
	if err := unmarshal(payload, m); err != nil {
		return &PacketError{ID: id, Message: messageName(m), Reason: ErrDecode, Err: err}
	}
	return nil
}

// unmarshal merges payload into m. A generated message is decoded by its
// own method, called directly: proto's Unmarshal would reset m first and
// look the method up again.
func unmarshal(payload []byte, m proto.Message) error {
	pm := m.ProtoReflect()
	methods := pm.ProtoMethods()
	if methods == nil || methods.Unmarshal == nil {
		return proto.UnmarshalOptions{Merge: true}.Unmarshal(payload, m)
	}
	out, err := methods.Unmarshal(protoiface.UnmarshalInput{
		Message:  pm,
		Buf:      payload,
		Resolver: protoregistry.GlobalTypes,
		Depth:    protowire.DefaultRecursionLimit,
		Flags:    protoiface.UnmarshalCheckRequired,
	})
	if err == nil && out.Flags&protoiface.UnmarshalInitialized == 0 {
		err = proto.CheckInitialized(m)
	}
	return err
}
