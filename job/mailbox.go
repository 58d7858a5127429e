package job

import "sync"

// blockSize is the number of jobs in one block of a mailbox.
const blockSize = 32

// slot is one waiting job: a function, or the firing of a timer. A job
// timed for the latency histogram has fn and the timer sampledJob; its
// queue holds the time it was posted.
type slot struct {
	fn    func()
	timer *Timer
}

// sampledJob marks the slot of a job timed for the latency histogram. It is
// never armed or fired.
var sampledJob = new(Timer)

// block is a piece of a mailbox. Blocks come from a pool-wide free list
// and go back to it once run, so an idle queue holds none and a busy one
// allocates nothing.
type block struct {
	slots [blockSize]slot
	next  *block
}

// mailbox is a queue's waiting jobs: the oldest in lone when it came to an
// empty mailbox, which is how a queue that is not flooded gets its jobs,
// and the others in a list of blocks. It is guarded by its queue's lock,
// except that the slots peek returns belong to the queue's runner until it
// consumes them, which reads and clears them unlocked: posters only ever
// write after them. lone shares the queue's cache lines, so a job posted
// to an idle queue moves between cores with the queue's lock.
type mailbox struct {
	lone       [1]slot
	head, tail *block
	n          int32 // jobs waiting
	hi, ti     uint8 // the next slot to run in head, the next free one in tail
	hasLone    bool
}

func (m *mailbox) push(s slot, free *sync.Pool) {
	if m.n == 0 {
		m.lone[0], m.hasLone = s, true
		m.n = 1
		return
	}
	if m.tail == nil || m.ti == blockSize {
		b := free.Get().(*block)
		if m.tail == nil {
			m.head, m.hi = b, 0
		} else {
			m.tail.next = b
		}
		m.tail, m.ti = b, 0
	}
	m.tail.slots[m.ti] = s
	m.ti++
	m.n++
}

// peek returns the oldest jobs, in order: lone, or the rest of the head
// block.
func (m *mailbox) peek() []slot {
	switch {
	case m.hasLone:
		return m.lone[:]
	case m.n == 0:
		return nil
	case m.head == m.tail:
		return m.head.slots[m.hi:m.ti]
	default:
		return m.head.slots[m.hi:]
	}
}

// consume drops the first k jobs peek returned, which the runner has run
// (and cleared), and returns the blocks it emptied to free.
func (m *mailbox) consume(k int32, free *sync.Pool) {
	if k == 0 {
		return
	}
	m.n -= k
	if m.hasLone {
		m.hasLone = false
		return
	}
	m.hi += uint8(k)
	if m.hi == blockSize || m.head == m.tail && m.hi == m.ti {
		b := m.head
		m.head, m.hi = b.next, 0
		b.next = nil
		free.Put(b)
		if m.head == nil {
			m.tail, m.ti = nil, 0
		}
	}
}

// clear drops every waiting job, clearing their slots, and returns how many
// there were.
func (m *mailbox) clear(free *sync.Pool) int {
	n := int(m.n)
	for m.n > 0 {
		jobs := m.peek()
		clear(jobs)
		m.consume(int32(len(jobs)), free)
	}
	return n
}
