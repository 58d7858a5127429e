package job

import (
	"sync"
	"sync/atomic"
)

// takeMax bounds the ready queues a worker takes at once.
const takeMax = 4

// shard is one worker's share of the queues ready to run. A queue made
// ready goes to its home shard; a worker runs its own shard's queues and
// steals from the others when it has none. Sharding keeps a worker that
// the system deschedules while it holds a lock from stalling every post.
type shard struct {
	mu      sync.Mutex
	ring    []*Queue
	head    int
	n       int
	running atomic.Int64    // queues taken from this shard and not yet run; added to with mu held
	taken   [takeMax]*Queue // the queues its worker took last, for Stats
	_       cacheLine
}

func (s *shard) push(q *Queue) {
	if s.n == len(s.ring) {
		grown := make([]*Queue, max(16, 2*len(s.ring)))
		for i := range s.n {
			grown[i] = s.ring[(s.head+i)%len(s.ring)]
		}
		s.ring, s.head = grown, 0
	}
	s.ring[(s.head+s.n)%len(s.ring)] = q
	s.n++
}

// pop moves up to k queues into buf and returns how many.
func (s *shard) pop(buf []*Queue, k int) int {
	k = min(k, s.n, len(buf))
	for i := range k {
		buf[i] = s.ring[s.head]
		s.ring[s.head] = nil
		s.head = (s.head + 1) % len(s.ring)
	}
	s.n -= k
	return k
}

// schedule hands q, just made ready, to a worker. It reports false if the
// workers have exited, which only a Post racing with Close meets.
func (p *Pool) schedule(q *Queue) bool {
	s := &p.shards[int(q.home)%len(p.shards)]
	s.mu.Lock()
	if p.exited.Load() {
		s.mu.Unlock()
		return false
	}
	s.push(q)
	s.mu.Unlock()
	// A worker about to wait counts itself idle before it looks at the
	// shards a last time, so either it sees q or this sees it idle.
	if p.idle.Load() > 0 {
		p.mu.Lock()
		p.wake.Signal()
		p.mu.Unlock()
	}
	return true
}

// grab takes ready queues for worker id into buf: its own shard's first
// (a share, leaving some to thieves), then any other's. It returns how many
// and the shard they came from, where they count as running from the
// moment they leave it.
func (p *Pool) grab(id int, buf []*Queue) (int, *shard) {
	own := &p.shards[id]
	for i := range p.shards {
		s := &p.shards[(id+i)%len(p.shards)]
		s.mu.Lock()
		n := s.pop(buf, (s.n+1)/2)
		if n > 0 {
			s.running.Add(int64(n))
		}
		if s == own {
			own.took(buf[:n])
		}
		s.mu.Unlock()
		if n > 0 {
			if s != own {
				own.mu.Lock()
				own.took(buf[:n])
				own.mu.Unlock()
			}
			return n, s
		}
	}
	return 0, nil
}

// took records the queues its worker took, for Stats. It is called with
// s.mu held.
func (s *shard) took(qs []*Queue) {
	n := copy(s.taken[:], qs)
	clear(s.taken[n:])
}

// take ends the finished runs of worker id, which came from shard from,
// then waits for ready queues and takes some into buf. It returns how
// many, the shard they came from, and whether it waited; none once the
// pool is closing and nothing is left to run.
func (p *Pool) take(id int, buf []*Queue, finished int, from *shard) (n int, src *shard, waited bool) {
	if finished > 0 {
		from.running.Add(-int64(finished))
	}
	if n, src := p.grab(id, buf); n > 0 {
		return n, src, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		p.idle.Add(1)
		n, src := p.grab(id, buf)
		if n == 0 && p.closing && p.exitIfEmpty() {
			p.idle.Add(-1)
			p.wake.Broadcast()
			return 0, nil, waited
		}
		if n > 0 {
			p.idle.Add(-1)
			return n, src, waited
		}
		p.wake.Wait()
		p.idle.Add(-1)
		waited = true
	}
}

// exitIfEmpty marks the workers exited if no queue is ready or running,
// holding every shard's lock so that no schedule slips in between. It is
// called with p.mu held.
func (p *Pool) exitIfEmpty() bool {
	if p.exited.Load() {
		return true
	}
	for i := range p.shards {
		p.shards[i].mu.Lock()
	}
	empty := true
	for i := range p.shards {
		empty = empty && p.shards[i].n == 0 && p.shards[i].running.Load() == 0
	}
	if empty {
		p.exited.Store(true)
	}
	for i := range p.shards {
		p.shards[i].mu.Unlock()
	}
	return empty
}
