package mmo

import (
	"math"
	"unicode"
	"unicode/utf8"

	"servercore/examples/mmo/mmopb"
)

// Limits of what a player may send.
const (
	MaxName  = 32   // bytes of a login name
	MaxChat  = 256  // bytes of a chat message
	Bound    = 1000 // a position's x, y and z lie within ±Bound
	spawnBox = 100  // players spawn within ±spawnBox of the room's centre
)

// validName reports whether name may log in: 1 to MaxName bytes of UTF-8
// without control characters.
func validName(name string) bool {
	if len(name) == 0 || len(name) > MaxName || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// validPos reports whether p is a position a player may move to.
func validPos(p *mmopb.PosInfo) bool {
	if p == nil {
		return false
	}
	for _, v := range [...]float32{p.X, p.Y, p.Z, p.Yaw} {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return math.Abs(float64(p.X)) <= Bound && math.Abs(float64(p.Y)) <= Bound && math.Abs(float64(p.Z)) <= Bound
}

// validChat reports whether msg may be said.
func validChat(msg string) bool { return len(msg) >= 1 && len(msg) <= MaxChat }

// spawnPos is where player id appears in a room: on the ground, spread over
// the spawn box so that players do not stand on each other.
func spawnPos(id uint64) *mmopb.PosInfo {
	h := id * 0x9E3779B97F4A7C15
	x := float32(h%(2*spawnBox+1)) - spawnBox
	y := float32((h>>32)%(2*spawnBox+1)) - spawnBox
	return &mmopb.PosInfo{ObjectId: id, X: x, Y: y}
}
