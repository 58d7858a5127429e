package port

import "testing"

// TestSlotGenerations: a slot given to a new connection carries a
// generation its earlier holders did not have, so a completion still in
// the kernel for an earlier holder is recognised as stale.
func TestSlotGenerations(t *testing.T) {
	l := &uloop{conns: []*uconn{nil}}
	seen := map[uint64]bool{}
	var prev *uconn
	for i := range 1000 {
		c := &uconn{l: l}
		l.addConn(c)
		if prev != nil && c.slot != prev.slot {
			t.Fatalf("round %d: slot %d, want the freed slot %d again", i, c.slot, prev.slot)
		}
		ud := c.ud(opRecv)
		if seen[ud] {
			t.Fatalf("round %d: slot %d generation %d was used before", i, c.slot, c.gen)
		}
		seen[ud] = true
		if slot, gen, kind := splitUserData(ud); slot != c.slot || gen != c.gen || kind != opRecv {
			t.Fatalf("splitUserData(userData(%d, %d, %d)) = %d, %d, %d", c.slot, c.gen, opRecv, slot, gen, kind)
		}
		l.removeConn(c)
		prev = c
	}
	// The generation wraps within the bits user data carries.
	l.freeSlots[0].gen = genMask
	c := &uconn{l: l}
	l.addConn(c)
	if c.gen != 0 {
		t.Errorf("after generation %d the next is %d, want 0", genMask, c.gen)
	}
}
