package broadcast

import (
	"testing"
	"time"

	"servercore/examples/echo"
	"servercore/examples/internal/apptest"
	"servercore/internal/bot"
	"servercore/internal/checkpacket"
)

func TestBot(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  bot.Config
	}{
		{"alone", bot.Config{Clients: 1, Inflight: 1, Size: 20}},
		{"a room", bot.Config{Clients: 5, Inflight: 4, Rate: 40, Size: 1024}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := apptest.Stress(t, apptest.Serve(t, NewSession), c.cfg, NewBot)
			// Every client gets every client's packets, its own included.
			want := uint64(c.cfg.Clients) * res.Sent
			if res.Connected != c.cfg.Clients || res.Sent == 0 || res.Good != want {
				t.Fatalf("connected %d, %d verified of %d sent; want %d", res.Connected, res.Good, res.Sent, want)
			}
			if res.Mismatches != 0 || res.Lost != 0 || res.Disconnects != 0 || res.FirstError != "" || res.Failed != 0 {
				t.Fatalf("%d mismatches, %d lost, %d disconnects, %d not in the room, first error %q",
					res.Mismatches, res.Lost, res.Disconnects, res.Failed, res.FirstError)
			}
		})
	}
}

// An echo server never sends a client the others' packets: they are lost.
func TestBotRejectsEcho(t *testing.T) {
	res := apptest.Stress(t, apptest.Serve(t, echo.NewSession), bot.Config{Clients: 3, Rate: 50, Drain: 200 * time.Millisecond}, NewBot)
	if res.Lost == 0 {
		t.Fatalf("nothing lost against an echo server: %+v", res.Tally)
	}
}

// The hello packet's id is one no data packet has.
func TestHelloIDIsFree(t *testing.T) {
	if helloID <= checkpacket.MaxID {
		t.Fatalf("helloID %#x is a data packet id (up to %#x)", helloID, checkpacket.MaxID)
	}
}
