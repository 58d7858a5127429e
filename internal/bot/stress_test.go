package bot_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"servercore/examples/echo"
	"servercore/internal/bot"
)

func config(target string) bot.Config {
	return bot.Config{
		Target: target, Clients: 3, Duration: 200 * time.Millisecond, Size: 64, Inflight: 2,
		Rate: 10, Backend: "auto", Drain: time.Second, ConnectTimeout: 5 * time.Second,
	}
}

// With nothing listening, no client connects and the run says why.
func TestStressConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, err := bot.Stress(context.Background(), config(addr), echo.NewBot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 0 || res.Sent != 0 || res.FirstError == "" || strings.Contains(res.FirstError, "\n") {
		t.Fatalf("connected %d, sent %d, first error %q; want none connected and one line of why", res.Connected, res.Sent, res.FirstError)
	}
}

// A bad backend name is an error of the run, not of its clients.
func TestStressBadBackend(t *testing.T) {
	cfg := config("127.0.0.1:1")
	cfg.Backend = "kqueue"
	if _, err := bot.Stress(context.Background(), cfg, echo.NewBot, nil); err == nil {
		t.Fatal("Stress with an unknown backend did not fail")
	}
}
