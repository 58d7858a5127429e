package mmo

import (
	"sync/atomic"
	"testing"
	"time"

	"servercore/examples/internal/apptest"
	"servercore/internal/bot"
	"servercore/internal/testkit"
)

// The bots find no violation in the game, with and without churn, relaying
// at once or per tick, on each engine.
func TestBot(t *testing.T) {
	for _, c := range []struct {
		name  string
		churn bool
		tick  time.Duration
	}{
		{"immediate", false, 0},
		{"churn", true, 0},
		{"tick", false, 50 * time.Millisecond},
		{"tick and churn", true, 50 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			testkit.ForEachBackend(t, func(t *testing.T, backend string) {
				s := serve(t, backend, Config{Rooms: 2, Tick: c.tick})
				cfg := BotConfig{Rooms: 2, MoveRate: 10, ChatRate: 2, Churn: c.churn, Tick: c.tick}
				res := apptest.Stress(t, s.addr, bot.Config{Clients: 20, Duration: time.Second, Drain: 5 * time.Second, Backend: backend}, NewBot(cfg))
				if res.Connected != 20 || res.Failed != 0 {
					t.Fatalf("%d bots connected, %d failed: %s", res.Connected, res.Failed, res.FirstError)
				}
				if res.Mismatches != 0 || res.Lost != 0 || res.Disconnects != 0 || res.FirstError != "" {
					t.Fatalf("%d violations (first %q), %d lost, %d disconnects, first error %q",
						res.Mismatches, res.FirstMismatch, res.Lost, res.Disconnects, res.FirstError)
				}
				if res.Sent == 0 || res.Good == 0 || res.Latency.Quantile(0.5) <= 0 {
					t.Fatalf("%d moves sent, %d seen, median latency %d ns", res.Sent, res.Good, res.Latency.Quantile(0.5))
				}
				st := s.g.Stats()
				if st.InvalidMoves+st.LimitedMoves+st.LimitedChats+st.OutOfRoom+st.RoomBusy != 0 {
					t.Fatalf("the bots broke rules: %+v", st)
				}
				if c.churn && st.Leaves == 0 {
					t.Fatalf("no bot left its room while churning: %+v", st)
				}
			})
		})
	}
}

// OnSeen hears of every move the bots see and time, as the run counts them.
func TestBotOnSeen(t *testing.T) {
	s := serve(t, "std", Config{Rooms: 1})
	var seen, bad atomic.Uint64
	live := new(Live)
	cfg := BotConfig{Rooms: 1, MoveRate: 10, Live: live, OnSeen: func(_ uint32, d time.Duration) {
		seen.Add(1)
		if d <= 0 {
			bad.Add(1)
		}
	}}
	res := apptest.Stress(t, s.addr, bot.Config{Clients: 4, Duration: 500 * time.Millisecond, Drain: 5 * time.Second, Backend: "std"}, NewBot(cfg))
	if res.Mismatches != 0 || res.Lost != 0 {
		t.Fatalf("%d violations (first %q), %d lost", res.Mismatches, res.FirstMismatch, res.Lost)
	}
	if n := seen.Load(); n == 0 || n != res.Good || n != live.Seen() || bad.Load() != 0 {
		t.Fatalf("OnSeen heard %d moves (%d not after their sending), the run verified %d, Live saw %d", n, bad.Load(), res.Good, live.Seen())
	}
}
