package mmo

import (
	"sync/atomic"
	"time"

	"servercore"
	"servercore/examples/mmo/mmopb"
)

// player is a logged-in player. Its room is written only by room jobs; the
// session reads it to know where to post.
type player struct {
	id   uint64
	name string
	sess *servercore.Session
	room atomic.Pointer[room] // the room it is a member of, or nil
	gone atomic.Bool          // its session disconnected: no room may take it
}

// session handles one player's session. Its fields belong to the session's
// callbacks, which run one at a time: so its jobs are posted in packet order.
type session struct {
	servercore.BaseHandler
	g     *Game
	p     *player // nil until logged in
	last  *room   // the room the session posted to last, where its replies queue
	moves bucket
	chats bucket
}

func newSession(g *Game) servercore.PacketHandler {
	return mmopb.ServerPacketHandler(&session{
		g:     g,
		moves: newBucket(g.cfg.MoveRate),
		chats: newBucket(g.cfg.ChatRate),
	})
}

// HandleC_LOGIN logs the session in once, under a valid name.
func (s *session) HandleC_LOGIN(sess *servercore.Session, m *mmopb.C_LOGIN) error {
	if s.p != nil || !validName(m.Name) {
		s.g.stats.loginsRefused.Add(1)
		return ignoreClosed(mmopb.SendS_LOGIN(sess, &mmopb.S_LOGIN{}))
	}
	s.p = &player{id: s.g.nextID.Add(1), name: m.Name, sess: sess}
	s.g.stats.logins.Add(1)
	s.g.stats.players.Add(1)
	return ignoreClosed(mmopb.SendS_LOGIN(sess, &mmopb.S_LOGIN{Success: true, PlayerId: s.p.id}))
}

// HandleC_ENTER_GAME hands the enter to its room, which alone knows whether
// the player may come in.
func (s *session) HandleC_ENTER_GAME(sess *servercore.Session, m *mmopb.C_ENTER_GAME) error {
	if s.p == nil || m.RoomId >= uint32(len(s.g.rooms)) {
		s.refuseEnter(sess)
		return nil
	}
	r := s.g.rooms[m.RoomId]
	p := s.p
	if !r.post(func() { r.enter(p) }) {
		s.refuseEnter(sess)
		return nil
	}
	s.last = r
	return nil
}

// refuseEnter answers an enter that never reached a room: through the room
// the session talked to last, if any, so that the answer keeps its place
// among that room's packets.
func (s *session) refuseEnter(sess *servercore.Session) {
	if r := s.last; r != nil && r.post(func() { r.refuse(sess) }) {
		return
	}
	s.g.stats.entersRefused.Add(1)
	_ = mmopb.SendS_ENTER_GAME(sess, &mmopb.S_ENTER_GAME{})
}

// target is the room the player's next job goes to: the one it is in, or
// the one it asked to enter last, whose queue decides that enter first.
func (s *session) target() *room {
	if s.p == nil {
		return nil
	}
	if r := s.p.room.Load(); r != nil {
		return r
	}
	return s.last
}

// HandleC_LEAVE_GAME takes the player out of its room.
func (s *session) HandleC_LEAVE_GAME(_ *servercore.Session, _ *mmopb.C_LEAVE_GAME) error {
	r, p := s.target(), s.p
	if r == nil {
		s.g.stats.outOfRoom.Add(1)
		return nil
	}
	r.post(func() { r.leave(p, false) })
	return nil
}

// HandleC_MOVE checks the move and its rate, then hands it to the room.
func (s *session) HandleC_MOVE(_ *servercore.Session, m *mmopb.C_MOVE) error {
	r, p := s.target(), s.p
	switch {
	case r == nil:
		s.g.stats.outOfRoom.Add(1)
	case !validPos(m.Pos):
		s.g.stats.invalidMoves.Add(1)
	case !s.moves.take(time.Now()):
		s.g.stats.limitedMoves.Add(1)
	default:
		pos := m.Pos
		r.post(func() { r.move(p, pos) })
	}
	return nil
}

// HandleC_CHAT checks the chat and its rate, then hands it to the room.
func (s *session) HandleC_CHAT(_ *servercore.Session, m *mmopb.C_CHAT) error {
	r, p := s.target(), s.p
	switch {
	case r == nil:
		s.g.stats.outOfRoom.Add(1)
	case !validChat(m.Msg):
		s.g.stats.invalidChats.Add(1)
	case !s.chats.take(time.Now()):
		s.g.stats.limitedChats.Add(1)
	default:
		msg := m.Msg
		r.post(func() { r.chat(p, msg) })
	}
	return nil
}

// OnDisconnected despawns the player. The leave is posted unbounded, after
// the session's earlier jobs, so that it is never refused nor overtaken.
func (s *session) OnDisconnected(_ *servercore.Session, _ error) {
	p := s.p
	if p == nil {
		return
	}
	s.g.stats.players.Add(-1)
	p.gone.Store(true)
	if r := s.target(); r != nil {
		_ = r.q.PostUnbounded(func() { r.leave(p, true) }) // closed: the game is over
	}
}
