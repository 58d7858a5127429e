package job

import (
	"math"
	"math/bits"
)

// The wheel is hierarchical: wheelLevels levels of 64 slots, each slot of a
// level spanning a whole turn of the level below. Ticks count from the
// pool's start, so 42 bits of them (139 years of milliseconds) never carry
// out of the top level; a deadline more than maxSpan ticks away (69 years)
// is parked there and placed again when it comes down. Inserting and
// removing a timer is an append to its slot's array and a swap with the
// array's last timer, whatever the number pending;
// advancing costs a step per non-empty slot it meets, found with one bitmap
// per level, so an idle wheel costs nothing.

const (
	slotBits    = 6
	slotsPer    = 1 << slotBits
	wheelLevels = 7
	maxSpan     = 1<<(slotBits*wheelLevels-1) - 1
	never       = math.MaxInt64
)

// wheel holds the pending timers of a pool. Its methods are called with the
// pool's timer lock held.
type wheel struct {
	now   int64 // the last tick advanced to
	slots [wheelLevels * slotsPer][]*Timer
	used  [wheelLevels]uint64 // bit s of used[l]: slot s of level l is not empty
	n     int                 // timers in the wheel
}

// keepCap bounds the array a slot keeps once emptied, so that a burst of
// timers leaves no large array behind.
const keepCap = 256

// insert places t, which must be due after w.now. It returns the tick at
// which the wheel must next be advanced for t.
func (w *wheel) insert(t *Timer) int64 {
	e := min(t.due(), w.now+maxSpan)
	l := 0
	if x := uint64(e ^ w.now); x >= slotsPer {
		l = (bits.Len64(x) - 1) / slotBits
	}
	s := int(e>>(slotBits*l)) & (slotsPer - 1)
	i := l*slotsPer + s
	t.slot = int16(i)
	t.at = int32(len(w.slots[i]))
	w.slots[i] = append(w.slots[i], t)
	w.used[l] |= 1 << s
	w.n++
	return w.eventAt(l, s)
}

// remove takes t out of the wheel if it is there: the slot's last timer
// takes its place.
func (w *wheel) remove(t *Timer) {
	i := t.slot
	if i < 0 {
		return
	}
	ts := w.slots[i]
	last := len(ts) - 1
	if int(t.at) != last {
		m := ts[last]
		ts[t.at], m.at = m, t.at
	}
	ts[last] = nil
	ts = ts[:last]
	switch {
	case last == 0:
		w.used[i/slotsPer] &^= 1 << (i % slotsPer)
		if cap(ts) > keepCap {
			ts = nil
		}
	case cap(ts) > keepCap && last < cap(ts)/4:
		ts = append([]*Timer(nil), ts...)
	}
	w.slots[i] = ts
	t.slot, t.at = -1, -1
	w.n--
}

// eventAt is the tick at which slot s of level l is reached: for level 0
// its timers are due, for a higher level its timers move down.
func (w *wheel) eventAt(l, s int) int64 {
	shift := slotBits * l
	upper := w.now >> (shift + slotBits) << (shift + slotBits)
	return upper | int64(s)<<shift
}

// next is the first tick after w.now at which something happens, or never.
// A level only holds slots after the one w.now is in, since a timer sits at
// the highest level where its tick and w.now differ.
func (w *wheel) next() int64 {
	ev := int64(never)
	for l := range wheelLevels {
		cur := int(w.now>>(slotBits*l)) & (slotsPer - 1)
		above := w.used[l] &^ (1<<(cur+1) - 1)
		if above != 0 {
			ev = min(ev, w.eventAt(l, bits.TrailingZeros64(above)))
		}
	}
	return ev
}

// advance moves the wheel to tick to and appends the timers that came due
// to fired, in deadline order (timers due at the same tick in no particular
// order).
func (w *wheel) advance(to int64, fired []*Timer) []*Timer {
	for {
		ev := w.next()
		if ev > to {
			if to > w.now {
				w.now = to
			}
			return fired
		}
		w.now = ev
		// Higher levels first: what they hold moves down, and what is due
		// at this very tick joins level 0's slot, handled last.
		for l := wheelLevels - 1; l >= 0; l-- {
			s := int(ev>>(slotBits*l)) & (slotsPer - 1)
			if w.used[l]&(1<<s) == 0 || w.eventAt(l, s) != ev {
				continue
			}
			i := l*slotsPer + s
			ts := w.slots[i]
			w.slots[i] = nil
			w.used[l] &^= 1 << s
			w.n -= len(ts)
			for k, t := range ts {
				ts[k] = nil
				t.slot, t.at = -1, -1
				if t.due() <= ev {
					fired = append(fired, t)
				} else {
					w.insert(t) // into a lower level: not slot i
				}
			}
			if w.slots[i] == nil && cap(ts) <= keepCap {
				w.slots[i] = ts[:0]
			}
		}
	}
}
