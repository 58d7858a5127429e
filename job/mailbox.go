package job

import "sync"

// blockSize is the number of jobs in one block of a mailbox.
const blockSize = 32

// slot is one waiting job: a function, or the firing of a timer.
type slot struct {
	fn     func()
	timer  *Timer
	posted int64 // when it was posted, if sampled for the latency histogram
}

// block is a piece of a mailbox. Blocks come from a pool-wide free list
// and go back to it once run, so an idle queue holds none and a busy one
// allocates nothing.
type block struct {
	slots [blockSize]slot
	next  *block
}

// mailbox is a queue's waiting jobs, a list of blocks. It is guarded by its
// queue's lock, except that the slots between head and the count observed
// under the lock belong to the queue's runner, which reads and clears them
// unlocked: posters only ever write after them.
type mailbox struct {
	head, tail *block
	hi, ti     int32 // the next slot to run in head, the next free one in tail
	n          int32 // jobs waiting
}

func (m *mailbox) push(s slot, free *sync.Pool) {
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

// peek returns the head block and how many of its slots, from m.hi on,
// hold jobs.
func (m *mailbox) peek() (*block, int32) {
	if m.n == 0 {
		return nil, 0
	}
	if m.head == m.tail {
		return m.head, m.ti - m.hi
	}
	return m.head, blockSize - m.hi
}

// consume drops the first k jobs, which the runner has run (and cleared),
// and returns the blocks it emptied to free.
func (m *mailbox) consume(k int32, free *sync.Pool) {
	m.n -= k
	m.hi += k
	if m.n == 0 {
		free.Put(m.head)
		m.head, m.tail, m.hi, m.ti = nil, nil, 0, 0
		return
	}
	if m.hi == blockSize {
		b := m.head
		m.head, m.hi = b.next, 0
		b.next = nil
		free.Put(b)
	}
}

// clear drops every waiting job, clearing their slots, and returns how many
// there were.
func (m *mailbox) clear(free *sync.Pool) int {
	n := int(m.n)
	for m.n > 0 {
		b, k := m.peek()
		clear(b.slots[m.hi : m.hi+k])
		m.consume(k, free)
	}
	return n
}
