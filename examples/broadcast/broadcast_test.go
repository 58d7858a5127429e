package broadcast

import (
	"fmt"
	"testing"

	"servercore/examples/internal/apptest"
	"servercore/internal/testkit"
)

const (
	testHello = 1 // payload: the member's name
	testData  = 2 // payload: sender and number
)

// Every packet reaches every connected session, the sender included, each
// sender's in order.
func TestBroadcastsToAll(t *testing.T) {
	addr := apptest.Serve(t, NewSession)
	names := []string{"a", "b", "c"}
	conns := make([]*testkit.Client, len(names))
	read := func(c *testkit.Client) (uint16, []byte) {
		t.Helper()
		id, payload, err := c.ReadPacket(testkit.WaitLong, nil)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return id, payload
	}
	for i, name := range names {
		conns[i] = testkit.Dial(t, addr)
		// A member is in the room once its own hello comes back; then it
		// gets every packet sent from now on.
		conns[i].Send(testHello, []byte(name))
		for {
			if id, payload := read(conns[i]); id == testHello && string(payload) == name {
				break
			} // else an earlier member's hello
		}
	}
	const each = 3
	for n := range each {
		for i, c := range conns {
			c.Send(testData, fmt.Appendf(nil, "%s%d", names[i], n))
		}
	}
	for i, c := range conns {
		next := map[string]int{}
		for got := 0; got < each*len(names); {
			id, p := read(c)
			if id == testHello {
				continue // a later member's hello
			}
			sender, n := string(p[0]), int(p[1]-'0')
			if n != next[sender] {
				t.Fatalf("%s got packet %d of %s, want %d", names[i], n, sender, next[sender])
			}
			next[sender]++
			got++
		}
	}
}
