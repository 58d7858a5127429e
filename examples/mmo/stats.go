package mmo

import "sync/atomic"

// Stats counts what the players did, the rule-breaking they were refused or
// dropped for included.
type Stats struct {
	Players int64 // players logged in now
	InRooms int64 // players in a room now

	Logins        uint64 // C_LOGIN answered success
	LoginsRefused uint64 // C_LOGIN answered failure: bad name, or a second login
	Enters        uint64 // C_ENTER_GAME answered success
	EntersRefused uint64 // C_ENTER_GAME answered failure
	Leaves        uint64 // players that left a room, by C_LEAVE_GAME or a disconnect
	Moves         uint64 // moves accepted
	MovesSent     uint64 // S_MOVE packets queued to players
	Chats         uint64 // chats accepted
	ChatsSent     uint64 // S_CHAT packets queued to players

	InvalidMoves uint64 // moves dropped: no position, or one out of bounds or not finite
	InvalidChats uint64 // chats dropped: empty or longer than MaxChat
	LimitedMoves uint64 // moves dropped over the move rate
	LimitedChats uint64 // chats dropped over the chat rate
	OutOfRoom    uint64 // moves, chats and leaves dropped from a player in no room
	RoomBusy     uint64 // jobs a room's full mailbox refused
}

// counters are the atomics behind Stats.
type counters struct {
	players, inRooms                             atomic.Int64
	logins, loginsRefused, enters, entersRefused atomic.Uint64
	leaves, moves, movesSent, chats, chatsSent   atomic.Uint64
	invalidMoves, invalidChats, limitedMoves     atomic.Uint64
	limitedChats, outOfRoom, roomBusy            atomic.Uint64
}

// Stats returns a snapshot of the game's counters, read one by one.
func (g *Game) Stats() Stats {
	c := &g.stats
	return Stats{
		Players: c.players.Load(), InRooms: c.inRooms.Load(),
		Logins: c.logins.Load(), LoginsRefused: c.loginsRefused.Load(),
		Enters: c.enters.Load(), EntersRefused: c.entersRefused.Load(),
		Leaves: c.leaves.Load(), Moves: c.moves.Load(), MovesSent: c.movesSent.Load(),
		Chats: c.chats.Load(), ChatsSent: c.chatsSent.Load(),
		InvalidMoves: c.invalidMoves.Load(), InvalidChats: c.invalidChats.Load(),
		LimitedMoves: c.limitedMoves.Load(), LimitedChats: c.limitedChats.Load(),
		OutOfRoom: c.outOfRoom.Load(), RoomBusy: c.roomBusy.Load(),
	}
}
