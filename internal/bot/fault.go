package bot

import (
	"errors"

	"servercore/internal/checkpacket"
)

// Fault says what was wrong with a received packet.
type Fault uint8

// The faults a client tells apart.
const (
	FaultNone   Fault = iota
	FaultSize         // the packet is not the run's size
	FaultID           // the packet id does not match the packet's fields
	FaultFill         // a fill byte is wrong
	FaultClient       // the client id is not the one expected
	FaultOrder        // the sequence number is not the next one expected
	FaultTime         // the send time is not the one recorded or not plausible
	FaultExtra        // a packet arrived while none was in flight
)

func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "ok"
	case FaultSize:
		return "wrong size"
	case FaultID:
		return "wrong packet id"
	case FaultFill:
		return "corrupted fill bytes"
	case FaultClient:
		return "wrong client id"
	case FaultOrder:
		return "wrong sequence number (lost, duplicated or reordered)"
	case FaultTime:
		return "wrong send time"
	case FaultExtra:
		return "unexpected packet (none in flight)"
	}
	return "unknown fault"
}

// ReadPacket checks that a received data packet of id and payload is the
// run's size and consistent with its own fields, and returns those fields;
// the caller checks them against what it expects.
func (r *Run) ReadPacket(id uint16, payload []byte) (checkpacket.Fields, Fault) {
	if len(payload)+checkpacket.HeaderSize != r.Config.Size {
		return checkpacket.Fields{}, FaultSize
	}
	f, err := checkpacket.Check(id, payload)
	switch {
	case err == nil:
		return f, FaultNone
	case errors.Is(err, checkpacket.ErrID):
		return f, FaultID
	case errors.Is(err, checkpacket.ErrFill):
		return f, FaultFill
	}
	return f, FaultSize
}
