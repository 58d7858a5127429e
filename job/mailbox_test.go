package job

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// Whatever the mix of pushes and partial consumes, the mailbox hands jobs
// out in the order pushed, and keeps no block once empty.
func TestMailboxOrder(t *testing.T) {
	tests := []struct {
		name             string
		maxPush, maxTake int
		rounds           int
	}{
		{"one at a time", 1, 1, 2000},
		{"bursts", 3 * blockSize, blockSize, 500},
		{"drain slowly", 10, 3, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var free sync.Pool
			free.New = func() any { return new(block) }
			var m mailbox
			r := rand.New(rand.NewPCG(8, uint64(tt.maxPush)))
			pushed, taken := 0, 0
			ids := make([]Timer, tt.rounds*(tt.maxPush+1)+1) // a slot's timer names it
			for range tt.rounds {
				for range r.IntN(tt.maxPush + 1) {
					m.push(slot{timer: &ids[pushed]}, &free)
					pushed++
				}
				jobs := m.peek()
				k := min(len(jobs), r.IntN(tt.maxTake+1))
				for i := range jobs[:k] {
					if jobs[i].timer != &ids[taken] {
						t.Fatalf("job %d came out of order", taken)
					}
					jobs[i] = slot{}
					taken++
				}
				m.consume(int32(k), &free)
				if int(m.n) != pushed-taken {
					t.Fatalf("n %d, want %d", m.n, pushed-taken)
				}
			}
			if dropped := m.clear(&free); dropped != pushed-taken {
				t.Fatalf("clear dropped %d, want %d", dropped, pushed-taken)
			}
			if m.n != 0 || m.head != nil || m.tail != nil || m.hasLone {
				t.Fatalf("empty mailbox holds %+v", m)
			}
		})
	}
}
