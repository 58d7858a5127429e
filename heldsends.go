package servercore

import (
	"sync"
	"time"
)

// heldSends are the sessions whose next write waits for the service's next
// send tick (Config.SendInterval), so that what they queue meanwhile goes
// out in one write.
type heldSends struct {
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

// sendTicks flushes the held writes every SendInterval until the service
// stops.
func (svc *Service) sendTicks() {
	defer svc.background.Done()
	t := time.NewTicker(svc.cfg.SendInterval)
	defer t.Stop()
	for {
		select {
		case <-svc.ctx.Done():
			return
		case <-t.C:
			svc.held.flush()
		}
	}
}
