package mmopeer

import (
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"servercore/examples/mmo/mmopb"
)

// Player is one connection's player. Handle and Disconnected are called by
// its connection alone, one at a time; its room is written by them only,
// under that room's lock.
type Player struct {
	g     *Game
	conn  Conn
	id    uint64 // 0 until logged in
	name  string
	room  *room
	moves limiter
	chats limiter
}

// NewPlayer returns the player of a new connection.
func (g *Game) NewPlayer(c Conn) *Player {
	return &Player{g: g, conn: c, moves: newLimiter(g.cfg.MoveRate), chats: newLimiter(g.cfg.ChatRate)}
}

// Handle plays one packet of the player's. An error wrapping ErrProtocol
// means the connection must be closed.
func (p *Player) Handle(id uint16, payload []byte) error {
	switch id {
	case mmopb.C_LOGINID:
		var m mmopb.C_LOGIN
		if err := unmarshal(payload, &m); err != nil {
			return err
		}
		if p.id != 0 || !validName(m.Name) {
			p.send(mmopb.S_LOGINID, &mmopb.S_LOGIN{})
			return nil
		}
		p.id, p.name = p.g.nextID.Add(1), m.Name
		p.send(mmopb.S_LOGINID, &mmopb.S_LOGIN{Success: true, PlayerId: p.id})
	case mmopb.C_ENTER_GAMEID:
		var m mmopb.C_ENTER_GAME
		if err := unmarshal(payload, &m); err != nil {
			return err
		}
		if p.id == 0 || m.RoomId >= uint32(len(p.g.rooms)) {
			p.send(mmopb.S_ENTER_GAMEID, &mmopb.S_ENTER_GAME{})
			return nil
		}
		p.g.rooms[m.RoomId].enter(p)
	case mmopb.C_LEAVE_GAMEID:
		var m mmopb.C_LEAVE_GAME
		if err := unmarshal(payload, &m); err != nil {
			return err
		}
		if r := p.room; r != nil {
			r.leave(p, true)
		}
	case mmopb.C_MOVEID:
		var m mmopb.C_MOVE
		if err := unmarshal(payload, &m); err != nil {
			return err
		}
		if r := p.room; r != nil && validPos(m.Pos) && p.moves.allow(time.Now()) {
			r.move(p, m.Pos)
		}
	case mmopb.C_CHATID:
		var m mmopb.C_CHAT
		if err := unmarshal(payload, &m); err != nil {
			return err
		}
		if r := p.room; r != nil && validChat(m.Msg) && p.chats.allow(time.Now()) {
			r.chat(p, m.Msg)
		}
	default:
		return fmt.Errorf("%w: packet id %d", ErrProtocol, id)
	}
	return nil
}

// Disconnected despawns the player from its room, if it is in one.
func (p *Player) Disconnected() {
	if r := p.room; r != nil {
		r.leave(p, false)
	}
}

func (p *Player) send(id uint16, m proto.Message) { p.conn.Send(Packet(id, m)) }

func unmarshal(b []byte, m proto.Message) error {
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return nil
}

// Packet frames m as packet id: [size u16 LE][id u16 LE][m's encoding].
func Packet(id uint16, m proto.Message) []byte {
	b := make([]byte, 4, 4+proto.Size(m))
	b, err := proto.MarshalOptions{}.MarshalAppend(b, m)
	if err != nil || len(b) > 0xFFFF {
		panic(fmt.Sprintf("mmopeer: packet %d of %d bytes: %v", id, len(b), err))
	}
	binary.LittleEndian.PutUint16(b, uint16(len(b)))
	binary.LittleEndian.PutUint16(b[2:], id)
	return b
}
