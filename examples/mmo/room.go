package mmo

import (
	"errors"

	"servercore"
	"servercore/examples/mmo/mmopb"
	"servercore/job"
)

// spawnChunk is how many players one S_SPAWN lists at most, so that a full
// room's list stays well inside a packet.
const spawnChunk = 400

// room is one room of the game. Its fields are touched only by its own jobs.
type room struct {
	g       *Game
	id      uint32
	q       *job.Queue
	members map[uint64]*member
	list    []*member // the members, in no order, for relaying
	dirty   []*member // members moved since the last tick
}

// member is a player in a room, and where it stands.
type member struct {
	p   *player
	pos *mmopb.PosInfo // where it is
	// shown is where the others were last told it is: with a tick, a
	// newcomer is shown that, and the tick then brings it up to date with
	// everyone else, so that no one gets a position twice.
	shown *mmopb.PosInfo
	idx   int  // its index in room.list
	dirty bool // in room.dirty
	in    bool // still a member: a tick skips those that left
}

func newRoom(g *Game, id uint32, q *job.Queue) *room {
	return &room{g: g, id: id, q: q, members: make(map[uint64]*member)}
}

// post posts fn to the room and reports whether it was taken; a full
// mailbox drops it, and counts it.
func (r *room) post(fn func()) bool {
	err := r.q.Post(fn)
	if errors.Is(err, job.ErrQueueFull) {
		r.g.stats.roomBusy.Add(1)
	}
	return err == nil
}

// refuse answers an enter with failure.
func (r *room) refuse(sess *servercore.Session) {
	r.g.stats.entersRefused.Add(1)
	_ = mmopb.SendS_ENTER_GAME(sess, &mmopb.S_ENTER_GAME{})
}

// enter brings p into the room if it is in no room and the room has space.
func (r *room) enter(p *player) {
	if p.gone.Load() {
		return
	}
	switch cur := p.room.Load(); {
	case cur == r:
		r.refuse(p.sess)
		return
	case cur != nil:
		// Its leave of cur may still wait in cur's queue: decide there,
		// after it, and come back if it left.
		if !cur.post(func() {
			if p.room.Load() == cur {
				cur.refuse(p.sess)
			} else if !r.post(func() { r.enter(p) }) {
				cur.refuse(p.sess)
			}
		}) {
			r.refuse(p.sess)
		}
		return
	}
	if len(r.list) >= r.g.cfg.RoomCapacity || !p.room.CompareAndSwap(nil, r) {
		r.refuse(p.sess)
		return
	}
	if p.gone.Load() { // its disconnect may have looked for a room before the swap
		p.room.Store(nil)
		return
	}
	pos := spawnPos(p.id)
	m := &member{p: p, pos: pos, shown: pos, idx: len(r.list), in: true}
	r.members[p.id] = m
	r.list = append(r.list, m)
	r.g.stats.enters.Add(1)
	r.g.stats.inRooms.Add(1)

	_ = mmopb.SendS_ENTER_GAME(p.sess, &mmopb.S_ENTER_GAME{Success: true, Player: m.info()})
	// The others as last relayed; with a tick, the next one brings the
	// newcomer up to date along with everyone else.
	others := make([]*mmopb.ObjectInfo, 0, len(r.list)-1)
	for _, o := range r.list {
		if o != m {
			others = append(others, o.info())
		}
	}
	for len(others) > 0 {
		n := min(len(others), spawnChunk)
		_ = mmopb.SendS_SPAWN(p.sess, &mmopb.S_SPAWN{Players: others[:n]})
		others = others[n:]
	}
	if b, err := mmopb.MarshalS_SPAWN(&mmopb.S_SPAWN{Players: []*mmopb.ObjectInfo{m.info()}}); err == nil {
		r.relay(b, p)
		b.Release()
	}
}

// leave takes p out of the room; a leave asked for gets S_LEAVE_GAME, and
// the others see it despawn.
func (r *room) leave(p *player, disconnected bool) {
	m := r.members[p.id]
	if m == nil {
		if !disconnected {
			r.g.stats.outOfRoom.Add(1)
		}
		return
	}
	delete(r.members, p.id)
	last := r.list[len(r.list)-1]
	r.list[m.idx], last.idx = last, m.idx
	r.list = r.list[:len(r.list)-1]
	m.in = false
	if !disconnected {
		// Before p is out of every room: another room's enter, which
		// waits for that, then answers after this.
		_ = mmopb.SendS_LEAVE_GAME(p.sess, &mmopb.S_LEAVE_GAME{})
	}
	p.room.Store(nil)
	r.g.stats.leaves.Add(1)
	r.g.stats.inRooms.Add(-1)
	if b, err := mmopb.MarshalS_DESPAWN(&mmopb.S_DESPAWN{ObjectIds: []uint64{p.id}}); err == nil {
		r.relay(b, nil)
		b.Release()
	}
}

// move makes pos p's position and relays it to the others, now or at the
// next tick.
func (r *room) move(p *player, pos *mmopb.PosInfo) {
	m := r.members[p.id]
	if m == nil {
		r.g.stats.outOfRoom.Add(1)
		return
	}
	pos.ObjectId = p.id
	m.pos = pos
	r.g.stats.moves.Add(1)
	if r.g.cfg.Tick > 0 {
		if !m.dirty {
			m.dirty = true
			r.dirty = append(r.dirty, m)
		}
		return
	}
	r.sendMove(m)
}

// tick relays the latest position of each player moved since the last tick.
func (r *room) tick() {
	for i, m := range r.dirty {
		m.dirty = false
		if m.in {
			r.sendMove(m)
		}
		r.dirty[i] = nil
	}
	r.dirty = r.dirty[:0]
}

// sendMove relays m's position to the other members.
func (r *room) sendMove(m *member) {
	m.shown = m.pos
	b, err := mmopb.MarshalS_MOVE(&mmopb.S_MOVE{Pos: m.pos})
	if err != nil {
		return
	}
	r.g.stats.movesSent.Add(uint64(r.relay(b, m.p)))
	b.Release()
}

// chat relays msg from p to every member, p included.
func (r *room) chat(p *player, msg string) {
	if r.members[p.id] == nil {
		r.g.stats.outOfRoom.Add(1)
		return
	}
	r.g.stats.chats.Add(1)
	b, err := mmopb.MarshalS_CHAT(&mmopb.S_CHAT{PlayerId: p.id, Msg: msg})
	if err != nil {
		return
	}
	r.g.stats.chatsSent.Add(uint64(r.relay(b, nil)))
	b.Release()
}

// relay sends b, one buffer shared by all, to every member but except and
// returns how many queued it.
func (r *room) relay(b *servercore.SendBuffer, except *player) int {
	n := 0
	for _, m := range r.list {
		if m.p != except && m.p.sess.Send(b) == nil {
			n++
		}
	}
	return n
}

// info describes m to the players that see it, where they were last told
// it is.
func (m *member) info() *mmopb.ObjectInfo {
	return &mmopb.ObjectInfo{ObjectId: m.p.id, Type: mmopb.ObjectType_OBJECT_TYPE_PLAYER, Name: m.p.name, Pos: m.shown}
}
