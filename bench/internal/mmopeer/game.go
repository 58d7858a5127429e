// Package mmopeer is the MMO sample's game (servercore/examples/mmo) as the
// benchmark's other peers play it: the same .proto, the same rules, written
// the way a Go server without servercore writes it. Each room is a set of
// players behind one mutex; whoever holds it sends to the room's players,
// so every player sees the room's events in the order the room took them.
// The transport (package net, gnet) supplies a Conn per player and feeds
// the game each packet.
package mmopeer

import (
	"errors"
	"flag"
	"sync"
	"sync/atomic"
	"time"

	"servercore/examples/mmo"
)

// ErrProtocol is the error of a packet that ends its connection: an unknown
// id, an S_ message from a client, or a payload that does not decode.
var ErrProtocol = errors.New("mmopeer: protocol error")

// Config are the game's settings, as servercore serve --app mmo takes them.
type Config struct {
	Rooms        int           // rooms, numbered from 0
	RoomCapacity int           // players a room holds at most
	Tick         time.Duration // when positive, moves are relayed once per tick, latest only
	MoveRate     float64       // moves a second a player may make
	ChatRate     float64       // chats a second a player may send
}

// RegisterFlags declares --rooms, --room-capacity and --tick on fs, with the
// defaults of examples/mmo, and returns the Config they fill.
func RegisterFlags(fs *flag.FlagSet) *Config {
	c := &Config{MoveRate: mmo.DefaultMoveRate, ChatRate: mmo.DefaultChatRate}
	fs.IntVar(&c.Rooms, "rooms", mmo.DefaultRooms, "mmo: number of rooms")
	fs.IntVar(&c.RoomCapacity, "room-capacity", mmo.DefaultRoomCapacity, "mmo: players a room holds at most")
	fs.DurationVar(&c.Tick, "tick", 0, "mmo: relay each moved player's latest position once per tick (0: every move at once)")
	return c
}

// Conn is one player's connection as the game sees it.
type Conn interface {
	// Send queues pkt, a whole framed packet that may be shared with other
	// connections and must not be changed, and reports whether the
	// connection took it.
	Send(pkt []byte) bool
}

// Game is one server's world. Its methods are safe for concurrent use.
type Game struct {
	cfg    Config
	rooms  []*room
	nextID atomic.Uint64
	stop   chan struct{}
	ticks  sync.WaitGroup
}

// NewGame makes the rooms of cfg and, with a tick, starts their timers.
func NewGame(cfg Config) *Game {
	g := &Game{cfg: cfg, stop: make(chan struct{})}
	for i := range max(cfg.Rooms, 1) {
		r := &room{g: g, id: uint32(i), index: make(map[uint64]int)}
		g.rooms = append(g.rooms, r)
		if cfg.Tick > 0 {
			g.ticks.Add(1)
			go r.tickLoop(cfg.Tick)
		}
	}
	return g
}

// Close stops the rooms' timers.
func (g *Game) Close() {
	close(g.stop)
	g.ticks.Wait()
}
