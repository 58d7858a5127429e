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
	// Posts 2..32 of the queue: the 16th is timed; the 32nd is not, the
	// queue's timed post still waiting (one is sampled at a time).
	for range 31 {
		q.Post(func() {})
	}
	clock.advance(4 * time.Millisecond)
	release()
	flush(t, q)
	bounds := []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}
	cum := make([]uint64, len(bounds))
	n, sum := p.LatencyCounts(bounds, cum)
	if n != 1 || sum != 4*time.Millisecond || !slices.Equal(cum, []uint64{0, 1, 1}) {
		t.Errorf("LatencyCounts: %d samples, sum %v, cumulative %v; want 1, 4ms, [0 1 1]", n, sum, cum)
	}
	p.NewQueue("a")
	p.NewQueue("b")
	if got := p.QueuesMade(); got != 3 {
		t.Errorf("QueuesMade %d, want 3", got)
	}
}
