package job

import (
	"slices"
	"testing"
	"time"
)

// LatencyCounts buckets the sampled waits as they were; QueuesMade counts
// NewQueue's queues.
func TestLatencyCounts(t *testing.T) {
	p, clock := newFakePool(t, Options{Workers: 1})
	clock.advance(time.Millisecond) // a post at 0 would be stamped 1 ns
	q := p.NewQueue("room")
	release := gate(t, q)
	for range 31 { // posts 2..32 of the queue: the 16th and the 32nd are timed
		q.Post(func() {})
	}
	clock.advance(4 * time.Millisecond)
	release()
	flush(t, q)
	bounds := []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}
	cum := make([]uint64, len(bounds))
	n, sum := p.LatencyCounts(bounds, cum)
	if n != 2 || sum != 8*time.Millisecond || !slices.Equal(cum, []uint64{0, 2, 2}) {
		t.Errorf("LatencyCounts: %d samples, sum %v, cumulative %v; want 2, 8ms, [0 2 2]", n, sum, cum)
	}
	p.NewQueue("a")
	p.NewQueue("b")
	if got := p.QueuesMade(); got != 3 {
		t.Errorf("QueuesMade %d, want 3", got)
	}
}
