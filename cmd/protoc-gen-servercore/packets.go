package main

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"

	"servercore/route/routepb"
)

// firstID is the id of a file's first packet message under the default
// rule; the ones after it count up in declaration order.
const firstID = 1000

// direction is who receives a packet.
type direction int

const (
	toServer direction = iota // a C_ message
	toClient                  // an S_ message
)

// packet is a message sent as packets.
type packet struct {
	msg      *protogen.Message
	id       uint16
	explicit bool // the id comes from the packet_id option
	dir      direction
}

// name is the message's name in the .proto file.
func (p packet) name() string { return string(p.msg.Desc.Name()) }

// origin says where the id comes from, for errors.
func (p packet) origin() string {
	if p.explicit {
		return "by its packet_id option"
	}
	return "by declaration order from 1000"
}

// packets numbers the packet messages of f. Every top-level message whose
// name starts with C_ or S_ takes the next id from firstID, in declaration
// order; a packet_id option replaces that message's id and leaves the
// others' alone, so that they keep the numbers the default rule gives them.
// It returns every problem found, each naming the messages involved.
func packets(f *protogen.File) ([]packet, error) {
	var (
		ps   []packet
		errs []error
		next = firstID
	)
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{f.Desc.Path()}, args...)...))
	}
	for _, m := range f.Messages {
		name := string(m.Desc.Name())
		id, explicit := packetID(m)
		var dir direction
		switch {
		case strings.HasPrefix(name, "C_"):
			dir = toServer
		case strings.HasPrefix(name, "S_"):
			dir = toClient
		default:
			if explicit {
				fail("message %s has a packet_id but is not a packet: a packet's name starts with C_ (client to server) or S_ (server to client)", name)
			}
			checkNested(m, fail)
			continue
		}
		checkNested(m, fail)
		if !explicit {
			id = int64(next)
		}
		next++
		if id < 1 || id > 65535 {
			if explicit {
				fail("message %s: packet id %d is outside 1..65535", name, id)
			} else {
				fail("message %s: packet id %d, its place from 1000 in declaration order, is outside 1..65535; give it a packet_id", name, id)
			}
			continue
		}
		ps = append(ps, packet{msg: m, id: uint16(id), explicit: explicit, dir: dir})
	}
	seen := make(map[uint16]packet, len(ps))
	for _, p := range ps {
		if q, dup := seen[p.id]; dup {
			fail("messages %s and %s have the same packet id %d (%s %s, %s %s)",
				q.name(), p.name(), p.id, q.name(), q.origin(), p.name(), p.origin())
			continue
		}
		seen[p.id] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ps, nil
}

// packetID returns m's packet_id option and whether it is set.
func packetID(m *protogen.Message) (int64, bool) {
	opts := m.Desc.Options()
	if opts == nil || !proto.HasExtension(opts, routepb.E_PacketId) {
		return 0, false
	}
	return int64(proto.GetExtension(opts, routepb.E_PacketId).(uint32)), true
}

// checkNested reports the nested messages of m that have a packet_id: only
// a file's top-level messages are packets, as in the default rule.
func checkNested(m *protogen.Message, fail func(string, ...any)) {
	for _, n := range m.Messages {
		if _, explicit := packetID(n); explicit {
			fail("message %s has a packet_id but is nested: only top-level messages are packets", n.Desc.FullName())
		}
		checkNested(n, fail)
	}
}
