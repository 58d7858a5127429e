package mmo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"servercore"
	"servercore/examples/mmo/mmopb"
	"servercore/internal/bot"
)

const (
	// botTick is how often the pacer looks which bots are due to act.
	botTick = 5 * time.Millisecond
	// enterTimeout bounds the wait for every bot to be in its room.
	enterTimeout = 10 * time.Second
	// churnEvery is how long a churning bot stays in its room, on average.
	churnEvery = 2 * time.Second
	// quietFor is how long nothing must arrive before the game is taken to
	// have settled at the end of a run.
	quietFor = 250 * time.Millisecond
	// sentRing is how many of a bot's last move times are kept for the
	// latency of their delivery.
	sentRing = 1 << 12
	// botMark is the yaw of a bot's moves: a position with it carries the
	// move's sequence number, one a server spawned does not.
	botMark = 1
)

// BotConfig are the settings of the MMO bots that the run's bot.Config has
// no place for.
type BotConfig struct {
	Rooms    int           // bot i enters room i mod Rooms (default 1)
	MoveRate float64       // moves a second per bot
	ChatRate float64       // chats a second per bot
	Churn    bool          // bots leave their room now and then, and enter it again
	Tick     time.Duration // the server's tick: positive if it relays only each player's latest move per tick
	Live     *Live         // if not nil, updated as moves are seen
	// OnSeen, if not nil, is called for every move a bot sees, with the
	// time since it was sent; it must be quick and safe for concurrent use.
	OnSeen func(bot uint32, latency time.Duration)
}

// Bot states, as the bot itself knows them.
const (
	stLogin    = iota // logging in, then entering
	stIn              // in its room
	stLeaving         // C_LEAVE_GAME sent
	stOut             // out of the room, until reenter
	stEntering        // C_ENTER_GAME sent again
	stFailed          // refused: it takes no further part
)

// peer is another player as one bot sees it.
type peer struct {
	move     uint32 // the latest move seen; 0 while none is known
	chat     uint32 // the latest chat seen
	chatSeen bool
}

// botPlayer is one bot. Its fields are guarded by mu: the session's callbacks
// and the pacer both use them.
type botPlayer struct {
	bot.Client
	d *driver

	mu       sync.Mutex
	state    int
	pid      uint64
	room     uint32
	seen     map[uint64]*peer // the others it saw spawn and not despawn
	self     peer             // its own chats, as they come back
	move     uint32           // its last move sent
	moveIn   uint32           // its last move sent since it entered, 0 if none
	chat     uint32           // its last chat sent
	nextMove time.Time
	nextChat time.Time
	reenter  time.Time
	viol     uint64
	first    string
	lost     uint64

	sentAt [sentRing]atomic.Int64 // run times its moves were sent, by sequence number
}

// driver runs the bots of one load test.
type driver struct {
	bot.Fleet[*botPlayer]
	run   *bot.Run
	cfg   BotConfig
	paced chan struct{}

	mu       sync.Mutex
	byID     map[uint64]*botPlayer // bots by player id
	lastRecv uint64
	quiet    time.Time // when the count last changed
	final    []string  // the end-of-run checks' violations, once settled
	settled  bool
}

// NewBot returns the MMO bots' driver maker for cfg: each bot logs in,
// enters room i mod Rooms, moves and chats at its rates, and checks what it
// sees against the game's rules.
func NewBot(cfg BotConfig) func(*bot.Run) bot.Driver {
	cfg.Rooms = max(cfg.Rooms, 1)
	return func(run *bot.Run) bot.Driver {
		return &driver{run: run, cfg: cfg, byID: make(map[uint64]*botPlayer)}
	}
}

func (d *driver) NewHandler() servercore.PacketHandler {
	return d.Add(d.run, &botPlayer{d: d, seen: make(map[uint64]*peer)})
}

// OnConnected implements servercore.PacketHandler.
func (p *botPlayer) OnConnected(s *servercore.Session) { p.Connect(s) }

// OnRecvPacket implements servercore.PacketHandler: a packet that is no S_
// message ends the bot's session, as a server's would.
func (p *botPlayer) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	if err := mmopb.DispatchClient(p, s, id, payload); err != nil {
		s.Disconnect(err)
	}
}

// violate records a broken rule.
func (p *botPlayer) violate(format string, args ...any) {
	p.viol++
	if p.first == "" {
		p.first = fmt.Sprintf("bot %d (player %d): ", p.ID, p.pid) + fmt.Sprintf(format, args...)
	}
}

func (p *botPlayer) HandleS_LOGIN(s *servercore.Session, m *mmopb.S_LOGIN) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !m.Success || m.PlayerId == 0 || p.pid != 0 {
		p.violate("login answered %v", m)
		p.state = stFailed
		return nil
	}
	p.pid = m.PlayerId
	p.d.mu.Lock()
	p.d.byID[p.pid] = p
	p.d.mu.Unlock()
	p.room = p.ID % uint32(p.d.cfg.Rooms)
	return mmopb.SendC_ENTER_GAME(s, &mmopb.C_ENTER_GAME{RoomId: p.room})
}

func (p *botPlayer) HandleS_ENTER_GAME(_ *servercore.Session, m *mmopb.S_ENTER_GAME) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.state != stLogin && p.state != stEntering:
		p.violate("S_ENTER_GAME in state %d", p.state)
	case !m.Success || m.Player.GetObjectId() != p.pid:
		p.violate("enter answered %v", m)
		p.state = stFailed
	default:
		p.state, p.moveIn = stIn, 0
		now := time.Now()
		p.nextMove, p.nextChat = now, now
	}
	return nil
}

func (p *botPlayer) HandleS_LEAVE_GAME(_ *servercore.Session, _ *mmopb.S_LEAVE_GAME) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stLeaving {
		p.violate("S_LEAVE_GAME in state %d", p.state)
	}
	p.state = stOut
	clear(p.seen) // out of the room, it sees no one
	p.self = peer{}
	p.reenter = time.Now().Add(time.Duration(50+rand.IntN(150)) * time.Millisecond)
	return nil
}

func (p *botPlayer) HandleS_SPAWN(_ *servercore.Session, m *mmopb.S_SPAWN) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stIn && p.state != stLeaving {
		p.violate("S_SPAWN out of a room")
	}
	for _, o := range m.Players {
		id := o.GetObjectId()
		switch {
		case id == p.pid:
			p.violate("spawned itself")
		case p.seen[id] != nil:
			p.violate("player %d spawned twice", id)
		default:
			p.seen[id] = &peer{move: moveSeq(o.GetPos())}
		}
	}
	return nil
}

func (p *botPlayer) HandleS_DESPAWN(_ *servercore.Session, m *mmopb.S_DESPAWN) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range m.ObjectIds {
		if p.seen[id] == nil {
			p.violate("player %d despawned unseen", id)
		}
		delete(p.seen, id)
	}
	return nil
}

func (p *botPlayer) HandleS_MOVE(_ *servercore.Session, m *mmopb.S_MOVE) error {
	now := p.Run.Now()
	p.Arrived.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	id := m.Pos.GetObjectId()
	o := p.seen[id]
	if o == nil {
		p.violate("move of player %d, which it does not see", id)
		return nil
	}
	seq := moveSeq(m.Pos)
	switch {
	case seq == 0:
		p.violate("move of player %d carries no sequence number", id)
		return nil
	case seq <= o.move:
		p.violate("move %d of player %d after its move %d", seq, id, o.move)
		return nil
	case p.d.cfg.Tick <= 0 && o.move != 0 && seq != o.move+1:
		p.lost += uint64(seq - o.move - 1)
	}
	o.move = seq
	p.d.mu.Lock()
	from := p.d.byID[id]
	p.d.mu.Unlock()
	if from != nil {
		if at := from.sentAt[seq%sentRing].Load(); at > 0 && at <= now {
			p.OK(now - at)
			p.d.cfg.Live.record(p.ID, now-at)
			if f := p.d.cfg.OnSeen; f != nil {
				f(p.ID, time.Duration(now-at))
			}
		}
	}
	return nil
}

func (p *botPlayer) HandleS_CHAT(_ *servercore.Session, m *mmopb.S_CHAT) error {
	p.Arrived.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	seq, err := strconv.ParseUint(m.Msg, 10, 32)
	if err != nil {
		p.violate("chat %q of player %d is not a bot's", m.Msg, m.PlayerId)
		return nil
	}
	o := p.seen[m.PlayerId]
	if m.PlayerId == p.pid {
		o = &p.self
	}
	switch {
	case o == nil:
		p.violate("chat of player %d, which it does not see", m.PlayerId)
		return nil
	case o.chatSeen && uint32(seq) != o.chat+1:
		p.violate("chat %d of player %d after its chat %d", seq, m.PlayerId, o.chat)
	}
	o.chat, o.chatSeen = uint32(seq), true
	return nil
}

// moveSeq is the sequence number a bot's move carries in its position, or 0
// for a position a server spawned. It is spread over x, y and z so that
// every coordinate stays an exact integer within the room.
func moveSeq(pos *mmopb.PosInfo) uint32 {
	if pos.GetYaw() != botMark {
		return 0
	}
	return uint32(pos.GetX()) + 1000*uint32(pos.GetY()) + 1000000*uint32(pos.GetZ())
}

// movePos is the position that carries sequence number seq.
func movePos(seq uint32) *mmopb.PosInfo {
	return &mmopb.PosInfo{X: float32(seq % 1000), Y: float32(seq / 1000 % 1000), Z: float32(seq / 1000000), Yaw: botMark, State: mmopb.MoveState_MOVE_STATE_RUN}
}
