package web

import "errors"

// Errors of Handler's configuration.
var (
	// ErrNotWebSocket: the game's URL is not ws:// nor wss://.
	ErrNotWebSocket = errors.New("not a ws:// or wss:// URL")
	// ErrNoRooms: the game has no room to join.
	ErrNoRooms = errors.New("no rooms")
)
