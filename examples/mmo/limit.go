package mmo

import "time"

// bucket is a token bucket: rate tokens a second, holding at most a second's
// worth, so that a player may burst briefly but not sustain more than rate.
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket of rate tokens a second.
func newBucket(rate float64) bucket { return bucket{rate: rate, tokens: max(rate, 1)} }

// take takes a token at now, and reports false if there was none.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(max(b.rate, 1), b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
