package mmo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"servercore/examples/mmo/mmopb"
	"servercore/internal/bot"
)

// Begin logs every connected bot in (each enters its room when its login is
// answered), waits until all are in, and starts the pacer.
func (d *driver) Begin(ctx context.Context, _ time.Time) (time.Time, int, error) {
	bots := d.List()
	for _, p := range bots {
		if p.Connected {
			// An error shows as the bot's disconnect.
			_ = mmopb.SendC_LOGIN(p.Session, &mmopb.C_LOGIN{Name: "bot-" + strconv.Itoa(int(p.ID))})
		}
	}
	out, err := awaitEnter(ctx, bots)
	start := time.Now()
	d.paced = make(chan struct{})
	go d.pace(bots, start)
	return start, out, err
}

// awaitEnter waits until every connected bot is in its room, and returns
// how many are not.
func awaitEnter(ctx context.Context, bots []*botPlayer) (int, error) {
	deadline := time.Now().Add(enterTimeout)
	for {
		out := 0
		for _, p := range bots {
			p.mu.Lock()
			if p.Connected && p.state != stIn && !p.Down.Load() {
				out++
			}
			p.mu.Unlock()
		}
		switch {
		case out == 0:
			return 0, nil
		case ctx.Err() != nil:
			return out, fmt.Errorf("%d bots not in their room: %w", out, ctx.Err())
		case time.Now().After(deadline):
			return out, fmt.Errorf("%d bots not in their room within %v", out, enterTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// pace makes the bots move, chat and churn at their rates until the run
// stops. A bot that falls behind skips what it missed rather than burst
// beyond the server's limits.
func (d *driver) pace(bots []*botPlayer, start time.Time) {
	defer close(d.paced)
	t := time.NewTicker(botTick)
	defer t.Stop()
	leaveChance := float64(botTick) / float64(churnEvery)
	for !d.run.Stopped() {
		now := time.Now()
		for _, p := range bots {
			if p.Connected && !p.Down.Load() {
				d.act(p, now, leaveChance)
			}
		}
		<-t.C
	}
}

// act does what bot p is due to do at now.
func (d *driver) act(p *botPlayer, now time.Time, leaveChance float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case stIn:
		if d.cfg.Churn && rand.Float64() < leaveChance {
			p.state = stLeaving
			_ = mmopb.SendC_LEAVE_GAME(p.Session, &mmopb.C_LEAVE_GAME{})
			return
		}
		if d.cfg.MoveRate > 0 && !now.Before(p.nextMove) {
			p.nextMove = next(p.nextMove, now, d.cfg.MoveRate)
			p.move++
			p.moveIn = p.move
			p.sentAt[p.move%sentRing].Store(d.run.Now())
			_ = mmopb.SendC_MOVE(p.Session, &mmopb.C_MOVE{Pos: movePos(p.move)})
		}
		if d.cfg.ChatRate > 0 && !now.Before(p.nextChat) {
			p.nextChat = next(p.nextChat, now, d.cfg.ChatRate)
			p.chat++
			_ = mmopb.SendC_CHAT(p.Session, &mmopb.C_CHAT{Msg: strconv.FormatUint(uint64(p.chat), 10)})
		}
	case stOut:
		if !now.Before(p.reenter) {
			p.state = stEntering
			_ = mmopb.SendC_ENTER_GAME(p.Session, &mmopb.C_ENTER_GAME{RoomId: p.room})
		}
	}
}

// next is the time of the next action after one due at due, done at now,
// at rate a second: one period on, or a period from now if it fell behind.
func next(due, now time.Time, rate float64) time.Time {
	period := time.Duration(float64(time.Second) / rate)
	if n := due.Add(period); n.After(now) {
		return n
	}
	return now.Add(period)
}

// Halt waits until the pacer has stopped.
func (d *driver) Halt() {
	if d.paced != nil {
		<-d.paced
	}
}

// Drained reports whether the game has settled: no bot waits for an answer,
// nothing arrived for a while, and what every bot sees of its room agrees
// with the truth, checked while the sessions are still up. A check that
// disagrees is kept and made again after the next quiet spell, so that a
// relay held up on a loaded machine is not taken for a lost one; only the
// last check's disagreements count, at the end of the drain.
func (d *driver) Drained() bool {
	if d.settled {
		return true
	}
	bots := d.List()
	n := d.Received()
	now := time.Now()
	if n != d.lastRecv || d.quiet.IsZero() {
		d.lastRecv, d.quiet = n, now
		return false
	}
	if now.Sub(d.quiet) < quietFor+2*d.cfg.Tick {
		return false
	}
	for _, p := range bots {
		p.mu.Lock()
		pending := p.state == stLeaving || p.state == stEntering || p.state == stLogin
		p.mu.Unlock()
		if pending && p.Connected && !p.Down.Load() {
			return false
		}
	}
	d.final = d.converged(bots)
	if len(d.final) > 0 {
		d.quiet = now // look again after the next quiet spell
		return false
	}
	d.settled = true
	return true
}

// converged checks that each room's membership, as every member sees it, is
// the truth, and that each member saw each other's latest move.
func (d *driver) converged(bots []*botPlayer) []string {
	for _, p := range bots {
		p.mu.Lock()
	}
	defer func() {
		for _, p := range bots {
			p.mu.Unlock()
		}
	}()
	rooms := make(map[uint32][]*botPlayer)
	for _, p := range bots {
		if p.Connected && !p.Down.Load() && p.state == stIn {
			rooms[p.room] = append(rooms[p.room], p)
		}
	}
	var bad []string
	for room, members := range rooms {
		for _, o := range members {
			var want, got []uint64
			for _, x := range members {
				if x == o {
					continue
				}
				want = append(want, x.pid)
				if seen := o.seen[x.pid]; seen != nil && seen.move != x.moveIn {
					bad = append(bad, fmt.Sprintf("bot %d saw player %d's move %d last, its latest is %d", o.ID, x.pid, seen.move, x.moveIn))
				}
			}
			for id := range o.seen {
				got = append(got, id)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				bad = append(bad, fmt.Sprintf("bot %d sees room %d as %v, it holds %v", o.ID, room, got, want))
			}
		}
	}
	return bad
}

// Collect adds the bots' results up: moves sent, moves seen, violations.
func (d *driver) Collect(t *bot.Tally) {
	for _, p := range d.List() {
		p.AddTo(t)
		t.Sent += uint64(p.move)
		t.Lost += p.lost
		t.Mismatches += p.viol
		if p.first != "" && t.FirstMismatch == "" {
			t.FirstMismatch = p.first
		}
	}
	if !d.settled && len(d.final) == 0 {
		d.final = []string{"the game did not settle before the end of the drain"}
	}
	t.Mismatches += uint64(len(d.final))
	if len(d.final) > 0 && t.FirstMismatch == "" {
		t.FirstMismatch = d.final[0]
	}
}
