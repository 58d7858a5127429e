package mmopeer

import (
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"servercore/examples/mmo"
	"servercore/examples/mmo/mmopb"
)

// spawnBox is how far from a room's centre players appear, and spawnChunk
// the most players one S_SPAWN lists, as in examples/mmo.
const (
	spawnBox   = 100
	spawnChunk = 400
)

func validName(name string) bool {
	if name == "" || len(name) > mmo.MaxName || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validPos(p *mmopb.PosInfo) bool {
	if p == nil {
		return false
	}
	for _, v := range [...]float32{p.X, p.Y, p.Z, p.Yaw} {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	in := func(v float32) bool { return math.Abs(float64(v)) <= mmo.Bound }
	return in(p.X) && in(p.Y) && in(p.Z)
}

func validChat(msg string) bool { return len(msg) >= 1 && len(msg) <= mmo.MaxChat }

// spawnPos is where player id appears: anywhere in the spawn box, spread
// by a multiplicative hash of its id.
func spawnPos(id uint64) *mmopb.PosInfo {
	h := id * 0x9E3779B97F4A7C15
	return &mmopb.PosInfo{
		ObjectId: id,
		X:        float32(h%(2*spawnBox+1)) - spawnBox,
		Y:        float32((h>>32)%(2*spawnBox+1)) - spawnBox,
	}
}

// limiter lets through rate events a second, bursting up to a second's worth.
type limiter struct {
	rate, tokens float64
	last         time.Time
}

func newLimiter(rate float64) limiter { return limiter{rate: rate, tokens: max(rate, 1)} }

func (l *limiter) allow(now time.Time) bool {
	if !l.last.IsZero() {
		l.tokens = min(max(l.rate, 1), l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
