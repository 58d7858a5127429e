package mmo

import (
	"testing"

	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

// A packet that is no C_ message of the protocol disconnects its sender with
// ErrProtocol, at any stage of its game, and no one else notices.
func TestProtocolErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		id      uint16
		payload []byte
	}{
		{"unknown id", 999, nil},
		{"unknown id above", 1012, nil},
		{"undecodable payload", mmopb.C_MOVEID, []byte{0xff, 0xff, 0xff}},
		{"truncated field", mmopb.C_LOGINID, []byte{0x0a, 0x05, 'a'}},
		{"invalid UTF-8 name", mmopb.C_LOGINID, []byte{0x0a, 0x02, 0xc3, 0x28}},
		{"S_LOGIN from a client", mmopb.S_LOGINID, nil},
		{"S_MOVE from a client", mmopb.S_MOVEID, nil},
		{"S_CHAT from a client", mmopb.S_CHATID, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			testkit.ForEachBackend(t, func(t *testing.T, backend string) {
				s := serve(t, backend, Config{})
				other := s.player(t, "other", 0, 0)
				for _, stage := range []string{"new", "logged in", "in a room"} {
					bad := s.dial(t)
					switch stage {
					case "logged in":
						bad.login("bad")
					case "in a room":
						bad.login("bad")
						bad.enter(0)
						other.spawned()
					}
					bad.Send(c.id, c.payload)
					bad.ExpectClosed(testkit.WaitShort)
					if stage == "in a room" {
						other.expect(mmopb.S_DESPAWNID, &mmopb.S_DESPAWN{})
					}
				}
				s.waitStats(t, "3 protocol disconnects", func(Stats) bool { return s.svc.Stats().Disconnects.Protocol == 3 })
				other.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "still here"})
				other.expect(mmopb.S_CHATID, &mmopb.S_CHAT{})
			})
		})
	}
}
