package broadcast

import (
	"fmt"
	"net"
	"testing"

	"servercore/examples/internal/apptest"
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
	conns := make([]net.Conn, len(names))
	for i, name := range names {
		conns[i] = apptest.Dial(t, addr)
		// A member is in the room once its own hello comes back; then it
		// gets every packet sent from now on.
		hello := apptest.Packet(testHello, []byte(name))
		if _, err := conns[i].Write(hello); err != nil {
			t.Fatal(err)
		}
		for string(apptest.ReadPacket(t, conns[i])) != string(hello) {
			// an earlier member's hello
		}
	}
	const each = 3
	for n := range each {
		for i, c := range conns {
			if _, err := c.Write(apptest.Packet(testData, fmt.Appendf(nil, "%s%d", names[i], n))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range conns {
		next := map[string]int{}
		for got := 0; got < each*len(names); {
			p := apptest.ReadPacket(t, c)
			if p[2] == testHello {
				continue // a later member's hello
			}
			sender, n := string(p[4]), int(p[5]-'0')
			if n != next[sender] {
				t.Fatalf("%s got packet %d of %s, want %d", names[i], n, sender, next[sender])
			}
			next[sender]++
			got++
		}
	}
}
