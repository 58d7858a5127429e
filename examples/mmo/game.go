// Package mmo is the MMO sample: the course's game on servercore. Players log
// in, enter a room, see everyone there spawn, move, chat and leave; the
// others see them despawn. Each room is a job.Queue whose state only its own
// jobs touch, so the game needs no lock; its bot checks the game's rules, not
// bytes.
//
// Copy this package to start a game of one's own: mmopb/mmo.proto is the
// protocol, session.go turns packets into room jobs, room.go is the game.
package mmo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"servercore"
	"servercore/job"
)

// Defaults for the zero values of Config.
const (
	DefaultRooms        = 8
	DefaultRoomCapacity = 1000
	DefaultMoveRate     = 30 // moves a second per player
	DefaultChatRate     = 5  // chats a second per player
)

// Config configures a Game; zero values take the defaults.
type Config struct {
	Rooms        int           // rooms, numbered from 0 (default DefaultRooms)
	RoomCapacity int           // players a room holds at most (default DefaultRoomCapacity)
	Tick         time.Duration // when positive, moves are relayed once per tick, latest only; zero relays each at once
	MoveRate     float64       // moves a second a player may make (default DefaultMoveRate); more are dropped
	ChatRate     float64       // chats a second a player may send (default DefaultChatRate); more are dropped
	// Pool runs the rooms' jobs; nil makes a pool of the game's own, which
	// Close closes.
	Pool *job.Pool
}

// Game is one server's world: its rooms and the counters of what happened in
// them. Its methods are safe for concurrent use.
type Game struct {
	cfg     Config
	pool    *job.Pool
	ownPool bool
	rooms   []*room
	nextID  atomic.Uint64
	stats   counters
}

// NewGame makes a game of cfg.Rooms rooms, each a queue on cfg.Pool, ticking
// if cfg.Tick is positive.
func NewGame(cfg Config) (*Game, error) {
	switch {
	case cfg.Rooms < 0 || cfg.RoomCapacity < 0 || cfg.Tick < 0 || cfg.MoveRate < 0 || cfg.ChatRate < 0:
		return nil, fmt.Errorf("mmo: negative setting in %+v", cfg)
	case cfg.Rooms > 1<<16:
		return nil, fmt.Errorf("mmo: %d rooms is more than %d", cfg.Rooms, 1<<16)
	}
	if cfg.Rooms == 0 {
		cfg.Rooms = DefaultRooms
	}
	if cfg.RoomCapacity == 0 {
		cfg.RoomCapacity = DefaultRoomCapacity
	}
	if cfg.MoveRate == 0 {
		cfg.MoveRate = DefaultMoveRate
	}
	if cfg.ChatRate == 0 {
		cfg.ChatRate = DefaultChatRate
	}
	g := &Game{cfg: cfg, pool: cfg.Pool}
	if g.pool == nil {
		g.pool, g.ownPool = job.NewPool(job.Options{}), true
	}
	for i := range cfg.Rooms {
		r := newRoom(g, uint32(i), g.pool.NewQueue("room "+strconv.Itoa(i)))
		if cfg.Tick > 0 {
			if _, err := r.q.Every(cfg.Tick, r.tick); err != nil {
				g.Close(context.Background())
				return nil, fmt.Errorf("mmo: start the tick of room %d: %w", i, err)
			}
		}
		g.rooms = append(g.rooms, r)
	}
	return g, nil
}

// NewSession returns the handler of one player's session, for
// servercore.Config.NewPacketSession.
func (g *Game) NewSession() servercore.PacketHandler { return newSession(g) }

// Close closes the rooms, after the jobs already posted ran, and the game's
// own pool. Stop the service first, so that every player's leave is posted.
func (g *Game) Close(ctx context.Context) error {
	for _, r := range g.rooms {
		r.q.Close()
	}
	if !g.ownPool {
		for _, r := range g.rooms {
			select {
			case <-r.q.Done():
			case <-ctx.Done():
				return fmt.Errorf("mmo: close rooms: %w", ctx.Err())
			}
		}
		return nil
	}
	if err := g.pool.Close(ctx); err != nil {
		return fmt.Errorf("mmo: close pool: %w", err)
	}
	return nil
}

// Pool is the pool the rooms' jobs run on, for its Stats.
func (g *Game) Pool() *job.Pool { return g.pool }

// ignoreClosed drops the error of a reply to a session that is going away:
// its disconnect is already on its way.
func ignoreClosed(err error) error {
	if errors.Is(err, servercore.ErrSessionClosed) {
		return nil
	}
	return err
}
