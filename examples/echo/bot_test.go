package echo

import (
	"testing"

	"servercore/examples/broadcast"
	"servercore/examples/internal/apptest"
	"servercore/internal/bot"
)

func TestBot(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  bot.Config
	}{
		{"one in flight", bot.Config{Clients: 3, Inflight: 1, Size: 20}},
		{"a window", bot.Config{Clients: 4, Inflight: 8, Size: 1024}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := apptest.Stress(t, apptest.Serve(t, NewSession), c.cfg, NewBot)
			if res.Connected != c.cfg.Clients || res.Good == 0 || res.Good != res.Sent {
				t.Fatalf("connected %d, %d verified of %d sent; want all back", res.Connected, res.Good, res.Sent)
			}
			if res.Mismatches != 0 || res.Lost != 0 || res.Disconnects != 0 || res.FirstError != "" {
				t.Fatalf("%d mismatches, %d lost, %d disconnects, first error %q", res.Mismatches, res.Lost, res.Disconnects, res.FirstError)
			}
			if res.Latency.Count() != res.Good || res.Latency.Quantile(0.5) <= 0 {
				t.Errorf("%d latencies for %d packets, median %d ns", res.Latency.Count(), res.Good, res.Latency.Quantile(0.5))
			}
		})
	}
}

// A server that sends each client the others' packets too fails the run.
func TestBotRejectsBroadcast(t *testing.T) {
	res := apptest.Stress(t, apptest.Serve(t, broadcast.NewSession), bot.Config{Clients: 3, Inflight: 2}, NewBot)
	if res.Mismatches == 0 || res.FirstMismatch == "" {
		t.Fatalf("%d mismatches (first %q) against a broadcast server; want some", res.Mismatches, res.FirstMismatch)
	}
}
