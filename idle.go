package servercore

import "time"

// The idle timeout: each receive stamps its session with the service's
// clock tick, and one goroutine per service advances the clock and
// disconnects the sessions whose stamp is too old, so that a receive costs
// one atomic store and no timer.

// checkIdle disconnects sessions that received nothing for IdleTimeout,
// looking every eighth of it, until the service's sessions are all gone.
func (svc *Service) checkIdle() {
	// A session stores the tick count of its last receive, which happened
	// within that tick; it expires once limit more ticks have passed, so it
	// was really silent for at least the timeout and at most one tick more.
	timeout := svc.cfg.IdleTimeout
	tick := max(timeout/8, time.Millisecond)
	limit := uint32((timeout+tick-1)/tick) + 1
	t := time.NewTicker(tick)
	defer t.Stop()
	var expired []*Session
	for {
		select {
		case <-svc.drained:
			return
		case <-t.C:
			now := svc.tick.Add(1)
			svc.mu.RLock()
			for s := range svc.sessions {
				if now-s.lastRecv.Load() >= limit {
					expired = append(expired, s)
				}
			}
			svc.mu.RUnlock()
			for i, s := range expired {
				s.Disconnect(ErrIdleTimeout)
				expired[i] = nil
			}
			expired = expired[:0]
		}
	}
}

// touch records a receive for the idle timeout.
func (s *Session) touch() {
	if s.svc.cfg.IdleTimeout > 0 {
		s.lastRecv.Store(s.svc.tick.Load())
	}
}
