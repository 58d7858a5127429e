package mmo

import (
	"strconv"
	"testing"

	"servercore/examples/mmo/mmopb"
	"servercore/internal/bot"
)

// The bot's checks catch each way a server could get the game wrong, and
// pass the ways it gets it right.
func TestBotChecks(t *testing.T) {
	spawn := func(ids ...uint64) func(*botPlayer) {
		return func(p *botPlayer) {
			var m mmopb.S_SPAWN
			for _, id := range ids {
				m.Players = append(m.Players, &mmopb.ObjectInfo{ObjectId: id, Pos: spawnPos(id)})
			}
			p.HandleS_SPAWN(nil, &m)
		}
	}
	despawn := func(id uint64) func(*botPlayer) {
		return func(p *botPlayer) { p.HandleS_DESPAWN(nil, &mmopb.S_DESPAWN{ObjectIds: []uint64{id}}) }
	}
	move := func(id uint64, seq uint32) func(*botPlayer) {
		return func(p *botPlayer) {
			pos := movePos(seq)
			pos.ObjectId = id
			p.HandleS_MOVE(nil, &mmopb.S_MOVE{Pos: pos})
		}
	}
	chat := func(id uint64, seq int) func(*botPlayer) {
		return func(p *botPlayer) { p.HandleS_CHAT(nil, &mmopb.S_CHAT{PlayerId: id, Msg: strconv.Itoa(seq)}) }
	}
	for _, c := range []struct {
		name  string
		steps []func(*botPlayer)
		viol  bool
		lost  uint64
	}{
		{"a good game", []func(*botPlayer){spawn(2, 3), move(2, 5), move(2, 6), chat(2, 1), chat(1, 1), chat(2, 2), chat(1, 2), despawn(3)}, false, 0},
		{"move before spawn", []func(*botPlayer){move(2, 1)}, true, 0},
		{"move after despawn", []func(*botPlayer){spawn(2), move(2, 1), despawn(2), move(2, 2)}, true, 0},
		{"own move relayed back", []func(*botPlayer){move(1, 1)}, true, 0},
		{"moves out of order", []func(*botPlayer){spawn(2), move(2, 3), move(2, 2)}, true, 0},
		{"a move twice", []func(*botPlayer){spawn(2), move(2, 3), move(2, 3)}, true, 0},
		{"a move lost", []func(*botPlayer){spawn(2), move(2, 3), move(2, 5)}, false, 1},
		{"spawned twice", []func(*botPlayer){spawn(2), spawn(2)}, true, 0},
		{"spawned itself", []func(*botPlayer){spawn(1)}, true, 0},
		{"despawned unseen", []func(*botPlayer){despawn(2)}, true, 0},
		{"chat from outside the room", []func(*botPlayer){chat(2, 1)}, true, 0},
		{"chats out of order", []func(*botPlayer){spawn(2), chat(2, 1), chat(2, 3)}, true, 0},
		{"own chats out of order", []func(*botPlayer){chat(1, 4), chat(1, 4)}, true, 0},
		{"a chat not a bot's", []func(*botPlayer){spawn(2), func(p *botPlayer) { p.HandleS_CHAT(nil, &mmopb.S_CHAT{PlayerId: 2, Msg: "hi"}) }}, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewBot(BotConfig{})(&bot.Run{}).(*driver)
			p := &botPlayer{d: d, seen: make(map[uint64]*peer), pid: 1, state: stIn}
			p.Run = d.run
			for _, step := range c.steps {
				step(p)
			}
			if (p.viol > 0) != c.viol || p.lost != c.lost {
				t.Fatalf("%d violations (first %q), %d lost; want violations %v, %d lost", p.viol, p.first, p.lost, c.viol, c.lost)
			}
		})
	}
}

// A move's sequence number survives its position, within the room's bounds.
func TestMoveSeq(t *testing.T) {
	for _, seq := range []uint32{1, 999, 1000, 123456, 999999999} {
		pos := movePos(seq)
		if got := moveSeq(pos); got != seq || !validPos(pos) {
			t.Errorf("moveSeq(movePos(%d)) = %d, valid %v", seq, got, validPos(pos))
		}
	}
	if got := moveSeq(spawnPos(7)); got != 0 {
		t.Errorf("a spawned position carries sequence number %d", got)
	}
}
