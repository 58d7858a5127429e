package servercore

import (
	"errors"
	"slices"
	"testing"

	"servercore/internal/testkit"
)

// TestGroupRoom: the API around a room over real connections: a closed
// session is never added, BroadcastExcept skips the sender, Members yields
// every member.
func TestGroupRoom(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		g := NewGroup()
		var clients []*testkit.Client
		var sessions []*Session
		for range 3 {
			c := testkit.Dial(t, svc.Addr())
			c.Echo(1, nil)
			s := app.session(t, c).s
			if !g.Add(s) {
				t.Fatalf("Add of a connected session reported false")
			}
			clients, sessions = append(clients, c), append(sessions, s)
		}

		var members []uint64
		for s := range g.Members() {
			members = append(members, s.ID())
		}
		slices.Sort(members)
		want := []uint64{sessions[0].ID(), sessions[1].ID(), sessions[2].ID()}
		slices.Sort(want)
		if !slices.Equal(members, want) {
			t.Fatalf("Members yielded %v, want %v", members, want)
		}

		b := NewPacket(42, []byte("from 0"))
		if n := g.BroadcastExcept(b, sessions[0]); n != 2 {
			t.Fatalf("BroadcastExcept queued %d, want 2", n)
		}
		b.Release()
		clients[1].Expect(42, []byte("from 0"))
		clients[2].Expect(42, []byte("from 0"))
		clients[0].Echo(2, []byte("the sender got nothing before this"))

		gone := app.session(t, clients[2])
		g.Remove(sessions[2])
		gone.s.Disconnect(errors.New("left"))
		gone.waitDisconnected(t, testkit.WaitLong)
		if g.Add(gone.s) {
			t.Fatalf("Add of a disconnected session reported true")
		}
		if g.Len() != 2 {
			t.Fatalf("Len %d after adding a closed session, want 2", g.Len())
		}
	})
}
