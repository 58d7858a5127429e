package job

import (
	"math/rand/v2"
	"testing"
)

// The wheel fires every timer exactly once, on the first advance that
// reaches its tick, whatever the mix of near and far deadlines and the
// steps the clock takes.
func TestWheelFiresOnTime(t *testing.T) {
	tests := []struct {
		name     string
		timers   int
		maxDelay int64 // ticks
		maxStep  int64
	}{
		{"near, small steps", 2000, 100, 3},
		{"spread, mixed steps", 2000, 300_000, 5000},
		{"far, big steps", 500, 1 << 30, 1 << 24},
		{"one tick steps", 300, 10_000, 1},
		{"beyond the span", 50, 1 << 42, 1 << 37},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tt.timers)))
			var w wheel
			w.now = r.Int64N(1 << 20) // not aligned to any level
			pending := map[*Timer]bool{}
			for range tt.timers {
				tm := &Timer{when: (w.now + 1 + r.Int64N(tt.maxDelay)) * tick, slot: -1}
				w.insert(tm)
				pending[tm] = true
			}
			// Remove a few, as Stop does.
			n := 0
			for tm := range pending {
				if n++; n%7 == 0 {
					w.remove(tm)
					delete(pending, tm)
				}
			}
			if w.n != len(pending) {
				t.Fatalf("wheel holds %d, want %d", w.n, len(pending))
			}
			var buf []*Timer
			for len(pending) > 0 {
				from := w.now
				to := from + 1 + r.Int64N(tt.maxStep)
				if next := w.next(); next == never {
					t.Fatalf("%d timers pending and no next event", len(pending))
				}
				buf = w.advance(to, buf[:0])
				for _, tm := range buf {
					if !pending[tm] {
						t.Fatalf("timer due %d fired twice or after removal", tm.due())
					}
					if d := tm.due(); d <= from || d > to {
						t.Fatalf("timer due %d fired advancing %d..%d", d, from, to)
					}
					delete(pending, tm)
				}
				for tm := range pending {
					if tm.due() <= to {
						t.Fatalf("timer due %d not fired by %d", tm.due(), to)
					}
				}
			}
			if w.n != 0 || w.next() != never {
				t.Fatalf("empty wheel: n %d next %d", w.n, w.next())
			}
		})
	}
}

// next names the earliest moment something in the wheel needs the clock,
// never later than the earliest deadline.
func TestWheelNextIsNoLaterThanEarliest(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	var w wheel
	w.now = 12345
	earliest := int64(never)
	for range 1000 {
		d := w.now + 1 + r.Int64N(1<<28)
		w.insert(&Timer{when: d * tick, slot: -1})
		earliest = min(earliest, d)
		if next := w.next(); next > earliest || next <= w.now {
			t.Fatalf("next %d, earliest deadline %d, now %d", next, earliest, w.now)
		}
	}
}
