package mmopeer

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore/examples/mmo/mmopb"
)

// recorder is a Conn that keeps the ids of the packets sent to it.
type recorder struct {
	mu  sync.Mutex
	ids []uint16
}

func (r *recorder) Send(pkt []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int(binary.LittleEndian.Uint16(pkt)) != len(pkt) {
		panic("bad frame")
	}
	r.ids = append(r.ids, binary.LittleEndian.Uint16(pkt[2:]))
	return true
}

// take returns the ids sent since the last take.
func (r *recorder) take() []uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.ids
	r.ids = nil
	return ids
}

func play(t *testing.T, p *Player, id uint16, m proto.Message) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(id, b); err != nil {
		t.Fatalf("packet %d: %v", id, err)
	}
}

func ids(v ...uint16) string {
	var s []string
	for _, id := range v {
		s = append(s, strconv.Itoa(int(id)))
	}
	return strings.Join(s, " ")
}

func TestRules(t *testing.T) {
	g := NewGame(Config{Rooms: 2, RoomCapacity: 2, MoveRate: 30, ChatRate: 5})
	defer g.Close()
	ca, cb, cc := new(recorder), new(recorder), new(recorder)
	a, b, c := g.NewPlayer(ca), g.NewPlayer(cb), g.NewPlayer(cc)

	play(t, a, mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{}) // before login
	play(t, a, mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "bad\x01"})
	play(t, a, mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "a"})
	play(t, a, mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "again"})
	play(t, a, mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 2}) // no such room
	play(t, a, mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{})
	play(t, a, mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{}) // already in
	want := []uint16{mmopb.S_ENTER_GAMEID, mmopb.S_LOGINID, mmopb.S_LOGINID, mmopb.S_LOGINID, mmopb.S_ENTER_GAMEID, mmopb.S_ENTER_GAMEID, mmopb.S_ENTER_GAMEID}
	if got := ca.take(); ids(got...) != ids(want...) {
		t.Fatalf("a got %v, want %v", got, want)
	}
	for _, p := range []*Player{b, c} {
		play(t, p, mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "p"})
		play(t, p, mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{})
	}
	if got := cb.take(); ids(got...) != ids(mmopb.S_LOGINID, mmopb.S_ENTER_GAMEID, mmopb.S_SPAWNID) {
		t.Fatalf("b got %v", got)
	}
	if c.room != nil || ca.take()[0] != mmopb.S_SPAWNID {
		t.Fatal("c entered a full room, or a did not see b spawn")
	}
	cc.take()

	// Moves: bad ones dropped, good ones relayed to the other member only,
	// at most a second's worth of the rate at once.
	play(t, a, mmopb.C_MOVEID, &mmopb.C_MOVE{})
	play(t, a, mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: 1001}})
	play(t, a, mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{Yaw: float32(math.NaN())}})
	for range 40 {
		play(t, a, mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{X: 1}})
	}
	if n, m := len(cb.take()), len(ca.take()); n != 30 || m != 0 {
		t.Fatalf("b got %d moves, a %d; want 30 and 0", n, m)
	}
	play(t, c, mmopb.C_MOVEID, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{}}) // in no room
	play(t, a, mmopb.C_CHATID, &mmopb.C_CHAT{Msg: strings.Repeat("x", 257)})
	play(t, a, mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "hi"})
	if got := ca.take(); ids(got...) != ids(mmopb.S_CHATID) || len(cb.take()) != 1 {
		t.Fatalf("a got %v after its chat", got)
	}

	play(t, a, mmopb.C_LEAVE_GAMEID, &mmopb.C_LEAVE_GAME{})
	if ga, gb := ca.take(), cb.take(); ids(ga...) != ids(mmopb.S_LEAVE_GAMEID) || ids(gb...) != ids(mmopb.S_DESPAWNID) {
		t.Fatalf("on a's leave a got %v, b %v", ga, gb)
	}
	b.Disconnected()
	if len(cb.take()) != 0 || len(g.rooms[0].members) != 0 {
		t.Fatal("a disconnect answered, or left its player in the room")
	}
}

func TestProtocolErrors(t *testing.T) {
	g := NewGame(Config{Rooms: 1, RoomCapacity: 1})
	defer g.Close()
	for _, c := range []struct {
		id      uint16
		payload []byte
	}{
		{mmopb.S_LOGINID, nil},
		{999, nil},
		{mmopb.C_LOGINID, []byte{0x0a, 5}},
	} {
		if err := g.NewPlayer(new(recorder)).Handle(c.id, c.payload); !errors.Is(err, ErrProtocol) {
			t.Errorf("packet %d % x: %v, want ErrProtocol", c.id, c.payload, err)
		}
	}
}
