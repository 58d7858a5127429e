package mmopeer

import (
	"sync"
	"time"

	"servercore/examples/mmo/mmopb"
)

// room is one room: its members behind mu.
type room struct {
	g  *Game
	id uint32

	mu      sync.Mutex
	members []*member
	index   map[uint64]int // player id -> its place in members
	dirty   []*member      // moved since the last tick
}

// member is a player in a room and where it stands: pos, where it is;
// shown, where the others were last told it is (with a tick, a newcomer is
// shown that, and the tick brings it up to date).
type member struct {
	p          *Player
	pos, shown *mmopb.PosInfo
	dirty, in  bool
}

func (m *member) info() *mmopb.ObjectInfo {
	return &mmopb.ObjectInfo{ObjectId: m.p.id, Type: mmopb.ObjectType_OBJECT_TYPE_PLAYER, Name: m.p.name, Pos: m.shown}
}

// relay sends pkt to every member but except.
func (r *room) relay(pkt []byte, except *Player) {
	for _, m := range r.members {
		if m.p != except {
			m.p.conn.Send(pkt)
		}
	}
}

func (r *room) enter(p *Player) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.room != nil || len(r.members) >= r.g.cfg.RoomCapacity {
		p.send(mmopb.S_ENTER_GAMEID, &mmopb.S_ENTER_GAME{})
		return
	}
	pos := spawnPos(p.id)
	m := &member{p: p, pos: pos, shown: pos, in: true}
	others := make([]*mmopb.ObjectInfo, 0, len(r.members))
	for _, o := range r.members {
		others = append(others, o.info())
	}
	r.index[p.id] = len(r.members)
	r.members = append(r.members, m)
	p.room = r
	p.send(mmopb.S_ENTER_GAMEID, &mmopb.S_ENTER_GAME{Success: true, Player: m.info()})
	for len(others) > 0 {
		n := min(len(others), spawnChunk)
		p.send(mmopb.S_SPAWNID, &mmopb.S_SPAWN{Players: others[:n]})
		others = others[n:]
	}
	r.relay(Packet(mmopb.S_SPAWNID, &mmopb.S_SPAWN{Players: []*mmopb.ObjectInfo{m.info()}}), p)
}

// leave takes p out; asked is false for a disconnect, which gets no answer.
func (r *room) leave(p *Player, asked bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[p.id]
	if !ok {
		return
	}
	r.members[i].in = false
	last := len(r.members) - 1
	r.members[i] = r.members[last]
	r.index[r.members[i].p.id] = i
	r.members[last] = nil
	r.members = r.members[:last]
	delete(r.index, p.id)
	p.room = nil
	if asked {
		p.send(mmopb.S_LEAVE_GAMEID, &mmopb.S_LEAVE_GAME{})
	}
	r.relay(Packet(mmopb.S_DESPAWNID, &mmopb.S_DESPAWN{ObjectIds: []uint64{p.id}}), nil)
}

func (r *room) move(p *Player, pos *mmopb.PosInfo) {
	pos.ObjectId = p.id
	var pkt []byte
	if r.g.cfg.Tick <= 0 {
		pkt = Packet(mmopb.S_MOVEID, &mmopb.S_MOVE{Pos: pos}) // outside the lock
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[p.id]
	if !ok {
		return
	}
	m := r.members[i]
	m.pos = pos
	if pkt == nil {
		if !m.dirty {
			m.dirty = true
			r.dirty = append(r.dirty, m)
		}
		return
	}
	m.shown = pos
	r.relay(pkt, p)
}

func (r *room) chat(p *Player, msg string) {
	pkt := Packet(mmopb.S_CHATID, &mmopb.S_CHAT{PlayerId: p.id, Msg: msg})
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.index[p.id]; ok {
		r.relay(pkt, nil)
	}
}

// tickLoop relays, once per tick, the latest position of each player that
// moved since the last.
func (r *room) tickLoop(every time.Duration) {
	defer r.g.ticks.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.g.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		for i, m := range r.dirty {
			m.dirty = false
			if m.in {
				m.shown = m.pos
				r.relay(Packet(mmopb.S_MOVEID, &mmopb.S_MOVE{Pos: m.pos}), m.p)
			}
			r.dirty[i] = nil
		}
		r.dirty = r.dirty[:0]
		r.mu.Unlock()
	}
}
