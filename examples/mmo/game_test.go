package mmo

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

// shortQuiet is how long a test waits to see that nothing more arrives.
const shortQuiet = 150 * time.Millisecond

// TestRules plays every rule of the game over real sockets on each engine.
func TestRules(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		play func(t *testing.T, s *server)
	}{
		{"login", Config{}, playLogin},
		{"login refused", Config{}, playLoginRefused},
		{"enter and spawn", Config{}, playEnter},
		{"enter refused", Config{Rooms: 2, RoomCapacity: 1}, playEnterRefused},
		{"move relayed to the others", Config{}, playMove},
		{"invalid moves dropped", Config{}, playInvalidMoves},
		{"chat to everyone in order", Config{}, playChat},
		{"invalid chats dropped", Config{}, playInvalidChats},
		{"leave and enter again", Config{}, playLeave},
		{"out of room dropped", Config{}, playOutOfRoom},
		{"disconnect despawns", Config{}, playDisconnect},
		{"rate limits", Config{MoveRate: 5, ChatRate: 2}, playRateLimits},
		{"tick relays the latest", Config{Tick: 100 * time.Millisecond}, playTick},
		{"rooms apart", Config{Rooms: 2}, playRoomsApart},
	} {
		t.Run(c.name, func(t *testing.T) {
			testkit.ForEachBackend(t, func(t *testing.T, backend string) {
				c.play(t, serve(t, backend, c.cfg))
			})
		})
	}
}

func playLogin(t *testing.T, s *server) {
	ids := map[uint64]bool{}
	for _, name := range []string{"a", strings.Repeat("x", MaxName), strings.Repeat("é", MaxName/2), "名前 with spaces"} {
		c := s.dial(t)
		c.login(name)
		if ids[c.id] {
			t.Fatalf("player id %d given twice", c.id)
		}
		ids[c.id] = true
	}
	s.waitStats(t, "4 players", func(st Stats) bool { return st.Logins == 4 && st.Players == 4 })
}

func playLoginRefused(t *testing.T, s *server) {
	for _, name := range []string{"", strings.Repeat("x", MaxName+1), "a\x00b", "tab\t", "new\nline", "del\x7f", "c1\u0085"} {
		c := s.dial(t)
		c.send(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: name})
		var r mmopb.S_LOGIN
		c.expect(mmopb.S_LOGINID, &r)
		if r.Success || r.PlayerId != 0 {
			t.Errorf("login %q: %v, want failure", name, &r)
		}
		c.login("ok") // a refusal leaves the session able to log in
	}
	c := s.dial(t)
	c.login("twice")
	c.send(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "again"})
	var r mmopb.S_LOGIN
	c.expect(mmopb.S_LOGINID, &r)
	if r.Success {
		t.Errorf("second login: %v, want failure", &r)
	}
	s.waitStats(t, "8 refused logins", func(st Stats) bool { return st.LoginsRefused == 8 && st.Logins == 8 })
}

func playEnter(t *testing.T, s *server) {
	a := s.dial(t)
	a.login("alice")
	p := a.enter(3)
	if p.ObjectId != a.id || p.Name != "alice" || p.Type != mmopb.ObjectType_OBJECT_TYPE_PLAYER || p.Pos == nil {
		t.Fatalf("entered as %v", p)
	}
	if math.Abs(float64(p.Pos.X)) > Bound || math.Abs(float64(p.Pos.Y)) > Bound || math.Abs(float64(p.Pos.Z)) > Bound || p.Pos.ObjectId != a.id {
		t.Fatalf("spawned at %v, outside the room", p.Pos)
	}
	a.quiet(shortQuiet) // alone: no S_SPAWN

	b := s.dial(t)
	b.login("bob")
	b.enter(3)
	if got := b.spawned(); !slices.Equal(got, []uint64{a.id}) {
		t.Fatalf("bob saw %v spawn, want alice %d", got, a.id)
	}
	var sp mmopb.S_SPAWN
	a.expect(mmopb.S_SPAWNID, &sp)
	if len(sp.Players) != 1 || sp.Players[0].ObjectId != b.id || sp.Players[0].Name != "bob" {
		t.Fatalf("alice saw %v spawn, want bob", &sp)
	}
	c := s.player(t, "carol", 3, 2)
	for _, o := range []*client{a, b} {
		if got := o.spawned(); !slices.Equal(got, []uint64{c.id}) {
			t.Fatalf("saw %v spawn, want carol", got)
		}
	}
	s.waitStats(t, "3 in rooms", func(st Stats) bool { return st.Enters == 3 && st.InRooms == 3 })
}

func playEnterRefused(t *testing.T, s *server) {
	c := s.dial(t)
	c.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 0}) // before login
	c.expectEnterRefused()
	c.login("c")
	for _, room := range []uint32{2, 1 << 31, math.MaxUint32} { // no such room
		c.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: room})
		c.expectEnterRefused()
	}
	c.enter(0)
	c.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 0}) // already in it
	c.expectEnterRefused()
	c.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 1}) // already in another
	c.expectEnterRefused()

	d := s.dial(t)
	d.login("d")
	d.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 0}) // full
	d.expectEnterRefused()
	d.enter(1)
	c.quiet(shortQuiet) // no one else was affected
	s.waitStats(t, "7 refused enters", func(st Stats) bool { return st.EntersRefused == 7 && st.InRooms == 2 })
}

func playMove(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	c := s.player(t, "c", 0, 2)
	a.spawned()
	b.spawned()
	for i := range 5 {
		pos := &mmopb.PosInfo{ObjectId: 999, X: float32(i), Y: -Bound, Z: Bound, Yaw: 1.5, State: mmopb.MoveState_MOVE_STATE_RUN}
		a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: pos})
		for _, o := range []*client{b, c} {
			var m mmopb.S_MOVE
			o.expect(mmopb.S_MOVEID, &m)
			want := &mmopb.PosInfo{ObjectId: a.id, X: float32(i), Y: -Bound, Z: Bound, Yaw: 1.5, State: mmopb.MoveState_MOVE_STATE_RUN}
			if m.Pos.String() != want.String() {
				t.Fatalf("got move %v, want %v", m.Pos, want)
			}
		}
	}
	a.quiet(shortQuiet) // a mover does not get its own moves
	s.waitStats(t, "10 moves sent", func(st Stats) bool { return st.Moves == 5 && st.MovesSent == 10 })
}

func playInvalidMoves(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	bad := []*mmopb.PosInfo{nil, {X: nan}, {Y: inf}, {Z: -inf}, {X: Bound + 1}, {Y: -Bound - 0.5}, {Z: 1e30}, {Yaw: nan}}
	for _, p := range bad {
		a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: p})
	}
	a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: 7}})
	var m mmopb.S_MOVE
	b.expect(mmopb.S_MOVEID, &m) // only the valid one arrives
	if m.Pos.X != 7 {
		t.Fatalf("got move %v, want x 7", m.Pos)
	}
	s.waitStats(t, "invalid moves counted", func(st Stats) bool { return st.InvalidMoves == uint64(len(bad)) && st.Moves == 1 })
}

func playChat(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	msgs := []string{"x", "hello", strings.Repeat("y", MaxChat)}
	for _, msg := range msgs {
		a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: msg})
	}
	b.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "from b"})
	for _, o := range []*client{a, b} { // the sender too, each sender's in order
		var fromA []string
		gotB := false
		for range len(msgs) + 1 {
			var m mmopb.S_CHAT
			o.expect(mmopb.S_CHATID, &m)
			switch m.PlayerId {
			case a.id:
				fromA = append(fromA, m.Msg)
			case b.id:
				gotB = m.Msg == "from b"
			default:
				t.Fatalf("chat from %d", m.PlayerId)
			}
		}
		if !slices.Equal(fromA, msgs) || !gotB {
			t.Fatalf("got a's chats %q and b's %v", fromA, gotB)
		}
	}
}

func playInvalidChats(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: ""})
	a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: strings.Repeat("z", MaxChat+1)})
	a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "ok"})
	var m mmopb.S_CHAT
	a.expect(mmopb.S_CHATID, &m)
	if m.Msg != "ok" {
		t.Fatalf("got chat %q, want ok", m.Msg)
	}
	s.waitStats(t, "invalid chats counted", func(st Stats) bool { return st.InvalidChats == 2 && st.Chats == 1 })
}

func playLeave(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	b.send(mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
	b.expect(mmopb.S_LEAVE_GAMEID, &mmopb.S_LEAVE_GAME{})
	var d mmopb.S_DESPAWN
	a.expect(mmopb.S_DESPAWNID, &d)
	if !slices.Equal(d.ObjectIds, []uint64{b.id}) {
		t.Fatalf("despawned %v, want b %d", d.ObjectIds, b.id)
	}
	a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: 1}})
	b.quiet(shortQuiet) // out of the room, b sees no move
	b.enter(0)
	if got := b.spawned(); !slices.Equal(got, []uint64{a.id}) {
		t.Fatalf("b saw %v spawn on return", got)
	}
	if got := a.spawned(); !slices.Equal(got, []uint64{b.id}) {
		t.Fatalf("a saw %v spawn", got)
	}
	// Leave, then straight into another room: the leave is done first.
	b.send(mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
	b.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 5})
	b.expect(mmopb.S_LEAVE_GAMEID, &mmopb.S_LEAVE_GAME{})
	var e mmopb.S_ENTER_GAME
	b.expect(mmopb.S_ENTER_GAMEID, &e)
	if !e.Success {
		t.Fatalf("enter after leave: %v", &e)
	}
	a.expect(mmopb.S_DESPAWNID, &d)
	s.waitStats(t, "2 leaves", func(st Stats) bool { return st.Leaves == 2 && st.InRooms == 2 })
}

func playOutOfRoom(t *testing.T, s *server) {
	c := s.dial(t)
	// Before login, then logged in but in no room.
	for range 2 {
		c.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{}})
		c.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "hi"})
		c.send(mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
		if c.id == 0 {
			c.login("c")
		}
	}
	c.quiet(shortQuiet)
	// After leaving, through the room it left.
	c.enter(0)
	c.send(mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
	c.expect(mmopb.S_LEAVE_GAMEID, &mmopb.S_LEAVE_GAME{})
	c.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{}})
	c.send(mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
	c.quiet(shortQuiet)
	s.waitStats(t, "8 out of room", func(st Stats) bool { return st.OutOfRoom == 8 })
}

func playDisconnect(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	b.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "bye"})
	b.Close()
	var m mmopb.S_CHAT
	a.expect(mmopb.S_CHATID, &m) // b's jobs before its leave
	var d mmopb.S_DESPAWN
	a.expect(mmopb.S_DESPAWNID, &d)
	if !slices.Equal(d.ObjectIds, []uint64{b.id}) {
		t.Fatalf("despawned %v, want b", d.ObjectIds)
	}
	s.waitStats(t, "one player left", func(st Stats) bool { return st.Players == 1 && st.InRooms == 1 })
}

func playRateLimits(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	const sent = 20
	for i := range sent {
		a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: float32(i)}})
		a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "spam"})
	}
	s.waitStats(t, "every move and chat accounted for", func(st Stats) bool {
		return st.Moves+st.LimitedMoves == sent && st.Chats+st.LimitedChats == sent
	})
	st := s.g.Stats()
	// A burst gets the bucket's second's worth, and little more.
	if st.Moves < 5 || st.Moves > 8 || st.Chats < 2 || st.Chats > 4 {
		t.Fatalf("%d moves and %d chats let through of %d each; want about 5 and 2", st.Moves, st.Chats, sent)
	}
	_ = b
}

func playTick(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 0, 1)
	a.spawned()
	for i := range 10 {
		a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: float32(i)}})
	}
	s.waitStats(t, "10 moves", func(st Stats) bool { return st.Moves == 10 })
	// Moves superseded within a tick are dropped: b's last is a's last.
	var m mmopb.S_MOVE
	for got := 0; m.Pos.GetX() != 9; got++ {
		if got == 10 {
			t.Fatalf("10 moves relayed one by one; want the latest per tick")
		}
		b.expect(mmopb.S_MOVEID, &m)
	}
	b.quiet(300 * time.Millisecond) // nothing after the latest
	if st := s.g.Stats(); st.MovesSent >= 10 {
		t.Fatalf("%d moves sent of 10 in a tick or two", st.MovesSent)
	}
}

func playRoomsApart(t *testing.T, s *server) {
	a := s.player(t, "a", 0, 0)
	b := s.player(t, "b", 1, 0) // another room: no spawn
	a.send(mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{}})
	a.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "room 0"})
	var m mmopb.S_CHAT
	a.expect(mmopb.S_CHATID, &m)
	b.quiet(shortQuiet)
}
