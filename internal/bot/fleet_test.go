package bot

import (
	"sync"
	"testing"

	"servercore"
)

type testBot struct{ Client }

func (*testBot) OnConnected(*servercore.Session)                  {}
func (*testBot) OnRecvPacket(*servercore.Session, uint16, []byte) {}

// Clients made at once on many goroutines get the numbers 0..n-1, each
// once, and the fleet counts what they report.
func TestFleet(t *testing.T) {
	const n = 50
	run := &Run{}
	var f Fleet[*testBot]
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Add(run, &testBot{})
		}()
	}
	wg.Wait()
	seen := make([]bool, n)
	for _, b := range f.List() {
		if b.ID >= n || seen[b.ID] || b.Run != run {
			t.Fatalf("client numbered %d twice or out of range, or of another run", b.ID)
		}
		seen[b.ID] = true
		if b.ID%2 == 0 {
			b.Connected = true
			b.Arrived.Add(3)
		}
	}
	if f.Connected() != n/2 || f.Received() != 3*n/2 {
		t.Errorf("Connected %d, Received %d; want %d, %d", f.Connected(), f.Received(), n/2, 3*n/2)
	}
}
