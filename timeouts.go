package servercore

import (
	"fmt"
	"time"
)

// The timeouts that need no timer per session: the idle timeout, the packet
// deadline and the age limit of a send queue. Each session stamps itself
// with the service's clock tick (a receive, the start of a message, the
// oldest unsent write), and one goroutine per service advances the clock
// and cuts the sessions whose stamp is too old, so that a receive costs an
// atomic store or two and no timer. A stamp is the tick plus one, so that
// zero means none.

// timeoutLimits are the timeouts in clock ticks; zero is off.
type timeoutLimits struct {
	idle, packet, sendAge uint32
}

// clock is how the service's clock runs for a Config: how often it ticks,
// how many ticks apart the sessions are looked at for their timeouts (0:
// never, none is set), and Config.SlowCallback in ticks (0: off).
type clock struct {
	tick      time.Duration
	scanEvery uint32
	slowTicks uint32
}

// clockOf returns the clock cfg needs (tick 0: none). It ticks at an eighth
// of the shortest timeout, or at a quarter of SlowCallback if that is
// finer; the sessions are looked at every eighth of the shortest timeout
// however finely it ticks.
func clockOf(cfg *Config) clock {
	shortest := time.Duration(0)
	for _, d := range []time.Duration{cfg.IdleTimeout, cfg.PacketTimeout, cfg.SendQueueMaxAge} {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	var c clock
	if shortest > 0 {
		c.tick = max(shortest/8, time.Millisecond)
	}
	if cfg.SlowCallback > 0 {
		if fine := max(cfg.SlowCallback/4, time.Millisecond); c.tick == 0 || fine < c.tick {
			c.tick = fine
		}
		c.slowTicks = uint32(cfg.SlowCallback / c.tick)
	}
	if shortest > 0 {
		c.scanEvery = max(uint32(max(shortest/8, time.Millisecond)/c.tick), 1)
	}
	return c
}

// checkTimeouts runs the service's clock and cuts the sessions past a
// timeout until the service's sessions are all gone.
func (svc *Service) checkTimeouts() {
	cfg := &svc.cfg
	tick, scanEvery := svc.clock.tick, svc.clock.scanEvery
	// A stamp made within a tick expires once limit more ticks have
	// passed: at least the timeout, at most one tick more.
	inTicks := func(d time.Duration) uint32 {
		if d <= 0 {
			return 0
		}
		return uint32((d+tick-1)/tick) + 1
	}
	lim := timeoutLimits{idle: inTicks(cfg.IdleTimeout), packet: inTicks(cfg.PacketTimeout), sendAge: inTicks(cfg.SendQueueMaxAge)}
	t := time.NewTicker(tick)
	defer t.Stop()
	type cut struct {
		s     *Session
		cause error
	}
	var expired []cut
	var quiet []*Session
	pinger, _ := svc.framing.(idleFraming)
	for {
		select {
		case <-svc.drained:
			return
		case <-t.C:
			now := svc.tick.Add(1)
			if scanEvery == 0 || now%scanEvery != 0 {
				continue
			}
			svc.mu.RLock()
			for s := range svc.sessions {
				if cause := s.expired(now, &lim); cause != nil {
					expired = append(expired, cut{s, cause})
				} else if pinger != nil && lim.idle > 0 && now-s.lastRecv.Load() >= lim.idle/2 {
					quiet = append(quiet, s)
				}
			}
			svc.mu.RUnlock()
			for i, s := range quiet {
				pinger.idle(s)
				quiet[i] = nil
			}
			quiet = quiet[:0]
			for i, c := range expired {
				c.s.Disconnect(c.cause)
				expired[i] = cut{}
			}
			expired = expired[:0]
		}
	}
}

// expired returns the cause to cut s with if a timeout has passed at tick
// now, or nil.
func (s *Session) expired(now uint32, lim *timeoutLimits) error {
	cfg := &s.svc.cfg
	if lim.idle > 0 && now-s.lastRecv.Load() >= lim.idle {
		return ErrIdleTimeout
	}
	if p := s.partialSince.Load(); lim.packet > 0 && p != 0 && now-(p-1) >= lim.packet {
		return fmt.Errorf("%w: a packet begun %v ago is still incomplete", ErrPacketTimeout, cfg.PacketTimeout)
	}
	if lim.sendAge > 0 {
		s.mu.Lock()
		oldest := uint32(0)
		if s.out != nil {
			oldest = s.out.oldestUnsent()
		}
		s.mu.Unlock()
		if oldest != 0 && now-(oldest-1) >= lim.sendAge {
			return fmt.Errorf("%w: the oldest unsent byte is older than %v", ErrSendQueueFull, cfg.SendQueueMaxAge)
		}
	}
	return nil
}

// stamp is the service's clock now, as a stamp (never zero).
func (svc *Service) stamp() uint32 { return svc.tick.Load() + 1 }

// touch records a receive for the idle timeout.
func (s *Session) touch() {
	if s.svc.cfg.IdleTimeout > 0 {
		s.lastRecv.Store(s.svc.tick.Load())
	}
}

// stampPartial keeps the start of the message left incomplete after the
// framing consumed n of the len bytes it was given: none if it took them
// all, now if it completed a message and began another, and otherwise the
// stamp of the message still coming in.
func (s *Session) stampPartial(n, len int) {
	switch {
	case n == len:
		if s.partialSince.Load() != 0 {
			s.partialSince.Store(0)
		}
	case n > 0 || s.partialSince.Load() == 0:
		s.partialSince.Store(s.svc.stamp())
	}
}
