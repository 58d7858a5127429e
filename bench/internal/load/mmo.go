package load

import (
	"context"
	"fmt"
	"time"

	"servercore/examples/mmo"
	"servercore/internal/bot"
)

const (
	// mmoDrain bounds the wait, after the bots stop, for the game to settle
	// and the bots' end-of-run checks to agree.
	mmoDrain = 30 * time.Second
	// progressStep is how often bot.Stress reports progress: the window's
	// edges fall on its calls.
	progressStep = 500 * time.Millisecond
)

// RunMMO plays the MMO sample's bots (examples/mmo, through the same
// bot.Stress that "servercore stress --mode mmo" runs) against the server:
// o.Conns players in o.Rooms rooms, each moving o.Rate times a second. The
// measured window opens after o.Warmup and lasts o.Duration; Packets is the
// S_MOVE seen in it, P50/P99 their move-to-seen latency. Violations are the
// rules the bots saw broken, over the whole run and its drain; Lost, in
// immediate mode, the moves never seen.
func RunMMO(ctx context.Context, o Options) (*Result, error) {
	res := &Result{Options: o}
	st := newRunState()
	var w *window
	cfg := mmo.BotConfig{
		Rooms: o.Rooms, MoveRate: o.Rate, ChatRate: o.ChatRate, Churn: o.Churn, Tick: o.Tick,
		OnSeen: func(id uint32, d time.Duration) {
			if st.phase.Load() == phaseMeasure {
				st.hist.Shard(int(id)).Record(int64(d))
				st.count[id%uint32(len(st.count))].n.Add(1)
			}
		},
	}
	progress := func(elapsed time.Duration, _ uint64) {
		switch {
		case w == nil && elapsed >= o.Warmup:
			w = openWindow(st, o.ServerPID, res)
		case w != nil && st.phase.Load() == phaseMeasure && elapsed >= o.Warmup+o.Duration:
			w.close(st)
		}
	}
	r, err := bot.Stress(ctx, botConfig(o, o.Warmup+o.Duration+progressStep+progressStep/2), mmo.NewBot(cfg), progress)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("mmo: the bots never got going: %s", r.FirstError)
	}
	if st.phase.Load() == phaseMeasure {
		w.close(st)
	}
	res.finish(st, w)
	tally(res, r)
	return res, ctx.Err()
}

// botConfig is the bots' run of o, sending for d.
func botConfig(o Options, d time.Duration) bot.Config {
	backend := o.Backend
	if backend == "" {
		backend = "auto"
	}
	return bot.Config{
		Target: o.Target, Clients: o.Conns, Duration: d, Size: 64, Inflight: 1,
		Backend: backend, Drain: mmoDrain, ConnectTimeout: 30 * time.Second,
	}
}

// tally adds the bots' verdict to res.
func tally(res *Result, r *bot.Result) {
	res.DialErrors += int64(res.Conns - r.Connected)
	res.ConnErrors += int64(r.Disconnects) + int64(r.Failed)
	res.Violations = int64(r.Mismatches)
	res.Lost = int64(r.Lost)
	res.MovesSent, res.MovesSeen = r.Sent, r.Good
	if r.Latency != nil {
		res.MaxLatency = float64(r.Latency.Max()) / 1e3
	}
	for _, msg := range []string{r.FirstMismatch, r.FirstError} {
		if msg != "" && res.FirstError == "" {
			res.FirstError = msg
		}
	}
}
