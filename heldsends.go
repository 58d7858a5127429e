package servercore

import (
	"sync"
	"time"
)

// heldSends are the sessions whose next write waits for the service's next
// send tick (Config.SendInterval), so that what they queue meanwhile goes
// out in one write.
type heldSends struct {
	// mu guards the lists. It is taken under a session's mu (add runs in
	// the session's send path), never the other way round: flush registers
	// the held writes after letting go of it.
	mu       sync.Mutex
	sessions []*Session
	spare    []*Session // the last tick's list, reused
}

// add holds s's next write until the next tick; s.mu is held.
func (h *heldSends) add(s *Session) {
	h.mu.Lock()
	h.sessions = append(h.sessions, s)
	h.mu.Unlock()
}

// flush registers the writes held since the last tick.
func (h *heldSends) flush() {
	h.mu.Lock()
	list := h.sessions
	h.sessions, h.spare = h.spare, nil
	h.mu.Unlock()
	for i, s := range list {
		s.writeHeld()
		list[i] = nil
	}
	h.mu.Lock()
	h.spare = list[:0]
	h.mu.Unlock()
}

// tick flushes the held writes every interval until done is closed: the
// service's sessions are all gone, so that sessions draining before Stop
// closes them still get their writes out.
func (h *heldSends) tick(done <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			h.flush()
		}
	}
}
