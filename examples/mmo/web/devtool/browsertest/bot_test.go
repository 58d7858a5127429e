package browsertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"servercore"
	"servercore/examples/mmo/mmopb"
)

// bot is a Go player over TCP: a servercore client session with mmopb's
// typed handler, as a game's bot is written. What it saw is in its view.
type bot struct {
	t    *testing.T
	name string
	id   uint64
	sess *servercore.Session
	view *botView
}

// botView is what the bot knows of its room, guarded by mu.
type botView struct {
	mmopb.UnimplementedClientHandler
	servercore.BaseHandler
	mu      sync.Mutex
	room    uint32
	self    uint64
	in      bool
	err     string
	players map[uint64]*mmopb.ObjectInfo
	chats   []*mmopb.S_CHAT
}

type pos struct{ x, y float32 }

// named returns the id of the player called name in the room, or 0.
func (v *botView) named(name string) uint64 {
	for id, o := range v.players {
		if o.GetName() == name {
			return id
		}
	}
	return 0
}

// posOf is where the player of decimal id stands, as last seen.
func (v *botView) posOf(id string) pos {
	for oid, o := range v.players {
		if fmt.Sprint(oid) == id {
			return pos{o.GetPos().GetX(), o.GetPos().GetY()}
		}
	}
	return pos{}
}

// heard reports whether the player of decimal id said msg.
func (v *botView) heard(id, msg string) bool {
	for _, c := range v.chats {
		if fmt.Sprint(c.PlayerId) == id && c.Msg == msg {
			return true
		}
	}
	return false
}

func (v *botView) fail(format string, args ...any) error {
	if v.err == "" {
		v.err = fmt.Sprintf(format, args...)
	}
	return nil
}

func (v *botView) HandleS_LOGIN(s *servercore.Session, m *mmopb.S_LOGIN) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !m.Success {
		return v.fail("login refused")
	}
	v.self = m.PlayerId
	return mmopb.SendC_ENTER_GAME(s, &mmopb.C_ENTER_GAME{RoomId: v.room})
}

func (v *botView) HandleS_ENTER_GAME(_ *servercore.Session, m *mmopb.S_ENTER_GAME) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !m.Success {
		return v.fail("enter refused")
	}
	v.in = true
	return nil
}

func (v *botView) HandleS_SPAWN(_ *servercore.Session, m *mmopb.S_SPAWN) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, o := range m.Players {
		if v.players[o.GetObjectId()] != nil {
			return v.fail("player %d spawned twice", o.GetObjectId())
		}
		v.players[o.GetObjectId()] = o
	}
	return nil
}

func (v *botView) HandleS_DESPAWN(_ *servercore.Session, m *mmopb.S_DESPAWN) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range m.ObjectIds {
		if v.players[id] == nil {
			return v.fail("player %d despawned unseen", id)
		}
		delete(v.players, id)
	}
	return nil
}

func (v *botView) HandleS_MOVE(_ *servercore.Session, m *mmopb.S_MOVE) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	o := v.players[m.Pos.GetObjectId()]
	if o == nil {
		return v.fail("move of player %d, unseen", m.Pos.GetObjectId())
	}
	o.Pos = m.Pos
	return nil
}

func (v *botView) HandleS_CHAT(_ *servercore.Session, m *mmopb.S_CHAT) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.chats = append(v.chats, m)
	return nil
}

// newBot connects a bot to addr, logs it in as name and has it enter room.
func newBot(t *testing.T, addr, name string, room uint32) *bot {
	t.Helper()
	v := &botView{room: room, players: make(map[uint64]*mmopb.ObjectInfo)}
	svc, err := servercore.NewClientService(addr, 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return mmopb.ClientPacketHandler(v) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatalf("bot: start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	sess, err := svc.Connect(ctx)
	if err != nil {
		t.Fatalf("bot: connect to %s: %v", addr, err)
	}
	b := &bot{t: t, name: name, sess: sess, view: v}
	if err := mmopb.SendC_LOGIN(sess, &mmopb.C_LOGIN{Name: name}); err != nil {
		t.Fatalf("bot: login: %v", err)
	}
	b.waitUntil("the bot in its room", func(v *botView) bool { return v.in })
	v.mu.Lock()
	b.id = v.self
	v.mu.Unlock()
	return b
}

// waitUntil waits up to waitFor for cond to hold of the bot's view.
func (b *bot) waitUntil(what string, cond func(*botView) bool) {
	b.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		b.view.mu.Lock()
		ok, failed := cond(b.view), b.view.err
		b.view.mu.Unlock()
		switch {
		case failed != "":
			b.t.Fatalf("%s: %s", b.name, failed)
		case ok:
			return
		case time.Now().After(deadline):
			b.view.mu.Lock()
			defer b.view.mu.Unlock()
			b.t.Fatalf("%s: %s: not within %v; it sees %v and heard %v", b.name, what, waitFor, b.view.players, b.view.chats)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *bot) move(x, y float32) {
	b.t.Helper()
	if err := mmopb.SendC_MOVE(b.sess, &mmopb.C_MOVE{Pos: &mmopb.PosInfo{ObjectId: b.id, X: x, Y: y}}); err != nil {
		b.t.Fatalf("%s: move: %v", b.name, err)
	}
}

func (b *bot) say(msg string) {
	b.t.Helper()
	if err := mmopb.SendC_CHAT(b.sess, &mmopb.C_CHAT{Msg: msg}); err != nil {
		b.t.Fatalf("%s: chat: %v", b.name, err)
	}
}

// posOf is where the bot last saw the player of decimal id.
func (b *bot) posOf(id string) pos {
	b.view.mu.Lock()
	defer b.view.mu.Unlock()
	return b.view.posOf(id)
}
